import type { AggregatorState, DataRecord, HistoryCn } from '../aggregator.js';
import type { PeriodStats } from '../datasets.js';
import type { HistoryPager } from '../history.js';
import { fromBody } from './body.js';
import type { Statements } from './db.js';
import type { Dropped } from './disk-guard.js';

type Row = { at: number; stats: string };
/** Rows a disk-full drop deletes between two checks of the free space. */
export const DROP_CHUNK = 100;

/** Records by kind and DataTime for re-send requests, the closed minutes, and where the aggregator resumes. */
export class HistoryStore implements HistoryPager {
  constructor(private readonly sql: Statements) {}

  /** Inside the tick's transaction: the closed minutes, the records, the aggregator's resume point. */
  write(
    minutes: [number, PeriodStats][],
    records: { record: DataRecord; body: string }[],
    state: AggregatorState,
  ): void {
    for (const [at, stats] of minutes) this.sql.insertMinute.run(at, JSON.stringify(stats));
    this.sql.setState.run('cursor', String(state.cursor));
    // History is keyed (cn, at) and answers the outlet's 2051/2061 requests: ST 44/45 records go to the outboxes only.
    for (const { record, body } of records)
      if (record.st === undefined) this.sql.insertHistory.run(record.cn, record.at, body);
  }

  /**
   * Records of one kind whose DataTime is within [from, to], all at once: for tools and tests. History requests read
   * `historyPage`.
   */
  history(cn: HistoryCn, from: number, to: number): DataRecord[] {
    return (this.sql.historyRange.all(cn, from, to) as Row[]).map((r) => fromBody(cn, r.at, r.stats));
  }

  /**
   * One page of history for a history request: records of `cn` with DataTime in [from, to] after
   * `after` (exclusive), oldest first. Keyset paging on the (cn, at) key: each page is an index range
   * scan however deep into a year it starts.
   */
  historyPage(cn: HistoryCn, from: number, to: number, after: number | undefined, limit: number): DataRecord[] {
    const lower = after === undefined ? from : Math.max(from, after + 1);
    return (this.sql.historyPage.all(cn, lower, to, limit) as Row[]).map((r) => fromBody(cn, r.at, r.stats));
  }

  /**
   * Where the aggregator resumes: the first open minute, the minutes of the open hour and the hours of the open day.
   */
  restore(hourStart: (at: number) => number, dayStart: (at: number) => number): AggregatorState | undefined {
    const row = this.sql.getState.get('cursor') as { value: string } | undefined;
    if (!row) return undefined;
    const cursor = Number(row.value);
    const parse = (r: Row): [number, PeriodStats] => [r.at, JSON.parse(r.stats) as PeriodStats];
    const minutes = this.sql.minutesSince.all(hourStart(cursor), cursor) as Row[];
    const hours = this.sql.hoursSince.all(dayStart(cursor), cursor) as Row[];
    return { cursor, minutes: minutes.map(parse), hours: hours.map(parse) };
  }

  /** Forgets history older than `before` (historyDays), and minutes older than a day. */
  prune(before: number, now: number): void {
    this.sql.pruneHistory.run(before);
    this.sql.pruneMinutes.run(now - 86_400_000);
  }

  /** The DataTime of the oldest record of `cn`, if any: a candidate of the disk-full drop. */
  oldest(cn: DataRecord['cn']): number | undefined {
    return this.sql.firstHistory.get(cn) as number | undefined;
  }

  /** Deletes the oldest DROP_CHUNK records of `cn`. */
  dropOldest(cn: DataRecord['cn']): Dropped[] {
    const ats = this.sql.oldestHistory.all(cn, DROP_CHUNK) as number[];
    if (ats.length === 0) return [];
    this.sql.dropHistoryUpTo.run(cn, ats.at(-1)!);
    return ats.map((at) => ({ from: 'history', cn, at }));
  }
}
