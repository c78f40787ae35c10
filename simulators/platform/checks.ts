import { CN, dataFlag, factor, parseHjTime, type Packet } from '../../protocol/index.js';
import { isCalendarTime, num } from '../../protocol/time.js';

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
  // HJ 212-2025 standard-check data (docs/protocol-2025.md): the reading of the standard, as Check.
  [CN.StandardCheckData]: 'Check',
};
const NUMERIC_FIELDS = [
  'Rtd',
  'Min',
  'Avg',
  'Max',
  'Cou',
  'ZsRtd',
  'ZsMin',
  'ZsAvg',
  'ZsMax',
  'Check',
  'StandardValue',
];

export const isDataCn = (cn: string): boolean => cn in REQUIRED_FIELD;

const outcome = (check: string, problems: string[]): CheckOutcome =>
  problems.length === 0 ? { check, ok: true } : { check, ok: false, reason: problems.join('; ') };

/**
 * The content checks a platform makes on a pollutant data upload (2011/2051/2061/2031, 2025's 2062): DataTime,
 * at least one factor, the required field of each factor, numeric values, Flag values of table 8, and
 * DataTime on the start of its period.
 */
export function checkDataPacket(packet: Packet, minInterval?: number): CheckOutcome[] {
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
  return [
    outcome(`fields-${packet.cn}`, fields),
    outcome('data-flags', flags),
    outcome('data-time', dataTimeProblems(packet.cn, dataTime, minInterval)),
  ];
}

/**
 * Statistics are stamped with the start of their period (HJ 212-2017 tables C.13-C.16 print minute
 * data at 08:40:00, hours at 08:00:00, days at 00:00:00): whole minutes on the station's minute
 * interval (MinInterval, when the platform knows it), whole hours, midnight. Real-time data may fall
 * on any second.
 */
function dataTimeProblems(cn: string, dataTime: string | undefined, minInterval: number | undefined): string[] {
  if (dataTime === undefined || !/^\d{14}$/.test(dataTime) || !isCalendarTime(dataTime)) return [];
  const [hh, mm, ss] = [dataTime.slice(8, 10), dataTime.slice(10, 12), dataTime.slice(12, 14)];
  const at = `DataTime=${dataTime}`;
  if (cn === CN.MinuteData) {
    if (ss !== '00') return [`${at} is not on a whole minute (minute data start on one)`];
    if (minInterval !== undefined && (Number(hh) * 60 + Number(mm)) % minInterval !== 0)
      return [`${at} is not on the station's ${minInterval}-minute interval`];
  }
  if (cn === CN.HourData && (mm !== '00' || ss !== '00'))
    return [`${at} is not on a whole hour (hour data start on one)`];
  if (cn === CN.DayData && (hh !== '00' || mm !== '00' || ss !== '00'))
    return [`${at} is not at midnight (day data start at 00:00:00)`];
  return [];
}

/** Factor codes of a packet that appendix B does not list (a warning: a vendor's code, or a typo). */
export function unknownFactors(packet: Packet): string[] {
  if (!isDataCn(packet.cn)) return [];
  return Object.keys(packet.cp.factors).filter((code) => factor(code) === undefined);
}

/** ST of an upload: the monitored system, never 91 (system interaction, for answers). */
export function checkSt(packet: Packet): CheckOutcome {
  if (isDataCn(packet.cn) && packet.st === '91')
    return {
      check: 'st',
      ok: false,
      reason:
        'ST=91 (system interaction) ' +
        `on a ${packet.cn} data upload; ` +
        "use the monitored system's code, e.g. 32 or 31",
    };
  return { check: 'st', ok: true };
}
