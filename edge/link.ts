import type { Logger } from 'pino';
import {
  CN,
  ExeRtn,
  QnRtn,
  decodeKeys,
  encodeFrame,
  encodeFrames,
  keyBytes,
  formatHjTime,
  makeFlag,
  makeQn,
  qnRtnAnswer,
  request,
  serialCp,
} from '../protocol/index.js';
import { rawHeader } from '../protocol/answers.js';
import type { CodecOptions, DecodeResult, Packet } from '../protocol/index.js';
import type { DataRecord } from './aggregator.js';
import { handleCommand } from './commands.js';
import type { ControlResult } from './control.js';
import type { AnalyzerEffect, CommandContext, CommandEffect, HistoryQuery, SettingEffect } from './commands.js';
import { uplinkSettings } from './agent/effects.js';
import type { UplinkSettings } from './agent/effects.js';
import { HISTORY_PAGE, streamHistory } from './history.js';
import type { HistoryPager } from './history.js';
import type { UplinkConfig } from './config.js';
import type { Station } from './datasets.js';
import type { Addressee } from './packets.js';
import { recordPacket } from './packets.js';
import { OutboxSender } from './sender.js';
import { bodyOf } from './store/body.js';
import type { EdgeStore } from './store/index.js';

/** What every uplink gets from the agent. */
export interface UplinkDeps {
  store: EdgeStore;
  logger: Logger;
  station: Station;
  decimals: ReadonlyMap<string, number>;
  /** The agent's state commands read (clock, intervals, analyzer parameters). */
  context: () => Omit<CommandContext, 'to' | 'historySlot'>;
  /** History a page at a time, for 2031/2041/2051/2061 requests. */
  history: HistoryPager;
  /** This uplink's password and switches as the platform's commands left them (edge/agent/effects.ts). */
  settings: (uplink: string) => UplinkSettings | undefined;
  /** A command changed a setting: the agent's one reducer takes it (edge/agent/index.ts). */
  onEffect: (uplink: string, effect: SettingEffect) => void;
  /** Writes analyzer parameters (3021); resolves to the ExeRtn of table 6 to answer with. */
  setParameters: (polId: string, values: Record<string, number>) => Promise<number>;
  /** Carries out an analyzer control command (3011-3019) on the device mapping it (edge/control.ts). */
  control: (cn: string, polId: string | undefined, params: Record<string, string>) => Promise<ControlResult>;
}

export type UplinkState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface UplinkHealth {
  kind: UplinkConfig['kind'];
  state: UplinkState;
  since: number;
  lastError?: string;
  outbox: { records: number; bytes: number; oldestAt?: number };
  inFlight: number;
  /** Frames and requests from the peer refused so far, by reason. */
  refused: Record<string, number>;
  /** Records sent (not counting resends) and confirmed since the agent started. */
  sent: number;
  confirmed: number;
}

/**
 * Refusals of one reason logged per minute; the rest are counted (health `refused`) and summed up in
 * one line when the minute is over, so a peer sending garbage cannot fill the box's disk with logs.
 */
export const REFUSAL_LOGS_PER_MINUTE = 20;

/** Frames the decoder rejects that are answered when they are requests to this box (table 7). */
const REJECTION_ANSWERS: Record<string, number> = {
  'bad-crc': QnRtn.BadCrc,
  'bad-flag': QnRtn.BadFlag,
  'unknown-version': QnRtn.BadFlag,
};

/**
 * 3021 writes one uplink has waiting for the analyzer bus at once; more are answered ExeRtn 5 (busy):
 * writes share the bus with polling, and a flood of them must not starve it.
 */
export const PARAMETER_WRITES = 2;

/** History requests one uplink holds at once (one answered, the rest waiting); more are answered ExeRtn 5 (busy). */
export const HISTORY_QUEUE = 4;

