import type { DataCn, DataRecord, FieldInfo } from '../aggregator.js';
import type { PeriodStats } from '../datasets.js';

const isFacilityCn = (cn: DataRecord['cn']): cn is '2021' | '2041' => cn === '2021' || cn === '2041';

/**
 * A record of an HJ 212-2025 data set (ST 44/45) is stored as `{"st":"44","stats":{…}}`: a PeriodStats
 * cannot look like it, its keys being factor codes of six characters.
 */
const DATA_SET_KEYS = ['st', 'stats'];

/**
 * The stored body of a record (history and outbox alike): its statistics, or the field information of a 3020 upload.
 */
export const bodyOf = (r: DataRecord): string =>
  r.st !== undefined
    ? JSON.stringify({ st: r.st, stats: r.stats })
    : JSON.stringify(r.cn === '3020' ? r.info : r.cn === '2021' || r.cn === '2041' ? r.facilities : r.stats);

export function fromBody(cn: DataRecord['cn'], at: number, body: string): DataRecord {
  if (cn === '3020') return { cn, at, stats: {}, info: JSON.parse(body) as FieldInfo };
  if (isFacilityCn(cn)) return { cn, at, stats: {}, facilities: JSON.parse(body) as Record<string, number> };
  if (body.startsWith('{"st":')) {
    const parsed = JSON.parse(body) as { st: '44' | '45'; stats: PeriodStats };
    if (Object.keys(parsed).join() === DATA_SET_KEYS.join()) return withCn(cn, at, parsed.stats, parsed.st);
  }
  return withCn(cn, at, JSON.parse(body) as PeriodStats);
}

/** A statistics record, or a 2081 (stored with empty statistics). */
function withCn(cn: DataCn | '2081', at: number, stats: PeriodStats, st?: '44' | '45'): DataRecord {
  const base = { at, stats, ...(st !== undefined && { st }) };
  // Two branches so each literal is one member of the union.
  if (cn === '2081') return { ...base, cn };
  return { ...base, cn };
}
