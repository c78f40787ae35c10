import type { Kind, Point } from './types.js';

const ESCAPE = /[,= \\]/;
const tag = (s: string): string => (ESCAPE.test(s) ? s.replace(/[,= \\]/g, (c) => `\\${c}`) : s);
const QUOTED = /["\\]/;
// A flag is a letter of table 8: the test spares a replace (and its callback) on every point.
const str = (s: string): string => (QUOTED.test(s) ? `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"` : `"${s}"`);

/**
 * One InfluxDB line: measurement per kind, tags mn/outlet/factor, values and flag as fields, ms time.
 * Tags are written in key order (factor, mn, outlet), which InfluxDB asks for.
 */
export function toLine(p: Point): string {
  let line = `${p.kind},factor=${tag(p.factor)},mn=${tag(p.mn)}`;
  if (p.outlet !== undefined && p.outlet !== '') line += `,outlet=${tag(p.outlet)}`;
  let fields = '';
  for (const k in p.values) fields += `${fields === '' ? '' : ','}${tag(k)}=${p.values[k]}`;
  if (p.flag !== undefined) fields += `${fields === '' ? '' : ','}flag=${str(p.flag)}`;
  // A point with neither values nor a flag still records that the factor reported.
  if (fields === '') fields = 'flag=""';
  return `${line} ${fields} ${p.time}`;
}

/**
 * The point of a line `toLine` wrote (the spill queue keeps lines, and reads them back for queries
 * that must see what InfluxDB does not have yet). Not a general line-protocol parser: it knows our
 * tags, float fields and the one string field, `flag`.
 */
export function fromLine(line: string): Point {
  let i = 0;
  /** Up to the first unescaped character of `stops`, unescaping `\x` to `x`. */
  const until = (stops: string): string => {
    let out = '';
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) out += line[++i];
      else if (stops.includes(c)) break;
      else out += c;
    }
    return out;
  };
  const kind = until(', ') as Kind;
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    i++;
    const k = until('=');
    i++;
    tags[k] = until(', ');
  }
  i++;
  const values: Record<string, number> = {};
  let flag: string | undefined;
  for (;;) {
    const k = until('=');
    i++;
    if (line[i] === '"') {
      i++;
      flag = until('"');
      i++;
    } else values[k] = Number(until(', '));
    if (line[i] !== ',') break;
    i++;
  }
  const p: Point = { mn: tags['mn']!, factor: tags['factor']!, kind, time: Number(line.slice(i + 1)), values };
  // As InfluxDB reads it back: flag="" (a point with neither values nor a flag) is no flag.
  if (flag !== undefined && flag !== '') p.flag = flag;
  if (tags['outlet'] !== undefined) p.outlet = tags['outlet'];
  return p;
}

/** An InfluxQL string literal. */
export const quote = (s: string): string => `'${s.replace(/['\\]/g, (c) => `\\${c}`)}'`;
