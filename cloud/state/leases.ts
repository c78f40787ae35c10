import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * Which ingest process runs which stations' clock-driven rules (missing-hour sweep, offline check),
 * arbitrated by PostgreSQL. Stations hash into a fixed number of buckets; each bucket has one lease
 * row. Every `renewMs` each process
 *  1. beats its heartbeat in `cluster_members`,
 *  2. reads the live members (heartbeat younger than `ttlMs`, on the database's clock),
 *  3. wants the buckets it wins by rendezvous hashing over those members, so every process computes
 *     the same split alone and a joining one takes about 1/n of the buckets from the others,
 *  4. gives up the buckets it holds and no longer wants (their new winner claims them on its next round),
 *  5. renews or claims the buckets it wants, but only rows that are its own, free, or expired.
 * Step 5 is one UPDATE with that condition, so two processes never hold a bucket at once in the
 * database, whatever their views of the membership. A process killed with SIGKILL stops renewing:
 * its heartbeat and leases are older than `ttlMs` at most `ttlMs` after its last round, and each
 * survivor's next round (at most `renewMs` later) claims what it now wins. Takeover is therefore
 * bounded by `ttlMs + renewMs` plus one round trip (12 s with the defaults; docs/operators.md).
 * Locally a process counts a lease as held until `ttlMs` after the start of the round that renewed it
 * on its monotonic clock, which is never later than the database's expiry.
 */
export interface LeaseOptions {
  pool: pg.Pool;
  /** This process, unique in the cluster (host and pid by default in the service). */
  id: string;
  /** How long a lease and a heartbeat last without renewal. */
  ttlMs?: number;
  /** How often each process renews (must be well under ttlMs). */
  renewMs?: number;
  buckets?: number;
  log: Logger;
  /** Buckets this process has just come to hold: their stations are checked at once, not at the next sweep. */
  onAcquired?: (buckets: number[]) => void;
  /** Monotonic milliseconds; default performance.now. */
  mono?: () => number;
}

export const DEFAULT_BUCKETS = 64;
export const DEFAULT_TTL_MS = 10_000;
export const DEFAULT_RENEW_MS = 2_000;

/** The bucket of a station: the first 32 bits of SHA-256 of its MN, modulo the bucket count. */
export function bucketOf(mn: string, buckets = DEFAULT_BUCKETS): number {
  return createHash('sha256').update(mn).digest().readUInt32BE(0) % buckets;
}

/** The member that wins a bucket: the highest hash of (member, bucket). */
export function winnerOf(bucket: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const m of members) {
    const score = createHash('sha256').update(`${m}:${bucket}`).digest().readBigUInt64BE(0);
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) [best, bestScore] = [m, score];
  }
  return best;
}

export class Leases {
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly buckets: number;
  private held = new Set<number>();
  private heldUntil = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private seeded = false;
  private readonly mono: () => number;

  constructor(private readonly o: LeaseOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.renewMs = o.renewMs ?? DEFAULT_RENEW_MS;
    this.buckets = o.buckets ?? DEFAULT_BUCKETS;
    this.mono = o.mono ?? (() => performance.now());
    if (this.renewMs * 2 > this.ttlMs) throw new Error('leases: renewMs must be at most half of ttlMs');
  }

  get id(): string {
    return this.o.id;
  }

  /** Whether this process runs the clock-driven rules of station `mn` now. */
  owns(mn: string): boolean {
    return this.mono() < this.heldUntil && this.held.has(bucketOf(mn, this.buckets));
  }

  /** The buckets held now, ascending. */
  holding(): number[] {
    return this.mono() < this.heldUntil ? [...this.held].sort((a, b) => a - b) : [];
  }

  /** Runs one round now, then every `renewMs`. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.renewMs);
  }

  /** One round of heartbeat, release and claim; a round already running is awaited, not doubled. */
  tick(): Promise<void> {
    this.round ??= this.renew()
      .catch((e: Error) => {
        // The database is unreachable: what was held lapses locally at heldUntil, as it does there.
        this.o.log.error(
          { reason: 'lease-renewal-failed', detail: e.message, member: this.o.id },
          'leases not renewed',
        );
      })
      .finally(() => (this.round = undefined));
    return this.round;
  }

  private async renew(): Promise<void> {
    const started = this.mono();
    const { pool, id } = this.o;
    const ttl = `${this.ttlMs} milliseconds`;
    if (!this.seeded) {
      await pool.query(
        'INSERT INTO bucket_leases (bucket) SELECT generate_series(0, $1::int - 1) ON CONFLICT (bucket) DO NOTHING',
        [this.buckets],
      );
      this.seeded = true;
    }
    await pool.query(
      `INSERT INTO cluster_members (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      [id],
    );
    const live = (
      await pool.query<{ id: string }>(
        `SELECT id FROM cluster_members WHERE heartbeat_at > now() - $1::interval ORDER BY id`,
        [ttl],
      )
    ).rows.map((r) => r.id);
    const wanted: number[] = [];
    for (let b = 0; b < this.buckets; b++) if (winnerOf(b, live) === id) wanted.push(b);
    const giveUp = [...this.held].filter((b) => !wanted.includes(b));
    if (giveUp.length)
      await pool.query(
        `UPDATE bucket_leases SET holder = NULL, expires_at = now() WHERE holder = $1 AND bucket = ANY($2::int[])`,
        [id, giveUp],
      );
    const got = (
      await pool.query<{ bucket: number; fresh: boolean }>(
        `UPDATE bucket_leases l SET holder = $1, expires_at = now() + $2::interval,
           epoch = l.epoch + CASE WHEN l.holder IS DISTINCT FROM $1 THEN 1 ELSE 0 END
         FROM (SELECT bucket, holder IS DISTINCT FROM $1 OR expires_at <= now() AS fresh FROM bucket_leases
               WHERE bucket = ANY($3::int[]) FOR UPDATE) prior
         WHERE l.bucket = prior.bucket AND (l.holder = $1 OR l.holder IS NULL OR l.expires_at <= now())
         RETURNING l.bucket, prior.fresh`,
        [id, ttl, wanted],
      )
    ).rows;
    const before = this.mono() < this.heldUntil ? this.held : new Set<number>();
    this.held = new Set(got.map((r) => r.bucket));
    this.heldUntil = started + this.ttlMs;
    const acquired = got.filter((r) => r.fresh || !before.has(r.bucket)).map((r) => r.bucket);
    if (acquired.length || giveUp.length)
      this.o.log.info(
        { member: id, members: live.length, acquired, released: giveUp, holding: this.held.size },
        'station buckets moved',
      );
    if (acquired.length) this.o.onAcquired?.(acquired.sort((a, b) => a - b));
  }

  /** Stops renewing and hands every lease back at once, so the others take over on their next round. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
    this.held.clear();
    this.heldUntil = -Infinity;
    await this.o.pool.query('UPDATE bucket_leases SET holder = NULL, expires_at = now() WHERE holder = $1', [
      this.o.id,
    ]);
    await this.o.pool.query('DELETE FROM cluster_members WHERE id = $1', [this.o.id]);
  }
}
