import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A configuration, profile or scenario that cannot be used; the message names the field and the fix. */
export class AnalyzerConfigError extends Error {
  override name = 'AnalyzerConfigError';
}

function issuePath(path: readonly PropertyKey[]): string {
  const text = path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
  return text;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? `${issue.message} (check its spelling or remove it)` : issue.message;
}

/** Validates `input` against `schema`; `source` (a file name or "--flag") prefixes every issue. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) =>
    [source, issuePath(issue.path), issueMessage(issue)].filter((part) => part !== '').join(': '),
  );
  throw new AnalyzerConfigError(lines.join('\n'));
}

/** Parses YAML text and validates it; syntax errors carry the line and column `yaml` reports. */
export function parseYamlWith<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new AnalyzerConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  return parseWith(schema, data, source);
}

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const DURATION = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** Parses "90s", "15m", "2h", "1d6h30m" (or a bare number of seconds) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * UNIT_MS.s;
  const match = DURATION.exec(trimmed);
  if (!match || trimmed === '') return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * UNIT_MS.d + Number(h) * UNIT_MS.h + Number(m) * UNIT_MS.m + Number(s) * UNIT_MS.s;
}

const DURATION_HINT = 'expected a duration such as 90s, 15m, 2h or 1d6h30m (a bare number means seconds)';

/** A duration in the YAML, as milliseconds. */
export const durationSchema = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const ms = typeof input === 'number' ? input * 1000 : parseDuration(input);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `${DURATION_HINT}; got ${JSON.stringify(input)}` });
    return z.NEVER;
  }
  return ms;
});

/** An absolute time; the offset is required because analyzers in China run on UTC+8, not on the host's zone. */
export const instantSchema = z.string().transform((input, ctx) => {
  const ms = /(?:Z|[+-]\d\d:?\d\d)$/i.test(input) ? Date.parse(input) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an ISO 8601 time with an offset, such as 2025-06-01T00:00:00+08:00; got ${JSON.stringify(input)}`,
    });
    return z.NEVER;
  }
  return ms;
});
