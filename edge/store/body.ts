import type { DataRecord, FieldInfo } from '../aggregator.js';
import type { PeriodStats } from '../datasets.js';

const isFacilityCn = (cn: DataRecord['cn']): boolean => cn === '2021' || cn === '2041';

/** The stored body of a record (history and outbox alike): its statistics, or the field information of a 3020 upload. */
export const bodyOf = (r: DataRecord): string =>
  JSON.stringify(r.cn === '3020' ? (r.info ?? {}) : isFacilityCn(r.cn) ? (r.facilities ?? {}) : r.stats);

export function fromBody(cn: DataRecord['cn'], at: number, body: string): DataRecord {
  if (cn === '3020') return { cn, at, stats: {}, info: JSON.parse(body) as FieldInfo };
  if (isFacilityCn(cn)) return { cn, at, stats: {}, facilities: JSON.parse(body) as Record<string, number> };
  return { cn, at, stats: JSON.parse(body) as PeriodStats };
}
