import type { CrcDialect } from './crc.js';
import type { Hj212ErrorInfo } from './errors.js';

export type Version = '2005' | '2017' | '2025';

/** Fields of one factor (pollutant, process or device code): `w01018-Rtd=101.0` is `{ Rtd: '101.0' }`. */
export type FactorFields = Record<string, string>;

/** Field info (CN 3020, i-codes of table B.10) about the analyzer named by `polId`. */
export interface InfoGroup {
  polId?: string;
  codes: Record<string, FactorFields>;
}

/**
 * The CP (指令参数) data area. Values stay the strings that were sent, so a round trip is exact
 * (`101.0` stays `101.0`); `num()` and the time helpers give typed values.
 */
export interface Cp {
  /** Named fields of table 4 (DataTime, QnRtn, BeginTime, RtdInterval, PolId, ...), in wire order. */
  params: Record<string, string>;
  /** Per-factor fields (Rtd, Min, Avg, Max, Cou, ZsRtd.., Flag, EFlag, SampleTime, SN, RS, RT, ...). */
  factors: Record<string, FactorFields>;
  /** 3020 field information, scoped to the analyzer (PolId) it follows. */
  info?: InfoGroup[];
}

/** One HJ 212 packet, the data segment of a frame. */
export interface Packet {
  version: Version;
  qn?: string;
  st?: string;
  cn: string;
  pw?: string;
  mn?: string;
  flag?: number;
  pnum?: number;
  pno?: number;
  cp: Cp;
}

/** A vendor-dialect deviation the lenient decoder accepted; strict decoding rejects each of these. */
export type RelaxationCode =
  | 'length-unpadded'
  | 'length-mismatch'
  | 'oversize-segment'
  | 'crc-lowercase'
  | 'crc-unpadded'
  | 'crc-dialect'
  | 'missing-trailer'
  | 'spaces'
  | 'field-order'
  | 'unknown-field'
  | 'missing-field'
  | 'missing-flag'
  | 'value-format'
  | 'empty-item'
  | 'duplicate-field'
  | 'unknown-system-code'
  | 'factor-separator'
  | 'unencrypted-cp';

export interface Relaxation {
  code: RelaxationCode;
  message: string;
  field?: string;
}

export interface DecodedFrame {
  packet: Packet;
  /** The frame as received (UTF-8 text). */
  raw: string;
  crcDialect: CrcDialect;
  relaxations: Relaxation[];
  /** The CP was SM4-encrypted on the wire (HJ 212-2025) and has been decrypted. */
  encrypted?: boolean;
  /** 2005 factor codes seen on the wire, keyed by the 2017 code they were mapped to. */
  legacyCodes?: Record<string, string>;
}

export type DecodeResult =
  | { ok: true; frame: DecodedFrame; offset?: number }
  | { ok: false; error: Hj212ErrorInfo; raw: string; offset?: number };

export type DecodeMode = 'strict' | 'lenient';

export interface CodecOptions {
  /** strict: the standard only; lenient (default): known vendor dialects, each reported. */
  mode?: DecodeMode;
  /** Largest data segment accepted, in bytes (default: 1024 strict, 9999 lenient). */
  maxSegment?: number;
  /** SM4 key for a station (HJ 212-2025 CP encryption); return undefined when the MN has none. */
  sm4Key?: (mn: string | undefined) => Uint8Array | undefined;
  /**
   * Further keys a station's cipher text may be under while a key change (1014) settles: the key
   * being issued and, for a grace period, the one it replaces. Tried in order after `sm4Key` fails.
   */
  sm4DecodeKeys?: (mn: string | undefined) => readonly Uint8Array[];
  /**
   * A clear-text CP of a command HJ 212-2025 encrypts, from a station that has a key: `refuse` it
   * (`unencrypted-cp`, the default in strict mode) or `flag` it as a relaxation and decode it (the
   * default in lenient mode). Either way it never passes unnoticed.
   */
  clearCp?: 'refuse' | 'flag';
}
