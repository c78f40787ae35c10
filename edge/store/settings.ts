import type { Logger } from 'pino';
import { z } from 'zod';
import { RETRIES_MAX, TIMEOUT_SECONDS_MAX } from '../config.js';
import type { Statements } from './db.js';
import { DiskFullError, type DiskGuard } from './disk-guard.js';

/** The facilities' open day (edge/facilities.ts RunTimeState), as the store checks it back in. */
const RunTimeStateSchema = z
  .object({
    day: z.number(),
    runMs: z.record(z.string(), z.number()),
    last: z.record(z.string(), z.object({ at: z.number(), rs: z.number() }).strict()),
  })
  .strict();

const hex32 = z.string().regex(/^[0-9A-Fa-f]{32}$/);
/** protocol/sm4-keys.ts KeyState as stored (no pending key: the box switches as soon as it answers). */
const KeyStateSchema = z
  .object({ key: hex32, since: z.number(), previous: hex32.optional(), previousUntil: z.number().optional() })
  .strict();

/** What the agent keeps across restarts besides data: what platform commands changed, and the facilities' open day. */
export const EdgeSettingsSchema = z
  .object({
    /** Set by a platform's 1062. */
    rtdIntervalSeconds: z.number().int().positive().optional(),
    /** Set by a platform's 1064. */
    minIntervalMinutes: z.number().int().positive().optional(),
    runTime: RunTimeStateSchema.optional(),
    /** Set by a platform's 1000 (OverTime, HJ 212-2017 C.1): every uplink's answer timeout. */
    overTimeSeconds: z.number().int().min(1).max(TIMEOUT_SECONDS_MAX).optional(),
    /** Set by a platform's 1000 (ReCount): every uplink's resends. */
    reCount: z.number().int().min(0).max(RETRIES_MAX).optional(),
    /** An uplink's access password as a platform set it (1072), by uplink id. */
    passwords: z.record(z.string(), z.string()),
    /** An uplink's MN as a platform set it (1002, HJ 212-2025), by uplink id. */
    mns: z.record(z.string(), z.string().regex(/^[0-9A-Za-z]{14,24}$/)).optional(),
    /** An uplink's SM4 keys after a 1014 key change (HJ 212-2025), by uplink id; overrides the configured sm4Key. */
    sm4Keys: z.record(z.string(), KeyStateSchema).optional(),
  })
  .strict();

export type EdgeSettings = z.infer<typeof EdgeSettingsSchema>;
/** Settings to change; a password given replaces that uplink's only. */
export type SettingsPatch = Partial<EdgeSettings>;

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

const FIELD = EdgeSettingsSchema.shape;
/** A setting of one row; passwords have a row per uplink. */
/** Per-uplink settings (a row per uplink, named by suffix) are not fields of one row. */
const PER_UPLINK = new Set(['passwords', 'mns', 'sm4Keys']);
type Field = Exclude<keyof typeof FIELD, 'passwords' | 'mns' | 'sm4Keys'>;
const isField = (name: string): name is Field => !PER_UPLINK.has(name) && Object.hasOwn(FIELD, name);

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
      const parsed = KeyStateSchema.safeParse(json(value));
      if (parsed.success) (out.sm4Keys ??= {})[name.slice(0, -KEY_SUFFIX.length)] = parsed.data;
      else reject(name, parsed.error.issues[0]?.message ?? 'invalid');
      continue;
    }
    const field = isField(name) ? name : undefined;
    if (!field) {
      reject(name, 'not a setting this version knows');
      continue;
    }
    const parsed = FIELD[field].safeParse(json(value));
    if (!parsed.success || parsed.data === undefined) {
      reject(name, parsed.success ? 'empty' : (parsed.error.issues[0]?.message ?? 'invalid'));
      continue;
    }
    Object.assign(out, { [field]: parsed.data });
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
