import { z } from 'zod';
import { MarkReasonSchema } from '../marks.js';
import { REGISTRATION_REASONS, REGISTRATION_STATES, type RegistrationReason } from '../registrations.js';
import { OM_TYPES, type OmType } from '../om-records.js';
import { InstrumentBodySchema } from '../instruments.js';
import { PERIODS, PLAN_STATES, type PlanPeriod } from '../plans.js';
import { AlarmSchema, CLOSED_BY } from '../alarms/store.js';
import { ALARM_TYPES } from '../rules/judge.js';
import { RoleSchema } from '../accounts.js';
import { FOLLOW_UP_STATES } from './acks.js';
import { KindSchema, MeasureKindSchema } from '../store/types.js';

/*
 * The API's request and response schemas: Fastify validates requests and serializes answers with them
 * (fastify-type-provider-zod), /openapi.json is generated from them (@fastify/swagger), and the types
 * below are what the dashboard and other clients get back.
 */

// ---- Requests -----------------------------------------------------------------------------------

/** Epoch milliseconds, or an ISO 8601 time with its zone. */
export const TimeSchema = z.union(
  [z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.coerce.number().int()],
  { error: 'give epoch milliseconds or an ISO 8601 time with its zone, e.g. 2026-11-20T00:00:00+08:00' },
);
export const MnParams = z.object({ mn: z.string().min(1) });
export const AlarmParams = z.object({ id: z.coerce.number().int().min(1) });

