import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { factor as factorDef } from '../protocol/index.js';
import { parseRegistryText } from './registry-file.js';
import { SecretHashSchema } from './secrets.js';
import { describeIssues } from '../protocol/zod-issues.js';
import { TreatmentRuleSchema } from './rules/treatment.js';
import { compactStations } from './registry-compact.js';

const Hash = SecretHashSchema;

const LimitSchema = z
  .object({ upper: z.number().optional(), lower: z.number().optional() })
  .refine((l) => l.upper === undefined || l.lower === undefined || l.lower < l.upper, {
    message: 'lower must be below upper',
    path: ['lower'],
  });

const FactorSchema = z
  .strictObject({
    unit: z.string().min(1).optional(),
    upper: z.number().optional(),
    lower: z.number().optional(),
    /** The data kind 超标 is judged on (docs/statistics.md): the hour average by default, or the day average. */
    basis: z.enum(['hour', 'day'], 'basis is hour or day').default('hour'),
    /**
     * A limit per data kind where the standard sets one apart (e.g. a 24-hour limit below the 1-hour one):
     * each hour or day kind named here is judged for 超标 on its own limit; rtd and minute ones set the
     * limit their 预警 is measured against.
     */
    limits: z
      .object({
        rtd: LimitSchema.optional(),
        minute: LimitSchema.optional(),
        hour: LimitSchema.optional(),
        day: LimitSchema.optional(),
      })
      .optional(),
    /** 预警 above this fraction of the upper limit (0.8: from 80 %); 1, the default, warns only over the limit. */
    warnAt: z.number().gt(0, 'warnAt is a fraction of the limit above 0, e.g. 0.8').max(1).default(1),
    /** Counted in the rates (传输率, 有效率); by default the factors with a limit are. */
    assessed: z.boolean().optional(),
    /** Same value this many periods in a row raises a constant-value alarm. */
    constantPeriods: z.number().int().min(2).optional(),
    zeroAlarm: z.boolean().default(false),
    negativeAlarm: z.boolean().default(true),
  })
  .refine((f) => f.upper === undefined || f.lower === undefined || f.lower < f.upper, {
    message: 'lower must be below upper',
    path: ['lower'],
  });

const ShutdownSchema = z
  .strictObject({
    from: z.iso.datetime({
      offset: true,
      message: 'from is an ISO 8601 time with its zone, e.g. 2026-11-20T00:00:00+08:00',
    }),
    to: z.iso.datetime({
      offset: true,
      message: 'to is an ISO 8601 time with its zone, e.g. 2026-11-21T00:00:00+08:00',
    }),
    reason: z.string().default('停产'),
  })
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), {
    message: 'a shutdown window ends after it starts',
    path: ['to'],
  });

const OUTLET_ST = { water: '32', gas: '31' } as const;

export const StationSchema = z
  .strictObject({
    mn: z.string().regex(/^[0-9A-Za-z]{14,24}$/, 'MN is 14-24 letters or digits, unique per data logger'),
    /** Administrative region (e.g. 城东区) the dashboard's tree groups enterprises under; optional. */
    region: z.string().min(1, 'name the region, or leave region out').optional(),
    enterprise: z.string().min(1, 'name the enterprise'),
    outlet: z.string().min(1, 'name the outlet'),
    type: z.enum(['water', 'gas'], 'type is water or gas'),
    st: z
      .string()
      .regex(/^\d{2,3}$/, 'st is a system code of table 5, e.g. 32')
      .optional(),
    version: z.enum(['2005', '2017', '2025']).default('2017'),
    passwordHash: Hash,
    /** MQTT password of the device (its username is the MN); no MQTT access without it. */
    mqttSecretHash: Hash.optional(),
    /** HJ 212-2025 SM4 key (32 hex digits) for loggers that encrypt their CP. */
    sm4Key: z
      .string()
      .regex(/^[0-9A-Fa-f]{32}$/, 'sm4Key is 32 hex digits (16 bytes)')
      .optional(),
    /** 123456 is the field default; accepted only when the operator opts in, and warned about. */
    allowDefaultPassword: z.boolean().default(false),
    /** Reference O2 (%) of the emission standard: gas limits apply to values converted to it. */
    o2Ref: z.number().min(0).max(20.9).optional(),
    intervals: z
      .strictObject({
        rtdSeconds: z.number().int().min(30).max(3600).default(30),
        minuteMinutes: z.number().int().min(1).max(60).default(10),
      })
      .prefault({}),
    offlineMinutes: z.number().int().min(1).default(15),
    /**
     * How long a request from the platform waits for the logger's 9011 before it counts as timed out:
     * HJ 212-2017 table 1 gives 5-10 s per link type (10 s for GPRS/4G), and OverTime is 0<n≤99 (table 4).
     */
    timeoutSeconds: z.number().int().min(1).max(99).default(10),
    factors: z.record(
      z.string().regex(/^[a-z]\d{5}$|^[a-z]\d{2}[a-z0-9]{3}$/, 'a factor code of appendix B, e.g. w01018'),
      FactorSchema,
    ),
    shutdowns: z.array(ShutdownSchema).default([]),
    /** 治污设施未运行 on the station's power use data (ST 44): its meters and thresholds. */
    treatmentStopped: TreatmentRuleSchema.optional(),
    /** Start of monitoring (commissioning): no hour before it can be missing. Default: the first data on record. */
    monitoredSince: z.iso
      .datetime({
        offset: true,
        message: 'monitoredSince is an ISO 8601 time with its zone, e.g. 2026-11-20T00:00:00+08:00',
      })
      .optional(),
  })
  .transform((s, ctx) => {
    const factors: Record<string, z.output<typeof FactorSchema> & { unit: string }> = {};
    for (const [code, f] of Object.entries(s.factors)) {
      const unit = f.unit ?? factorDef(code)?.unit;
      if (unit === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['factors', code, 'unit'],
          message: `${code} is not in appendix B: give its unit`,
        });
      factors[code] = { ...f, unit: unit ?? '' };
    }
    return { ...s, st: s.st ?? OUTLET_ST[s.type], factors };
  });

