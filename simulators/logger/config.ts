import { z } from 'zod';
import { durationMsSchema } from '../shared/duration.js';
import { DEFAULT_PASSWORD } from '../../protocol/wire.js';
import { Sm4KeySchema } from '../hj212-link/keys.js';
import type { Identity } from './requests.js';
import { OUTLET_ST, type Outlet } from './values.js';

/** Durations in this config: a bare number means milliseconds. */
const DurationMs = durationMsSchema('ms');

const VersionSchema = z.enum(['2005', '2017', '2025']);
const OutletSchema = z.enum(['water', 'gas']);
/** HJ 212-2017 6.3.2: 24 hex digits; HJ/T 212-2005 6.3.2: 14 letters or digits (a 2005 logger may carry either). */
const MnSchema = z
  .string()
  .regex(
    /^(?:[0-9A-F]{24}|[0-9A-Z]{14})$/,
    'MN is 24 upper-case hex digits (or 14 letters or digits for HJ/T 212-2005)',
  );
const PwSchema = z.string().regex(/^[0-9A-Za-z]{1,6}$/, 'PW is 1-6 letters or digits');

/** A logger hardware serial (1001's SN): letters, digits, `.`, `_`, `-`, none of HJ 212's separators. */
const SerialSchema = z.string().regex(/^[0-9A-Za-z._-]{1,64}$/, 'a serial is 1-64 letters, digits, ".", "_" or "-"');

const StationSchema = z.strictObject({
  mn: MnSchema,
  pw: PwSchema,
  version: VersionSchema.default('2017'),
  outlet: OutletSchema.default('water'),
  st: z
    .string()
    .regex(/^\d{2}$/)
    .optional(),
  sm4Key: Sm4KeySchema.optional(),
  /** HJ 212-2025: the hardware serial its 1001 uploads; `SIM-<MN>` by default. */
  serial: SerialSchema.optional(),
});

const Instant = z.iso.datetime({
  offset: true,
  message: 'an ISO 8601 time with its zone, e.g. 2026-11-20T10:00:00+08:00',
});
const WindowSchema = z
  .strictObject({ from: Instant, to: Instant })
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'a window ends after it starts', path: ['to'] });
const ScriptEventSchema = z
  .strictObject({
    from: Instant,
    to: Instant,
    /** Factor codes (HJ 212-2017); every factor of the outlet when left out. */
    factors: z.array(z.string().min(1)).optional(),
    /** The value the analyzer reads throughout. */
    value: z.number().optional(),
    /** The flag of table 8 the data carries throughout. */
    flag: z.enum(['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B'], 'flag is one of table 8: N F M S D C T B').optional(),
  })
  .refine((e) => Date.parse(e.from) < Date.parse(e.to), { message: 'an event ends after it starts', path: ['to'] })
  .refine((e) => e.value !== undefined || e.flag !== undefined, { message: 'give a value, a flag or both' });

