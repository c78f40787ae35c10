import type { Logger } from 'pino';
import { z } from 'zod';
import { dataAnswer, needsAck, qnRtnAnswer, QnRtn, type Packet } from '../../protocol/index.js';
import type { Authenticator } from '../auth.js';
import type { Station } from '../registry.js';
import type { MeasurementStore, Point } from '../store/types.js';
import { answerable } from './header.js';
import { DATA_CN, pointsOf } from './points.js';

/** Where a packet came from, for logs and for sending requests back. */
export type Via = 'tcp' | 'mqtt' | 'http';

export type Verdict =
  { ok: true; station: Station; points: Point[]; answer?: Packet } | { ok: false; reason: string; answer?: Packet };

export const IngestOptionsSchema = z.strictObject({
  /**
   * How far ahead of this server's clock a DataTime may be (loggers' clocks drift; NTP on both ends
   * keeps it to seconds). Data dated further ahead would pin "latest" and the rules to a future time.
   */
  maxFutureSeconds: z.number().int().min(0).default(900),
  /** refuse: answered 9011 QnRtn 2 and not stored; store: stored (and answered) but kept out of latest values and rules. */
  futureData: z.enum(['refuse', 'store'], 'futureData is refuse or store').default('refuse'),
});
export type IngestConfig = z.output<typeof IngestOptionsSchema>;

export interface IngestOptions {
  auth: Authenticator;
  /** Wall clock, ms since epoch, for DataTime checks; default Date.now. */
  now?: () => number;
  limits?: IngestConfig;
  store: MeasurementStore;
  log: Logger;
  /** Called after points are stored, before the upload is answered (rules hang here). */
  onStored?: (station: Station, points: Point[], packet: Packet | undefined, via: Via) => void;
  /** Called for every authenticated packet (live status, answers to our requests). */
  onPacket?: (station: Station, packet: Packet, via: Via) => void;
}

/** Counts of packets by outcome and of rejections by reason, for logs and the API. */
export interface IngestStats {
  packets: number;
  stored: number;
  points: number;
  rejected: Record<string, number>;
}

/**
 * The path every packet takes whatever the transport: authenticate against the registry, store the
 * measurements, then answer. 9014 goes out only once the store has the data, so a logger that got
 * its answer never needs to send again.
 */
export class Ingest {
  readonly stats: IngestStats = { packets: 0, stored: 0, points: 0, rejected: {} };
  private readonly defaultWarned = new Set<string>();

  constructor(private readonly o: IngestOptions) {}

  /** Counts and logs a rejection (also for frames that never decoded into a packet). */
  reject(reason: string, context: Record<string, unknown>): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    this.o.log.warn({ ...context, reason }, 'packet rejected');
  }

  /** Stores points and runs the rules on them; false (counted and logged) if the store failed. */
  /** `future`: stored as the config allows, but not passed on to the rules and live values. */
  async store(
    station: Station,
    points: Point[],
    packet: Packet | undefined,
    via: Via,
    future = false,
  ): Promise<boolean> {
    try {
      await this.o.store.write(points);
    } catch (e) {
      // Not answered: the logger keeps the data and sends it again.
      this.reject('store-failed', { mn: station.mn, qn: packet?.qn, via, detail: (e as Error).message });
      return false;
    }
    this.stats.stored++;
    this.stats.points += points.length;
    if (!future) this.o.onStored?.(station, points, packet, via);
    return true;
  }

  /** Whether logins from this address are locked out for guessing. */
  addressLocked(addr: string | undefined): boolean {
    return this.o.auth.addressLocked(addr);
  }

  async accept(packet: Packet, via: Via, addr?: string): Promise<Verdict> {
    this.stats.packets++;
    const ctx = { mn: packet.mn, cn: packet.cn, qn: packet.qn, via, ...(addr !== undefined && { addr }) };
    const auth = await this.o.auth.check(packet.mn, packet.pw, 'passwordHash', addr);
    if (!auth.ok) {
      this.reject(auth.reason, ctx);
      // Busy: not answered, the logger sends again; a lockout is answered as the wrong PW it stands for.
      if (auth.reason === 'busy') return { ok: false, reason: auth.reason };
      const code = auth.reason === 'unknown-mn' ? QnRtn.BadMn : QnRtn.BadPassword;
      return { ok: false, reason: auth.reason, answer: qnRtnAnswer(answerable(packet), code) };
    }
    const station = auth.station;
    if (auth.defaultPassword && !this.defaultWarned.has(station.mn)) {
      this.defaultWarned.add(station.mn);
      this.o.log.warn(
        { mn: station.mn, reason: 'default-password' },
        'station authenticated with the field default password 123456 (allowed by the registry)',
      );
    }
    this.o.onPacket?.(station, packet, via);
    const kind = DATA_CN[packet.cn];
    let points: Point[] = [];
    if (kind !== undefined) {
      const r = pointsOf(packet, kind, station.outlet);
      // HJ 212-2017 table 7 has no code for a bad DataTime; 2 (request refused) tells the logger not to
      // send it again as it is, where no answer at all would have it resent forever.
      const refused = (): Packet => qnRtnAnswer(answerable(packet), QnRtn.Rejected);
      if (!r.ok) {
        this.reject('bad-data', { ...ctx, detail: r.reason });
        return { ok: false, reason: 'bad-data', answer: refused() };
      }
      points = r.points;
      const limits = this.o.limits ?? IngestOptionsSchema.parse({});
      const now = this.o.now?.() ?? Date.now();
      const aheadMs = Math.max(...points.map((p) => p.time)) - now;
      const future = aheadMs > limits.maxFutureSeconds * 1000;
      if (future) {
        const detail = { ...ctx, dataTime: packet.cp.params['DataTime'], aheadSeconds: Math.round(aheadMs / 1000) };
        this.reject('future-data', { ...detail, action: limits.futureData });
        if (limits.futureData === 'refuse') return { ok: false, reason: 'future-data', answer: refused() };
      }
      if (!(await this.store(station, points, packet, via, future))) return { ok: false, reason: 'store-failed' };
    }
    return needsAck(packet.flag) && isUpload(packet.cn)
      ? { ok: true, station, points, answer: dataAnswer(answerable(packet)) }
      : { ok: true, station, points };
  }
}

/** Uploads (2xxx, 3020, 1013 aside) are what 9014 answers; answers (9xxx) are never answered. */
const isUpload = (cn: string): boolean => cn.startsWith('2') || cn === '3020';
