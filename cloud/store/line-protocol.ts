import type { Point } from './types.js';

const tag = (s: string): string => s.replace(/[,= \\]/g, (c) => `\\${c}`);
const str = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** One InfluxDB line: measurement per kind, tags mn/outlet/factor, values and flag as fields, ms time. */
export function toLine(p: Point): string {
  const tags = [`mn=${tag(p.mn)}`, `factor=${tag(p.factor)}`];
  if (p.outlet !== undefined && p.outlet !== '') tags.push(`outlet=${tag(p.outlet)}`);
  const fields = Object.entries(p.values).map(([k, v]) => `${tag(k)}=${v}`);
  if (p.flag !== undefined) fields.push(`flag=${str(p.flag)}`);
  // A point with neither values nor a flag still records that the factor reported.
  if (fields.length === 0) fields.push('flag=""');
  return `${p.kind},${tags.sort().join(',')} ${fields.join(',')} ${p.time}`;
}

/** An InfluxQL string literal. */
export const quote = (s: string): string => `'${s.replace(/['\\]/g, (c) => `\\${c}`)}'`;
