import type { Cp, FactorFields } from './types.js';

/**
 * The CP layouts of the HJ 212-2025 commands whose field names are assumed (the 2025 text is not public
 * here; docs/protocol-2025.md says per command what is assumed and why). One home for each, so the edge,
 * the cloud and the simulators send and read the same names.
 */

/**
 * 1001 (上传数采仪硬件序列号): the logger's hardware serial, as HJ 212-2017 names analyzer ids (3019's SN).
 */
export const SERIAL_FIELD = 'SN';
/** 1002 (设置现场机 MN): the new MN, named by analogy with 1072's NewPW. */
export const NEW_MN_FIELD = 'NewMN';

/** The CP of a 1001: when it was sent, and the serial. */
export function serialCp(serial: string, dataTime: string): Cp {
  return { params: { DataTime: dataTime, [SERIAL_FIELD]: serial }, factors: {} };
}

/** One factor's standard check (2062), values already formatted with the factor's decimals. */
export interface StandardCheckFields {
  /** The analyzer's reading of the standard. */
  check: string;
  /** The standard's value. */
  standard: string;
  /** Whether it passed, where the analyzer says so (`Pass`, the project's name); left out otherwise. */
  passed?: boolean;
  /** Table 8 flag of the check reading; N (the check ran normally) by default. */
  flag?: string;
}

/**
 * A factor's fields in a 2062 (上传自动标样核查数据): `Check` and `StandardValue` as public implementations
 * name them, `Pass` 1 or 0 where known, `Flag`; e.g.
 * `w01018-Check=50.75,w01018-StandardValue=50.00,w01018-Pass=1,w01018-Flag=N`.
 */
export function standardCheckFields(c: StandardCheckFields): FactorFields {
  return {
    Check: c.check,
    StandardValue: c.standard,
    ...(c.passed !== undefined && { Pass: c.passed ? '1' : '0' }),
    Flag: c.flag ?? 'N',
  };
}