export const DataQuery = z.object({
  factor: z.string().optional(),
  kind: KindSchema.default('hour'),
  from: TimeSchema,
  to: TimeSchema,
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

/** A local day, month, quarter or year: one of them. */
const PeriodFields = z.object({
  day: z.iso.date('day is YYYY-MM-DD (local, UTC+8)').optional(),
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month is YYYY-MM (local, UTC+8)')
    .optional(),
  quarter: z
    .string()
    .regex(/^\d{4}-Q[1-4]$/, 'quarter is YYYY-Qn, n 1 to 4 (local, UTC+8)')
    .optional(),
  year: z
    .string()
    .regex(/^\d{4}$/, 'year is YYYY (local, UTC+8)')
    .optional(),
});
const PERIOD_KINDS = ['day', 'month', 'quarter', 'year'] as const;
type PeriodKind = (typeof PERIOD_KINDS)[number];
type PeriodInput = Partial<Record<PeriodKind, string | undefined>>;
const onePeriod: [(q: PeriodInput) => boolean, { message: string; path: string[] }] = [
  (q) => PERIOD_KINDS.filter((k) => q[k] !== undefined).length === 1,
  { message: 'give one of day=YYYY-MM-DD, month=YYYY-MM, quarter=YYYY-Qn or year=YYYY', path: ['day'] },
];
const periodOf = (q: PeriodInput): { period: string; kind: PeriodKind } => {
  const kind = PERIOD_KINDS.find((k) => q[k] !== undefined)!;
  return { period: q[kind]!, kind };
};
export const PeriodQuery = PeriodFields.refine(...onePeriod).transform((q) => ({ ...q, ...periodOf(q) }));
export const ReportQuery = PeriodFields.extend({ lang: z.enum(['zh', 'en']).default('zh') })
  .refine(...onePeriod)
  .transform((q) => ({ ...q, ...periodOf(q) }));

/** A history table's kinds: the stored data kinds, and `manual`, the manual results entered per plan. */
export const HistoryKindSchema = z.enum([...KindSchema.options, 'manual']);

/** A history table's page: one kind of data over [from, to), a page of its DataTimes, newest first. */
export const HistoryQuery = z.object({
  kind: HistoryKindSchema.default('hour'),
  from: TimeSchema,
  to: TimeSchema,
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(50),
  lang: z.enum(['zh', 'en']).default('zh'),
});
/** An export: the whole range. */
export const HistoryExportQuery = HistoryQuery.omit({ page: true, pageSize: true });

export const ManualBody = z.object({
  kind: KindSchema,
  time: z.iso.datetime({ offset: true }),
  factors: z.record(
    z.string().regex(/^[a-z]\d{5}$|^[a-z]\d{2}[a-z0-9]{3}$/, 'a factor code such as w01018 (HJ 212-2017 table B)'),
    z.record(z.string().regex(/^[A-Za-z]+$/, 'a field name such as Avg'), z.number()),
  ),
});
export const RecordsBody = z.object({ packets: z.array(z.unknown()).min(1).max(1000) });
/** Raw frames, one after another as a logger sends them. */
export const FramesBody = z.string().min(1, 'give one or more HJ 212 frames (##...\\r\\n)');

// ---- Responses ----------------------------------------------------------------------------------

const Period = {
  day: z.string().optional(),
  month: z.string().optional(),
  quarter: z.string().optional(),
  year: z.string().optional(),
};

export const JudgementSchema = z.object({
  value: z.number(),
  state: z.enum(['exceedance', 'warning', 'normal']),
  limit: z.number().optional(),
  multiple: z.number().optional(),
  threshold: z.number().optional(),
});

export const LatestSchema = z.object({
  kind: KindSchema,
  time: z.number(),
  value: z.number().optional(),
  flag: z.string().optional(),
  judged: z.number().optional(),
  state: JudgementSchema.shape.state.optional(),
});

export const StationViewSchema = z.object({
  mn: z.string(),
  region: z.string().optional(),
  enterprise: z.string(),
  outlet: z.string(),
  type: z.string(),
  factors: z.array(z.string()),
  limits: z.record(
    z.string(),
    z.object({
      name: z.string(),
      nameEn: z.string(),
      unit: z.string().optional(),
      upper: z.number().optional(),
      lower: z.number().optional(),
      /**
       * Per data kind, what its values are judged against (the kind's own limit, else the factor's) and
       * its 预警 threshold (warnAt x upper) where that is below the limit: the charts' lines.
       */
      kinds: z.record(
        MeasureKindSchema,
        z.object({ upper: z.number().optional(), lower: z.number().optional(), warning: z.number().optional() }),
      ),
    }),
  ),
  lastSeen: z.string().nullable(),
  via: z.string().nullable(),
  online: z.boolean(),
  offlineMinutes: z.number(),
  openAlarms: z.number().int(),
  latest: z.record(z.string(), LatestSchema),
  /**
   * The logger hardware serial the station last reported (HJ 212-2025 1001), when it did, and since when
   * it has reported that one; null when it never did.
   */
  serial: z.object({ serial: z.string(), reportedAt: z.number(), since: z.number() }).nullable(),
});
export type StationView = z.output<typeof StationViewSchema>;

export const EnterpriseSchema = z.object({
  enterprise: z.string(),
  outlets: z.number().int(),
  online: z.number().int(),
  /** As the regulators' statistics count an enterprise: every outlet online, some, or none. */
  networking: z.enum(['full', 'partial', 'none']),
});
export type Enterprise = z.output<typeof EnterpriseSchema>;
export type Networking = Enterprise['networking'];

/** A stored point as the data API returns it: with how it is judged and whether it came late. */
export const DataPointSchema = z.object({
  mn: z.string(),
  factor: z.string(),
  kind: KindSchema,
  time: z.number(),
  values: z.record(z.string(), z.number()),
  flag: z.string().optional(),
  outlet: z.string().optional(),
  /** Against the factor's limit (converted for gas): the same judgement the alarms are raised on. */
  judged: JudgementSchema.optional(),
  /** An hour that arrived after it was due (补传), and whether its arrival closed a missing-hour alarm. */
  backfilled: z.object({ arrivedAt: z.number(), closedAlarm: z.boolean() }).optional(),
});
export type DataPoint = z.output<typeof DataPointSchema>;

export const StoredSchema = z.object({ stored: z.number().int() });

const RatesShape = {
  expected: z.number(),
  received: z.number(),
  valid: z.number(),
  transmissionRate: z.number(),
  validityRate: z.number(),
  effectivenessRate: z.number(),
};
export const FactorRatesSchema = z.object({
  factor: z.string(),
  ...RatesShape,
  missing: z.array(z.number()),
  stopped: z.number(),
});
/** 排放量 of one pollutant (or flow volume) over a period, from the Cou of its hours (HJ 212-2017 appendix D). */
export const EmissionSchema = z.object({
  factor: z.string(),
  amount: z.number(),
  unit: z.string(),
  hours: z.number().int(),
  days: z.number().int(),
});
export const OutletPeriodSchema = z.object({
  enterprise: z.string(),
  outlet: z.string(),
  mn: z.string(),
  ...RatesShape,
  hoursMissing: z.number(),
  hoursExceeding: z.number(),
  hoursBackfilled: z.number(),
  /** Manual results (手工监测) entered for the period. */
  manualResults: z.number().int(),
  emissions: z.array(EmissionSchema),
});
export const EnterprisePeriodSchema = z.object({
  enterprise: z.string(),
  outlets: z.number().int(),
  ...RatesShape,
  manualResults: z.number().int(),
  emissions: z.array(EmissionSchema),
});

export const StationRatesSchema = z.object({
  mn: z.string(),
  enterprise: z.string(),
  outlet: z.string(),
  ...Period,
  outletRates: OutletPeriodSchema,
  factors: z.array(FactorRatesSchema),
});
export type StationRates = z.output<typeof StationRatesSchema>;

export const PeriodReportSchema = z.object({
  ...Period,
  outlets: z.array(OutletPeriodSchema),
  enterprises: z.array(EnterprisePeriodSchema),
});
export type PeriodReport = z.output<typeof PeriodReportSchema>;

/** A page of a station's history table (see cloud/api/history.ts). */
export const HistoryPageSchema = z.object({
  mn: z.string(),
  kind: HistoryKindSchema,
  from: z.number(),
  to: z.number(),
  page: z.number().int(),
  pageSize: z.number().int(),
  /** DataTimes in the range (rows over all pages). */
  total: z.number().int(),
  /** The range held more records than one read returns (100,000): narrow it. */
  truncated: z.boolean(),
  columns: z.array(
    z.object({
      factor: z.string(),
      name: z.string(),
      unit: z.string(),
      amountUnit: z.string().optional(),
      fields: z.array(z.string()),
    }),
  ),
  rows: z.array(
    z.object({
      time: z.number(),
      cells: z.record(
        z.string(),
        z.object({
          values: z.record(z.string(), z.number()),
          flag: z.string().optional(),
          flagName: z.string().optional(),
          mark: z
            .object({
              id: z.number().int(),
              reason: MarkReasonSchema,
              reasonName: z.string(),
              by: z.string(),
              /** Whose account marked it: centre, authority or enterprise (absent on older marks). */
              byParty: z.enum(['centre', 'authority', 'enterprise']).optional(),
              note: z.string(),
              originalFlag: z.string().optional(),
              originalFlagName: z.string().optional(),
            })
            .optional(),
          /** A manual result (kind manual): its method, the method's source standard, the laboratory. */
          manual: z
            .object({ method: z.string(), methodSource: z.string(), lab: z.string(), note: z.string() })
            .optional(),
        }),
      ),
    }),
  ),
});
export type HistoryPage = z.output<typeof HistoryPageSchema>;

export const ShutdownSchema = z.object({ from: z.string(), to: z.string(), reason: z.string() });
export type Shutdown = z.output<typeof ShutdownSchema>;

/** A review mark (cloud/marks.ts), times in epoch ms and as China time. */
export const MarkSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  factor: z.string().nullable(),
  factorName: z.string().nullable(),
  from: z.number(),
  to: z.number(),
  reason: MarkReasonSchema,
  reasonName: z.string(),
  flag: z.string(),
  flagName: z.string(),
  note: z.string(),
  by: z.string(),
  /** Whose account made it: the centre, an authority or the enterprise (absent on marks older than the field). */
  byParty: z.enum(['centre', 'authority', 'enterprise']).optional(),
  at: z.number(),
  revoked: z.object({ by: z.string(), at: z.number() }).optional(),
});
export const MarkAuditSchema = z.object({
  action: z.enum(['mark', 'revoke']),
  by: z.string(),
  at: z.number(),
  mark: MarkSchema,
});
export const MarkParams = MnParams.extend({ id: z.coerce.number().int().min(1) });
export const MarksQuery = z.object({
  from: TimeSchema.optional(),
  to: TimeSchema.optional(),
  lang: z.enum(['zh', 'en']).default('zh'),
});
export const LangQuery = z.object({ lang: z.enum(['zh', 'en']).default('zh') });

