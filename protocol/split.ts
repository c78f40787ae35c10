import { Hj212Error, type Hj212ErrorInfo } from './errors.js';
import { FLAG_SPLIT, makeFlag, needsAck } from './flag.js';
import { emptyCpFrame } from './answer-frame.js';
import { encodeFrame, LENGTH_FIELD_MAX, STANDARD_MAX_SEGMENT, type EncodeOptions } from './frame.js';
import { buildSegment } from './segment.js';
import { qnPlus } from './time.js';
import type { CodecOptions, Cp, InfoGroup, Packet } from './types.js';

type Unit = { factor: [string, Record<string, string>] } | { info: InfoGroup };

function byteLength(packet: Packet, opts: Pick<CodecOptions, 'sm4Key'>): number {
  return Buffer.byteLength(buildSegment(packet, opts), 'utf8');
}

function withUnits(packet: Packet, units: Unit[]): Packet {
  const cp: Cp = { params: packet.cp.params, factors: {} };
  for (const u of units) {
    if ('factor' in u) cp.factors[u.factor[0]] = u.factor[1];
    else (cp.info ??= []).push(u.info);
  }
  return { ...packet, cp };
}

/**
 * Splits a packet whose data segment would exceed the limit into PNUM/PNO packets (§6.3.2, C.49):
 * each part repeats the named fields (DataTime...) and carries whole factors, and gets its own QN
 * so each can be answered with its own 9014.
 */
export function splitPacket(packet: Packet, opts: Pick<CodecOptions, 'sm4Key' | 'maxSegment'> = {}): Packet[] {
  const max = opts.maxSegment ?? STANDARD_MAX_SEGMENT;
  if (byteLength(packet, opts) <= max) return [packet];
  const units: Unit[] = [
    ...Object.entries(packet.cp.factors).map((factor): Unit => ({ factor })),
    ...(packet.cp.info ?? []).map((info): Unit => ({ info })),
  ];
  // Placeholders of the widest PNUM/PNO keep room for the numbers that are filled in at the end.
  const probe = (us: Unit[]): Packet => ({
    ...withUnits(packet, us),
    flag: makeFlag(packet.version, { split: true, ack: true }),
    pnum: 9999,
    pno: 9999,
  });
  const groups: Unit[][] = [];
  let current: Unit[] = [];
  for (const unit of units) {
    if (byteLength(probe([...current, unit]), opts) <= max) {
      current.push(unit);
      continue;
    }
    if (current.length === 0 || byteLength(probe([unit]), opts) > max) {
      const name = 'factor' in unit ? unit.factor[0] : `PolId=${unit.info.polId ?? ''}`;
      throw new Hj212Error('oversize', `${name} alone does not fit in a ${max}-byte data segment`, { field: name });
    }
    groups.push(current);
    current = [unit];
  }
  if (current.length > 0) groups.push(current);
  const flag = makeFlag(packet.version, { split: true, ack: needsAck(packet.flag) });
  return groups.map((us, i) => {
    const part: Packet = { ...withUnits(packet, us), flag, pnum: groups.length, pno: i + 1 };
    if (packet.qn !== undefined) part.qn = qnPlus(packet.qn, i);
    return part;
  });
}

/**
 * The frames of a packet: one, or with `split` as many PNUM/PNO parts as the limit needs (HJ 212-2017
 * 6.3.2, table C.49); without `split` an oversize packet is refused as by `encodeFrame`.
 */
export function encodeFrames(packet: Packet, opts: EncodeOptions & { split?: boolean } = {}): string[] {
  // An answer with an empty CP that fits needs no split probe (it is one frame).
  const answer = emptyCpFrame(packet, Math.min(opts.maxSegment ?? STANDARD_MAX_SEGMENT, LENGTH_FIELD_MAX));
  if (answer !== undefined) return [answer];
  const parts = opts.split ? splitPacket(packet, opts) : [packet];
  return parts.map((p) => encodeFrame(p, opts));
}

export interface ReassemblerOptions {
  /** Messages held incomplete at once; the oldest is given up past this. */
  maxPending?: number;
  /** How long the parts of one message may take to arrive. */
  timeoutMs?: number;
  now?: () => number;
}

interface Pending {
  parts: Map<number, Packet>;
  pnum: number;
  first: number;
}

export interface ReassemblyResult {
  /** The whole packet, once every part is in (or the packet itself when it was not split). */
  packet?: Packet;
  /** Messages given up (too many pending, or too slow), each with what was missing. */
  dropped: Hj212ErrorInfo[];
}

/**
 * Joins PNUM/PNO parts back into one packet. The parts of one message share MN, ST, CN, PNUM and
 * DataTime but not QN (C.49), so those are the key. Memory is bounded by `maxPending` messages.
 */
export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(opts: ReassemblerOptions = {}) {
    this.maxPending = opts.maxPending ?? 64;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.pending.size;
  }

  push(packet: Packet): ReassemblyResult {
    const dropped = this.expire();
    if (packet.pnum === undefined || packet.pno === undefined || packet.pnum === 1) {
      return { packet: packet.pnum === undefined ? packet : merge([packet]), dropped };
    }
    const key = [packet.mn, packet.st, packet.cn, packet.pnum, packet.cp.params['DataTime'] ?? ''].join('|');
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= this.maxPending) {
        const [oldestKey, oldest] = this.pending.entries().next().value as [string, Pending];
        this.pending.delete(oldestKey);
        dropped.push(incomplete(oldestKey, oldest, `more than ${this.maxPending} split messages pending`));
      }
      entry = { parts: new Map(), pnum: packet.pnum, first: this.now() };
      this.pending.set(key, entry);
    }
    entry.parts.set(packet.pno, packet);
    if (entry.parts.size < entry.pnum) return { dropped };
    this.pending.delete(key);
    const ordered = [...entry.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    return { packet: merge(ordered), dropped };
  }

  /** Gives up every pending message (shutdown), each reported with what was missing. */
  giveUp(why: string): Hj212ErrorInfo[] {
    const dropped = [...this.pending].map(([key, entry]) => incomplete(key, entry, why));
    this.pending.clear();
    return dropped;
  }

  /** Gives up messages older than the timeout; call it from a timer when traffic is idle. */
  expire(): Hj212ErrorInfo[] {
    const dropped: Hj212ErrorInfo[] = [];
    const limit = this.now() - this.timeoutMs;
    for (const [key, entry] of this.pending) {
      if (entry.first > limit) continue;
      this.pending.delete(key);
      dropped.push(incomplete(key, entry, `parts did not arrive within ${this.timeoutMs} ms`));
    }
    return dropped;
  }
}

function incomplete(key: string, entry: Pending, why: string): Hj212ErrorInfo {
  const missing = Array.from({ length: entry.pnum }, (_, i) => i + 1).filter((n) => !entry.parts.has(n));
  return new Hj212Error(
    'split-incomplete',
    `split message ${key} given up: ${why}; missing PNO ${missing.join(',')} of ${entry.pnum}`,
    { field: 'PNO' },
  ).toJSON();
}

function merge(parts: Packet[]): Packet {
  const first = parts[0]!;
  const cp: Cp = { params: {}, factors: {} };
  for (const p of parts) {
    Object.assign(cp.params, p.cp.params);
    Object.assign(cp.factors, p.cp.factors);
    if (p.cp.info) (cp.info ??= []).push(...p.cp.info);
  }
  const whole: Packet = { ...first, cp };
  delete whole.pnum;
  delete whole.pno;
  if (whole.flag !== undefined) whole.flag &= ~FLAG_SPLIT;
  return whole;
}
