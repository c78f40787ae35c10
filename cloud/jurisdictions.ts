import type { Station } from './registry.js';

/**
 * Per-jurisdiction statistics for the authority (辖区统计), as the provincial platforms count them:
 * enterprises, outlets, registered (备案: an approved monitoring plan), uploaded, reviewed, and how far each
 * enterprise is networked (全部联网 / 部分联网 / 未联网). The definitions are ours (docs/cloud.md
 * "Statistics per jurisdiction"): the platforms name the columns and do not define them.
 */

/** What is known of one outlet over the period. */
export interface OutletFacts {
  station: Pick<Station, 'mn' | 'enterprise' | 'region'>;
  /** It has a monitoring plan approved before the period's end (备案). */
  registered: boolean;
  /** At least one hour record (2061) with a DataTime in the period reached the centre. */
  uploaded: boolean;
  /** Its registrations and plans reviewed (approved or rejected) within the period. */
  registrationsReviewed: number;
  plansReviewed: number;
  /** Its supervision items sent within the period, by state now. */
  supervision: { open: number; overdue: number; closed: number };
}

export interface JurisdictionRow {
  /** The registry's region; null for outlets that name none. */
  region: string | null;
  enterprises: number;
  stations: number;
  registered: number;
  uploaded: number;
  registrationsReviewed: number;
  plansReviewed: number;
  /**
   * Enterprises by networking, judged on their registered outlets in the region: full (every one uploaded),
   * partial (some did), none (none did); unregistered: no registered outlet to judge.
   */
  networking: { full: number; partial: number; none: number; unregistered: number };
  supervision: { open: number; overdue: number; closed: number };
}

type Counts = Omit<JurisdictionRow, 'region'>;
/** A count of a row by name: `stations`, or `networking.full` for one inside a group. */
export type CountPath = {
  [K in keyof Counts]: Counts[K] extends number ? K : `${K}.${keyof Counts[K] & string}`;
}[keyof Counts];

/**
 * The one home of the columns after the region, in the order the export (CSV, XLSX) and the dashboard's
 * table show them: each count with its heading in the export, [Chinese, English]. The dashboard reads the
 * order from `/ui/labels.js` (LABEL_TABLES) and names the columns with its own labels.
 */
export const JURISDICTION_COLUMNS: readonly (readonly [CountPath, string, string])[] = [
  ['enterprises', '企业数', 'enterprises'],
  ['stations', '排口数', 'outlets'],
  ['registered', '已备案排口', 'registered outlets'],
  ['uploaded', '已上传排口', 'uploaded outlets'],
  ['registrationsReviewed', '已审核登记', 'registrations reviewed'],
  ['plansReviewed', '已审核方案', 'plans reviewed'],
  ['networking.full', '全部联网企业', 'fully networked'],
  ['networking.partial', '部分联网企业', 'partly networked'],
  ['networking.none', '未联网企业', 'not networked'],
  ['networking.unregistered', '未备案企业', 'unregistered'],
  ['supervision.open', '督办未办结', 'supervision open'],
  ['supervision.overdue', '督办逾期', 'supervision overdue'],
  ['supervision.closed', '督办已办结', 'supervision closed'],
];

/** The count a column shows of a row (or of the total). */
export function countOf(row: Counts, path: CountPath): number {
  const [group, key] = path.split('.') as [keyof Counts, string | undefined];
  const v = row[group];
  return typeof v === 'number' ? v : (v as Record<string, number>)[key!]!;
}

const empty = (region: string | null): JurisdictionRow => ({
  region,
  enterprises: 0,
  stations: 0,
  registered: 0,
  uploaded: 0,
  registrationsReviewed: 0,
  plansReviewed: 0,
  networking: { full: 0, partial: 0, none: 0, unregistered: 0 },
  supervision: { open: 0, overdue: 0, closed: 0 },
});

/** One row per region, in the order the registry first names them, outlets of no region last. */
export function jurisdictionRows(outlets: readonly OutletFacts[]): JurisdictionRow[] {
  const regions = new Map<string | null, OutletFacts[]>();
  for (const o of outlets) {
    const key = o.station.region ?? null;
    regions.set(key, [...(regions.get(key) ?? []), o]);
  }
  const keys = [...regions.keys()].sort((a, b) => Number(a === null) - Number(b === null));
  return keys.map((region) => {
    const row = empty(region);
    const list = regions.get(region)!;
    const enterprises = new Map<string, OutletFacts[]>();
    for (const o of list) {
      enterprises.set(o.station.enterprise, [...(enterprises.get(o.station.enterprise) ?? []), o]);
      row.stations++;
      if (o.registered) row.registered++;
      if (o.uploaded) row.uploaded++;
      row.registrationsReviewed += o.registrationsReviewed;
      row.plansReviewed += o.plansReviewed;
      row.supervision.open += o.supervision.open;
      row.supervision.overdue += o.supervision.overdue;
      row.supervision.closed += o.supervision.closed;
    }
    row.enterprises = enterprises.size;
    for (const own of enterprises.values()) {
      const registered = own.filter((o) => o.registered);
      const uploaded = registered.filter((o) => o.uploaded).length;
      if (registered.length === 0) row.networking.unregistered++;
      else if (uploaded === registered.length) row.networking.full++;
      else if (uploaded > 0) row.networking.partial++;
      else row.networking.none++;
    }
    return row;
  });
}

/** The regions added up (an enterprise with outlets in two regions counts in each). */
export function totalRow(rows: readonly JurisdictionRow[]): Omit<JurisdictionRow, 'region'> {
  const t = empty(null);
  for (const r of rows) {
    for (const k of [
      'enterprises',
      'stations',
      'registered',
      'uploaded',
      'registrationsReviewed',
      'plansReviewed',
    ] as const)
      t[k] += r[k];
    for (const k of ['full', 'partial', 'none', 'unregistered'] as const) t.networking[k] += r.networking[k];
    for (const k of ['open', 'overdue', 'closed'] as const) t.supervision[k] += r.supervision[k];
  }
  const { region: _region, ...rest } = t;
  return rest;
}
