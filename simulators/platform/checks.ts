import { CN, dataFlag, num, parseHjTime, type Packet } from '../../protocol/index.js';

export interface CheckOutcome {
  check: string;
  ok: boolean;
  reason?: string;
}

/** Field a data upload must carry for every factor: Rtd for real-time data, Avg for statistics. */
const REQUIRED_FIELD: Record<string, string> = {
  [CN.RealtimeData]: 'Rtd',
  [CN.MinuteData]: 'Avg',
  [CN.HourData]: 'Avg',
  [CN.DayData]: 'Avg',
};
const NUMERIC_FIELDS = ['Rtd', 'Min', 'Avg', 'Max', 'Cou', 'ZsRtd', 'ZsMin', 'ZsAvg', 'ZsMax'];

export const isDataCn = (cn: string): boolean => cn in REQUIRED_FIELD;

const outcome = (check: string, problems: string[]): CheckOutcome =>
  problems.length === 0 ? { check, ok: true } : { check, ok: false, reason: problems.join('; ') };

/**
 * The content checks a platform makes on a pollutant data upload (2011/2051/2061/2031): DataTime,
 * at least one factor, the required field of each factor, numeric values, and Flag values of table 8.
 */
export function checkDataPacket(packet: Packet): CheckOutcome[] {
  const required = REQUIRED_FIELD[packet.cn];
  if (required === undefined) return [];
  const fields: string[] = [];
  const dataTime = packet.cp.params['DataTime'];
  if (dataTime === undefined) fields.push('no DataTime');
  else {
    try {
      parseHjTime(dataTime);
    } catch (err) {
      fields.push((err as Error).message);
    }
  }
  const factors = Object.entries(packet.cp.factors);
  if (factors.length === 0) fields.push('no factor');
  const flags: string[] = [];
  for (const [code, f] of factors) {
    if (f[required] === undefined) fields.push(`${code} has no ${required}`);
    for (const name of NUMERIC_FIELDS) {
      if (f[name] !== undefined && num(f[name]) === undefined)
        fields.push(`${code}-${name}=${f[name]} is not a number`);
    }
    if (f['Flag'] === undefined) flags.push(`${code} has no Flag`);
    else if (dataFlag(f['Flag']) === undefined)
      flags.push(`${code}-Flag=${f['Flag']} is not a flag of table 8 (N F M S D C T B)`);
  }
  return [outcome(`fields-${packet.cn}`, fields), outcome('data-flags', flags)];
}
