import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  CN,
  QnRtn,
  formatHjTime,
  makeFlag,
  serialCp,
  makeQn,
  splitPacket,
  STANDARD_MAX_SEGMENT,
  type CodecOptions,
  type Cp,
  type DecodeResult,
  type Packet,
} from '../../protocol/index.js';
import type { SimClock } from '../shared/clock.js';
import { answeredQn, FrameLink } from '../hj212-link/link.js';
import { MqttFrameLink, type MqttLinkOptions } from '../hj212-link/mqtt-link.js';
import type { StationSpec } from './config.js';
import { handleRequest, type AnalyzerState, type Identity, type LoggerState, type StateChange } from './requests.js';
import { countCn, type RunSummary } from './summary.js';
import { aggregateCp, nextBoundary, periodMs, realtimeCp, type Script } from './values.js';
import {
  furnaceCp,
  FURNACE_PERIOD_MS,
  noiseCp,
  rawCp,
  standardCheckCp,
  type StandardCheckConfig,
} from './values-2025.js';

/** The HJ 212-2025 uploads a logger sends on their own schedules (LoggerConfig's data2025), resolved. */
export interface Data2025Options {
  /** 2013 every this many simulated seconds. */
  rawS?: number;
  /** 2052 over runs of this many simulated minutes. */
  noiseMin?: number;
  /** 2111 every 5 simulated minutes. */
  furnace?: boolean;
  /** 2062 every `everyMin` simulated minutes. */
  standardCheck?: StandardCheckConfig & { everyMin: number };
}

export interface StationOptions {
  spec: StationSpec;
  host: string;
  port: number;
  clock: SimClock;
  seed: number;
  intervals: { rtd: number; minute: number; hour: boolean; day: boolean };
  /** Load mode: one real-time upload every this many real milliseconds instead of the warped RtdInterval. */
  rtdEveryMs?: number;
  ackTimeoutMs: number;
  retries: number;
  /** Send a 1013 (HJ 212-2017 C.4) on each connect; the platform answers 9013, then 1012. */
  timeCalibration?: boolean;
  /** HJ 212-2025: a 9015 heartbeat after this many real ms with nothing sent. */
  heartbeatMs?: number;
  /** HJ 212-2025 stations: 2013, 2052, 2062, 2111 schedules (none by default). */
  data2025?: Data2025Options;
  /** Hours before the clock's hour whose 2061 records are uploaded on start (the config's backlogHours). */
  backlogHours?: number;
  /** Over MQTT to this broker (the cloud's topics, protocol/wire.ts) instead of TCP to host:port. */
  mqtt?: MqttLinkOptions;
  /** Wait before reconnecting after the platform closed the connection. */
  reconnectMs: number;
  tickMs: number;
  /** Scripted values and flags (exceedances, spikes, F hours...). */
  script?: Script;
  /** Link down over [from, to): uploads due then are not sent; history requests still return them. */
  outages?: readonly { from: number; to: number }[];
  summary: RunSummary;
  log: Logger;
}

interface Pending {
  frame: string;
  cn: string;
  attempts: number;
  timer: NodeJS.Timeout;
}

type Stream = '2011' | '2051' | '2061' | '2031' | '2013' | '2052' | '2062' | '2111';

/** A warped clock can run far ahead of a tick; beyond this many periods the backlog is skipped, not sent. */
const CATCH_UP = 10;

/** One simulated data logger: one TCP connection, its own MN, password, clock and schedule. */
export class SimLogger {
  private link: FrameLink | MqttFrameLink | undefined;
  private offsetMs = 0;
  private rtdIntervalS: number;
  /** Table 1 defaults from the config, until a 1000 sets them (C.1). */
  private ackTimeoutMs: number;
  private retries: number;
  private minIntervalMin: number;
  private realtime = true;
  private next: Partial<Record<Stream, number>> = {};
  private readonly pending = new Map<string, Pending>();
  private readonly timers: NodeJS.Timeout[] = [];
  private lastQnTime = 0;
  /** Real time (ms) of the last frame sent, for the heartbeat. */
  private lastSentAt = 0;
  private settled: (() => void) | undefined;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly codec: Pick<CodecOptions, 'sm4Key' | 'mode'>;
  /** The SM4 key in force (HJ 212-2025): the configured one until a platform's 1014 changes it. */
  private sm4Key: Uint8Array | undefined;
  private readonly log: Logger;
  /** The configured identity, until a 1072 sets another PW (C.9). */
  private readonly identity: Identity;
  private analyzers: AnalyzerState = { samplePeriods: {}, vasesUsed: 0 };

