import { z } from 'zod';

export const AuthOptionsSchema = z
  .strictObject({
    /** Failed logins of one MN (or from one address) answered at once; each further one waits. */
    freeFailures: z.number().int().min(1).default(5),
    /** The first wait, doubled with each further failure up to maxDelayMs. */
    delayMs: z.number().int().min(0).default(1000),
    maxDelayMs: z.number().int().min(0).default(30_000),
    /** Failures after which the MN (or address) is locked out: refused without a check, its connection closed. */
    lockoutFailures: z.number().int().min(1).default(10),
    /** How long a lockout lasts; failures older than this are forgotten. */
    lockoutSeconds: z.number().int().min(1).default(900),
    /** Count failures per source address too (turn off behind a load balancer that hides the loggers' addresses). */
    perAddress: z.boolean().default(true),
    /** scrypt checks at once (each takes a thread of the libuv pool that file I/O also needs). */
    concurrency: z.number().int().min(1).max(4).default(2),
    /** Checks waiting for their turn; beyond this a login is refused as busy (it tries again). */
    queue: z.number().int().min(1).default(64),
  })
  .refine((o) => o.maxDelayMs >= o.delayMs, { path: ['maxDelayMs'], message: 'maxDelayMs is at least delayMs' });
export type AuthOptions = z.output<typeof AuthOptionsSchema>;

interface Entry {
  failures: number;
  /** Monotonic ms of the last failure. */
  last: number;
  /** Monotonic ms the lockout ends, if locked out. */
  until?: number;
}

/** How many keys are remembered at most: beyond it the oldest are forgotten (an attacker can only reset its own). */
const MAX_KEYS = 100_000;

/**
 * Failed-login accounting per key (`mn:…`, `addr:…`, `user:…`) on the monotonic clock: the first
 * `freeFailures` cost nothing, each further one waits twice as long as the one before, and at
 * `lockoutFailures` the key is locked out for `lockoutSeconds`.
 */
export class GuessingGuard {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly o: AuthOptions,
    private readonly mono: () => number,
  ) {}

  /** No failure remembered for any key: nothing is locked out or delayed. */
  get empty(): boolean {
    return this.entries.size === 0;
  }

  private entry(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.mono() - Math.max(e.last, e.until ?? 0) > this.o.lockoutSeconds * 1000) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The first of `keys` that is locked out now, if any. */
  locked(keys: readonly string[]): string | undefined {
    const now = this.mono();
    return keys.find((k) => {
      const until = this.entry(k)?.until;
      return until !== undefined && until > now;
    });
  }

  /** How long until every one of `keys` that is locked out now is free again, ms (0: none is). */
  lockedForMs(keys: readonly string[]): number {
    const now = this.mono();
    return Math.max(0, ...keys.map((k) => (this.entry(k)?.until ?? now) - now));
  }

  /** Counts a failure against every key; returns how long to wait before answering and the keys it locked out. */
  fail(keys: readonly string[]): { delayMs: number; lockedNow: string[] } {
    const now = this.mono();
    let delayMs = 0;
    const lockedNow: string[] = [];
    for (const k of keys) {
      let e = this.entry(k);
      if (!e) {
        if (this.entries.size >= MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(k, (e = { failures: 0, last: now }));
      }
      e.failures++;
      e.last = now;
      if (e.failures >= this.o.lockoutFailures && (e.until === undefined || e.until <= now)) {
        e.until = now + this.o.lockoutSeconds * 1000;
        lockedNow.push(k);
      }
      const over = e.failures - this.o.freeFailures;
      if (over > 0) delayMs = Math.max(delayMs, Math.min(this.o.maxDelayMs, this.o.delayMs * 2 ** (over - 1)));
    }
    return { delayMs, lockedNow };
  }

  /** A correct secret for this key: its failures are forgiven (an address's are not, see Authenticator). */
  succeed(key: string): void {
    this.entries.delete(key);
  }
}

/** At most `concurrency` tasks at once, at most `queue` waiting; `run` resolves undefined when the queue is full. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length >= this.queue) return undefined;
    // A finished task hands its slot straight to the next in line.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
