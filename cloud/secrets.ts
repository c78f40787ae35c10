import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export { DEFAULT_PASSWORD } from '../protocol/wire.js';

// N=2^14 r=8 is node's default cost: ~30 ms per check, which a cache of verified secrets makes rare.
const N = 16384;
const KEYLEN = 32;
const PREFIX = 'scrypt';

function derive(secret: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$saltHex$keyHex`: the form the registry stores passwords and MQTT secrets in. */
export async function hashSecret(secret: string, n = N): Promise<string> {
  if (!sensibleN(n)) throw new RangeError(`scrypt N ${n} is not a power of two from 2^10 to 2^20`);
  const salt = randomBytes(16);
  const key = await derive(secret, salt, n);
  return `${PREFIX}$${n}$${salt.toString('hex')}$${key.toString('hex')}`;
}

export const SECRET_HASH = /^scrypt\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}$/;

/**
 * The scrypt costs accepted: powers of two from 2^10 to 2^20. Below, a stolen registry is guessed at
 * speed (N=1 is one hash); above, one check takes seconds and a gigabyte (N=2^30 would be a way to
 * stall the ingest with one line of registry). `hj212 cloud hash` writes 2^14.
 */
export const MIN_N = 2 ** 10;
export const MAX_N = 2 ** 20;
const sensibleN = (n: number): boolean => n >= MIN_N && n <= MAX_N && Number.isInteger(Math.log2(n));

/** A stored secret hash, as the registry and the config hold it. */
export const SecretHashSchema = z
  .string()
  .regex(SECRET_HASH, 'store a scrypt hash (scrypt$N$salt$key): run `hj212 cloud hash SECRET` and paste its output')
  .refine(
    (h) => sensibleN(Number(h.split('$')[1])),
    'scrypt N is a power of two from 2^10 (1024) to 2^20 (1048576): ' +
      'hash the secret again with `hj212 cloud hash SECRET`',
  );

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [prefix, n, salt, key] = stored.split('$');
  if (prefix !== PREFIX || n === undefined || salt === undefined || key === undefined || !sensibleN(Number(n)))
    return false;
  const got = await derive(secret, Buffer.from(salt, 'hex'), Number(n));
  const want = Buffer.from(key, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
