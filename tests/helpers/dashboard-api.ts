import { strFromU8, unzipSync } from 'fflate';
import { sha256, type CloudOptions, type StationInput } from '../../cloud/index.js';
import { encodeFrame, type FactorFields } from '../../protocol/index.js';
import { startTestCloud, testStations, WATER_MN, WATER_PW, type TestCloud } from './cloud-fixtures.js';

export const READ = 'read-token-0123456789abcdef';
export const ADMIN = 'admin-token-0123456789abcdef';
export const H = 3_600_000;
export const T0 = Date.parse('2026-11-20T00:00:00+08:00');

// Response bodies are whatever the API sent; the assertions check them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

let qn = 0;
/** A 2061 hour record of the water station for an hour of 2026-11-20, as its logger frames it. */
export const hourFrame = (hour: number, factors: Record<string, FactorFields>, pw = WATER_PW): string =>
  encodeFrame({
    version: '2017',
    qn: `20261120000000${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn: '2061',
    pw,
    mn: WATER_MN,
    flag: 5,
    cp: { params: { DataTime: `20261120${String(hour).padStart(2, '0')}0000` }, factors },
  });

let dataQn = 0;
/** A record of the water station as its logger frames it: CN 2061 (hour) or 2031 (day) at a China DataTime. */
export const waterFrame = (cn: '2061' | '2031', dataTime: string, factors: Record<string, FactorFields>): string =>
  encodeFrame({
    version: '2017',
    qn: `20261201000000${String(++dataQn % 1000).padStart(3, '0')}`,
    st: '32',
    cn,
    pw: WATER_PW,
    mn: WATER_MN,
    flag: 5,
    cp: { params: { DataTime: dataTime }, factors },
  });

export type Call = (
  method: string,
  path: string,
  opts?: { token?: string; json?: unknown; text?: string },
) => Promise<{ status: number; body: Json; type: string | null }>;

/** A test cloud with a read and an admin token, and a client for its HTTP API (JSON bodies parsed, others as text). */
export async function apiCloud(
  http: object = {},
  options: CloudOptions = {},
  stations?: StationInput[],
): Promise<{ c: TestCloud; base: string; call: Call }> {
  const c = await startTestCloud(
    {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        ],
        ...http,
      },
      rules: { lookbackHours: 24 },
    },
    stations,
    options,
  );
  const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
  const call: Call = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    if (opts.text !== undefined) {
      headers['content-type'] = 'text/plain';
      body = opts.text;
    }
    const res = await fetch(base + path, { method, headers, body });
    // Decoded by hand: res.text() would drop a CSV's byte-order mark.
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    const type = res.headers.get('content-type');
    return {
      status: res.status,
      type,
      body: type?.startsWith('application/json') ? JSON.parse(text) : text === '' ? undefined : text,
    };
  };
  return { c, base, call };
}

/**
 * An enterprise system's token (示例化工有限公司, admin) and an authority's (城西区, operator) for
 * scopedCloud.
 */
export const CHEM = 'chem-token-0123456789abcdef';
export const WEST = 'west-token-0123456789abcdef';
export const CHEM_NAME = '示例化工有限公司';

/**
 * apiCloud with regions (water 示例化工 in 城东区, gas 示例电厂 in 城西区) and, beside the centre's read
 * and admin tokens, an enterprise token (chem-system) and an authority token (west-bureau).
 */
export async function scopedCloud(options: CloudOptions = {}, http: object = {}): ReturnType<typeof apiCloud> {
  const [water, gas] = await testStations();
  return apiCloud(
    {
      ...http,
      tokens: [
        { name: 'viewer', sha256: sha256(READ), role: 'read' },
        { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        { name: 'chem-system', sha256: sha256(CHEM), role: 'admin', enterprise: CHEM_NAME },
        { name: 'west-bureau', sha256: sha256(WEST), role: 'operator', region: '城西区' },
      ],
    },
    options,
    [
      { ...water!, region: '城东区' },
      { ...gas!, region: '城西区' },
    ],
  );
}

/** The cells of one sheet (1-based) of an XLSX workbook by reference (A1, B2 ...), shared strings resolved. */
export function xlsxCells(bytes: Uint8Array, sheet = 1): Record<string, string> {
  const files = unzipSync(bytes);
  const text = (name: string): string => strFromU8(files[name]!);
  const unescape = (s: string): string =>
    s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  const shared = [...text('xl/sharedStrings.xml').matchAll(/<si><t[^>]*>(.*?)<\/t><\/si>/gs)].map((m) =>
    unescape(m[1]!),
  );
  const cells: Record<string, string> = {};
  for (const m of text(`xl/worksheets/sheet${sheet}.xml`).matchAll(/<c r="([A-Z]+\d+)"([^>]*)><v>(.*?)<\/v><\/c>/g))
    cells[m[1]!] = /t="s"/.test(m[2]!) ? shared[Number(m[3])]! : m[3]!;
  return cells;
}
