import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `500ms`, `2s`, `1.5m`, `1h` or a bare number of milliseconds, as config files and flags write them. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 500ms, 2s, 1m, 1h)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** A zod field for durations that reports a bad value under the field's own name. */
export const DurationSchema = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
