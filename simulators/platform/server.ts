import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  CN,
  ExeRtn,
  QnRtn,
  NEW_KEY_FIELD,
  dataAnswer,
  decodeKeys,
  isKeyHex,
  keyBytes,
  newKeyHex,
  switchKey,
  noticeAnswer,
  decodeFrame,
  formatHjTime,
  historyRequest,
  makeQn,
  needsAck,
  qnRtnAnswer,
  Reassembler,
  request,
  type CodecOptions,
  type DecodeResult,
  type DecodedFrame,
  type HistoryCn,
  type KeyState,
  type Packet,
} from '../../protocol/index.js';
import { isEncryptableCn } from '../../protocol/sm4.js';
import { parseSegment } from '../../protocol/segment.js';
import { DEFAULT_PASSWORD } from '../../protocol/wire.js';
import { answeredQn, FrameLink, makeLog } from '../hj212-link/link.js';
import { checkDataPacket, checkSt, isDataCn, unknownFactors } from './checks.js';
import { FRAME_OVERHEAD, type PlatformConfig, type ScriptStep, type StationConfig } from './config.js';
import { expire, newExchange, observe, type ExchangeRecord } from './exchange.js';
import { frameRef, ReportBuilder, type ConformanceReport, type FrameRef, type RejectedFrame } from './report.js';

interface Connection {
  label: string;
  link: FrameLink;
  mn?: string;
}

interface OpenExchange {
  record: ExchangeRecord;
  timer: NodeJS.Timeout;
}

const ANSWERS = new Set<string>([CN.QnRtn, CN.ExeRtn, CN.NoticeAnswer, CN.DataAnswer]);
const HISTORY = new Set<string>([CN.DayData, CN.RunTimeDay, CN.MinuteData, CN.HourData]);

export interface PlatformEvents {
  exchange: [ExchangeRecord];
  upload: [{ mn: string; cn: string; qn?: string; cp: Packet['cp'] }];
  rejected: [{ mn: string; error: RejectedFrame['error'] }];
  refused: [{ mn: string; cn: string; qnRtn: number }];
}

/**
 * The platform (上位机) simulator: accepts loggers, decodes strictly, answers per the standard, runs
 * scripted requests, and builds a per-MN conformance report.
 */
export class PlatformServer extends EventEmitter<PlatformEvents> {
  private readonly server: Server;
  private readonly stations: Map<string, StationConfig>;
  private readonly report: ReportBuilder;
  private readonly strict: CodecOptions;
  private readonly lenient: CodecOptions;
  private readonly connections = new Set<Connection>();
  private readonly byMn = new Map<string, Connection>();
  private readonly exchanges = new Map<string, OpenExchange>();
  private readonly scripted = new Set<string>();
  /** Split uploads being joined, per configured station (memory bounded by the Reassembler). */
  private readonly splits = new Map<string, Reassembler>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastQnTime = 0;
  /** Set by close(): no further scripted step is scheduled. */
  private closing = false;
  private readonly log: Logger;
  private readonly now: () => number;
  /**
   * SM4 keys by MN (HJ 212-2025): the configured one until a scripted 1014 changes it. The replaced key is
   * kept (`previous`) only to name a frame still under it; no frame is accepted under it.
   */
  private readonly keys = new Map<string, KeyState>();
  /** Stations whose key changed and whose next encrypted frame is to show it went under the new one (1014's QN). */
  private readonly keyChanged = new Map<string, string>();
  /** The QN of each station's last key change, for the report. */
  private readonly lastKeyChange = new Map<string, string>();