export const AckSchema = z.object({ by: z.string(), at: z.number(), comment: z.string() });
/** An alarm as `GET /alarms` lists it: with its acknowledgement, if any. */
export const AlarmViewSchema = AlarmSchema.extend({ ack: AckSchema.nullable() });
export type AlarmView = z.output<typeof AlarmViewSchema>;
export const AckedAlarmSchema = AlarmSchema.extend({ ack: AckSchema });

/** One change of an alarm's follow-up state (已通知企业 / 已处理), as its trail lists it. */
export const FollowUpSchema = z.object({
  by: z.string(),
  at: z.number(),
  state: z.enum(FOLLOW_UP_STATES),
  comment: z.string(),
});
export type FollowUpView = z.output<typeof FollowUpSchema>;

/**
 * An alarm event as `GET /alarm-events` lists it: a missing hour is one event listing its factors
 * (see alarm-events.ts).
 */
export const AlarmEventSchema = AlarmSchema.omit({ factor: true, closedAt: true, closedBy: true }).extend({
  factors: z.array(
    z.object({
      factor: z.string(),
      alarmId: z.number().int(),
      closedAt: z.number().optional(),
      closedBy: z.enum(CLOSED_BY).optional(),
    }),
  ),
  closedAt: z.number().optional(),
  closedBy: z.enum(CLOSED_BY).optional(),
  ack: AckSchema.nullable(),
  followUps: z.array(FollowUpSchema),
});
export type AlarmEventView = z.output<typeof AlarmEventSchema>;