export interface Uplink {
  readonly id: string;
  start(): void;
  stop(): Promise<void>;
  /** Records were committed to the outbox. */
  notify(): void;
  /** Whether this uplink takes a record now (real-time data can be switched off by 2012). */
  accepts(record: DataRecord): boolean;
  /** Answer timeout and resends of every upload from now on (a platform's 1000, or its persisted value). */
  setTimeoutRetry(timeoutSeconds: number, retries: number): void;
  health(): UplinkHealth;
  /** Every agent tick, with the agent's clock: the heartbeat (9015) and the key rotation (1014) of a 2025 link. */
  tick(now: number): void;
}

/** A box's 1014 request the platform did not answer is asked again after this long (agent clock). */
export const KEY_REQUEST_RETRY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * What TCP and MQTT uplinks share: the addressee (whose password 1072 may change), the outbox
 * sender, answering commands, and state for the health endpoint. A transport supplies the link.
 */
export abstract class UplinkBase implements Uplink {
  protected readonly sender: OutboxSender;
  protected readonly logger: Logger;
  /** The SM4 key of an HJ 212-2025 link, for frames both ways. */
  protected readonly codec: Pick<CodecOptions, 'sm4Key' | 'sm4DecodeKeys'>;
  /** The QN and agent time of this box's own 1014 request waiting for the platform's key. */
  private keyAsked: { qn: string; at: number } | undefined;
  /** Agent time of the last frame written, or of the connection: the heartbeat goes out when it is old. */
  private lastOut = 0;
  private state: UplinkState = 'stopped';
  private since = Date.now();
  private lastError: string | undefined;
  /** Changes with every change of state: a history answer stops when the link it started on went down. */
  private epoch = 0;
  /** This uplink's settings at start, for deps that keep none. */
  private readonly initial: UplinkSettings;
  private readonly refused: Record<string, number> = {};
  private parameterWrites = 0;
  /** Per reason: when its minute started (monotonic ms), refusals logged and not logged in it. */
  private readonly refusalLog = new Map<string, { start: number; logged: number; quiet: number }>();
  /** History requests by QN, the first being answered; each holds one page at most. */
  private readonly historyQueue: { key: string; query: HistoryQuery; epoch: number }[] = [];

  constructor(
    readonly config: UplinkConfig,
    protected readonly deps: UplinkDeps,
  ) {
    this.initial = uplinkSettings(config, deps.store.readSettings(), deps.context().now);
    // Looked up per frame, so a key change applies to the very next frame both ways.
    this.codec = {
      sm4Key: () => {
        const keys = this.own().keys;
        return keys ? keyBytes(keys.key) : undefined;
      },
      sm4DecodeKeys: () => decodeKeys(this.own().keys, this.deps.context().now).map(keyBytes),
    };
    // The agent's logger carries the station MN; a platform's own MN is added under another key, since
    // pino writes a repeated child binding twice in one line.
    const mn = this.addressee().mn;
    this.logger = deps.logger.child(
      mn === deps.station.mn ? { uplink: config.id } : { uplink: config.id, uplinkMn: mn },
    );
    this.sender = new OutboxSender({
      uplink: config.id,
      outbox: deps.store.outbox(config.id),
      logger: this.logger,
      window: config.window,
      timeoutMs: config.timeoutSeconds * 1000,
      retries: config.retries,
      addressee: () => this.addressee(),
      decimals: deps.decimals,
      utcOffsetMinutes: deps.station.utcOffsetMinutes,
      codec: this.codec,
      write: (frame) => this.out(frame),
      batch: (send) => this.batch(send),
      onGiveUp: (reason) => {
        this.setState(this.state, reason);
        this.logger.warn({ reason }, 'no answers from the peer; reconnecting');
        this.sender.halt();
        this.reconnect();
      },
    });
  }

