import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { describeIssues } from '../../protocol/zod-issues.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates raw config data; throws a ConfigError naming each bad field. */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, { source }));
  return parsed.data;
}

export async function readYaml(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML (${(err as Error).message})`);
  }
}

/** A YAML config file (when given) overlaid with the command-line flags that were set. */
export async function withFlags(
  path: string | undefined,
  flags: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const fromFile = path !== undefined ? ((await readYaml(path)) as Record<string, unknown>) : {};
  return { ...fromFile, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
}
