import type { z } from 'zod';

/**
 * One way, for every config file, flag and request body, to say what zod found wrong: each issue as
 * `source: path: message`, the path written as in the YAML or JSON (`stations[2].factors.w01018.upper`),
 * a stray key with the fix. Apart from the codec: importing protocol/index does not load zod.
 */

/** `stations[2].factors.w01018.upper`; empty for the top level. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
}

export interface DescribeOptions {
  /** The file name or `--flag` that every issue is prefixed with. */
  source?: string;
  /** Between issues; one a line by default. */
  separator?: string;
  /** What names the top level itself; `''` leaves it out (a flag's value has no fields). */
  topLevel?: string;
}

/** One issue as `path: message`, with the fix for a stray key (a typo is an error, never dropped). */
export function describeIssue(issue: z.core.$ZodIssue, topLevel = '(top level)'): string {
  const fix = issue.code === 'unrecognized_keys' ? ' (check the spelling or remove it)' : '';
  const where = issuePath(issue.path) || topLevel;
  return `${where === '' ? '' : `${where}: `}${issue.message}${fix}`;
}

/** Every issue as `source: path: message`. */
export function describeIssues(error: z.ZodError, opts: DescribeOptions = {}): string {
  const prefix = opts.source === undefined || opts.source === '' ? '' : `${opts.source}: `;
  return error.issues.map((issue) => prefix + describeIssue(issue, opts.topLevel)).join(opts.separator ?? '\n');
}
