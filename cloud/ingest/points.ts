import { parseHjTime, type Packet } from '../../protocol/index.js';
import { num } from '../../protocol/time.js';
import type { Kind, Point } from '../store/types.js';

/** Upload commands that carry measurements, and the data kind each stores as. */
export const DATA_CN: Readonly<Record<string, Kind>> = {
  '2011': 'rtd',
  '2051': 'minute',
  '2061': 'hour',
  '2031': 'day',
};

/** Per-factor fields that are not measurements. */
const NOT_VALUES = new Set(['Flag', 'EFlag', 'SampleTime', 'SN', 'Info']);

export type PointsResult = { ok: true; points: Point[] } | { ok: false; reason: string };

/**
 * The points a data upload carries. Split packets (PNUM/PNO) need no reassembly here: every part
 * repeats DataTime and carries whole factors, and points are keyed per factor.
 */
export function pointsOf(packet: Packet, kind: Kind, outlet?: string): PointsResult {
  const dataTime = packet.cp.params['DataTime'];
  if (dataTime === undefined) return { ok: false, reason: 'no DataTime in the CP' };
  let time: number;
  try {
    time = parseHjTime(dataTime).getTime();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const points: Point[] = [];
  for (const [factor, fields] of Object.entries(packet.cp.factors)) {
    const values: Record<string, number> = {};
    for (const [name, text] of Object.entries(fields)) {
      const v = NOT_VALUES.has(name) ? undefined : num(text);
      if (v !== undefined) values[name] = v;
    }
    const p: Point = { mn: packet.mn!, factor, kind, time, values };
    if (fields['Flag'] !== undefined) p.flag = fields['Flag'];
    if (outlet !== undefined) p.outlet = outlet;
    points.push(p);
  }
  return { ok: true, points };
}
