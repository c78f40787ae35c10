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
  return `${p.kind},factor=${tag(p.factor)}${stationTags(p)} ${fields(p)} ${p.time}`;
}

/** The lines of points sharing station, kind, time and outlet (an upload's factors), each ending in a newline. */
export interface LineRun {
  mn: string;
  kind: Kind;
  time: number;
  text: string;
  /** Its points (lines). */
  n: number;
}

/**
 * The lines of `points` (as `toLine` writes them), in runs of consecutive points of one station, kind,
 * time and outlet: the station's tags and the time are escaped and formatted once a run, not once a point.
 */
export function lineRuns(points: readonly Point[]): LineRun[] {
  const runs: LineRun[] = [];
  let run: LineRun | undefined;
  let outlet: string | undefined;
  let station = '';
  let tail = '';
  for (const p of points) {
    if (run === undefined || run.mn !== p.mn || run.kind !== p.kind || run.time !== p.time || outlet !== p.outlet) {
      runs.push((run = { mn: p.mn, kind: p.kind, time: p.time, text: '', n: 0 }));
      outlet = p.outlet;
      station = stationTags(p);
      tail = ` ${p.time}\n`;
    }
    run.text += `${p.kind},factor=${tag(p.factor)}${station} ${fields(p)}${tail}`;
    run.n++;
  }
  return runs;
}

const stationTags = (p: Point): string =>
  p.outlet !== undefined && p.outlet !== '' ? `,mn=${tag(p.mn)},outlet=${tag(p.outlet)}` : `,mn=${tag(p.mn)}`;

function fields(p: Point): string {
  let fields = '';
  for (const k in p.values) fields += `${fields === '' ? '' : ','}${tag(k)}=${p.values[k]}`;
  if (p.flag !== undefined) fields += `${fields === '' ? '' : ','}flag=${str(p.flag)}`;
  // A point with neither values nor a flag still records that the factor reported.
  return fields === '' ? 'flag=""' : fields;
}

/**
 * The point of a line `toLine` wrote (the spill log keeps lines, and reads them back for queries
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