  abstract start(): void;
  abstract stop(): Promise<void>;
  /** Sends one frame on the link (dropped when the link is down: the outbox still has it). */
  protected abstract write(frame: string): void;
  /** Runs `send`, whose writes the transport may put on the wire together (TCP: one write for a refill's records). */
  protected batch(send: () => void): void {
    send();
  }
  /** Resolves once the link has taken what was written (or went down), so a history answer sends a page at a time. */
  protected abstract flush(): Promise<void>;
  /** Drops the link and connects again. */
  protected abstract reconnect(): void;

  get id(): string {
    return this.config.id;
  }

  notify(): void {
    this.sender.pump();
  }

  addressee(): Addressee {
    return {
      // A platform's 1002 (HJ 212-2025) replaces the configured MN, persisted (edge/agent/effects.ts).
      mn: this.own().mn ?? this.config.mn ?? this.deps.station.mn,
      pw: this.own().pw,
      st: this.deps.station.st,
      version: this.config.version,
    };
  }

  accepts(record: DataRecord): boolean {
    // ST 44/45 exist from HJ 212-2025 on: an older platform would refuse the system code.
    if (record.st !== undefined && this.config.version !== '2025') return false;
    // 2062 (standard-check data, after a 3024) is an HJ 212-2025 upload: a reserved code to older platforms.
    if (record.cn === '2062') return this.config.version === '2025';
    if (record.cn === '2011') return this.own().realtime;
    // HJ/T 212-2005 has no 2081 (logger boot time): a 2005 platform would refuse it.
    if (record.cn === '2081') return this.config.version !== '2005';
    return record.cn !== '2021' || this.own().runState;
  }

  /**
   * What the commands have set for this uplink; for deps without agent settings (a bench), the config's and store's.
   */
  private own(): UplinkSettings {
    return this.deps.settings(this.config.id) ?? this.initial;
  }

  setTimeoutRetry(timeoutSeconds: number, retries: number): void {
    this.sender.setTimeoutRetry(timeoutSeconds * 1000, retries);
  }

  protected setState(state: UplinkState, error?: string): void {
    if (state === 'connected' && this.state !== 'connected') this.lastOut = this.deps.context().now;
    if (state !== this.state) {
      this.since = Date.now();
      this.epoch += 1;
    }
    this.state = state;
    if (error !== undefined) this.lastError = error;
  }

  /** Notes a link error without changing the state the link's own events report. */
  protected noteError(error: string): void {
    this.lastError = error;
  }

  health(): UplinkHealth {
    const h: UplinkHealth = {
      kind: this.config.kind,
      state: this.state,
      since: this.since,
      outbox: this.deps.store.outboxDepth(this.config.id),
      inFlight: this.sender.sending,
      refused: { ...this.refused },
      ...this.sender.counts,
    };
    if (this.lastError !== undefined) h.lastError = this.lastError;
    return h;
  }

  /**
   * A box whose clock follows no time source asks the platform to set it (1013, table C.4); the
   * platform answers 9013 and sends 1012, which `receive` carries out.
   */
  protected askTimeCalibration(): void {
    const ctx = this.deps.context();
    // HJ/T 212-2005 has no 1013: a 2005 platform sets the clock with 1012 when it sees fit.
    if (ctx.clockTrusted || this.config.version === '2005') return;
    const qn = makeQn(new Date(ctx.now), ctx.utcOffsetMinutes);
    this.out(encodeFrame(request(this.addressee(), CN.TimeCalibration, {}, { qn }), this.codec));
    this.logger.info({ qn, reason: 'clock not trusted' }, 'asked the platform for a time calibration (1013)');
  }

