import type { z } from 'zod';

/**
 * One way, for every config file, flag and request body, to say what zod found wrong: each issue as
 * `source: path: message`, the path written as in the YAML or JSON (`stations[2].factors.w01018.upper`),
 * a stray key named as a typo. Apart from the codec: importing protocol/index does not load zod.
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
  /** Where the keys are documented, named after a stray key. */
  docs?: string;
}

/**
 * One issue as `path: message` lines. A stray key gets a line of its own naming it: most often a typo
 * (`hots:` for `host:`), which would otherwise fall back to a default silently.
 */
export function describeIssue(
  issue: z.core.$ZodIssue,
  opts: Omit<DescribeOptions, 'source' | 'separator'> = {},
): string[] {
  const at = issuePath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const see = opts.docs === undefined ? '' : `; see ${opts.docs}`;
    return issue.keys.map((k) => `${at === '' ? k : `${at}.${k}`}: not a known key (a typo?)${see}`);
  }
  const where = at || (opts.topLevel ?? '(top level)');
  return [`${where === '' ? '' : `${where}: `}${issue.message}`];
}

/** Every issue as `source: path: message`. */
export function describeIssues(error: z.ZodError, opts: DescribeOptions = {}): string {
  const prefix = opts.source === undefined || opts.source === '' ? '' : `${opts.source}: `;
  return error.issues
    .flatMap((issue) => describeIssue(issue, opts))
    .map((line) => prefix + line)
    .join(opts.separator ?? '\n');
}