  constructor(private readonly o: StationOptions) {
    this.identity = { ...o.spec.identity };
    this.rtdIntervalS = o.intervals.rtd;
    this.ackTimeoutMs = o.ackTimeoutMs;
    this.retries = o.retries;
    this.minIntervalMin = o.intervals.minute;
    const { mn } = o.spec.identity;
    this.codec = { mode: 'lenient' };
    if (o.spec.sm4Key !== undefined) {
      this.sm4Key = Buffer.from(o.spec.sm4Key, 'hex');
      // Looked up on every frame, so a 1014 key change holds for the links already open.
      this.codec.sm4Key = (m) => (m === mn ? this.sm4Key : undefined);
    }
    this.log = o.log.child({ mn });
  }

  get mn(): string {
    return this.identity.mn;
  }

  /** The logger's own time: simulated time plus whatever offset a 1012 set. */
  now(): number {
    return this.o.clock.now() + this.offsetMs;
  }

  connect(): Promise<void> {
    if (this.o.mqtt) return this.connectMqtt(this.o.mqtt);
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ host: this.o.host, port: this.o.port });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        this.link = new FrameLink(socket, this.codec, (r) => this.onResult(r));
        this.uploadSerial();
        if (this.o.timeCalibration === true) this.notice(CN.TimeCalibration);
        socket.on('close', () => {
          this.log.info({ reason: 'connection closed' }, 'disconnected');
          if (!this.stopping) this.reconnect();
        });
        resolve();
      });
      socket.once('error', (err) => {
        this.log.warn({ reason: err.message }, 'socket error');
        reject(err);
      });
    });
  }

  private async connectMqtt(o: MqttLinkOptions): Promise<void> {
    const clientId = `sim-logger-${this.mn}-${this.o.summary.reconnects}`;
    try {
      this.link = await MqttFrameLink.open(
        { ...o, mn: this.mn, clientId },
        this.codec,
        (r) => this.onResult(r),
        () => {
          this.log.info({ reason: 'connection closed' }, 'disconnected');
          if (!this.stopping) this.reconnect();
        },
      );
    } catch (e) {
      this.log.warn({ reason: (e as Error).message }, 'MQTT connect failed');
      throw e;
    }
    this.uploadSerial();
    if (this.o.timeCalibration === true) this.notice(CN.TimeCalibration);
  }

  /** A logger in the field keeps dialling its platform; uploads due meanwhile wait in their retries. */
  private reconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.o.summary.reconnects++;
      this.connect().catch(() => {
        if (!this.stopping) this.reconnect();
      });
    }, this.o.reconnectMs);
  }

  /** Starts the upload schedule. */
  start(): void {
    const backlog = this.o.backlogHours ?? 0;
    if (backlog > 0 && this.o.intervals.hour) {
      // The hours [hour - backlog, hour) are all ended; the schedule's first 2061 is the one ending next.
      const len = periodMs('2061', this.minIntervalMin);
      const hour = Math.floor(this.now() / len) * len;
      for (let at = hour - backlog * len; at < hour; at += len)
        if (!this.o.outages?.some((o) => o.from <= at + len && at + len < o.to))
          this.upload('2061', aggregateCp(this.o.seed, this.mn, this.o.spec.outlet, at, len, this.o.script));
    }
    // The first tick fixes the first boundaries against the clock as it reads now.
    this.tick();
    this.timers.push(setInterval(() => this.tick(), this.o.tickMs));
    const beat = this.o.heartbeatMs;
    if (beat !== undefined) {
      // Checked at a tenth of the period, so a heartbeat goes out at most 10% late after the last frame.
      this.timers.push(
        setInterval(() => Date.now() - this.lastSentAt >= beat && this.notice(CN.Heartbeat), Math.max(beat / 10, 10)),
      );
    }
    if (this.o.rtdEveryMs !== undefined) {
      this.timers.push(
        setInterval(() => {
          if (this.realtime)
            this.upload(
              CN.RealtimeData,
              realtimeCp(this.o.seed, this.mn, this.o.spec.outlet, this.now(), this.o.script),
            );
        }, this.o.rtdEveryMs),
      );
    }
  }

  /** Stops the schedule, lets unanswered uploads run out their retries, and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    for (const t of this.timers) clearInterval(t);
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.settled = resolve));
    await this.link?.close();
  }

  private lengthOf(stream: Stream): number {
    const d = this.o.data2025 ?? {};
    switch (stream) {
      case '2011':
        return this.rtdIntervalS * 1000;
      case '2013':
        return d.rawS! * 1000;
      case '2052':
        return d.noiseMin! * 60_000;
      case '2062':
        return d.standardCheck!.everyMin * 60_000;
      case '2111':
        return FURNACE_PERIOD_MS;
      default:
        return periodMs(stream, this.minIntervalMin);
    }
  }

  /** The CP of a `stream` record due at `due` (an instant for 2011/2013/2062, else the end of its period). */
  private cpOf(stream: Stream, due: number, len: number): Cp {
    const { seed, script } = this.o;
    const outlet = this.o.spec.outlet;
    switch (stream) {
      case '2011':
        return realtimeCp(seed, this.mn, outlet, due, script);
      case '2013':
        return rawCp(seed, this.mn, outlet, due, script);
      case '2052':
        return noiseCp(seed, this.mn, due - len, len, script);
      case '2062':
        return standardCheckCp(outlet, due, this.o.data2025!.standardCheck!);
      case '2111':
        return furnaceCp(seed, this.mn, due - len, script);
      default:
        return aggregateCp(seed, this.mn, outlet, due - len, len, script);
    }
  }

  private streams(): Stream[] {
    const out: Stream[] = [];
    if (this.o.rtdEveryMs === undefined && this.realtime) out.push('2011');
    out.push('2051');
    if (this.o.intervals.hour) out.push('2061');
    if (this.o.intervals.day) out.push('2031');
    const d = this.o.data2025;
    if (d && this.identity.version === '2025') {
      if (d.rawS !== undefined) out.push('2013');
      if (d.noiseMin !== undefined) out.push('2052');
      if (d.standardCheck) out.push('2062');
      if (d.furnace === true) out.push('2111');
    }
    return out;
  }

  private tick(): void {
    const now = this.now();
    for (const stream of this.streams()) {
      const len = this.lengthOf(stream);
      let due = this.next[stream] ?? nextBoundary(now, len);
      for (let n = 0; due <= now && n < CATCH_UP; n++, due += len) {
        const at = due;
        if (this.o.outages?.some((o) => o.from <= at && at < o.to)) continue;
        this.upload(stream, this.cpOf(stream, due, len));
      }
      this.next[stream] = due <= now ? nextBoundary(now, len) : due;
    }
  }

  /** QNs must be unique per logger so each 9014 finds its upload, even when several go out in one millisecond. */
  private qn(): string {
    this.lastQnTime = Math.max(Math.floor(this.now()), this.lastQnTime + 1);
    return makeQn(new Date(this.lastQnTime));
  }

  /**
   * A notice of ours (1013 time calibration request, 2025 9015 heartbeat), answered 9013; not kept for
   * retries like an upload: a lost 1013 is sent again at the next connect, a lost heartbeat at the next beat.
   */
  private notice(cn: string): void {
    const id = this.identity;
    const packet: Packet = {
      version: id.version,
      qn: this.qn(),
      st: id.st,
      cn,
      pw: id.pw,
      mn: id.mn,
      flag: makeFlag(id.version, { ack: true }),
      cp: { params: {}, factors: {} },
    };
    if (this.send(packet) === undefined) this.log.warn({ cn, reason: 'not connected' }, 'notice dropped');
    else this.log.debug({ cn, qn: packet.qn }, 'notice sent');
  }

  /**
   * HJ 212-2025 1001 (docs/protocol-2025.md): the hardware serial as SN at each connect, before anything else,
   * without the A bit (as the edge sends it): a lost one goes again at the next connect.
   */
  private uploadSerial(): void {
    const serial = this.o.spec.serial;
    const id = this.identity;
    if (serial === undefined || id.version !== '2025') return;
    const packet: Packet = {
      version: id.version,
      qn: this.qn(),
      st: id.st,
      cn: CN.SerialUpload,
      pw: id.pw,
      mn: id.mn,
      flag: makeFlag(id.version),
      cp: serialCp(serial, formatHjTime(new Date(this.now()))),
    };
    if (this.send(packet) === undefined) this.log.warn({ cn: packet.cn, reason: 'not connected' }, 'serial not sent');
    else this.log.debug({ cn: packet.cn, qn: packet.qn, serial }, 'serial sent');
  }

  /** Every frame out goes through here, so the heartbeat knows when the link was last used. */
  private send(packet: Packet): string | undefined {
    const frame = this.link?.send(packet);
    if (frame !== undefined) this.lastSentAt = Date.now();
    return frame;
  }

  private upload(cn: string, cp: Cp): void {
    const id = this.identity;
    const packet: Packet = {
      version: id.version,
      qn: this.qn(),
      st: id.st,
      cn,
      pw: id.pw,
      mn: id.mn,
      flag: makeFlag(id.version, { ack: true }),
      cp,
    };
    for (const part of splitPacket(packet, { ...this.codec, maxSegment: STANDARD_MAX_SEGMENT })) {
      const frame = this.send(part);
      if (frame === undefined) {
        this.log.warn({ cn, reason: 'not connected' }, 'upload dropped');
        continue;
      }
      countCn(this.o.summary, cn, 'sent');
      const entry: Pending = {
        frame,
        cn,
        attempts: 0,
        timer: setTimeout(() => this.onTimeout(part.qn!), this.ackTimeoutMs),
      };
      this.pending.set(part.qn!, entry);
    }
  }

  private onTimeout(qn: string): void {
    const p = this.pending.get(qn);
    if (!p) return;
    if (p.attempts < this.retries) {
      p.attempts++;
      this.o.summary.retries++;
      this.log.info(
        { qn, cn: p.cn, attempt: p.attempts, reason: `no 9014 within ${this.ackTimeoutMs} ms` },
        'retrying upload',
      );
      this.link?.write(p.frame);
      p.timer = setTimeout(() => this.onTimeout(qn), this.ackTimeoutMs);
      return;
    }
    this.log.warn({ qn, cn: p.cn, reason: `no 9014 after ${this.retries} retries` }, 'upload unacknowledged');
    this.finish(qn, 'unacknowledged');
  }

  private finish(qn: string, outcome: 'acknowledged' | 'unacknowledged'): void {
    const p = this.pending.get(qn);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(qn);
    countCn(this.o.summary, p.cn, outcome);
    if (this.pending.size === 0) this.settled?.();
  }

  private state(): LoggerState {
    return {
      identity: { ...this.identity },
      outlet: this.o.spec.outlet,
      analyzers: this.analyzers,
      seed: this.o.seed,
      now: this.now(),
      rtdIntervalS: this.rtdIntervalS,
      minIntervalMin: this.minIntervalMin,
      ...(this.o.script && { script: this.o.script }),
    };
  }

  private apply(change: StateChange): void {
    if (change.setTime !== undefined) {
      this.offsetMs = change.setTime - this.o.clock.now();
      this.next = {};
    }
    if (change.rtdIntervalS !== undefined) {
      this.rtdIntervalS = change.rtdIntervalS;
      delete this.next['2011'];
    }
    if (change.minIntervalMin !== undefined) {
      this.minIntervalMin = change.minIntervalMin;
      delete this.next['2051'];
    }
    if (change.realtime !== undefined) this.realtime = change.realtime;
    if (change.overTimeS !== undefined) this.ackTimeoutMs = change.overTimeS * 1000;
    if (change.reCount !== undefined) this.retries = change.reCount;
    if (change.pw !== undefined) {
      // C.9: the 9011/9012 went under the old PW; every frame after them carries the new one.
      this.identity.pw = change.pw;
      this.log.info({ reason: 'password-changed' }, 'PW changed by the platform (1072)');
    }
    if (change.samplePeriod !== undefined) {
      const { polId, start, hours } = change.samplePeriod;
      this.analyzers = {
        ...this.analyzers,
        samplePeriods: { ...this.analyzers.samplePeriods, [polId]: { start, hours } },
      };
    }
    if (change.vaseUsed) this.analyzers = { ...this.analyzers, vasesUsed: this.analyzers.vasesUsed + 1 };
    // The 9011/9012 answering the 1014 carry no encrypted CP; every frame after them is under the new key.
    if (change.sm4Key !== undefined) {
      this.sm4Key = Buffer.from(change.sm4Key, 'hex');
      this.log.info({ reason: 'key-changed' }, 'SM4 key changed by the platform (1014)');
    }
  }

  private onResult(r: DecodeResult): void {
    if (!r.ok) {
      this.log.warn({ reason: `${r.error.code}: ${r.error.message}` }, 'undecodable frame from platform');
      return;
    }
    const packet = r.frame.packet;
    const qn = answeredQn(packet);
    if (packet.cn === CN.DataAnswer) {
      if (qn !== undefined) this.finish(qn, 'acknowledged');
      return;
    }
    if (packet.cn === CN.QnRtn || packet.cn === CN.ExeRtn || packet.cn === CN.NoticeAnswer) {
      // The platform refused an upload (QnRtn 3 wrong PW, 4 unknown MN, 9 CRC): retrying cannot help.
      const code = packet.cp.params['QnRtn'];
      if (qn !== undefined && this.pending.has(qn) && code !== undefined && Number(code) !== QnRtn.Ready) {
        this.o.summary.refused[code] = (this.o.summary.refused[code] ?? 0) + 1;
        this.log.warn({ qn, reason: `platform answered QnRtn=${code}` }, 'upload refused');
        this.finish(qn, 'unacknowledged');
      }
      return;
    }
    const handled = handleRequest(this.state(), packet);
    if (handled.refused !== undefined)
      this.log.warn({ cn: packet.cn, qn: packet.qn, reason: handled.refused }, 'request refused');
    this.apply(handled.change);
    this.o.summary.requests++;
    for (const reply of handled.replies) this.send(reply);
  }
}
