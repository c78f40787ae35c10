import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../../protocol/zod-issues.js';
import { durationMsSchema } from '../shared/duration.js';

/** A configuration, profile or scenario that cannot be used; the message names the field and the fix. */
export class AnalyzerConfigError extends Error {
  override name = 'AnalyzerConfigError';
}

/** Validates `input` against `schema`; `source` (a file name or "--flag") prefixes every issue. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new AnalyzerConfigError(describeIssues(result.error, { source, topLevel: '' }));
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

/** A duration in the YAML, as milliseconds; a bare number means seconds. */
export const durationSchema = durationMsSchema('s');

/** An absolute time; the offset is required because analyzers in China run on UTC+8, not on the host's zone. */
export const instantSchema = z.string().transform((input, ctx) => {
  const ms = /(?:Z|[+-]\d\d:?\d\d)$/i.test(input) ? Date.parse(input) : Number.NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'expected an ISO 8601 time with an offset, such as 2025-06-01T00:00:00+08:00; got ' +
        `${JSON.stringify(input)}`,
    });
    return z.NEVER;
  }
  return ms;
});