  /**
   * HJ 212-2025 1001 (assumed, docs/protocol-2025.md): the box tells a 2025 platform its hardware serial
   * number as `SN` at each connection, without asking for an answer (a lost one goes again at the next).
   */
  protected uploadSerial(): void {
    const serial = this.deps.station.serial;
    if (this.config.version !== '2025' || serial === undefined) return;
    const ctx = this.deps.context();
    const to = this.addressee();
    const qn = makeQn(new Date(ctx.now), ctx.utcOffsetMinutes);
    const packet: Packet = {
      version: to.version,
      qn,
      st: to.st,
      cn: CN.SerialUpload,
      pw: to.pw,
      mn: to.mn,
      flag: makeFlag(to.version),
      cp: serialCp(serial, formatHjTime(new Date(ctx.now), ctx.utcOffsetMinutes)),
    };
    this.out(encodeFrame(packet, this.codec));
    this.logger.info({ qn, serial }, 'uploaded the logger serial number (1001)');
  }

  /** Writes a frame and notes when, for the heartbeat. */
  private out(frame: string): void {
    this.lastOut = this.deps.context().now;
    this.write(frame);
  }

  tick(now: number): void {
    if (this.config.version !== '2025' || this.state !== 'connected') return;
    if (now - this.lastOut >= this.config.heartbeatSeconds * 1000) this.heartbeat(now);
    const days = this.config.keyRotationDays;
    const keys = this.own().keys;
    if (days === undefined || !keys || now - keys.since < days * DAY_MS) return;
    if (this.keyAsked && now - this.keyAsked.at < KEY_REQUEST_RETRY_MS) return;
    this.requestKeyChange();
  }

  /**
   * HJ 212-2025 9015 (docs/protocol-2025.md): sent on a link idle for heartbeatSeconds. The platform's
   * 9013 is not waited for: its absence loses no data (the outbox's 9014s tell that), so it is not logged above debug.
   */
  private heartbeat(now: number): void {
    const qn = makeQn(new Date(now), this.deps.context().utcOffsetMinutes);
    this.out(encodeFrame(request(this.addressee(), CN.Heartbeat, {}, { qn }), this.codec));
    this.logger.debug({ qn }, 'heartbeat sent (9015)');
  }

  /**
   * Asks the platform for a new SM4 key (HJ 212-2025 1014 from the box, docs/protocol-2025.md): the
   * platform answers with its own 1014 carrying NewKey, which `changeKey` carries out. False when this is
   * no keyed 2025 link or it is down.
   */
  requestKeyChange(): boolean {
    const keys = this.own().keys;
    if (this.config.version !== '2025' || !keys || this.state !== 'connected') return false;
    const ctx = this.deps.context();
    const qn = makeQn(new Date(ctx.now), ctx.utcOffsetMinutes);
    this.keyAsked = { qn, at: ctx.now };
    this.out(encodeFrame(request(this.addressee(), CN.KeyUpdate, {}, { qn }), this.codec));
    this.logger.info({ qn, keySince: keys.since }, 'asked the platform for a new SM4 key (1014)');
    return true;
  }

  /**
   * The platform's 1014 NewKey: the 9011/9012 answering it carry no encrypted CP, so from the next
   * frame on everything goes out under the new key; the old one is still decoded for keyGraceSeconds.
   * The agent's reducer switches and stores the keys (edge/agent/effects.ts), so a restart never falls
   * back to a key the platform no longer expects; the uplink drops its own request waiting for one.
   */
  private changeKey(effect: Extract<SettingEffect, { kind: 'set-key' }>): void {
    this.deps.onEffect(this.config.id, effect);
    const asked = this.keyAsked?.qn;
    this.keyAsked = undefined;
    this.logger.info(
      { graceSeconds: this.config.keyGraceSeconds, ...(asked !== undefined && { asked }) },
      'SM4 key changed by the platform (1014)',
    );
  }

  /** Counts and logs what the peer sent that was not carried out, with a stable reason. */
  protected refuse(reason: string, details: Record<string, unknown>, msg: string): void {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1;
    const now = performance.now();
    let window = this.refusalLog.get(reason);
    if (!window || now - window.start >= 60_000) {
      if (window && window.quiet > 0)
        this.logger.warn({ reason, notLogged: window.quiet }, 'more refusals of this reason in the last minute');
      window = { start: now, logged: 0, quiet: 0 };
      this.refusalLog.set(reason, window);
    }
    if (window.logged >= REFUSAL_LOGS_PER_MINUTE) {
      window.quiet += 1;
      return;
    }
    window.logged += 1;
    this.logger.warn({ reason, ...details }, msg);
  }