export const LoggerConfigSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    /** Explicit stations; without them `count` stations are made from mnPrefix, pw, version, outlet. */
    stations: z.array(StationSchema).optional(),
    count: z.number().int().min(1).max(10_000).default(1),
    mnPrefix: z
      .string()
      .regex(/^[0-9A-F]{0,23}$/, 'mnPrefix is up to 23 upper-case hex digits')
      .default('0100000000A89000'),
    pw: PwSchema.optional(),
    version: VersionSchema.default('2017'),
    outlet: OutletSchema.default('water'),
    sm4Key: Sm4KeySchema.optional(),
    /** Simulated seconds per real second. */
    warp: z.number().positive().default(1),
    /** Simulated start time (ISO 8601); the real time by default. */
    start: z.iso.datetime({ offset: true }).optional(),
    intervals: z
      .strictObject({
        rtd: z.number().int().min(1).max(3600).default(30),
        minute: z.number().int().min(1).max(60).default(10),
        hour: z.boolean().default(true),
        day: z.boolean().default(true),
      })
      .prefault({}),
    /** Packets per second over all connections; real-time uploads then pace by real time, not warp. */
    rate: z.number().positive().optional(),
    duration: DurationMs.optional(),
    /** Table 1: 5-10 s and 3 retries. */
    ackTimeout: DurationMs.default(5000),
    retries: z.number().int().min(0).max(10).default(3),
    reconnect: DurationMs.default(2000),
    /** How often the schedule is checked, in real time. */
    tick: DurationMs.default(100),
    seed: z.number().int().default(1),
    /** Scripted values and flags over time windows (simulated time), for every logger of the run. */
    script: z.array(ScriptEventSchema).default([]),
    /**
     * Windows (simulated time) when uploads are not sent, as over a broken link; history requests still return them.
     */
    outages: z.array(WindowSchema).default([]),
    allowDefaultPassword: z.boolean().default(false),
    /**
     * Over MQTT to this broker (hj212/<MN>/up and /down, QoS 1) instead of TCP to host:port; `secret` is each device's
     * MQTT password.
     */
    mqtt: z
      .strictObject({
        url: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'),
        secret: z.string().min(1).optional(),
        /** A PEM file of the CA that signed an mqtts:// broker's certificate (a private CA). */
        ca: z.string().min(1).optional(),
      })
      .optional(),
    /** Send a 1013 (现场机时间校准请求, HJ 212-2017 C.4) on each connect, as a field logger does at boot. */
    timeCalibration: z.boolean().default(true),
    /**
     * HJ 212-2025 loggers: a 9015 heartbeat after this many real seconds with nothing sent (the 2025
     * text is not public here; docs/protocol-2025.md). Stations of other editions send none.
     */
    heartbeat: z.number().int().min(1).max(3600).optional(),
    /**
     * HJ 212-2025 loggers: upload the hardware serial (1001, no A bit) at each connect, before anything else,
     * as the edge does (docs/protocol-2025.md §1001). Stations of other editions never send 1001.
     */
    uploadSerial: z.boolean().default(true),
    /**
     * HJ 212-2025 uploads on their own schedules (simulated time; docs/protocol-2025.md), each off unless
     * given, on 2025 stations only (to 2005/2017 platforms these are reserved codes).
     */
    data2025: z
      .strictObject({
        /** 2013 raw data (the analyzers' readings, Rtd per factor) every this many seconds. */
        raw: z.number().int().min(1).max(3600).optional(),
        /** 2052 noise single measurement (LA: Data, DayData, NightData) over runs of this many minutes. */
        noise: z.number().int().min(1).max(60).optional(),
        /** 2111 furnace temperature 5-minute average (a01901 Min/Avg/Max), every 5 minutes. */
        furnace: z.boolean().default(false),
        /** 2062 automatic standard check of one factor, read as the analyzer simulator reads one. */
        standardCheck: z
          .strictObject({
            /** Minutes between checks (a check ends on each multiple, local time); daily by default. */
            every: z.number().int().min(1).max(10_080).default(1440),
            /** Factor code; the outlet's first factor (w01018 COD, a21026 SO2) by default. */
            factor: z
              .string()
              .regex(/^[A-Za-z0-9]{2,10}$/)
              .optional(),
            standard: z.number().positive().default(50),
            /** The reading is standard × (1 + biasPercent / 100). */
            biasPercent: z.number().min(-100).max(100).default(2),
            /** Pass=1 when |biasPercent| ≤ tolerancePercent. */
            tolerancePercent: z.number().min(0).max(100).default(10),
          })
          .optional(),
      })
      .prefault({}),
    /**
     * On start, upload the hour records (2061) of this many whole hours before the clock's hour, as a
     * logger does that comes online with its memory full: a platform (or the demo) gets a day of
     * history at once instead of waiting for the clock. The platform sees them arrive late (补传).
     */
    backlogHours: z.number().int().min(0).max(744).default(0),
  })
  .superRefine((c, ctx) => {
    if (!c.stations && c.count >= 16 ** (24 - c.mnPrefix.length)) {
      ctx.addIssue({
        code: 'custom',
        path: ['mnPrefix'],
        message: `${c.count} loggers do not fit in the ${24 - c.mnPrefix.length} hex digits the prefix leaves`,
      });
    }
    if (!c.stations && c.pw === undefined)
      ctx.addIssue({ code: 'custom', path: ['pw'], message: 'give a password (pw) or a list of stations' });
    const pws = c.stations
      ? c.stations.map((s, i) => ({ pw: s.pw, path: ['stations', i, 'pw'] }))
      : [{ pw: c.pw, path: ['pw'] }];
    for (const { pw, path } of pws) {
      if (pw === DEFAULT_PASSWORD && !c.allowDefaultPassword) {
        ctx.addIssue({
          code: 'custom',
          path,
          message:
            `${DEFAULT_PASSWORD} is the field default password; pass allowDefaultPassword ` +
            '(--allow-default-password) to use it',
        });
      }
    }
    const needsKey = c.stations
      ? c.stations.map((s, i) => ({ s, path: ['stations', i, 'sm4Key'] }))
      : [{ s: c, path: ['sm4Key'] }];
    for (const { s, path } of needsKey) {
      if (s.version === '2025' && s.sm4Key === undefined)
        ctx.addIssue({ code: 'custom', path, message: 'HJ 212-2025 needs an SM4 key (32 hex digits)' });
    }
  });

export type LoggerConfigInput = z.input<typeof LoggerConfigSchema>;
export type LoggerConfig = z.output<typeof LoggerConfigSchema>;

export interface StationSpec {
  identity: Identity;
  outlet: Outlet;
  sm4Key?: string;
  /** The hardware serial a 2025 logger uploads as 1001. */
  serial?: string;
}

/** The stations a config describes: its explicit list, or `count` numbered MNs under the prefix. */
export function stationsOf(c: LoggerConfig): StationSpec[] {
  const spec = (
    mn: string,
    pw: string,
    version: LoggerConfig['version'],
    outlet: Outlet,
    st: string | undefined,
    sm4Key: string | undefined,
    serial?: string,
  ): StationSpec => {
    const out: StationSpec = { identity: { mn, pw, version, st: st ?? OUTLET_ST[outlet] }, outlet };
    if (sm4Key !== undefined) out.sm4Key = sm4Key;
    if (version === '2025' && c.uploadSerial) out.serial = serial ?? `SIM-${mn}`;
    return out;
  };
  if (c.stations) return c.stations.map((s) => spec(s.mn, s.pw, s.version, s.outlet, s.st, s.sm4Key, s.serial));
  const width = 24 - c.mnPrefix.length;
  return Array.from({ length: c.count }, (_, i) =>
    spec(
      c.mnPrefix + (i + 1).toString(16).toUpperCase().padStart(width, '0'),
      c.pw!,
      c.version,
      c.outlet,
      undefined,
      c.sm4Key,
    ),
  );
}
