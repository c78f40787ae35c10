import { z } from 'zod';

/** The measurement kinds of HJ 212-2017 (2011, 2051, 2061, 2031): judged against limits, shown as latest values. */
const MEASURE_KINDS = ['rtd', 'minute', 'hour', 'day'] as const;
/**
 * The data uploads HJ 212-2025 adds (docs/protocol-2025.md), each a kind of its own: `raw` VOC raw data
 * (2013), `noise` noise single measurement (2052), `check` automatic standard-check data (2062, 标样核查),
 * `furnace` furnace temperature 5-minute average (2111). Stored and read back as sent; not judged against
 * the factor's limits (a standard-check value is no emission) nor taken as a factor's latest value.
 */
const RECORD_KINDS = ['raw', 'noise', 'check', 'furnace'] as const;
const KINDS = [...MEASURE_KINDS, ...RECORD_KINDS] as const;
export const KindSchema = z.enum(KINDS);
export type Kind = z.infer<typeof KindSchema>;
export const MeasureKindSchema = z.enum(MEASURE_KINDS);
export type MeasureKind = z.infer<typeof MeasureKindSchema>;
const measureKinds: ReadonlySet<string> = new Set(MEASURE_KINDS);
export const isMeasureKind = (kind: Kind): kind is MeasureKind => measureKinds.has(kind);

/** One factor's values at one time: the unit of storage, keyed by (mn, factor, kind, time). */
export interface Point {
  mn: string;
  factor: string;
  kind: Kind;
  /** DataTime, epoch milliseconds. */
  time: number;
  /** Numeric fields as sent (Rtd, Avg, Min, Max, Cou, ZsAvg...). */
  values: Record<string, number>;
  /** Data flag of table 8 (N, F, M, S, D, C, T, B). */
  flag?: string;
  /** Outlet name from the registry, a tag for stores that index by it. */
  outlet?: string;
}

/** A point as JSON (what one ingest process tells another, cloud/cluster.ts), checked on receipt. */
export const PointSchema = z.strictObject({
  mn: z.string().min(1),
  factor: z.string().min(1),
  kind: KindSchema,
  time: z.number().int(),
  values: z.record(z.string(), z.number()),
  flag: z.string().optional(),
  outlet: z.string().optional(),
}) satisfies z.ZodType<Point>;

/**
 * The field holding a point's headline value: Rtd for real-time data (CN 2011), Avg for the minute,
 * hour and day statistics (CN 2051, 2061, 2031) (HJ 212-2017 table 4); `Zs` before it for the converted value.
 * Of the HJ 212-2025 kinds (docs/protocol-2025.md), a noise measurement's is its Data (table 4,
 * 噪声监测时间段内数据), the furnace temperature's 5-minute average an Avg, the others' a single value (Rtd).
 */
export const headlineField = (kind: Kind): 'Rtd' | 'Avg' | 'Data' =>
  kind === 'noise' ? 'Data' : kind === 'rtd' || kind === 'raw' || kind === 'check' ? 'Rtd' : 'Avg';

/** A point's headline value as sent: its Rtd or its Avg; undefined when the upload left it out. */
export const headlineValue = (p: Pick<Point, 'kind' | 'values'>): number | undefined => p.values[headlineField(p.kind)];

export const PointQuerySchema = z.object({
  mn: z.string().min(1),
  factor: z.string().min(1).optional(),
  kind: KindSchema,
  /** Inclusive, epoch ms. */
  from: z.number().int(),
  /** Exclusive, epoch ms. */
  to: z.number().int(),
  limit: z.number().int().min(1).max(100_000).default(10_000),
});
export type PointQuery = z.input<typeof PointQuerySchema>;

/**
 * Where measurements go. `write` resolves once the points are durable (the ingest answers 9014 only
 * then); writing the same key again overwrites, so a logger's retries and 2061 backfills are harmless.
 */
export interface MeasurementStore {
  write(points: readonly Point[]): Promise<void>;
  /** Points of one station in [from, to), ordered by time then factor. */
  query(q: PointQuery): Promise<Point[]>;
  close(): Promise<void>;
  /** Points accepted but not yet in the database proper (InfluxDB's spill log). */
  readonly pending?: number;
}