/** The centre's figures at a glance (首页), each one what a filtered list shows. */
export const OverviewSchema = z.object({
  /** The rules' clock: what "now" and "today" are (a demo runs it warped). */
  now: z.number(),
  stations: z.number().int(),
  online: z.number().int(),
  /** online / stations; 0 without stations. */
  onlineRate: z.number(),
  /** Stations with an open 超标 alarm, and with an open 预警 alarm. */
  exceedingNow: z.array(z.string()),
  warningNow: z.array(z.string()),
  /** Open alarm events by type (a missing hour counts once however many factors it lists). */
  openAlarms: z.record(z.enum(ALARM_TYPES), z.number().int()),
  /** Stations not reporting: offline now (silent past their offline threshold, or never heard from). */
  notReporting: z.array(z.string()),
  /** Today (China day of `now`) so far, every outlet pooled, as `GET /rates?day=` counts it. */
  today: z.object({
    day: z.string(),
    expected: z.number(),
    received: z.number(),
    valid: z.number(),
    transmissionRate: z.number(),
    validityRate: z.number(),
    effectivenessRate: z.number(),
  }),
});
export type OverviewView = z.output<typeof OverviewSchema>;

/** Counters by name (a new counter shows up without a schema change), connections and queues. */
export const IngestStatsSchema = z.looseObject({
  packets: z.number(),
  stored: z.number(),
  points: z.number(),
  rejected: z.record(z.string(), z.number()),
  tcpConnections: z.number().optional(),
  mqttClients: z.number().optional(),
  storePending: z.number().optional(),
  webhookPending: z.number(),
  uptimeSeconds: z.number(),
});
export type IngestStatsView = z.output<typeof IngestStatsSchema>;

