import { z } from 'zod';

/** What a bare number means where a duration is expected: each config file documents its own. */
export type BareUnit = 'ms' | 's';

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, min: 60_000, m: 60_000, s: 1000, ms: 1 };
/** One number-and-unit part; `ms` and `min` before `m` so the longer unit wins. */
const PART = /(\d+(?:\.\d+)?)\s*(ms|min|d|h|m|s)/y;
const BARE = /^\d+(?:\.\d+)?$/;

/**
 * Milliseconds a duration names: one or more number-and-unit parts ("500ms", "90s", "1.5m", "1min",
 * "2h", "1d6h30m"), or a bare number in `bare` units (a number in YAML likewise). Undefined when the
 * text is not a duration or the value is negative. Rounded to whole milliseconds.
 */
export function durationMs(input: string | number, bare: BareUnit): number | undefined {
  const bareMs = UNIT_MS[bare]!;
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * bareMs) : undefined;
  const text = input.trim();
  if (BARE.test(text)) return Math.round(Number(text) * bareMs);
  if (text === '') return undefined;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) return undefined;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    // Spaces may separate parts ("1h 30m"), not end the text.
    while (text[PART.lastIndex] === ' ') PART.lastIndex++;
    if (PART.lastIndex === at) return undefined;
  }
  return Math.round(ms);
}

const MEANS: Record<BareUnit, string> = { ms: 'milliseconds', s: 'seconds' };

/** A config field holding a duration, as milliseconds; a bad value is reported under the field's own name. */
export function durationMsSchema(bare: BareUnit) {
  return z.union([z.number(), z.string()]).transform((input, ctx) => {
    const ms = durationMs(input, bare);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          `expected a duration such as 90s, 500ms, 15m, 2h or 1d6h30m (a bare number means ${MEANS[bare]}); ` +
          `got ${JSON.stringify(input)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
