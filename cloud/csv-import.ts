import { describeIssues } from '../protocol/zod-issues.js';
import { ConfigError, RegistrySchema, type RegistryInput, type StationInput } from './registry.js';
import { DEFAULT_PASSWORD, hashSecret } from './secrets.js';

/** Parses RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF); a UTF-8 BOM is dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}

/** Header names accepted for each column, as regulators' exports (Chinese) or by hand (English). */
const CSV_COLUMNS = {
  enterprise: ['企业名称', 'enterprise'],
  outlet: ['排口名称', '排放口名称', 'outlet'],
  type: ['排口类型', '排放口类型', 'type'],
  mn: ['MN', 'MN号', '设备编码', 'mn'],
  password: ['密码', '访问密码', 'password'],
  version: ['协议版本', 'version'],
  factor: ['因子编码', '监测因子编码', '污染物编码', 'factor'],
  unit: ['单位', 'unit'],
  upper: ['排放上限', '标准上限', '标准限值', 'upper'],
  lower: ['排放下限', '标准下限', 'lower'],
  o2Ref: ['基准氧含量', 'o2Ref'],
} as const;

type Column = keyof typeof CSV_COLUMNS;
const REQUIRED: readonly Column[] = ['enterprise', 'outlet', 'type', 'mn', 'password', 'factor'];
const TYPES: Record<string, 'water' | 'gas'> = {
  废水: 'water',
  水: 'water',
  water: 'water',
  废气: 'gas',
  气: 'gas',
  gas: 'gas',
};

export interface CsvImport {
  registry: RegistryInput;
  warnings: string[];
}

/**
 * Builds a registry from a regulator's CSV export: one row per station factor, stations grouped by
 * MN. Plain-text passwords in the export are hashed here so the registry never holds them.
 */
export async function importCsv(
  text: string,
  opts: { allowDefaultPassword?: boolean; source?: string } = {},
): Promise<CsvImport> {
  const source = opts.source ?? 'csv';
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new ConfigError(`${source}: empty file; the first row names the columns (${REQUIRED.join(', ')})`);
  const names = header.map((h) => h.trim());
  const index = {} as Record<Column, number>;
  for (const [col, aliases] of Object.entries(CSV_COLUMNS) as [Column, readonly string[]][]) {
    index[col] = names.findIndex((n) => aliases.includes(n));
    if (index[col] < 0 && REQUIRED.includes(col))
      throw new ConfigError(`${source}: no column ${col} (header one of: ${aliases.join(', ')})`);
  }
  const warnings: string[] = [];
  const stations = new Map<string, StationInput>();
  for (const [r, row] of rows.entries()) {
    const line = r + 2;
    const get = (col: Column): string | undefined => {
      const v = index[col] >= 0 ? row[index[col]]?.trim() : undefined;
      return v === '' ? undefined : v;
    };
    const number = (col: Column): number | undefined => {
      const v = get(col);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ConfigError(`${source} line ${line}: ${col} "${v}" is not a number`);
      return n;
    };
    const mn = get('mn') ?? '';
    let station = stations.get(mn);
    if (!station) {
      const password = get('password') ?? '';
      const allowDefault = password === DEFAULT_PASSWORD;
      if (allowDefault && !opts.allowDefaultPassword) {
        throw new ConfigError(
          `${source} line ${line}: MN ${mn} has the field default password ${DEFAULT_PASSWORD}; ` +
            'have it changed, or import with --allow-default-password',
        );
      }
      if (allowDefault) warnings.push(`MN ${mn} uses the field default password ${DEFAULT_PASSWORD}`);
      const type = TYPES[get('type') ?? ''];
      if (!type)
        throw new ConfigError(
          `${source} line ${line}: type "${get('type') ?? ''}" is not one of ${Object.keys(TYPES).join(', ')}`,
        );
      station = {
        mn,
        enterprise: get('enterprise') ?? '',
        outlet: get('outlet') ?? '',
        type,
        passwordHash: await hashSecret(password),
        allowDefaultPassword: allowDefault,
        factors: {},
      };
      const version = get('version')?.replace(/^HJ\s*212-?/i, '');
      if (version !== undefined) station.version = version as StationInput['version'];
      const o2Ref = number('o2Ref');
      if (o2Ref !== undefined) station.o2Ref = o2Ref;
      stations.set(mn, station);
    }
    const code = get('factor') ?? '';
    const f: Record<string, unknown> = {};
    for (const col of ['unit', 'upper', 'lower'] as const) {
      const v = col === 'unit' ? get(col) : number(col);
      if (v !== undefined) f[col] = v;
    }
    station.factors[code] = f as StationInput['factors'][string];
  }
  const registry: RegistryInput = { stations: [...stations.values()] };
  const check = RegistrySchema.safeParse(registry);
  if (!check.success) throw new ConfigError(describeIssues(check.error, { source, docs: 'docs/cloud.md' }));
  return { registry, warnings };
}
