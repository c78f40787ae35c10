import { z } from 'zod';
import { durationSchema, instantSchema, parseYamlWith } from './validation.js';

/**
 * Event times are offsets from the scenario start ("2h", "1d6h"), so one file replays the same day
 * whatever the start date; `every` repeats the window (a daily calibration, a drift that is reset).
 */
const windowFields = {
  from: durationSchema,
  /** Omitted: the episode lasts until the simulator stops. */
  to: durationSchema.optional(),
  every: durationSchema.optional(),
};

/** What the value does while a status window is open: frozen, zero, untouched, or a fixed reading. */
const heldValue = z.union([z.enum(['hold', 'zero', 'live']), z.number()]);

export const STATUS_EVENT_KINDS = ['maintenance', 'calibration', 'fault', 'stopped'] as const;

const eventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exceedance'), ...windowFields, level: z.number() }),
  z.strictObject({ kind: z.literal('drift'), ...windowFields, perDay: z.number() }),
  z.strictObject({ kind: z.literal('stuck'), ...windowFields, value: z.number().optional() }),
  z.strictObject({ kind: z.literal('zero'), ...windowFields }),
  z.strictObject({
    kind: z.literal('negative'),
    ...windowFields,
    value: z.number().negative('must be below 0: this episode reports a negative reading'),
  }),
  z.strictObject({ kind: z.enum(STATUS_EVENT_KINDS), ...windowFields, value: heldValue.optional() }),
  z.strictObject({ kind: z.literal('dropout'), ...windowFields }),
  z.strictObject({
    kind: z.literal('garbled'),
    ...windowFields,
    mode: z.enum(['bad-crc', 'truncated']).default('bad-crc'),
  }),
]);

export type ScenarioEvent = z.output<typeof eventSchema>;
export type GarbleMode = Extract<ScenarioEvent, { kind: 'garbled' }>['mode'];

/** Effluent and flue-gas loads typically peak in the early afternoon shift. */
export const DEFAULT_PEAK_HOUR = 14;

/** One device's behaviour; the curve fields default to the profile's nominal ones. */
const signalSchema = z
  .strictObject({
    mean: z.number().optional(),
    amplitude: z.number().nonnegative().optional(),
    /** Hour of the daily maximum, China Standard Time (UTC+8). */
    peakHour: z.number().min(0).max(24).default(DEFAULT_PEAK_HOUR),
    noise: z.number().nonnegative().optional(),
    sampleEvery: durationSchema.refine((ms) => ms > 0, 'must be longer than 0').optional(),
    events: z.array(eventSchema).default([]),
  })
  .superRefine((signal, ctx) => {
    signal.events.forEach((event, i) => {
      const issue = (field: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: ['events', i, field], message });
      if (event.to !== undefined && event.to <= event.from) issue('to', 'must be later than from');
      if (event.every !== undefined) {
        if (event.to === undefined) issue('every', 'a repeating window needs an end: add to');
        else if (event.every < event.to - event.from) issue('every', 'must be at least the window length (to - from)');
      }
    });
  });

export type SignalSpec = z.output<typeof signalSchema>;

export const scenarioSchema = z.strictObject({
  /** Seeds the noise; the same seed and start give the same readings on every run. */
  seed: z.number().int().default(1),
  /** Simulated time at which the simulator starts; defaults to the real time of the start. */
  start: instantSchema.optional(),
  /** Simulated seconds per real second (1440 runs a day in a minute). */
  warp: z.number().positive().default(1),
  /** Keyed by a profile id (every device with that profile) or a unit id such as "2" (that device only). */
  signals: z.record(z.string(), signalSchema).default({}),
});

export type AnalyzerScenario = z.output<typeof scenarioSchema>;
export type AnalyzerScenarioInput = z.input<typeof scenarioSchema>;

export function parseScenarioYaml(text: string, source: string): AnalyzerScenario {
  return parseYamlWith(scenarioSchema, text, source);
}
