import type { DataRecord } from './aggregator.js';
import type { PeriodStats } from './datasets.js';
import { planDrops } from './store/retention.js';

/** What ticks derived that the store has not taken yet: it refused them (a disk full beyond help). */
export interface Unsaved {
  minutes: [number, PeriodStats][];
  records: DataRecord[];
}

/**
 * How much a store that refuses every write may leave in memory. A box can sit on a full disk for
 * days before anyone frees space; past these bounds memory follows the disk's rule.
 * Records: more than a day of 30 s real-time data. Minutes: a day, which is all the store keeps.
 */
export const UNSAVED_LIMITS = { records: 4000, minutes: 1440 };

/**
 * Drops the oldest real-time and minute records beyond the bound (hour, day and parameter records
 * stay, however many) and the minute statistics older than a day's worth. Returns what it dropped.
 */
export function trimUnsaved(u: Unsaved, limits = UNSAVED_LIMITS): DataRecord[] {
  if (u.minutes.length > limits.minutes) u.minutes = u.minutes.slice(-limits.minutes);
  const excess = u.records.length - limits.records;
  if (excess <= 0) return [];
  // Ticks append in time order: the index is the age. The disk's rule: real-time and minute data only.
  const candidates = u.records.map((record, i) => ({ cn: record.cn, order: i, size: 1, record }));
  const dropped = new Set(planDrops(candidates, excess, 0).map((c) => c.record));
  u.records = u.records.filter((r) => !dropped.has(r));
  return [...dropped];
}
