import { randomBytes, randomInt } from 'node:crypto';
import { hashSecret } from '../cloud/index.js';
import type { Credentials } from './scene.js';

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';

/** HJ 212 PWs are at most 6 letters or digits (what loggers accept), so they come from this alphabet. */
function password(): string {
  return Array.from({ length: 6 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
}

const secret = (): string => randomBytes(18).toString('base64url');

/**
 * Fresh credentials for every run, never a default: a PW per station, an MQTT secret per edge box,
 * and API tokens; the registry gets their scrypt hashes only.
 */
export async function generateCredentials(
  stations: readonly string[],
  edges: readonly string[],
): Promise<Credentials & { readToken: string; adminToken: string }> {
  const pw = Object.fromEntries(stations.map((mn) => [mn, password()]));
  const mqtt = Object.fromEntries(edges.map((mn) => [mn, secret()]));
  const hashes: Credentials['hashes'] = {};
  for (const mn of stations)
    hashes[mn] = { pw: await hashSecret(pw[mn]!), ...(mqtt[mn] !== undefined && { mqtt: await hashSecret(mqtt[mn]) }) };
  return { pw, mqtt, hashes, readToken: secret(), adminToken: secret() };
}
