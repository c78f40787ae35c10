import { createHash } from 'node:crypto';
import type { Registry, Station } from './registry.js';
import { DEFAULT_PASSWORD, verifySecret } from './secrets.js';

export type AuthResult =
  | { ok: true; station: Station; defaultPassword: boolean }
  | { ok: false; reason: 'unknown-mn' | 'bad-password' | 'default-password'; station?: Station };

type Which = 'passwordHash' | 'mqttSecretHash';

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Checks MN + password (HJ 212 PW) or MN + MQTT secret against the registry. scrypt is slow on
 * purpose, so a secret once verified against a stored hash is remembered by its SHA-256 until the
 * registry's hash changes; a wrong one is checked afresh each time.
 */
export class Authenticator {
  private readonly verified = new Map<string, { hash: string; digest: string }>();

  constructor(private registry: Registry) {}

  use(registry: Registry): void {
    this.registry = registry;
  }

  /** Checks a secret against one stored hash (an observer's login). */
  verify(secret: string, hash: string): Promise<boolean> {
    return verifySecret(secret, hash);
  }

  async check(
    mn: string | undefined,
    secret: string | undefined,
    which: Which = 'passwordHash',
    _addr?: string,
  ): Promise<AuthResult> {
    const station = this.registry.get(mn);
    if (!station) return { ok: false, reason: 'unknown-mn' };
    const hash = station[which];
    if (hash === undefined || secret === undefined) return { ok: false, reason: 'bad-password', station };
    const isDefault = secret === DEFAULT_PASSWORD;
    if (isDefault && !station.allowDefaultPassword) return { ok: false, reason: 'default-password', station };
    const key = `${which}:${station.mn}`;
    const known = this.verified.get(key);
    const d = digest(secret);
    if (known && known.hash === hash && known.digest === d) return { ok: true, station, defaultPassword: isDefault };
    if (!(await verifySecret(secret, hash))) return { ok: false, reason: 'bad-password', station };
    this.verified.set(key, { hash, digest: d });
    return { ok: true, station, defaultPassword: isDefault };
  }
}
