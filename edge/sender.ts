import type { Logger } from 'pino';
import { QnRtn, STANDARD_MAX_SEGMENT, encodeFrame, splitPacket } from '../protocol/index.js';
import type { CodecOptions } from '../protocol/index.js';
import { frameSegment } from '../protocol/frame.js';
import { buildSegment } from '../protocol/segment.js';
import type { DataRecord } from './aggregator.js';
import type { Addressee } from './packets.js';
import { recordPacket } from './packets.js';
import type { Outbox, OutboxRow } from './store/index.js';

export interface SenderOptions {
  uplink: string;
  outbox: Outbox;
  logger: Logger;
  /** Records sent and not yet confirmed at once; 1 is strict stop-and-wait. */
  window: number;
  timeoutMs: number;
  retries: number;
  addressee: () => Addressee;
  decimals: ReadonlyMap<string, number>;
  utcOffsetMinutes: number;
  /** The SM4 key of an HJ 212-2025 link. */
  codec?: Pick<CodecOptions, 'sm4Key'>;
  write: (frame: string) => void;
  /** Runs `send`, whose `write`s may go out together (a TCP socket corked meanwhile); just runs it by default. */
  batch?: (send: () => void) => void;
  /** No answer after every retry: the link is presumed dead; the record stays in the outbox. */
  onGiveUp: (reason: string) => void;
}

interface InFlight {
  row: OutboxRow;
  /** QNs of the parts still unanswered (one unless the record was split into PNUM packets). */
  pending: Set<string>;
  frames: string[];
  attempts: number;
  timer?: NodeJS.Timeout;
}

/** The frames of a record for one addressee: one, or PNUM parts when its segment exceeds 1024 bytes. */
export function recordFrames(
  record: DataRecord,
  qn: string,
  to: Addressee,
  decimals: ReadonlyMap<string, number>,
  utcOffsetMinutes: number,
  codec: Pick<CodecOptions, 'sm4Key'> = {},
): { qn: string; frame: string }[] {
  const packet = recordPacket(record, to, qn, decimals, utcOffsetMinutes);
  // The common case, a segment within the standard's 1024 bytes (HJ 212-2017 6.3.1), is built once and
  // framed as it is; splitPacket would build it once to measure it and encodeFrame again to send it.
  const segment = buildSegment(packet, codec);
  if (Buffer.byteLength(segment, 'utf8') <= STANDARD_MAX_SEGMENT)
    return [{ qn, frame: frameSegment(segment, STANDARD_MAX_SEGMENT) }];
  return splitPacket(packet, codec).map((part) => ({
    qn: part.qn ?? qn,
    frame: encodeFrame(part, codec),
  }));
}

/**
 * Moves an uplink's outbox over a connected link: a window of records in flight, each resent after
 * the answer timeout up to `retries` times (table 1), and deleted only when its 9014 arrives.
 */
export class OutboxSender {
  private readonly inFlight = new Map<number, InFlight>();
  /** The ids of `inFlight`, kept beside it for `nextBatch` (rather than a new Set at every refill). */
  private readonly inFlightIds = new Set<number>();
  private readonly byQn = new Map<string, number>();
  private up = false;
  /** Sending held after the platform refused the station (see `refused`), and the timer that resumes it. */
  private held = false;
  private holdTimer: NodeJS.Timeout | undefined;
  /** A refill is queued for the end of the current socket read (see `confirm`). */
  private refillQueued = false;
  /** Records sent (first transmissions, not resends) and confirmed by a 9014 since the agent started. */
  readonly counts = { sent: 0, confirmed: 0 };
  /** Who waits for a record's 9014 (see `whenConfirmed`). */
  private readonly waiters = new Set<{ match: (r: DataRecord) => boolean; done: (confirmed: boolean) => void }>();

  constructor(private readonly options: SenderOptions) {}

  get sending(): number {
    return this.inFlight.size;
  }

  /**
   * A platform's 1000 (HJ 212-2017 C.1) or its persisted value: the answer timeout and resends of every
   * send from now on. A record in flight keeps the timer it has; its next wait, and its count of
   * attempts against the new `retries`, follow the new values.
   */
  setTimeoutRetry(timeoutMs: number, retries: number): void {
    this.options.timeoutMs = timeoutMs;
    this.options.retries = retries;
  }

  /** The link is up: start (or resume) sending. */
  start(): void {
    this.up = true;
    this.pump();
  }

  /** The link is down: forget what was in flight; it is all still in the outbox. */
  halt(): void {
    this.held = false;
    clearTimeout(this.holdTimer);
    this.forget();
  }

  private forget(): void {
    this.up = false;
    for (const f of this.inFlight.values()) clearTimeout(f.timer);
    this.inFlight.clear();
    this.inFlightIds.clear();
    this.byQn.clear();
  }

