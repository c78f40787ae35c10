import type { DataRecord } from '../aggregator.js';

type Cn = DataRecord['cn'];

/**
 * The one drop-priority policy of the edge: what gives way first when something must (an outbox over
 * its cap, a full disk, records held in memory while the store refuses them). Class 0, real-time and
 * minute data, goes first; class 1, hour, day, parameter-change (3020) and boot-time (2081) records,
 * goes only when a caller may drop it at all (an outbox cap may, a full disk and memory never do).
 * Parameter changes are rare and what dynamic control is about: kept like hour data.
 */
const DROP_CLASS: Record<Cn, 0 | 1> = {
  '2011': 0,
  '2021': 0,
  '2051': 0,
  '2061': 1,
  '2031': 1,
  '2041': 1,
  '3020': 1,
  // Once per start: what tells a regulator the logger was down, kept like parameter changes.
  '2081': 1,
  // HJ 212-2025 standard-check results (3024): rare, and what a regulator asks for, kept like hour data.
  '2062': 1,
};

export type DropClass = 0 | 1;
export const dropClass = (cn: Cn): DropClass => DROP_CLASS[cn];
/**
 * What gives way first on a full disk or a full outbox: real-time and minute data, never hour, day or parameter
 * records.
 */
export const isDroppable = (cn: Cn): boolean => DROP_CLASS[cn] === 0;
/** The kinds a full disk or a full memory may drop, in the policy's table order. */
export const DROPPABLE_CNS: readonly Cn[] = (Object.keys(DROP_CLASS) as Cn[]).filter(isDroppable);

/** Something that could be dropped: a stored row, a record in memory, or the oldest row of a table. */
export interface DropCandidate {
  cn: Cn;
  /** Age, smaller is older: an outbox id, an index in memory, a DataTime. Compared within one call only. */
  order: number;
  /** What dropping it frees, in the unit of `excess` (bytes, records). */
  size: number;
  /**
   * A spare copy gives way before the only one at equal age: an outbox row goes before the history
   * row of the same record, which still answers a platform's re-send request.
   */
  spare?: boolean;
}

/**
 * Drop order: lower class first, then the oldest, then the spare copy; otherwise the order given (the sort is stable).
 */
export function compareDrop(a: DropCandidate, b: DropCandidate): number {
  return dropClass(a.cn) - dropClass(b.cn) || a.order - b.order || Number(b.spare ?? false) - Number(a.spare ?? false);
}

/**
 * The candidates to drop so that `excess` is covered, in drop order, never one of a class above
 * `upTo`. Fewer (or none) when the droppable ones do not cover it: the caller decides what then.
 * Pure: the caller deletes what it returns.
 */
export function planDrops<T extends DropCandidate>(candidates: readonly T[], excess: number, upTo: DropClass): T[] {
  const taken: T[] = [];
  let left = excess;
  for (const c of candidates.filter((c) => dropClass(c.cn) <= upTo).sort(compareDrop)) {
    if (left <= 0) break;
    taken.push(c);
    left -= c.size;
  }
  return taken;
}
