import type { CheckValues, DataCn, DataRecord, FieldInfo } from '../aggregator.js';
import type { PeriodStats } from '../datasets.js';

const isFacilityCn = (cn: DataRecord['cn']): cn is '2021' | '2041' => cn === '2021' || cn === '2041';

/**
 * A record of an HJ 212-2025 data set (ST 44/45) is stored as `{"st":"44","stats":{…}}`: a PeriodStats
 * cannot look like it, its keys being factor codes of six characters.
 */
const DATA_SET_KEYS = ['st', 'stats'];

/**
 * The stored body of a record (history and outbox alike): its statistics, the field information of a 3020
 * upload, or the standard checks of a 2062.
 */
export const bodyOf = (r: DataRecord): string => {
  if (r.st !== undefined) return JSON.stringify({ st: r.st, stats: r.stats });
  if (r.cn === '3020') return JSON.stringify(r.info);
  if (r.cn === '2062') return JSON.stringify(r.checks);
  return JSON.stringify(r.cn === '2021' || r.cn === '2041' ? r.facilities : r.stats);
};

export function fromBody(cn: DataRecord['cn'], at: number, body: string): DataRecord {
  if (cn === '3020') return { cn, at, stats: {}, info: JSON.parse(body) as FieldInfo };
  if (cn === '2062') return { cn, at, stats: {}, checks: JSON.parse(body) as Record<string, CheckValues> };
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
