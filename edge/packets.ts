import { formatHjTime, makeFlag, standardCheckFields } from '../protocol/index.js';
import type { InfoGroup, Packet, Version } from '../protocol/index.js';
import type { CheckValues, DataRecord, FieldInfo } from './aggregator.js';
import type { FactorStat } from './datasets.js';
import { toFixedHalfEven } from './rounding.js';

/** Who a packet is for: each platform has its own MN, password and edition. */
export interface Addressee {
  mn: string;
  pw: string;
  st: string;
  version: Version;
}

// Emission amounts of one minute are small (tens of grams), so they keep more decimals than readings.
const COU_DECIMALS = 4;

const FIELDS_2011 = [
  ['Rtd', 'avg'],
  ['ZsRtd', 'zsAvg'],
] as const;
const FIELDS_PERIOD = [
  ['Min', 'min'],
  ['Avg', 'avg'],
  ['Max', 'max'],
  ['ZsMin', 'zsMin'],
  ['ZsAvg', 'zsAvg'],
  ['ZsMax', 'zsMax'],
] as const;

/** HJ 212-2025: the value sent where a converted concentration cannot be computed (no valid O2). */
export const ZS_UNAVAILABLE_2025 = '9999.99';

/** Decimal text of a value: HJ 212-2025 rounds half to even; 2017 sets no rule and keeps toFixed. */
function formatter(version: Version): (value: number, decimals: number) => string {
  return version === '2025' ? toFixedHalfEven : (value, decimals) => value.toFixed(decimals);
}

function factorFields(
  cn: DataRecord['cn'],
  stat: FactorStat,
  decimals: number,
  version: Version,
  utcOffsetMinutes: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  const format = formatter(version);
  // A cycle value's sample time, first as in C.14 (w01018-SampleTime=20160801070000,w01018-Rtd=...).
  if (stat.sampleTime !== undefined) out['SampleTime'] = formatHjTime(new Date(stat.sampleTime), utcOffsetMinutes);
  for (const [field, key] of cn === '2011' ? FIELDS_2011 : FIELDS_PERIOD) {
    const value = stat[key];
    if (value !== undefined) out[field] = format(value, decimals);
    // No valid O2 of the period: 2017 leaves the converted fields out, 2025 sends 9999.99.
    else if (key.startsWith('zs') && stat.zsUnavailable && version === '2025') out[field] = ZS_UNAVAILABLE_2025;
  }
  if (cn !== '2011' && stat.cou !== undefined) out['Cou'] = format(stat.cou, COU_DECIMALS);
  out['Flag'] = stat.flag;
  return out;
}

/** 3020 field information as CP groups: `PolId=w01018;i13004-Info=165` per analyzer (C.44, C.45). */
export function infoGroups(info: FieldInfo): InfoGroup[] {
  return Object.entries(info).map(([polId, values]) => ({
    polId,
    // Registers yield float noise (165.0399932861328); four decimals are more than any i-code's format.
    codes: Object.fromEntries(
      Object.entries(values).map(([code, value]) => [code, { Info: String(Number(value.toFixed(4))) }]),
    ),
  }));
}

/** Table 4: SBxxx-RS is a run-state digit, SBxxx-RT hours run in the day (N2.2). */
function facilityFields(
  cn: DataRecord['cn'],
  facilities: Record<string, number>,
): Record<string, Record<string, string>> {
  const field = (v: number): Record<string, string> => (cn === '2021' ? { RS: String(v) } : { RT: v.toFixed(2) });
  return Object.fromEntries(Object.entries(facilities).map(([code, v]) => [code, field(v)]));
}

/**
 * HJ 212-2025 2062 (docs/protocol-2025.md, field names as public implementations use them): `Check` the
 * analyzer's reading of the standard, `StandardValue` the standard's value, `Pass` 1 or 0 where the analyzer
 * says whether it passed (the project's name), `Flag` N: the check itself ran normally.
 */
function checkFields(check: CheckValues, decimals: number, version: Version): Record<string, string> {
  const format = formatter(version);
  return standardCheckFields({
    check: format(check.measured, decimals),
    standard: format(check.standard, decimals),
    ...(check.passed !== undefined && { passed: check.passed }),
  });
}

/** The upload packet of a record (A bit set: the receiver answers 9014 before the outbox lets it go). */
export function recordPacket(
  record: DataRecord,
  to: Addressee,
  qn: string,
  decimals: ReadonlyMap<string, number>,
  utcOffsetMinutes: number,
): Packet {
  const factors =
    record.cn === '2062'
      ? Object.fromEntries(
          Object.entries(record.checks).map(([code, c]) => [code, checkFields(c, decimals.get(code) ?? 3, to.version)]),
        )
      : record.cn === '2021' || record.cn === '2041'
        ? facilityFields(record.cn, record.facilities)
        : Object.fromEntries(
            Object.entries(record.stats).map(([code, stat]) => [
              code,
              factorFields(record.cn, stat, decimals.get(code) ?? 3, to.version, utcOffsetMinutes),
            ]),
          );
  const info = record.cn === '3020' && { info: infoGroups(record.info) };
  const dataTime = formatHjTime(new Date(record.at), utcOffsetMinutes);
  // C.24: the boot time goes as RestartTime; the record is made at the boot, so DataTime is the same.
  const params: Record<string, string> =
    record.cn === '2081' ? { DataTime: dataTime, RestartTime: dataTime } : { DataTime: dataTime };
  return {
    version: to.version,
    qn,
    // ST 44/45 records are their own data set (HJ 212-2025, edge/conditions.ts), not the outlet's.
    st: record.st ?? to.st,
    cn: record.cn,
    pw: to.pw,
    mn: to.mn,
    flag: makeFlag(to.version, { ack: true }),
    cp: { params, factors, ...info },
  };
}
