import type { Logger } from 'pino';
import { z } from 'zod';
import {
  CN,
  dataAnswer,
  ExeRtn,
  formatHjTime,
  needsAck,
  noticeAnswer,
  qnRtnAnswer,
  QnRtn,
  request,
  type Packet,
  SERIAL_FIELD,
} from '../../protocol/index.js';
// A 1013 without ST (lenient decode) gets its 1012 under 91, the system interaction code (table 5).
import { ST_SYSTEM } from '../../protocol/answers.js';
import type { Authenticator } from '../auth.js';
import type { Station } from '../registry.js';
import { isSerial, type StationSerials } from '../serials.js';
import { isMeasureKind, type MeasurementStore, type Point } from '../store/types.js';
import { answerable } from './header.js';
import { DATA_CN, pointsOf } from './points.js';

/** Where a packet came from, for logs and for sending requests back. */
export type Via = 'tcp' | 'mqtt' | 'http';

/**
 * `then`: requests of ours that follow the answer on the same link, in order (the 1012 that HJ 212-2017
 * C.4 sends after the 9013 to a 1013). A transport that cannot carry them back (HTTP) leaves them out.
 */
export type Verdict =
  | { ok: true; station: Station; points: Point[]; answer?: Packet; then?: Packet[] }
  | { ok: false; reason: string; answer?: Packet };

