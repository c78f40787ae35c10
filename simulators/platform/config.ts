import { z } from 'zod';
import { durationMsSchema } from '../shared/duration.js';
import { Sm4KeySchema } from '../hj212-link/keys.js';

/** Durations in this config: a bare number means milliseconds. */
const DurationMs = durationMsSchema('ms');

const StationSchema = z.strictObject({
  mn: z.string().min(1, 'MN is required'),
  pw: z.string().regex(/^[0-9A-Za-z]{1,6}$/, 'PW is 1-6 letters or digits'),
  /** The edition the station is expected to speak; a frame in another edition fails the version check. */
  version: z.enum(['2005', '2017', '2025']).optional(),
  /** System code used when the platform addresses the station (table 5). */
  st: z
    .string()
    .regex(/^\d{2}$/)
    .default('32'),
  sm4Key: Sm4KeySchema.optional(),
  /** The station's minute-data interval in minutes (MinInterval, CN 1063/1064): 2051 DataTimes fall on it. */
  minInterval: z.number().int().min(1).max(60).optional(),
});

const ScriptStepSchema = z.strictObject({
  /** Delay after the station's first valid frame on a connection. */
  after: DurationMs,
  mn: z.string().min(1),
  cn: z.string().regex(/^\d{4}$/, 'cn is 4 digits of table 9'),
  /** CP fields as sent, e.g. { RtdInterval: '60' } or { BeginTime: '20260101000000', EndTime: ... }. */
  params: z.record(z.string(), z.string()).default({}),
  /** For history requests: BeginTime = now - last, EndTime = now (when params give no BeginTime). */
  last: DurationMs.optional(),
  /**
   * The refusal this step expects (table 7), e.g. 2 for a command the box does not support: the
   * exchange passes when the 9011 carries it, and fails on QnRtn 1 as on any other refusal.
   */
  expectQnRtn: z.number().int().min(2).max(100).optional(),
});

export const PlatformConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9212),
  maxConnections: z.number().int().min(1).default(1000),
  /** Largest whole frame accepted: `##` + 4 + 1024-byte data segment + CRC + CR LF by default. */
  maxFrameBytes: z.number().int().min(64).max(10_011).default(1036),
  stations: z.array(StationSchema).default([]),
  /** How long the platform waits for the 9011 ... 9012 sequence after one of its own requests. */
  requestTimeout: DurationMs.default(10_000),
  script: z.array(ScriptStepSchema).default([]),
  /**
   * false: every step's `after` counts from the station's first valid frame (steps may overlap).
   * true: one step at a time, each `after` counting from the end of the previous step's exchange (its
   * 9012, 9013, refusal or timeout), as an acceptance walk-through goes; a step's answers then never
   * interleave with the next request's.
   */
  sequential: z.boolean().default(false),
  /** CLI only: stop after this long and print the report. */
  duration: DurationMs.optional(),
});

export type PlatformConfigInput = z.input<typeof PlatformConfigSchema>;
export type PlatformConfig = z.output<typeof PlatformConfigSchema>;
export type StationConfig = PlatformConfig['stations'][number];
export type ScriptStep = PlatformConfig['script'][number];

/** Bytes of a frame around its data segment: `##`, length, CRC, CR LF. */
export const FRAME_OVERHEAD = 12;
