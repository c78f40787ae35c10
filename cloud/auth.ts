import { hash as oneShotHash } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import { AuthOptionsSchema, GuessingGuard, Limiter, type AuthOptions } from './guessing.js';
import type { StationPasswords } from './passwords.js';
import type { Registry, Station } from './registry.js';
import { DEFAULT_PASSWORD, verifySecret } from './secrets.js';

export type AuthFailure = 'unknown-mn' | 'bad-password' | 'default-password' | 'locked-out' | 'busy';
export type AuthResult =
  { ok: true; station: Station; defaultPassword: boolean } | { ok: false; reason: AuthFailure; station?: Station };

type Which = 'passwordHash' | 'mqttSecretHash';

// One-shot: no Hash object per packet (every authenticated packet's PW is digested to compare it with
// the one verified).
const digest = (s: string): string => oneShotHash('sha256', s, 'hex');

/** The addresses a station is trusted from: one, or a few. */
type Trusted = string | Set<string>;
const trusts = (t: Trusted | undefined, addr: string): boolean =>
  t !== undefined && (typeof t === 'string' ? t === addr : t.has(addr));

/** A key locked out for guessing: the MN (or login) or the address, for the log and the alarm. */
export interface Lockout {
  key: string;
  mn?: string;
  addr?: string;
  failures: number;
}

export interface AuthenticatorOptions {
  options?: AuthOptions;
  clock?: Clock;
  /** Called once when a key becomes locked out (the "password guessing" alarm hangs here). */
  onLockout?: (l: Lockout) => void;
}

/**
 * Checks MN + password (HJ 212 PW) or MN + MQTT secret against the registry. scrypt is slow on
 * purpose, so a secret once verified against a stored hash is remembered by its SHA-256 until the
 * registry's hash changes; a wrong one is checked afresh each time — and counted: after a few
 * failures of one MN or from one address each answer waits longer, then the key is locked out and
 * refused without any check (a secret already verified still passes, so the device under attack
 * keeps delivering). scrypt runs a few at a time, so guesses cannot take the libuv pool from file I/O.
 */
export class Authenticator {
  /** By MN: the hash a station's PW (or MQTT secret) was verified against, and the SHA-256 of that secret. */
  private readonly verifiedPw = new Map<string, { hash: string; digest: string }>();
  private readonly verifiedMqtt = new Map<string, { hash: string; digest: string }>();
  /**
   * By MN, PW logins and MQTT logins apart: the addresses each station logged in from with its right secret; they
   * keep working while its MN is locked out. Usually one address (a string), a Set only for a second one: 10k
   * stations of one address each were 10k Sets (~150 bytes apiece).
   */
  private readonly trustedPw = new Map<string, Trusted>();
  private readonly trustedMqtt = new Map<string, Trusted>();
  private readonly guard: GuessingGuard;
  private readonly limiter: Limiter;
  private readonly options: AuthOptions;

  constructor(
    private registry: Registry,
    private readonly o: AuthenticatorOptions = {},
  ) {
    this.options = o.options ?? AuthOptionsSchema.parse({});
    this.guard = new GuessingGuard(this.options, (o.clock ?? systemClock).mono);
    this.limiter = new Limiter(this.options.concurrency, this.options.queue);
  }

  use(registry: Registry): void {
    this.registry = registry;
  }

  /** PWs set by the platform's 1072 (cloud/passwords.ts), checked before the registry's. */
  usePasswords(passwords: Pick<StationPasswords, 'hashes'>): void {
    this.passwords = passwords;
  }

  private passwords: Pick<StationPasswords, 'hashes'> | undefined;

  /** The hashes a secret is checked against, the one in force first. */
  private hashesOf(station: Station, which: Which): string[] {
    if (which === 'passwordHash' && this.passwords) return this.passwords.hashes(station);
    const hash = station[which];
    return hash === undefined ? [] : [hash];
  }

  /** Whether an address is locked out for guessing. */
  addressLocked(addr: string | undefined): boolean {
    return addr !== undefined && this.options.perAddress && this.guard.locked([`addr:${addr}`]) !== undefined;
  }

  /** Checks an observer's (or other fixed login's) secret against one stored hash, guarded like a station's. */
  async verify(
    username: string,
    secret: string | undefined,
    hash: string,
    addr?: string,
  ): Promise<AuthFailure | undefined> {
    const keys = this.keys(`user:${username}`, addr);
    if (this.guard.locked(keys) !== undefined) return 'locked-out';
    const ok = secret !== undefined && (await this.limiter.run(() => verifySecret(secret, hash)));
    if (ok === undefined) return 'busy';
    if (ok) {
      this.guard.succeed(`user:${username}`);
      return undefined;
    }
    await this.failed(keys, { key: `user:${username}`, ...(addr !== undefined && { addr }) });
    return 'bad-password';
  }

