import { z } from 'zod';
import { headlineValue, type Point } from '../store/types.js';

/**
 * 治污设施未运行: the treatment facility stopped while production runs, judged on the power use (分表计电)
 * data set a logger uploads as ST 44 (HJ 212-2025; its factor codes are not public here, so the codes
 * are the station's, named in the registry: docs/protocol-2025.md "ST 44 and ST 45").
 */
const code = z.string().regex(/^[a-z]\d{5}$/, 'a factor code such as p01001 (docs/protocol-2025.md, ST 44)');

export const TreatmentRuleSchema = z.strictObject({
  /** Production meters (or run signals): production runs when any of them is above its `onAbove`. */
  production: z
    .array(z.strictObject({ code, onAbove: z.number().min(0).describe('kW (or 0 for a 0/1 run signal)') }))
    .min(1, 'name at least one production meter'),
  /** Treatment meters: the facility counts as stopped when any of them is below its `minPower`. */
  treatment: z
    .array(z.strictObject({ code, minPower: z.number().positive().describe('kW the running facility draws at least') }))
    .min(1, 'name at least one treatment-facility meter'),
  /** The data the rule reads: hour (2061) or minute (2051) averages. */
  kind: z.enum(['hour', 'minute']).default('hour'),
  /** How long the condition must last, in consecutive periods, before an alarm opens. */
  minutes: z.number().int().min(1).max(1440).default(60),
});
export type TreatmentRule = z.output<typeof TreatmentRuleSchema>;

/** The condition's current run of a station: its first period start and the end of its last period. */
export interface TreatmentRun {
  since: number;
  until: number;
}

export type TreatmentVerdict =
  { state: 'unknown' } | { state: 'stopped'; run: TreatmentRun; open: boolean; detail: string } | { state: 'normal' };

const value = (points: readonly Point[], c: string): number | undefined => {
  const p = points.find((q) => q.factor === c);
  return p && headlineValue(p);
};

/**
 * One upload of the rule's kind (every point of one DataTime) against the rule. `periodMs` is the
 * length of one period of that kind (an hour, or the station's minute interval). Unknown when a meter
 * the rule needs is not in the upload: nothing is decided and the run goes on as it was.
 * A run that skips a period (a gap in the data) starts again: "consecutive" means no period missing.
 */
export function judgeTreatment(
  rule: TreatmentRule,
  points: readonly Point[],
  time: number,
  periodMs: number,
  run: TreatmentRun | undefined,
): TreatmentVerdict {
  const production = rule.production.map((p) => ({ ...p, v: value(points, p.code) }));
  const treatment = rule.treatment.map((t) => ({ ...t, v: value(points, t.code) }));
  const running = production.filter((p) => p.v !== undefined && p.v > p.onAbove);
  if (running.length === 0 && production.some((p) => p.v === undefined)) return { state: 'unknown' };
  if (running.length === 0) return { state: 'normal' };
  if (treatment.some((t) => t.v === undefined)) return { state: 'unknown' };
  const stopped = treatment.filter((t) => t.v! < t.minPower);
  if (stopped.length === 0) return { state: 'normal' };
  const next: TreatmentRun =
    run !== undefined && run.until === time
      ? { since: run.since, until: time + periodMs }
      : { since: time, until: time + periodMs };
  const detail =
    `production ${running.map((p) => `${p.code}=${p.v}`).join(', ')} while treatment ` +
    stopped.map((t) => `${t.code}=${t.v} < ${t.minPower}`).join(', ');
  return { state: 'stopped', run: next, open: next.until - next.since >= rule.minutes * 60_000, detail };
}