export const IngestOptionsSchema = z.strictObject({
  /**
   * How far ahead of this server's clock a DataTime may be (loggers' clocks drift; NTP on both ends
   * keeps it to seconds). Data dated further ahead would pin "latest" and the rules to a future time.
   */
  maxFutureSeconds: z.number().int().min(0).default(900),
  /**
   * refuse: answered 9011 QnRtn 2 and not stored; store: stored (and answered) but kept out of latest values and rules.
   */
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
  /** The QN of a request of ours to a station, unique per station (cloud/commands/store.ts); default the clock's. */
  qn?: (mn: string, now: number) => string;
  /** Called for every authenticated packet (live status, answers to our requests). */
  onPacket?: (station: Station, packet: Packet, via: Via) => void;
  /** Where the logger hardware serials of HJ 212-2025 1001 go (cloud/serials.ts); none: not kept. */
  serials?: Pick<StationSerials, 'report'>;
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
  private limits: IngestConfig | undefined;

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
    if (future) return true;
    // The HJ 212-2025 record kinds (2013, 2052, 2062, 2111) are stored only: no value rule, no latest value.
    if (points.every((p) => isMeasureKind(p.kind))) this.o.onStored?.(station, points, packet, via);
    else {
      const measured = points.filter((p) => isMeasureKind(p.kind));
      if (measured.length > 0) this.o.onStored?.(station, measured, packet, via);
    }
    return true;
  }

  /** Whether logins from this address are locked out for guessing. */
  addressLocked(addr: string | undefined): boolean {
    return this.o.auth.addressLocked(addr);
  }

  async accept(packet: Packet, via: Via, addr?: string): Promise<Verdict> {
    this.stats.packets++;
    // A PW verified before is checked synchronously (no promise); anything else takes the full check.
    const auth =
      this.o.auth.known(packet.mn, packet.pw, 'passwordHash', addr) ??
      (await this.o.auth.check(packet.mn, packet.pw, 'passwordHash', addr));
    if (!auth.ok) {
      this.reject(auth.reason, ctxOf(packet, via, addr));
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
        this.reject('bad-data', { ...ctxOf(packet, via, addr), detail: r.reason });
        return { ok: false, reason: 'bad-data', answer: refused() };
      }
      points = r.points;
      const limits = (this.limits ??= this.o.limits ?? IngestOptionsSchema.parse({}));
      const now = this.o.now?.() ?? Date.now();
      let latest = -Infinity;
      for (const p of points) if (p.time > latest) latest = p.time;
      const aheadMs = latest - now;
      const future = aheadMs > limits.maxFutureSeconds * 1000;
      if (future) {
        const detail = {
          ...ctxOf(packet, via, addr),
          dataTime: packet.cp.params['DataTime'],
          aheadSeconds: Math.round(aheadMs / 1000),
        };
        this.reject('future-data', { ...detail, action: limits.futureData });
        if (limits.futureData === 'refuse') return { ok: false, reason: 'future-data', answer: refused() };
      }
      if (!(await this.store(station, points, packet, via, future))) return { ok: false, reason: 'store-failed' };
    }
    if (packet.cn === CN.SerialUpload) {
      // HJ 212-2025 1001 (docs/protocol-2025.md): the logger's hardware serial as SN, kept as station metadata
      // before any 9014 its A bit asks for; one without a usable SN is refused as bad data is.
      const sn = packet.cp.params[SERIAL_FIELD];
      if (!isSerial(sn)) {
        this.reject('bad-data', {
          ...ctxOf(packet, via, addr),
          detail: 'no SN (1-64 printable characters) in the CP of 1001',
        });
        return { ok: false, reason: 'bad-data', answer: qnRtnAnswer(answerable(packet), QnRtn.Rejected) };
      }
      this.o.serials?.report(station.mn, sn, this.o.now?.() ?? Date.now());
      this.o.log.info({ ...ctxOf(packet, via, addr), serial: sn, reason: 'serial' }, 'logger hardware serial (1001)');
    }
    if (packet.cn === CN.TimeCalibration) return { ok: true, station, points, ...this.calibrate(station, packet, via) };
    if (packet.cn === CN.Heartbeat) {
      // HJ 212-2025 heartbeat (the 2025 text is not public here; assumed from public implementations, see
      // docs/protocol-2025.md): the centre answers 9013 whatever the A bit, and the packet counts as proof
      // the station is online (onPacket above updated its last-seen). It carries no data: nothing is stored.
      this.o.log.debug({ ...ctxOf(packet, via, addr), reason: 'heartbeat' }, 'heartbeat');
      return { ok: true, station, points, answer: noticeAnswer(answerable(packet)) };
    }
    if (packet.cn === CN.QnRtn || packet.cn === CN.ExeRtn) this.logAnswer(packet, ctxOf(packet, via, addr));
    return needsAck(packet.flag) && isUpload(packet.cn)
      ? { ok: true, station, points, answer: dataAnswer(answerable(packet)) }
      : { ok: true, station, points };
  }

  /**
   * HJ 212-2017 C.4 (现场机时间校准请求): the logger's 1013 is answered 9013 (if its A bit asks), then the
   * centre sends 1012 with its own time as SystemTime, in China time (HJ 212 time stamps are local time,
   * UTC+8), addressed with the PW, ST and version the logger used.
   */
  private calibrate(station: Station, packet: Packet, via: Via): { answer?: Packet; then: Packet[] } {
    const now = new Date(this.o.now?.() ?? Date.now());
    // The PW was just checked against the registry, so it is there and carriable.
    const target = { mn: station.mn, pw: packet.pw ?? '', st: packet.st ?? ST_SYSTEM, version: packet.version };
    const qn = this.o.qn?.(station.mn, now.getTime());
    const setTime = request(target, CN.SetTime, { SystemTime: formatHjTime(now) }, { now, ...(qn && { qn }) });
    this.o.log.info(
      { mn: packet.mn, qn: packet.qn, via, systemTime: setTime.cp.params['SystemTime'], reason: 'time-calibration' },
      'logger asked for the time (1013): answering 9013 and sending 1012',
    );
    return { ...(needsAck(packet.flag) && { answer: noticeAnswer(answerable(packet)) }), then: [setTime] };
  }

  /**
   * A logger's 9011/9012 to a request of ours (1012 after a 1013, 2061 for missing hours): the centre keeps
   * no table of requests sent, so the answer is logged with the request's QN and its outcome. A refusal
   * (QnRtn other than 1, ExeRtn other than 1) is logged at warn level.
   */
  private logAnswer(packet: Packet, ctx: Record<string, unknown>): void {
    const qnRtn = packet.cp.params['QnRtn'];
    const exeRtn = packet.cp.params['ExeRtn'];
    const ok = packet.cn === CN.QnRtn ? qnRtn === String(QnRtn.Ready) : exeRtn === String(ExeRtn.Success);
    const line = {
      ...ctx,
      reason: ok ? 'command-answer' : 'command-refused',
      ...(qnRtn !== undefined && { qnRtn }),
      ...(exeRtn !== undefined && { exeRtn }),
    };
    if (ok) this.o.log.info(line, `logger answered ${packet.cn} to request ${packet.qn ?? '(no QN)'}`);
    else this.o.log.warn(line, `logger refused or failed request ${packet.qn ?? '(no QN)'} (${packet.cn})`);
  }
}

/** The log context of a packet, built only for one that is logged (most are not). */
const ctxOf = (packet: Packet, via: Via, addr: string | undefined): Record<string, unknown> => ({
  mn: packet.mn,
  cn: packet.cn,
  qn: packet.qn,
  via,
  ...(addr !== undefined && { addr }),
});

/**
 * Uploads (2xxx, 3019 the analyzer id of C.39, 3020, and the HJ 212-2025 serial 1001; 1013 aside) are what
 * 9014 answers; answers (9xxx) are never answered.
 */
const isUpload = (cn: string): boolean =>
  cn.startsWith('2') || cn === '3019' || cn === '3020' || cn === CN.SerialUpload;