export const RegistrySchema = z.strictObject({ stations: z.array(StationSchema) }).superRefine((r, ctx) => {
  const seen = new Map<string, number>();
  r.stations.forEach((s, i) => {
    const first = seen.get(s.mn);
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['stations', i, 'mn'],
        message: `MN ${s.mn} is already station ${first}: each logger has its own MN`,
      });
    seen.set(s.mn, i);
  });
});

export type Station = z.output<typeof StationSchema>;
export type StationInput = z.input<typeof StationSchema>;
export type RegistryInput = z.input<typeof RegistrySchema>;
export type Shutdown = Station['shutdowns'][number];

/**
 * Stations whose factors are the same (the usual case: one outlet type, one set of analyzers and limits) share one
 * `factors` object after parsing, rather than 10k copies of the same ten definitions: a large registry's heap is
 * mostly these. The same for `intervals`. Nothing changes a parsed station's factors or intervals; what reads them
 * sees equal values either way.
 */
function shareEqual(stations: Station[]): void {
  const factors = new Map<string, Station['factors']>();
  const intervals = new Map<string, Station['intervals']>();
  for (const s of stations) {
    s.factors = shared(factors, s.factors);
    s.intervals = shared(intervals, s.intervals);
  }
}

function shared<T>(seen: Map<string, T>, value: T): T {
  const key = JSON.stringify(value);
  const same = seen.get(key);
  if (same !== undefined) return same;
  seen.set(key, value);
  return value;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The stations a monitoring centre accepts data from, by MN. */
export class Registry {
  private readonly byMn: Map<string, Station>;

  constructor(readonly stations: readonly Station[]) {
    this.byMn = new Map(stations.map((s) => [s.mn, s]));
  }

  static parse(input: unknown, source = 'registry'): Registry {
    const r = RegistrySchema.safeParse(input);
    if (!r.success) throw new ConfigError(describeIssues(r.error, { source, docs: 'docs/cloud.md' }));
    shareEqual(r.data.stations);
    return new Registry(compactStations(r.data.stations));
  }

  static async load(file: string): Promise<Registry> {
    return Registry.parse(await Registry.readDocument(file), file);
  }

  /** A registry file's document as written, unchecked (Registry.parse checks it). */
  static async readDocument(file: string): Promise<unknown> {
    try {
      return parseRegistryText(await readFile(file, 'utf8'), file);
    } catch (e) {
      throw new ConfigError(`${file}: ${(e as Error).message}`);
    }
  }

  get(mn: string | undefined): Station | undefined {
    return mn === undefined ? undefined : this.byMn.get(mn);
  }

  /** The SM4 key of a station, as the codec asks for it (`CodecOptions.sm4Key`). */
  readonly sm4Key = (mn: string | undefined): Uint8Array | undefined => {
    const hex = this.get(mn)?.sm4Key;
    return hex === undefined ? undefined : Buffer.from(hex, 'hex');
  };
}