  /**
   * Handles one decoded frame from the peer and sends the replies it calls for, in order. Nothing the
   * peer sends may end the agent: whatever escapes the handling below is logged and answered 9011
   * QnRtn=100 (unknown error, table 7), and the link carries on.
   */
  protected receive(result: DecodeResult): void {
    try {
      this.handle(result);
    } catch (err) {
      const p = result.ok ? result.frame.packet : undefined;
      this.refuse('answer-failed', { cn: p?.cn, qn: p?.qn, detail: (err as Error).message }, 'request not answered');
      if (p && !p.cn.startsWith('9')) this.send(qnRtnAnswer({ ...p, mn: this.addressee().mn }, QnRtn.Unknown));
    }
  }

  private handle(result: DecodeResult): void {
    if (!result.ok) {
      this.refuse(
        result.error.code,
        { detail: result.error.message, raw: result.raw.slice(0, 200) },
        'frame from the peer rejected',
      );
      this.answerRejected(result);
      return;
    }
    const p = result.frame.packet;
    if (p.cn === CN.DataAnswer) {
      // HJ/T 212-2005 answers carry the QN they answer in the CP, later editions in the header.
      const qn = p.qn ?? p.cp.params['QN'];
      if (qn !== undefined) this.sender.confirm(qn);
      return;
    }
    if (p.cn === CN.QnRtn && p.qn !== undefined && this.platformRefused(p.qn, Number(p.cp.params['QnRtn']))) return;
    const outcome = handleCommand(p, {
      ...this.deps.context(),
      to: this.addressee(),
      historySlot: (qn) => this.historySlot(qn),
    });
    if (!outcome) {
      this.logger.debug({ cn: p.cn, qn: p.qn }, 'packet ignored: not a command to a data logger');
      return;
    }
    const summary = { cn: p.cn, qn: p.qn, effect: outcome.effect?.kind, replies: outcome.replies.map((r) => r.cn) };
    if (outcome.reason !== undefined) this.refuse(outcome.reason, summary, 'command refused or not carried out');
    else this.logger.info(summary, 'command answered');
    if (outcome.effect) this.carryOut(outcome.effect);
    for (const reply of outcome.replies) this.send(reply);
    if (outcome.history) this.queueHistory(outcome.history);
    // 1002: the 9011/9012 went under the old MN; a transport that names itself by the MN follows now.
    if (outcome.effect?.kind === 'set-mn') this.mnChanged();
  }

  /**
   * After a platform's 1002 set this uplink's MN (HJ 212-2025), its 9011 and 9012 written: a transport whose
   * session or topics are named by the MN moves them (MQTT); TCP has nothing to move.
   */
  protected mnChanged(): void {}

  /**
   * A request whose CRC is wrong gets 9011 QnRtn=9 (table 7) so the platform sends it again, one whose
   * Flag is no Flag of the standard QnRtn=6, when its header shows it is a request to this box; a
   * damaged answer or upload gets nothing. The PW is not echoed: nothing in such a frame was checked.
   */
  private answerRejected(result: Extract<DecodeResult, { ok: false }>): void {
    const qnRtn = REJECTION_ANSWERS[result.error.code];
    if (qnRtn === undefined) return;
    const header = rawHeader(result.raw);
    const cn = header.cn;
    if (cn === undefined || cn.startsWith('9') || cn === CN.TimeCalibration || header.mn !== this.addressee().mn)
      return;
    const { pw: _theirs, ...answered } = header;
    this.send(qnRtnAnswer({ ...answered, version: this.config.version }, qnRtn));
  }