/** What became of one frame or record sent to `POST /ingest/frames` or `/ingest/records`. */
export const IngestResultSchema = z.object({
  ok: z.boolean(),
  mn: z.string().optional(),
  cn: z.string().optional(),
  qn: z.string().optional(),
  points: z.number().int().optional(),
  reason: z.string().optional(),
  detail: z.string().optional(),
  /** The answer the logger would have been sent (9014, 9011...), as a frame. */
  answer: z.string().optional(),
});
export const IngestResultsSchema = z.object({ results: z.array(IngestResultSchema) });
export type IngestResult = z.output<typeof IngestResultSchema>;

/**
 * Whose data an account sees: an enterprise user its enterprise, an authority its region, the centre all
 * (scope.ts).
 */
const ScopeFields = {
  enterprise: z.string().optional(),
  region: z.string().optional(),
};

export const WhoamiSchema = z.object({ name: z.string(), role: RoleSchema, ...ScopeFields });
export type Whoami = z.output<typeof WhoamiSchema>;

export const SessionViewSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  ...ScopeFields,
  via: z.enum(['token', 'session']),
  /** Seconds until the session's absolute end (its idle timeout may end it sooner); null for a token. */
  expiresInSeconds: z.number().int().nullable(),
});
export type SessionView = z.output<typeof SessionViewSchema>;

export const UserViewSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  ...ScopeFields,
  createdAt: z.number(),
  passwordChangedAt: z.number(),
});
export type UserView = z.output<typeof UserViewSchema>;

/** An abnormal-operation registration (cloud/registrations.ts), with the reason's name and China times. */
export const RegistrationSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  enterprise: z.string(),
  outlet: z.string(),
  from: z.string(),
  to: z.string(),
  reason: z.enum(Object.keys(REGISTRATION_REASONS) as [RegistrationReason, ...RegistrationReason[]]),
  /** The reason as the platform names it (停产未监测, 检修 …). */
  reasonName: z.string(),
  detail: z.string(),
  state: z.enum(REGISTRATION_STATES),
  by: z.string(),
  at: z.number(),
  review: z.object({ by: z.string(), at: z.number(), comment: z.string() }).optional(),
});
export type RegistrationView = z.output<typeof RegistrationSchema>;

/** An O&M record (cloud/om-records.ts), with its type's name; a standard check with its relative error. */
export const OmRecordSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  factor: z.string().nullable(),
  type: z.enum(Object.keys(OM_TYPES) as [OmType, ...OmType[]]),
  typeName: z.string(),
  from: z.number(),
  to: z.number(),
  company: z.string(),
  standardValue: z.number().nullable(),
  reading: z.number().nullable(),
  relativeError: z.number().nullable(),
  note: z.string(),
  by: z.string(),
  at: z.number(),
});
export type OmRecordView = z.output<typeof OmRecordSchema>;

/** A flagged hour no record explains. */
export const UnexplainedSchema = z.object({
  time: z.number(),
  factor: z.string(),
  flag: z.string(),
  flagName: z.string(),
});

/** One version of an analyzer's registration (cloud/instruments.ts). */
export const InstrumentSchema = InstrumentBodySchema.extend({
  mn: z.string(),
  factor: z.string(),
  by: z.string(),
  at: z.number(),
  version: z.number().int(),
});

const ReportedSchema = z.object({
  sn: z.string().optional(),
  range: z.string().optional(),
  slope: z.number().optional(),
  intercept: z.number().optional(),
});

/** A factor's analyzer: registered (or null), last reported by the logger, and where the two disagree. */
export const InstrumentStatusSchema = z.object({
  factor: z.string(),
  registered: InstrumentSchema.nullable(),
  reported: ReportedSchema,
  mismatches: z.array(
    z.object({
      field: z.enum(['sn', 'range', 'slope', 'intercept', 'register']),
      registered: z.union([z.string(), z.number()]).optional(),
      reported: z.union([z.string(), z.number()]),
    }),
  ),
});