  /**
   * A 9011 answered an upload instead of a 9014 (HJ 212-2017 table 7). QnRtn 9 (the platform found the
   * CRC wrong) sends that record again now. Any other refusal (3: PW, 4: MN...) holds every send on this
   * link for `holdMs`: a wrong PW or MN does not fix itself, and resending at once would only repeat the
   * refusal as if the answer had been lost. The records stay in the outbox. Returns whether `qn` was a
   * record in flight.
   */
  refused(qn: string, qnRtn: number, holdMs: number): boolean {
    const id = this.byQn.get(qn);
    const flight = id === undefined ? undefined : this.inFlight.get(id);
    if (!flight) return false;
    if (qnRtn === QnRtn.BadCrc) {
      this.transmit(flight);
      return true;
    }
    this.forget();
    this.held = true;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      if (!this.held) return;
      this.held = false;
      this.start();
    }, holdMs);
    return true;
  }

  /** Sending is held after a refusal (health). */
  get holding(): boolean {
    return this.held;
  }

  /** New records were committed, or a slot freed up. */
  pump(): void {
    const o = this.options;
    if (!this.up) return;
    const free = o.window - this.inFlight.size;
    if (free <= 0) return;
    const rows = o.outbox.nextBatch(free, this.inFlightIds);
    if (rows.length === 0) return;
    if (o.batch) o.batch(() => this.send(rows));
    else this.send(rows);
  }

  private send(rows: readonly OutboxRow[]): void {
    const o = this.options;
    for (const row of rows) {
      let parts: { qn: string; frame: string }[];
      try {
        parts = recordFrames(row.record, row.qn, o.addressee(), o.decimals, o.utcOffsetMinutes, o.codec);
      } catch (err) {
        // A record no frame can carry would block the outbox for ever; it is logged and let go.
        // The logger already names the uplink and the MN.
        o.logger.error(
          {
            cn: row.record.cn,
            at: row.record.at,
            reason: (err as Error).message,
          },
          'record cannot be encoded; dropped',
        );
        o.outbox.confirm(row.qn);
        continue;
      }
      const flight: InFlight = {
        row,
        pending: new Set(parts.map((p) => p.qn)),
        frames: parts.map((p) => p.frame),
        attempts: 0,
      };
      this.inFlight.set(row.id, flight);
      this.inFlightIds.add(row.id);
      for (const qn of flight.pending) this.byQn.set(qn, row.id);
      this.counts.sent += 1;
      this.transmit(flight);
    }
  }

  private transmit(flight: InFlight): void {
    const o = this.options;
    flight.attempts += 1;
    for (const frame of flight.frames) o.write(frame);
    clearTimeout(flight.timer);
    flight.timer = setTimeout(() => {
      if (flight.attempts <= o.retries) {
        o.logger.info(
          {
            qn: flight.row.qn,
            attempt: flight.attempts + 1,
            reason: 'no 9014 within the timeout',
          },
          'resending',
        );
        this.transmit(flight);
        return;
      }
      o.onGiveUp(`no 9014 for QN ${flight.row.qn} after ${flight.attempts} attempts`);
    }, o.timeoutMs);
  }

  /**
   * Resolves true once a record `match` takes has been sent and its 9014 arrived, false after `withinMs`
   * (the record stays in the outbox and goes later). A 3024's 9012 waits for its 2062 this way.
   */
  whenConfirmed(match: (r: DataRecord) => boolean, withinMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        match,
        done: (confirmed: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(confirmed);
        },
      };
      const timer = setTimeout(() => waiter.done(false), withinMs);
      this.waiters.add(waiter);
    });
  }

  /** How long a record may take from its first transmission to its last resend's timeout. */
  get patienceMs(): number {
    return this.options.timeoutMs * (this.options.retries + 1);
  }

  /** A 9014 arrived: the part is confirmed; the record leaves the outbox when all its parts are. */
  confirm(qn: string): void {
    const id = this.byQn.get(qn);
    const flight = id === undefined ? undefined : this.inFlight.get(id);
    if (id === undefined || !flight) {
      // An answer to a record sent before a reconnect still confirms it.
      if (this.options.outbox.confirm(qn)) this.counts.confirmed += 1;
      return;
    }
    this.byQn.delete(qn);
    flight.pending.delete(qn);
    if (flight.pending.size > 0) return;
    clearTimeout(flight.timer);
    this.inFlight.delete(id);
    this.inFlightIds.delete(id);
    // Held for the refill below to tell: while records are in flight their 9014s follow shortly and the delete
    // shares their commit (a replay commits once every few dozen records rather than every turn).
    if (this.options.outbox.confirm(flight.row.qn, true)) this.counts.confirmed += 1;
    for (const w of this.waiters) if (w.match(flight.row.record)) w.done(true);
    // One socket read carries the 9014s of many records: the window is refilled once, after all of them,
    // with one batch from the store for every free slot, instead of one record per 9014. A microtask runs
    // as soon as the read's handler returns, before the outbox commits the deletes of this turn (a
    // setImmediate), so that commit overlaps the platform's work on the new records instead of delaying them.
    if (this.refillQueued) return;
    this.refillQueued = true;
    queueMicrotask(() => {
      this.refillQueued = false;
      this.pump();
      // Nothing more in flight (the outbox is drained, or the link went down): no 9014 will come to share
      // the commit, which happens at the end of this turn as for live data.
      if (this.inFlight.size === 0) this.options.outbox.release();
    });
  }
}