  /**
   * The platform answered one of our uploads with 9011 (table 7) rather than 9014: it refused the PW
   * (3), the MN (4) or another field, or found the CRC wrong (9). Said at error level with what to fix,
   * shown in health, and not resent in a loop (OutboxSender.refused holds the link for
   * reconnectMaxSeconds). Returns false when `qn` is none of ours in flight.
   */
  private platformRefused(qn: string, qnRtn: number): boolean {
    if (!Number.isInteger(qnRtn) || qnRtn === QnRtn.Ready) return false;
    const holdMs = this.config.reconnectMaxSeconds * 1000;
    if (!this.sender.refused(qn, qnRtn, holdMs)) return false;
    const mn = this.addressee().mn;
    if (qnRtn === QnRtn.BadCrc) {
      this.logger.warn({ qn, qnRtn, reason: 'platform-bad-crc' }, 'the platform found the CRC wrong; sent again');
      return true;
    }
    const reason =
      qnRtn === QnRtn.BadPassword
        ? 'platform-refused-pw'
        : qnRtn === QnRtn.BadMn
          ? 'platform-refused-mn'
          : 'platform-refused';
    const what =
      qnRtn === QnRtn.BadPassword
        ? `the platform refused PW for MN ${mn}: set this uplink's pw to the one the platform registered`
        : qnRtn === QnRtn.BadMn
          ? `the platform does not know MN ${mn}: set the MN the platform registered (station.mn or uplinks[].mn)`
          : `the platform refused the upload (9011 QnRtn=${qnRtn})`;
    this.noteError(what);
    this.logger.error({ qn, qnRtn, reason, holdSeconds: holdMs / 1000 }, what);
    return true;
  }

  /**
   * Encodes and writes one reply, in PNUM/PNO parts when it passes 1024 bytes (a history record with
   * many factors, table C.49); one that cannot be encoded is logged, never thrown.
   */
  private send(packet: Packet): boolean {
    let frames: string[];
    try {
      frames = encodeFrames(packet, { ...this.codec, split: true });
    } catch (err) {
      this.refuse('encode-failed', { cn: packet.cn, qn: packet.qn, detail: (err as Error).message }, 'reply not sent');
      return false;
    }
    for (const frame of frames) this.out(frame);
    return true;
  }

  private historySlot(qn: string | undefined): 'free' | 'running' | 'busy' {
    if (qn !== undefined && this.historyQueue.some((h) => h.key === qn)) return 'running';
    return this.historyQueue.length >= HISTORY_QUEUE ? 'busy' : 'free';
  }

  private queueHistory(query: HistoryQuery): void {
    const key = query.request.qn ?? `${query.cn}:${query.from}:${query.to}`;
    this.historyQueue.push({ key, query, epoch: this.epoch });
    if (this.historyQueue.length === 1) void this.drainHistory();
  }

  /** Answers the queued history requests one after the other. */
  private async drainHistory(): Promise<void> {
    while (this.historyQueue.length > 0) {
      const job = this.historyQueue[0]!;
      try {
        // A request queued on a link that has since gone down is not answered on the next one.
        if (job.epoch === this.epoch) await this.answerHistory(job.query, job.epoch);
      } catch (err) {
        this.refuse(
          'history-failed',
          { cn: job.query.cn, qn: job.key, detail: (err as Error).message },
          'history not sent',
        );
      }
      this.historyQueue.shift();
    }
  }

  /**
   * Sends the records of a history request a page at a time: the next page is read from the store only
   * once the link took the last one, so a year of minute data costs one page of memory, not a year.
   * A link that goes down ends the answer; the platform asks again.
   */
  private async answerHistory(query: HistoryQuery, epoch: number): Promise<void> {
    const up = () => this.epoch === epoch && this.state === 'connected';
    const { sent, complete } = await streamHistory(query, this.deps.history, HISTORY_PAGE, async (records) => {
      if (!up()) return false;
      for (const record of records) this.send(this.historyPacket(record, query.request));
      await this.flush();
      return up();
    });
    if (!complete) {
      this.logger.warn(
        { cn: query.cn, qn: query.request.qn, sent, reason: 'link-down' },
        'history answer cut short: the link went down',
      );
      return;
    }
    this.send(query.finish(sent));
    this.logger.info({ cn: query.cn, qn: query.request.qn, sent }, 'history answered');
  }

