import type { Logger } from 'pino';
import { CN, encodeFrame, makeFlag, makeQn, request } from '../protocol/index.js';
import type { CodecOptions, DecodeResult, Packet } from '../protocol/index.js';
import type { DataRecord } from './aggregator.js';
import { handleCommand } from './commands.js';
import type { CommandContext, CommandEffect } from './commands.js';
import type { UplinkConfig } from './config.js';
import type { Station } from './datasets.js';
import type { Addressee } from './packets.js';
import { recordPacket } from './packets.js';
import { OutboxSender } from './sender.js';
import type { EdgeStore } from './store.js';

/** What every uplink gets from the agent. */
export interface UplinkDeps {
  store: EdgeStore;
  logger: Logger;
  station: Station;
  decimals: ReadonlyMap<string, number>;
  /** The agent's state commands read (clock, intervals, history, analyzer parameters). */
  context: () => Omit<CommandContext, 'to' | 'dataPacket'>;
  onEffect: (uplink: string, effect: CommandEffect) => void;
  /** Writes analyzer parameters (3021); resolves to the ExeRtn of table 6 to answer with. */
  setParameters: (polId: string, values: Record<string, number>) => Promise<number>;
}

export type UplinkState = 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface UplinkHealth {
  kind: UplinkConfig['kind'];
  state: UplinkState;
  since: number;
  lastError?: string;
  outbox: { records: number; bytes: number; oldestAt?: number };
  inFlight: number;
  /** Records sent (not counting resends) and confirmed since the agent started. */
  sent: number;
  confirmed: number;
}

export interface Uplink {
  readonly id: string;
  start(): void;
  stop(): Promise<void>;
  /** Records were committed to the outbox. */
  notify(): void;
  /** Whether this uplink takes a record now (real-time data can be switched off by 2012). */
  accepts(record: DataRecord): boolean;
  health(): UplinkHealth;
}

/**
 * What TCP and MQTT uplinks share: the addressee (whose password 1072 may change), the outbox
 * sender, answering commands, and state for the health endpoint. A transport supplies the link.
 */
export abstract class UplinkBase implements Uplink {
  protected readonly sender: OutboxSender;
  protected readonly logger: Logger;
  /** The SM4 key of an HJ 212-2025 link, for frames both ways. */
  protected readonly codec: Pick<CodecOptions, 'sm4Key'>;
  private pw: string;
  private realtime: boolean;
  private runState: boolean;
  private state: UplinkState = 'stopped';
  private since = Date.now();
  private lastError: string | undefined;

  constructor(
    readonly config: UplinkConfig,
    protected readonly deps: UplinkDeps,
  ) {
    this.pw = deps.store.setting(`${config.id}.pw`) ?? config.pw;
    const key = config.sm4Key === undefined ? undefined : Buffer.from(config.sm4Key, 'hex');
    this.codec = key ? { sm4Key: () => key } : {};
    this.realtime = config.realtime;
    this.runState = config.runState;
    // The agent's logger carries the station MN; a platform's own MN is added under another key, since
    // pino writes a repeated child binding twice in one line.
    const mn = this.addressee().mn;
    this.logger = deps.logger.child(
      mn === deps.station.mn ? { uplink: config.id } : { uplink: config.id, uplinkMn: mn },
    );
    this.sender = new OutboxSender({
      uplink: config.id,
      store: deps.store,
      logger: this.logger,
      window: config.window,
      timeoutMs: config.timeoutSeconds * 1000,
      retries: config.retries,
      addressee: () => this.addressee(),
      decimals: deps.decimals,
      utcOffsetMinutes: deps.station.utcOffsetMinutes,
      codec: this.codec,
      write: (frame) => this.write(frame),
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
      mn: this.config.mn ?? this.deps.station.mn,
      pw: this.pw,
      st: this.deps.station.st,
      version: this.config.version,
    };
  }

  accepts(record: DataRecord): boolean {
    if (record.cn === '2011') return this.realtime;
    return record.cn !== '2021' || this.runState;
  }

  protected setState(state: UplinkState, error?: string): void {
    if (state !== this.state) this.since = Date.now();
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
    this.write(encodeFrame(request(this.addressee(), CN.TimeCalibration, {}, { qn }), this.codec));
    this.logger.info({ qn, reason: 'clock not trusted' }, 'asked the platform for a time calibration (1013)');
  }

  /** Handles one decoded frame from the peer and sends the replies it calls for, in order. */
  protected receive(result: DecodeResult): void {
    if (!result.ok) {
      this.logger.warn(
        { reason: result.error.code, detail: result.error.message, raw: result.raw.slice(0, 200) },
        'frame from the peer rejected',
      );
      return;
    }
    const p = result.frame.packet;
    if (p.cn === CN.DataAnswer) {
      // HJ/T 212-2005 answers carry the QN they answer in the CP, later editions in the header.
      const qn = p.qn ?? p.cp.params['QN'];
      if (qn !== undefined) this.sender.confirm(qn);
      return;
    }
    const to = this.addressee();
    const outcome = handleCommand(p, {
      ...this.deps.context(),
      to,
      dataPacket: (record) => this.historyPacket(record, p),
    });
    if (!outcome) {
      this.logger.debug({ cn: p.cn, qn: p.qn }, 'packet ignored: not a command to a data logger');
      return;
    }
    this.logger.info(
      { cn: p.cn, qn: p.qn, effect: outcome.effect?.kind, replies: outcome.replies.map((r) => r.cn) },
      'command answered',
    );
    if (outcome.effect) this.apply(outcome.effect);
    for (const reply of outcome.replies) this.write(encodeFrame(reply, this.codec));
  }

  private apply(effect: CommandEffect): void {
    if (effect.kind === 'set-password') {
      this.pw = effect.pw;
      this.deps.store.saveSetting(`${this.config.id}.pw`, effect.pw);
    } else if (effect.kind === 'realtime') {
      this.realtime = effect.on;
    } else if (effect.kind === 'run-state') {
      this.runState = effect.on;
    } else if (effect.kind === 'set-parameters') {
      void this.deps
        .setParameters(effect.polId, effect.values)
        .then((exeRtn) => this.write(encodeFrame(effect.answer(exeRtn), this.codec)));
      return;
    }
    this.deps.onEffect(this.config.id, effect);
  }

  /** A history record sent in answer to a request: the request's QN, no 9014 wanted (C.20-C.22). */
  private historyPacket(record: DataRecord, request: Packet): Packet {
    const to = this.addressee();
    const packet = recordPacket(record, to, request.qn ?? '', this.deps.decimals, this.deps.station.utcOffsetMinutes);
    return { ...packet, flag: makeFlag(to.version) };
  }
}

/** Reconnect pauses: doubling from the minimum to the maximum, reset by a successful connection. */
export function backoffMs(
  attempt: number,
  config: Pick<UplinkConfig, 'reconnectMinSeconds' | 'reconnectMaxSeconds'>,
): number {
  return Math.min(config.reconnectMaxSeconds, config.reconnectMinSeconds * 2 ** attempt) * 1000;
}