const PlanPeriodSchema = z.enum(Object.keys(PERIODS) as [PlanPeriod, ...PlanPeriod[]]);

/** A monitoring plan (cloud/plans.ts). */
export const PlanSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  items: z.array(
    z.union([
      z.object({ factor: z.string(), mode: z.literal('automatic') }),
      z.object({
        factor: z.string(),
        mode: z.literal('manual'),
        times: z.number().int(),
        per: PlanPeriodSchema,
        method: z.string(),
        methodSource: z.string(),
      }),
    ]),
  ),
  state: z.enum(PLAN_STATES),
  by: z.string(),
  at: z.number(),
  review: z.object({ by: z.string(), at: z.number(), comment: z.string() }).optional(),
  attachment: z.object({ name: z.string(), bytes: z.number().int() }).optional(),
});

export const ManualResultSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  factor: z.string(),
  time: z.number(),
  value: z.number(),
  method: z.string(),
  methodSource: z.string(),
  lab: z.string(),
  note: z.string(),
  planId: z.number().int(),
  by: z.string(),
  at: z.number(),
});

/** A CSV import of manual results: those entered, and the lines refused with why (the header is line 1). */
export const ManualImportSchema = z.object({
  imported: z.array(ManualResultSchema),
  rejected: z.array(z.object({ line: z.number().int(), code: z.string(), message: z.string() })),
});

export const PlanCompletionSchema = z.object({
  mn: z.string(),
  year: z.number().int(),
  planId: z.number().int(),
  items: z.array(
    z.object({
      factor: z.string(),
      times: z.number().int(),
      per: PlanPeriodSchema,
      periodsDue: z.number().int(),
      required: z.number().int(),
      done: z.number().int(),
      rate: z.number().nullable(),
    }),
  ),
  required: z.number().int(),
  done: z.number().int(),
  rate: z.number().nullable(),
});

// ---- Public disclosure (信息公开) ----------------------------------------------------------------

/** A month (YYYY-MM, China) of a disclosure; absent, the month of now. */
export const DisclosureQuery = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month is YYYY-MM (local, UTC+8)')
    .optional(),
  lang: z.enum(['zh', 'en']).default('zh'),
});
export const EnterpriseParams = z.object({ enterprise: z.string().min(1).max(200) });

export const DisclosedEnterpriseSchema = z.object({
  enterprise: z.string(),
  region: z.string().optional(),
  /** Outlets with an approved monitoring plan. */
  outlets: z.number().int(),
});

export const DisclosureSchema = z.object({
  enterprise: z.string(),
  region: z.string().optional(),
  month: z.string(),
  outlets: z.array(
    z.object({
      outlet: z.string(),
      type: z.string(),
      plan: z.object({
        approvedAt: z.number(),
        items: z.array(
          z.object({
            factor: z.string(),
            name: z.string(),
            mode: z.enum(['automatic', 'manual']),
            frequency: z.string(),
            method: z.string().optional(),
            methodSource: z.string().optional(),
          }),
        ),
      }),
      factors: z.record(
        z.string(),
        z.object({ name: z.string(), unit: z.string(), upper: z.number().optional(), lower: z.number().optional() }),
      ),
      days: z.array(
        z.object({
          day: z.string(),
          factor: z.string(),
          value: z.number().nullable(),
          converted: z.boolean(),
          hoursValid: z.number().int(),
          hoursExceeding: z.number().int(),
          compliant: z.boolean().nullable(),
        }),
      ),
      manual: z.array(
        z.object({
          time: z.number(),
          factor: z.string(),
          value: z.number(),
          compliant: z.boolean().nullable(),
          method: z.string(),
          methodSource: z.string(),
          lab: z.string(),
        }),
      ),
    }),
  ),
});
export type DisclosureView = z.output<typeof DisclosureSchema>;
