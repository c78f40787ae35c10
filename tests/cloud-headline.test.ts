import { describe, expect, it } from 'vitest';
import { headlineField, headlineValue } from '../cloud/store/types.js';
import { CHINA_ISO_OFFSET, isoOffset } from '../protocol/time.js';

describe("a point's headline value", () => {
  it('is Rtd for real-time data and Avg for every statistic (HJ 212-2017 table 4)', () => {
    expect(headlineField('rtd')).toBe('Rtd');
    expect(headlineField('minute')).toBe('Avg');
    expect(headlineField('hour')).toBe('Avg');
    expect(headlineField('day')).toBe('Avg');
  });

  it('reads that field and nothing else', () => {
    const values = { Rtd: 12.5, Avg: 11.25, Min: 9, Max: 14, ZsAvg: 20 };
    expect(headlineValue({ kind: 'rtd', values })).toBe(12.5);
    expect(headlineValue({ kind: 'hour', values })).toBe(11.25);
    // An hour that carries only Min and Max has no headline value: Max is not a stand-in for Avg.
    expect(headlineValue({ kind: 'hour', values: { Min: 9, Max: 14 } })).toBeUndefined();
    expect(headlineValue({ kind: 'rtd', values: { Avg: 3 } })).toBeUndefined();
  });
});

describe('ISO 8601 offsets', () => {
  it('writes minutes east of UTC as ±hh:mm', () => {
    expect(CHINA_ISO_OFFSET).toBe('+08:00'); // 480 min = 8 h
    expect(isoOffset(0)).toBe('+00:00');
    expect(isoOffset(330)).toBe('+05:30'); // 5 h 30 min
    expect(isoOffset(-90)).toBe('-01:30');
  });
});