  /** A setting goes to the agent's reducer; analyzer work is carried out here, answered once done. */
  private carryOut(effect: CommandEffect): void {
    if (effect.kind === 'set-parameters' || effect.kind === 'control') this.analyzer(effect);
    else if (effect.kind === 'set-key') this.changeKey(effect);
    else this.deps.onEffect(this.config.id, effect);
  }

  private analyzer(effect: AnalyzerEffect): void {
    if (effect.kind === 'set-parameters') {
      if (this.parameterWrites >= PARAMETER_WRITES) {
        this.refuse('parameters-busy', { polId: effect.polId, writes: this.parameterWrites }, '3021 not carried out');
        this.send(effect.answer(ExeRtn.Busy));
        return;
      }
      this.parameterWrites += 1;
      this.deps
        .setParameters(effect.polId, effect.values)
        .then((exeRtn) => this.send(effect.answer(exeRtn)))
        .catch((err: unknown) =>
          this.refuse('set-parameters-failed', { polId: effect.polId, detail: (err as Error).message }, 'no 9012 sent'),
        )
        .finally(() => (this.parameterWrites -= 1));
      return;
    }
    this.deps
      .control(effect.cn, effect.polId, effect.params)
      .then(async (result) => {
        const summary = { cn: effect.cn, polId: effect.polId, exeRtn: result.exeRtn };
        if (result.reason !== undefined) this.refuse(result.reason, summary, 'analyzer control not carried out');
        else this.logger.info(summary, 'analyzer control carried out');
        const record = result.record;
        // 3024: the 2062 goes through the outbox; the 9012 follows once the platform took it (its 9014), or
        // once a record would have been given up on (it stays in the outbox and goes later).
        if (record && this.accepts(record)) {
          const body = bodyOf(record);
          const confirmed = await this.sender.whenConfirmed(
            (r) => r.cn === record.cn && r.at === record.at && bodyOf(r) === body,
            this.sender.patienceMs,
          );
          if (!confirmed)
            this.logger.warn(
              { cn: record.cn, at: record.at, reason: 'no 9014 in time' },
              'standard-check data not confirmed yet; 9012 sent, the 2062 stays in the outbox',
            );
        }
        for (const reply of effect.answer(result, this.deps.context().now)) this.send(reply);
      })
      .catch((err: unknown) =>
        this.refuse('control-failed', { cn: effect.cn, detail: (err as Error).message }, 'no 9012 sent'),
      );
  }

  /** A history record sent in answer to a request: the request's QN, no 9014 wanted (C.20-C.22). */
  private historyPacket(record: DataRecord, request: Packet): Packet {
    const to = this.addressee();
    const packet = recordPacket(record, to, '', this.deps.decimals, this.deps.station.utcOffsetMinutes);
    const { qn: _none, ...rest } = packet;
    // Requests without a QN are HJ/T 212-2005 ones (2017 and later refuse them with QnRtn 7).
    return { ...rest, ...(request.qn !== undefined && { qn: request.qn }), flag: makeFlag(to.version) };
  }
}

/** Reconnect pauses: doubling from the minimum to the maximum, reset by a successful connection. */
export function backoffMs(
  attempt: number,
  config: Pick<UplinkConfig, 'reconnectMinSeconds' | 'reconnectMaxSeconds'>,
): number {
  return Math.min(config.reconnectMaxSeconds, config.reconnectMinSeconds * 2 ** attempt) * 1000;
}