  constructor(
    private readonly config: PlatformConfig,
    opts: { log?: Logger; now?: () => number } = {},
  ) {
    super();
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? makeLog('hj212-sim-platform');
    this.stations = new Map(config.stations.map((s) => [s.mn, s]));
    for (const s of config.stations) {
      if (s.pw === DEFAULT_PASSWORD)
        this.log.warn(
          { mn: s.mn, reason: `station configured with the field default password ${DEFAULT_PASSWORD}` },
          'default password',
        );
    }
    this.report = new ReportBuilder(new Set(this.stations.keys()));
    for (const s of config.stations)
      if (s.sm4Key !== undefined) this.keys.set(s.mn, { key: s.sm4Key.toUpperCase(), since: 0 });
    const sm4Key = (mn: string | undefined): Uint8Array | undefined => {
      const state = mn === undefined ? undefined : this.keys.get(mn);
      return state && keyBytes(state.key);
    };
    // A key issued by a 1014 is accepted from the moment it is sent, as the cloud does (docs/protocol-2025.md).
    const sm4DecodeKeys = (mn: string | undefined): Uint8Array[] =>
      mn === undefined ? [] : decodeKeys(this.keys.get(mn), this.now()).map(keyBytes);
    this.strict = { mode: 'strict', sm4Key, sm4DecodeKeys, maxSegment: config.maxFrameBytes - FRAME_OVERHEAD };
    this.lenient = { mode: 'lenient', sm4Key, sm4DecodeKeys };
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = config.maxConnections;
    this.server.on('drop', (d) =>
      this.log.warn(
        { reason: `over maxConnections ${config.maxConnections}`, remote: d?.remoteAddress },
        'connection refused',
      ),
    );
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        this.log.info({ host: address.address, port: address.port }, 'listening');
        resolve(address);
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The conformance report so far. */
  conformance(): ConformanceReport {
    return this.report.build(new Date(this.now()));
  }

  /** Stops listening, ends open exchanges and scripts, closes every connection, and returns the report. */
  async close(): Promise<ConformanceReport> {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const [key, open] of this.exchanges)
      this.finish(key, open, 'the platform stopped before the answer was complete');
    for (const [mn, r] of this.splits)
      for (const d of r.giveUp('the platform stopped')) this.report.check(mn, 'split', false, d.message);
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.link.close()));
    await closing;
    return this.conformance();
  }

  private accept(socket: Socket): void {
    const label = `unidentified ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const conn: Connection = { label, link: new FrameLink(socket, this.strict, (r) => this.onResult(conn, r)) };
    this.connections.add(conn);
    this.report.totals.connections++;
    socket.on('error', (err) => this.log.warn({ mn: conn.mn, remote: label, reason: err.message }, 'socket error'));
    socket.on('close', () => {
      this.connections.delete(conn);
      if (conn.mn !== undefined && this.byMn.get(conn.mn) === conn) this.byMn.delete(conn.mn);
      this.log.info({ mn: conn.mn, remote: label }, 'disconnected');
    });
  }

  private send(conn: Connection, packet: Packet): void {
    try {
      conn.link.send(packet);
    } catch (err) {
      this.log.error({ mn: conn.mn, cn: packet.cn, reason: (err as Error).message }, 'could not encode an answer');
    }
  }

  private onResult(conn: Connection, r: DecodeResult): void {
    if (r.ok) this.onFrame(conn, r.frame);
    else this.onRejected(conn, r.error, r.raw);
  }

  private onFrame(conn: Connection, frame: DecodedFrame): void {
    const p = frame.packet;
    // Strict decoding makes MN mandatory, so this is the station's MN.
    const mn = p.mn ?? conn.mn ?? conn.label;
    // Named only by a failed check: not built for every frame that passes them all.
    let built: FrameRef | undefined;
    const ref = (): FrameRef => (built ??= frameRef(frame.raw, p));
    this.report.accepted(mn, p.version);
    this.report.check(mn, 'frame-strict', true);
    this.report.check(mn, 'qn', true);
    const station = this.stations.get(mn);
    if (!station) {
      this.report.check(mn, 'station-known', false, 'MN is not configured on this platform', ref);
      this.log.warn({ mn, cn: p.cn, reason: 'unknown MN' }, 'frame from unknown station');
      this.refuse(conn, mn, p, QnRtn.BadMn);
      return;
    }
    this.report.check(mn, 'station-known', true);
    this.bind(conn, mn);
    if (p.pw !== station.pw) {
      this.report.check(mn, 'password', false, `PW ${p.pw ?? '(none)'} does not match the station's password`, ref);
      this.log.warn({ mn, cn: p.cn, reason: 'wrong PW' }, 'frame refused');
      this.refuse(conn, mn, p, QnRtn.BadPassword);
      return;
    }
    this.report.check(mn, 'password', true);
    if (p.pw === DEFAULT_PASSWORD) this.report.warn(mn, `uses the field default password ${DEFAULT_PASSWORD}`);
    if (station.version !== undefined)
      this.report.check(
        mn,
        'version',
        p.version === station.version,
        `speaks HJ 212-${p.version}, configured for ${station.version}`,
        ref,
      );
    this.contentChecks(mn, station, p, ref);
    const changedBy = this.keyChanged.get(mn);
    if (changedBy !== undefined && isEncryptableCn(p.cn) && this.keys.has(mn)) {
      this.keyChanged.delete(mn);
      this.report.check(mn, 'key-change', true);
      this.log.info(
        { mn, cn: p.cn, qn: p.qn, reason: 'key-change' },
        `CN ${p.cn} came under the key of 1014 QN=${changedBy}`,
      );
    }

    const qn = answeredQn(p);
    let key = `${mn}|${qn ?? ''}`;
    let open = this.exchanges.get(key);
    if (!open && p.pnum !== undefined) [key, open] = this.splitAnswering(mn, p.cn) ?? [key, undefined];
    if (open && (ANSWERS.has(p.cn) || p.cn === open.record.cn)) {
      if (p.pnum !== undefined) this.reassemble(mn, p);
      if (observe(open.record, p)) this.finish(key, open);
      if (needsAck(p.flag)) this.send(conn, dataAnswer(p));
      return;
    }
    if (ANSWERS.has(p.cn)) {
      this.report.check(
        mn,
        'answers',
        false,
        `unsolicited ${p.cn} (QN ${qn ?? 'none'} matches no request of this platform)`,
        ref,
      );
      return;
    }
    if (p.cn === CN.TimeCalibration) {
      // Table C.4: answer the notice, then set the logger's clock as table C.3 does.
      this.send(conn, noticeAnswer(p));
      this.log.info({ mn, reason: 'time calibration requested (1013)' }, 'setting the logger clock');
      this.issue({ mn, cn: CN.SetTime, params: {} });
      return;
    }
    const ack = needsAck(p.flag);
    if (ack) this.send(conn, dataAnswer(p));
    if (isDataCn(p.cn) || p.cn === CN.FieldInfo || p.cn === CN.RunState || p.cn === CN.RunTimeDay)
      this.report.upload(mn, p.cn, ack);
    const whole = this.reassemble(mn, p);
    if (!whole) return;
    const upload: { mn: string; cn: string; st?: string; qn?: string; cp: Packet['cp'] } = {
      mn,
      cn: whole.cn,
      cp: whole.cp,
    };
    if (whole.st !== undefined) upload.st = whole.st;
    if (whole.qn !== undefined) upload.qn = whole.qn;
    this.emit('upload', upload);
  }

  /**
   * The request a split data part answers: tables C.49/C.50 give each part its own QN, not the
   * request's, so a part goes to the one open request of the station for its CN.
   */
  private splitAnswering(mn: string, cn: string): [string, OpenExchange] | undefined {
    const candidates = [...this.exchanges].filter(([, o]) => o.record.mn === mn && o.record.cn === cn);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  /** The checks on what a packet says: data content, DataTime on its period, ST, factor codes. */
  private contentChecks(mn: string, station: StationConfig, p: Packet, ref: () => FrameRef): void {
    for (const c of checkDataPacket(p, station.minInterval)) this.report.check(mn, c.check, c.ok, c.reason, ref);
    const st = checkSt(p);
    this.report.check(mn, st.check, st.ok, st.reason, ref);
    // HJ 212-2025 data sets of their own (power use 44, production conditions 45) come besides the outlet's.
    const dataSet = p.version === '2025' && (p.st === '44' || p.st === '45');
    if (st.ok && isDataCn(p.cn) && station.st !== p.st && !dataSet)
      this.report.warn(mn, `uploads with ST=${p.st ?? '(none)'}; the platform has the station as ST=${station.st}`);
    for (const code of unknownFactors(p))
      this.report.warn(
        mn,
        `factor ${code} is not a code of appendix B (first in CN ${p.cn} QN=${p.qn ?? '(none)'})`,
        `factor ${code}`,
      );
  }

  /**
   * Joins PNUM/PNO parts (HJ 212-2017 6.3.2, table C.49): a whole message passes the split check and
   * is the one upload emitted; a message given up (parts missing past the timeout, or too many at
   * once) fails it, naming the missing PNOs.
   */
  private reassemble(mn: string, p: Packet): Packet | undefined {
    if (p.pnum === undefined) return p;
    let r = this.splits.get(mn);
    if (!r) {
      r = new Reassembler({ now: this.now, timeoutMs: Math.max(this.config.requestTimeout, 60_000) });
      this.splits.set(mn, r);
    }
    const out = r.push(p);
    for (const d of out.dropped) this.report.check(mn, 'split', false, d.message);
    if (out.packet) this.report.check(mn, 'split', true);
    return out.packet;
  }

  /** 9011 with a QnRtn of table 7, only to a packet that asked for an answer (A bit). */
  private refuse(conn: Connection, mn: string, p: Packet, code: number): void {
    if (!needsAck(p.flag)) return;
    this.send(conn, qnRtnAnswer(p, code));
    this.emit('refused', { mn, cn: p.cn, qnRtn: code });
  }

  /**
   * A frame the strict decoder refused: decoded again leniently to name the dialect, attributed to
   * the MN it carries where one can be read, and answered with QnRtn=9 when only its CRC is wrong.
   */
  private onRejected(conn: Connection, error: RejectedFrame['error'], raw: string): void {
    const again = decodeFrame(raw, this.lenient);
    const lenient: RejectedFrame['lenient'] = again.ok
      ? { ok: true, crcDialect: again.frame.crcDialect, relaxations: again.frame.relaxations }
      : { ok: false, error: again.error };
    const header = again.ok ? again.frame.packet : this.readHeader(raw);
    const mn = header?.mn ?? conn.mn ?? conn.label;
    const ref = frameRef(raw, header);
    this.report.rejected(mn, { error, lenient, raw, frame: ref });
    this.report.check(mn, 'frame-strict', false, `${error.code}: ${error.message}`, ref);
    // A header field the strict decoder refused is also a failure of that field's own check.
    const fieldCheck = error.field === 'QN' ? 'qn' : error.field === 'ST' ? 'st' : undefined;
    if (fieldCheck) this.report.check(mn, fieldCheck, false, error.message, ref);
    this.log.warn(
      { mn, reason: `${error.code}: ${error.message}`, lenient: lenient.ok ? lenient.crcDialect : lenient.error.code },
      'frame rejected',
    );
    this.emit('rejected', { mn, error });
    if (error.code === 'decrypt-failed') this.underReplacedKey(mn, raw, ref);
    if (error.code === 'bad-crc' && header) this.refuse(conn, mn, header, QnRtn.BadCrc);
  }

  /** A frame that did not decrypt after a key change: under the replaced key, the 1014 did not take at the logger. */
  private underReplacedKey(mn: string, raw: string, ref: FrameRef): void {
    const previous = this.keys.get(mn)?.previous;
    const changedBy = this.keyChanged.get(mn) ?? this.lastKeyChange.get(mn);
    if (previous === undefined) return;
    const old = decodeFrame(raw, { mode: 'lenient', sm4Key: () => keyBytes(previous) });
    if (!old.ok) return;
    this.keyChanged.delete(mn);
    this.report.check(
      mn,
      'key-change',
      false,
      `CN ${old.frame.packet.cn} still under the replaced key after the 9012 ExeRtn=1 of 1014 QN=${changedBy ?? '?'}`,
      ref,
    );
  }

  /**
   * HJ 212-2025 1014 (docs/protocol-2025.md): once the logger's 9012 ExeRtn=1 answers the request, the key it
   * carried is the station's; frames under the old one are refused from then on (no grace: the simulator checks
   * that the logger switched). Any other outcome drops the key issued.
   */
  private settleKey(ex: ExchangeRecord): void {
    const state = this.keys.get(ex.mn);
    if (!state || state.pendingQn !== ex.qn || state.pending === undefined) return;
    const { pending: _p, pendingQn: _q, ...kept } = state;
    if (ex.exeRtn !== ExeRtn.Success) {
      this.keys.set(ex.mn, kept);
      this.log.warn({ mn: ex.mn, qn: ex.qn, reason: 'key-change-refused' }, 'the logger did not take the new SM4 key');
      return;
    }
    this.keys.set(ex.mn, { ...switchKey(kept, state.pending, this.now(), 0), previous: kept.key });
    this.keyChanged.set(ex.mn, ex.qn);
    this.lastKeyChange.set(ex.mn, ex.qn);
    this.log.info({ mn: ex.mn, qn: ex.qn, reason: 'key-changed' }, 'SM4 key changed (1014)');
  }

  /** The header of a well-framed packet whose CRC failed, read by the codec's own segment parser. */
  private readHeader(raw: string): Packet | undefined {
    if (!raw.startsWith('##') || !raw.endsWith('\r\n')) return undefined;
    try {
      return parseSegment(raw.slice(6, raw.length - 6), this.lenient).packet;
    } catch {
      return undefined;
    }
  }

  /** The first valid frame of a station on a connection makes it addressable and starts its script. */
  private bind(conn: Connection, mn: string): void {
    if (conn.mn === mn && this.byMn.get(mn) === conn) return;
    conn.mn = mn;
    this.byMn.set(mn, conn);
    this.log.info({ mn, remote: conn.label }, 'station identified');
    if (this.scripted.has(mn)) return;
    this.scripted.add(mn);
    const steps = this.config.script.filter((s) => s.mn === mn);
    if (this.config.sequential) {
      this.runInTurn(steps);
      return;
    }
    for (const step of steps) this.later(step.after, () => this.issue(step));
  }

  private later(ms: number, fn: () => void): void {
    if (this.closing) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Sequential scripts: the next step's delay starts when the previous step's exchange is over. */
  private runInTurn(steps: ScriptStep[]): void {
    const [step, ...rest] = steps;
    if (!step) return;
    this.later(step.after, () => {
      const record = this.issue(step);
      if (record.done) return this.runInTurn(rest);
      const next = (r: ExchangeRecord): void => {
        if (r !== record) return;
        this.off('exchange', next);
        this.runInTurn(rest);
      };
      this.on('exchange', next);
    });
  }

  private qn(): string {
    this.lastQnTime = Math.max(this.now(), this.lastQnTime + 1);
    return makeQn(new Date(this.lastQnTime));
  }

  /** Sends one scripted request and waits for its 9011 ... 9012 within the request timeout. */
  issue(step: Pick<ScriptStep, 'mn' | 'cn' | 'params' | 'last' | 'expectQnRtn'>): ExchangeRecord {
    const now = new Date(this.now());
    const qn = this.qn();
    const record = newExchange(step.mn, step.cn, qn, now, step.expectQnRtn);
    const station = this.stations.get(step.mn);
    const conn = this.byMn.get(step.mn);
    if (!station || !conn) {
      expire(record, station ? 'the station is not connected' : 'the MN is not a configured station');
      this.report.exchange(record);
      this.emit('exchange', record);
      return record;
    }
    const target = { mn: station.mn, pw: station.pw, st: station.st, version: station.version ?? '2017' };
    const params = { ...step.params };
    if (step.cn === CN.SetTime && params['SystemTime'] === undefined) params['SystemTime'] = formatHjTime(now);
    const keyState = this.keys.get(step.mn);
    if (step.cn === CN.KeyUpdate && params[NEW_KEY_FIELD] === undefined && keyState)
      params[NEW_KEY_FIELD] = newKeyHex();
    const packet =
      HISTORY.has(step.cn) && params['BeginTime'] === undefined && step.last !== undefined
        ? historyRequest(target, step.cn as HistoryCn, new Date(now.getTime() - step.last), now, { qn })
        : request(target, step.cn, params, { qn });
    const key = `${step.mn}|${qn}`;
    const timer = setTimeout(
      () => this.finish(key, this.exchanges.get(key)!, `no complete answer within ${this.config.requestTimeout} ms`),
      this.config.requestTimeout,
    );
    this.exchanges.set(key, { record, timer });
    // The 1014 goes under the key in force; the key it carries is pending until the logger's 9012.
    if (step.cn === CN.KeyUpdate && keyState && isKeyHex(params[NEW_KEY_FIELD]))
      this.keys.set(step.mn, { ...keyState, pending: params[NEW_KEY_FIELD].toUpperCase(), pendingQn: qn });
    this.log.info({ mn: step.mn, cn: step.cn, qn }, 'request sent');
    this.send(conn, packet);
    return record;
  }

  private finish(key: string, open: OpenExchange, expired?: string): void {
    clearTimeout(open.timer);
    this.exchanges.delete(key);
    if (expired !== undefined) expire(open.record, expired);
    if (open.record.cn === CN.KeyUpdate) this.settleKey(open.record);
    this.report.exchange(open.record);
    this.report.check(open.record.mn, `request-${open.record.cn}`, open.record.ok, open.record.reason);
    this.log.info(
      { mn: open.record.mn, cn: open.record.cn, qn: open.record.qn, ok: open.record.ok, reason: open.record.reason },
      'request finished',
    );
    this.emit('exchange', open.record);
  }
}
