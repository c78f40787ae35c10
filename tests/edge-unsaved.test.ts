import { describe, expect, it } from 'vitest';
import { trimUnsaved, type Unsaved } from '../edge/unsaved.js';
import { type DataRecord } from '../edge/aggregator.js';

/** A record of each CN's own shape, its content empty: only the CN and the time matter to the bound. */
const record = (cn: DataRecord['cn'], at: number): DataRecord => {
  if (cn === '3020') return { cn, at, stats: {}, info: {} };
  if (cn === '2021' || cn === '2041') return { cn, at, stats: {}, facilities: {} };
  if (cn === '2081') return { cn, at, stats: {} };
  if (cn === '2062') return { cn, at, stats: {}, checks: {} };
  return { cn, at, stats: {} };
};

describe('records a refusing store leaves in memory', () => {
  it('within the bound nothing is dropped', () => {
    const u: Unsaved = { minutes: [[1, {}]], records: [record('2011', 1), record('2061', 2)] };
    expect(trimUnsaved(u, { records: 2, minutes: 1 })).toEqual([]);
    expect(u.records).toHaveLength(2);
    expect(u.minutes).toHaveLength(1);
  });

  it('past the bound the oldest real-time and minute records go, hour, day and parameter records stay in order', () => {
    const cns: DataRecord['cn'][] = ['2011', '2061', '2051', '2011', '2031', '3020', '2021', '2011', '2041', '2011'];
    const u: Unsaved = { minutes: [], records: cns.map((cn, i) => record(cn, i)) };
    const dropped = trimUnsaved(u, { records: 7, minutes: 10 });
    expect(dropped.map((r) => [r.cn, r.at])).toEqual([
      ['2011', 0],
      ['2051', 2],
      ['2011', 3],
    ]);
    expect(u.records.map((r) => r.at)).toEqual([1, 4, 5, 6, 7, 8, 9]);
  });

  it('with nothing droppable left it keeps every hour and day record over the bound', () => {
    const u: Unsaved = {
      minutes: [],
      records: [record('2061', 1), record('2011', 2), record('2031', 3), record('2061', 4)],
    };
    expect(trimUnsaved(u, { records: 1, minutes: 10 }).map((r) => r.at)).toEqual([2]);
    expect(u.records.map((r) => r.cn)).toEqual(['2061', '2031', '2061']);
  });

  it('keeps the newest minute statistics', () => {
    const u: Unsaved = { minutes: [1, 2, 3, 4].map((at): Unsaved['minutes'][number] => [at, {}]), records: [] };
    trimUnsaved(u, { records: 10, minutes: 2 });
    expect(u.minutes.map(([at]) => at)).toEqual([3, 4]);
  });
});
