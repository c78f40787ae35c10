import { factor } from '../protocol/index.js';
import type { HjFlag } from './config.js';
import type { FactorStat, PeriodStats, Sample, Station } from './datasets.js';

/** The reported periods: MinInterval (minute) data, hours and days. */
type Period = 'minute' | 'hour' | 'day';

/** A day needs 20 valid hours (HJ 356-2019), cycles or not. */
const DAY_VALID_HOURS = 20;

/**
 * Non-continuous analyzers (COD, NH3-N, TP, TN run one measurement cycle an hour or two): a value
 * exists only when a cycle completes. A period's value is the value of the cycles that completed in
 * it, with their SampleTime, never a time average of the display holding the last result.
 */

function dominantFlag(flags: readonly HjFlag[]): HjFlag {
  const counts = new Map<HjFlag, number>();
  for (const f of flags) if (f !== 'N') counts.set(f, (counts.get(f) ?? 0) + 1);
  let best: HjFlag = 'B';
  let bestCount = 0;
  for (const [f, n] of counts) if (n > bestCount) [best, bestCount] = [f, n];
  return best;
}

function summary(values: readonly number[]): Pick<FactorStat, 'min' | 'avg' | 'max'> {
  if (values.length === 0) return {};
  return { min: Math.min(...values), avg: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

/**
 * One minute of a cyclic factor: the cycle values that completed in it (normally one), or the
 * B-flagged held value of polls the analyzer did not answer.
 */
export function cycleMinuteStat(samples: readonly Sample[]): FactorStat {
  const measured = samples.filter((s) => Number.isFinite(s.value));
  const valid = measured.filter((s) => s.flag === 'N');
  const used = valid.length > 0 ? valid : measured;
  const sampleTime = used.map((s) => s.sampleTime).findLast((t) => t !== undefined);
  return {
    ...summary(used.map((s) => s.value)),
    ...(sampleTime !== undefined && { sampleTime }),
    cyclic: true,
    flag: valid.length > 0 ? 'N' : dominantFlag(samples.map((s) => s.flag)),
    valid: valid.length > 0 ? 1 : 0,
    count: 1,
  };
}

/**
 * A period of a cyclic factor from its children that carry a cycle: valid with one valid cycle for a
 * MinInterval period or an hour, with 20 valid hours for a day (HJ 356-2019); its value the mean of
 * the valid cycles, SampleTime that of the latest.
 */
export function combineCycles(children: readonly FactorStat[], period: Period, expected: number): FactorStat {
  const measured = children.filter((c) => c.avg !== undefined);
  const valid = measured.filter((c) => c.flag === 'N');
  const isValid = valid.length >= (period === 'day' ? DAY_VALID_HOURS : 1);
  const used = isValid ? valid : measured;
  const sampleTime = used.map((c) => c.sampleTime).findLast((t) => t !== undefined);
  return {
    ...(used.length > 0 && {
      min: Math.min(...used.map((c) => c.min ?? (c.avg as number))),
      avg: used.reduce((a, c) => a + (c.avg as number), 0) / used.length,
      max: Math.max(...used.map((c) => c.max ?? (c.avg as number))),
    }),
    ...(sampleTime !== undefined && { sampleTime }),
    cyclic: true,
    flag: isValid ? 'N' : dominantFlag(children.map((c) => c.flag)),
    valid: valid.length,
    count: expected,
  };
}

/**
 * Cou of a cyclic pollutant over an hour or a day: its cycle concentration × the period's volume
 * (the flow factor's Cou, m3): water kg = mg/L × m3 × 1e-3 (HJ 212-2017 D.1.2). Minute (MinInterval)
 * data carry none: only one of an hour's intervals holds the cycle, and its Cou would not add up to the hour's.
 */
export function withCycleAmounts(stats: PeriodStats, station: Station, kind: Period): PeriodStats {
  const volume = station.flow && stats[station.flow.code]?.cou;
  const perKg = station.kind === 'water' ? 1e-3 : 1e-6;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      if (!stat.cyclic) return [code, stat];
      const { cou: _ignored, ...rest } = stat;
      if (kind === 'minute' || volume === undefined || stat.avg === undefined || factor(code)?.amountUnit !== 'kg')
        return [code, rest];
      return [code, { ...rest, cou: stat.avg * volume * perKg }];
    }),
  );
}
