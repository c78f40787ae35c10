import { parseHjTime, type Packet } from '../../protocol/index.js';
import { num } from '../../protocol/time.js';
import type { Kind, Point } from '../store/types.js';

/** Upload commands that carry measurements, and the data kind each stores as. */
export const DATA_CN: Readonly<Record<string, Kind>> = {
  '2011': 'rtd',
  '2051': 'minute',
  '2061': 'hour',
  '2031': 'day',
  // HJ 212-2025 (docs/protocol-2025.md): each upload a kind of its own.
  '2013': 'raw',
  '2052': 'noise',
  '2062': 'check',
  '2111': 'furnace',
};

/** Per-factor fields that are not measurements. */
const NOT_VALUES = new Set(['Flag', 'EFlag', 'SampleTime', 'SN', 'Info']);

const own = Object.prototype.hasOwnProperty;

/**
 * The last DataTime parsed and its time: loggers clocked alike send the same DataTime (the same minute
 * or hour, for 2051/2061 every station's), and parsing one is a regular expression and two Dates.
 */
let lastDataTime: string | undefined;
let lastTime = 0;

export type PointsResult = { ok: true; points: Point[] } | { ok: false; reason: string };

/**
 * The points a data upload carries. Split packets (PNUM/PNO) need no reassembly here: every part
 * repeats DataTime and carries whole factors, and points are keyed per factor.
 */
export function pointsOf(packet: Packet, kind: Kind, outlet?: string): PointsResult {
  const dataTime = packet.cp.params['DataTime'];
  if (dataTime === undefined) return { ok: false, reason: 'no DataTime in the CP' };
  let time: number;
  if (dataTime === lastDataTime) time = lastTime;
  else {
    try {
      time = parseHjTime(dataTime).getTime();
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    lastDataTime = dataTime;
    lastTime = time;
  }
  const points: Point[] = [];
  const mn = packet.mn!;
  const factors = packet.cp.factors;
  // for...in over own keys, not Object.entries: no [key, value] array per factor and field (every
  // value of every upload passes here); the order is the same, the insertion order of the CP.
  for (const factor in factors) {
    if (!own.call(factors, factor)) continue;
    const fields = factors[factor]!;
    const values: Record<string, number> = {};
    for (const name in fields) {
      if (!own.call(fields, name) || NOT_VALUES.has(name)) continue;
      const v = num(fields[name]!);
      if (v !== undefined) values[name] = v;
    }
    const p: Point = { mn, factor, kind, time, values };
    const flag = fields['Flag'];
    if (flag !== undefined) p.flag = flag;
    if (outlet !== undefined) p.outlet = outlet;
    points.push(p);
  }
  return { ok: true, points };
}
