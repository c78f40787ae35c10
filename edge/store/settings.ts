import type { Logger } from 'pino';
import { RETRIES_MAX, TIMEOUT_SECONDS_MAX } from '../config-values.js';
import type { Statements } from './db.js';
import { DiskFullError, type DiskGuard } from './disk-guard.js';

/** The facilities' open day (edge/facilities.ts RunTimeState), as the store keeps it. */
export interface RunTimeSettings {
  day: number;
  runMs: Record<string, number>;
  last: Record<string, { at: number; rs: number }>;
}

/** protocol/sm4-keys.ts KeyState as stored (no pending key: the box switches as soon as it answers). */
export interface KeySettings {
  key: string;
  since: number;
  previous?: string;
  previousUntil?: number;
}

/** What the agent keeps across restarts besides data: what platform commands changed, and the facilities' open day. */
export interface EdgeSettings {
  /** Set by a platform's 1062. */
  rtdIntervalSeconds?: number;
  /** Set by a platform's 1064. */
  minIntervalMinutes?: number;
  runTime?: RunTimeSettings;
  /** Set by a platform's 1000 (OverTime, HJ 212-2017 C.1): every uplink's answer timeout. */
  overTimeSeconds?: number;
  /** Set by a platform's 1000 (ReCount): every uplink's resends. */
  reCount?: number;
  /** An uplink's access password as a platform set it (1072), by uplink id. */
  passwords: Record<string, string>;
  /** An uplink's MN as a platform set it (1002, HJ 212-2025), by uplink id. */
  mns?: Record<string, string>;
  /** An uplink's SM4 keys after a 1014 key change (HJ 212-2025), by uplink id; overrides the configured sm4Key. */
  sm4Keys?: Record<string, KeySettings>;
}
/** Settings to change; a password given replaces that uplink's only. */
export type SettingsPatch = Partial<EdgeSettings>;

/*
 * The rows are checked by hand rather than with zod: the agent's isolate then loads no zod at all (the
 * configuration is validated in a worker that exits, cli/edge.ts), about 5 MB of RSS (bench/README.md, 2026-12-08).
 * A check answers undefined for a good value, or why it is refused.
 */
type Check = (v: unknown) => string | undefined;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    !Number.isInteger(v)
      ? 'expected an integer'
      : (v as number) < min || (v as number) > max
        ? `expected ${min} to ${max}`
        : undefined;
/** Exactly these keys, each checked (a key marked optional may be absent). */
const object =
  (fields: Record<string, { check: Check; optional?: boolean }>): Check =>
  (v) => {
    if (!isRecord(v)) return 'expected an object';
    for (const key of Object.keys(v)) if (!Object.hasOwn(fields, key)) return `unrecognized key "${key}"`;
    for (const [key, { check, optional }] of Object.entries(fields)) {
      if (!Object.hasOwn(v, key)) {
        if (optional) continue;
        return `${key}: required`;
      }
      const why = check(v[key]);
      if (why) return `${key}: ${why}`;
    }
    return undefined;
  };
const record =
  (each: Check): Check =>
  (v) => {
    if (!isRecord(v)) return 'expected an object';
    for (const [key, value] of Object.entries(v)) {
      const why = each(value);
      if (why) return `${key}: ${why}`;
    }
    return undefined;
  };
const number: Check = (v) => (finite(v) ? undefined : 'expected a number');
const hex32: Check = (v) =>
  typeof v === 'string' && /^[0-9A-Fa-f]{32}$/.test(v) ? undefined : 'expected 32 hex digits';

const checkRunTime = object({
  day: { check: number },
  runMs: { check: record(number) },
  last: { check: record(object({ at: { check: number }, rs: { check: number } })) },
});
const checkKeyState = object({
  key: { check: hex32 },
  since: { check: number },
  previous: { check: hex32, optional: true },
  previousUntil: { check: number, optional: true },
});

/** The settings of one row each, and how a stored value is checked. */
const FIELD = {
  rtdIntervalSeconds: integer(1),
  minIntervalMinutes: integer(1),
  runTime: checkRunTime,
  overTimeSeconds: integer(1, TIMEOUT_SECONDS_MAX),
  reCount: integer(0, RETRIES_MAX),
} satisfies Record<string, Check>;
type Field = keyof typeof FIELD;
const isField = (name: string): name is Field => Object.hasOwn(FIELD, name);

const PREFIX = 'setting:';
const PW_SUFFIX = '.pw';
const MN_SUFFIX = '.mn';
const KEY_SUFFIX = '.sm4Key';