  /**
   * The usual case of `check`, synchronously: the secret is the one verified before (same SHA-256, its hash still
   * in force), nothing is locked out and the address is trusted already. Undefined whenever `check` has more to
   * do; then `check` decides as it always did. Builds no key string, array or promise.
   */
  known(
    mn: string | undefined,
    secret: string | undefined,
    which: Which = 'passwordHash',
    addr?: string,
  ): AuthResult | undefined {
    if (secret === undefined) return undefined;
    const station = this.registry.get(mn);
    if (!station) return undefined;
    const known = (which === 'passwordHash' ? this.verifiedPw : this.verifiedMqtt).get(station.mn);
    if (known === undefined) return undefined;
    const isDefault = secret === DEFAULT_PASSWORD;
    if (isDefault && !station.allowDefaultPassword) return undefined;
    // Any failure remembered (the guard's keys expire): the full path checks the lockouts.
    if (!this.guard.empty) return undefined;
    if (
      addr !== undefined &&
      !trusts((which === 'passwordHash' ? this.trustedPw : this.trustedMqtt).get(station.mn), addr)
    )
      return undefined;
    if (known.digest !== digest(secret) || !this.hashesOf(station, which).includes(known.hash)) return undefined;
    return { ok: true, station, defaultPassword: isDefault };
  }

  async check(
    mn: string | undefined,
    secret: string | undefined,
    which: Which = 'passwordHash',
    addr?: string,
  ): Promise<AuthResult> {
    const fast = this.known(mn, secret, which, addr);
    if (fast !== undefined) return fast;
    const station = this.registry.get(mn);
    if (!station) {
      // Unknown MNs are not remembered one by one (there are too many); the address is.
      await this.failed(this.keys(undefined, addr), { key: 'unknown-mn', ...(addr !== undefined && { addr }) });
      return { ok: false, reason: 'unknown-mn' };
    }
    const mnKey = `${which === 'passwordHash' ? 'pw' : 'mqtt'}:${station.mn}`;
    const keys = this.keys(mnKey, addr);
    const hashes = this.hashesOf(station, which);
    const verified = which === 'passwordHash' ? this.verifiedPw : this.verifiedMqtt;
    const known = verified.get(station.mn);
    const d = secret === undefined ? undefined : digest(secret);
    const isDefault = secret === DEFAULT_PASSWORD;
    if (isDefault && !station.allowDefaultPassword) return { ok: false, reason: 'default-password', station };
    const right = known !== undefined && hashes.includes(known.hash) && known.digest === d;
    if (this.guard.locked(keys) !== undefined) {
      // While locked out, only the secret already verified, from an address it was verified from, passes:
      // the device under attack keeps delivering, a guesser learns nothing (not even a right guess).
      // No address: a frame an external broker relayed from the device's own topic, the login of
      // which the broker checked; a guesser cannot publish there.
      if (right && (addr === undefined || trusts(this.trustedOf(which).get(station.mn), addr)))
        return { ok: true, station, defaultPassword: isDefault };
      this.report(this.guard.fail(keys).lockedNow, { key: mnKey, mn: station.mn, ...(addr !== undefined && { addr }) });
      return { ok: false, reason: 'locked-out', station };
    }
    if (right) {
      this.trust(which, station.mn, addr);
      return { ok: true, station, defaultPassword: isDefault };
    }
    let matched: string | undefined;
    for (const hash of secret === undefined ? [] : hashes) {
      const ok = await this.limiter.run(() => verifySecret(secret!, hash));
      if (ok === undefined) return { ok: false, reason: 'busy', station };
      if (ok) {
        matched = hash;
        break;
      }
    }
    if (matched === undefined) {
      await this.failed(keys, { key: mnKey, mn: station.mn, ...(addr !== undefined && { addr }) });
      return { ok: false, reason: 'bad-password', station };
    }
    this.guard.succeed(mnKey);
    this.trust(which, station.mn, addr);
    verified.set(station.mn, { hash: matched, digest: d! });
    return { ok: true, station, defaultPassword: isDefault };
  }

  private keys(key: string | undefined, addr: string | undefined): string[] {
    const keys = key === undefined ? [] : [key];
    if (addr !== undefined && this.options.perAddress) keys.push(`addr:${addr}`);
    return keys;
  }

  private trustedOf(which: Which): Map<string, Trusted> {
    return which === 'passwordHash' ? this.trustedPw : this.trustedMqtt;
  }

  private trust(which: Which, mn: string, addr: string | undefined): void {
    if (addr === undefined) return;
    const trusted = this.trustedOf(which);
    const known = trusted.get(mn);
    if (known === undefined) trusted.set(mn, addr);
    else if (typeof known === 'string') {
      if (known !== addr) trusted.set(mn, new Set([known, addr]));
    } else if (!known.has(addr)) {
      if (known.size >= 16) known.clear();
      known.add(addr);
    }
  }

  /** Counts a failure, reports new lockouts, then waits out the delay before the answer goes back. */
  private async failed(keys: string[], who: Omit<Lockout, 'failures'>): Promise<void> {
    const { delayMs, lockedNow } = this.guard.fail(keys);
    this.report(lockedNow, who);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  }

  private report(lockedNow: string[], who: Omit<Lockout, 'failures'>): void {
    for (const k of lockedNow)
      this.o.onLockout?.(
        k.startsWith('addr:')
          ? { key: k, addr: k.slice(5), failures: this.options.lockoutFailures }
          : { ...who, key: k, failures: this.options.lockoutFailures },
      );
  }
}