/**
 * Rows of the state table (key `setting:<name>`), the layout earlier versions wrote, so an existing edge.db keeps its
 * settings.
 */
export function encodeSettings(patch: SettingsPatch): [key: string, value: string][] {
  const rows: [string, string][] = [];
  if (patch.rtdIntervalSeconds !== undefined) rows.push(['rtdIntervalSeconds', String(patch.rtdIntervalSeconds)]);
  if (patch.minIntervalMinutes !== undefined) rows.push(['minIntervalMinutes', String(patch.minIntervalMinutes)]);
  if (patch.runTime !== undefined) rows.push(['runTime', JSON.stringify(patch.runTime)]);
  if (patch.overTimeSeconds !== undefined) rows.push(['overTimeSeconds', String(patch.overTimeSeconds)]);
  if (patch.reCount !== undefined) rows.push(['reCount', String(patch.reCount)]);
  for (const [uplink, pw] of Object.entries(patch.passwords ?? {})) rows.push([`${uplink}${PW_SUFFIX}`, pw]);
  for (const [uplink, mn] of Object.entries(patch.mns ?? {})) rows.push([`${uplink}${MN_SUFFIX}`, mn]);
  for (const [uplink, keys] of Object.entries(patch.sm4Keys ?? {}))
    rows.push([`${uplink}${KEY_SUFFIX}`, JSON.stringify(keys)]);
  return rows.map(([k, v]) => [PREFIX + k, v]);
}

/**
 * The stored rows read back: each value checked against its schema; one that fails (a damaged or
 * hand-edited row) is reported by `reject` and left out, so the configured value applies.
 */
export function decodeSettings(
  rows: readonly { key: string; value: string }[],
  reject: (name: string, why: string) => void,
): EdgeSettings {
  const out: EdgeSettings = { passwords: {} };
  const json = (v: string): unknown => {
    try {
      return JSON.parse(v);
    } catch {
      return undefined;
    }
  };
  for (const { key, value } of rows) {
    const name = key.slice(PREFIX.length);
    if (name.endsWith(PW_SUFFIX)) {
      out.passwords[name.slice(0, -PW_SUFFIX.length)] = value;
      continue;
    }
    if (name.endsWith(MN_SUFFIX)) {
      if (/^[0-9A-Za-z]{14,24}$/.test(value)) out.mns = { ...out.mns, [name.slice(0, -MN_SUFFIX.length)]: value };
      else reject(name, 'not an MN (14 to 24 letters and digits)');
      continue;
    }
    if (name.endsWith(KEY_SUFFIX)) {
      const parsed = json(value);
      const why = checkKeyState(parsed);
      if (!why) (out.sm4Keys ??= {})[name.slice(0, -KEY_SUFFIX.length)] = parsed as KeySettings;
      else reject(name, why);
      continue;
    }
    const field = isField(name) ? name : undefined;
    if (!field) {
      reject(name, 'not a setting this version knows');
      continue;
    }
    const parsed = json(value);
    const why = parsed === undefined ? 'empty' : FIELD[field](parsed);
    if (why) {
      reject(name, why);
      continue;
    }
    Object.assign(out, { [field]: parsed });
  }
  return out;
}

/** The settings record in edge.db's state table. */
export class SettingsStore {
  constructor(
    private readonly sql: Statements,
    private readonly guard: DiskGuard,
    private readonly logger: Logger,
  ) {}

  read(): EdgeSettings {
    return decodeSettings(this.sql.settingRows.all() as { key: string; value: string }[], (name, why) => {
      if (name === 'runTime')
        this.logger.warn(
          { reason: 'unreadable run-time state' },
          'facility run time of the open day restarts from zero',
        );
      else this.logger.warn({ reason: 'unreadable setting', setting: name, cause: why }, 'stored setting ignored');
    });
  }

  /** Inside a transaction (the tick's): writes the patch's rows. */
  write(patch: SettingsPatch): void {
    for (const [key, value] of encodeSettings(patch)) this.sql.setState.run(key, value);
  }

  /**
   * On a disk full beyond help the value holds until the agent stops: failing a platform's command, or a tick that
   * already stored its records, would lose more.
   */
  save(patch: SettingsPatch): void {
    for (const [key, value] of encodeSettings(patch)) {
      try {
        this.guard.write(() => this.sql.setState.run(key, value));
      } catch (err) {
        if (!(err instanceof DiskFullError)) throw err;
        this.logger.error(
          { key: key.slice(PREFIX.length), reason: err.message },
          'setting not stored: it holds until the agent stops',
        );
      }
    }
  }
}
