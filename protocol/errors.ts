/** Why a frame or packet was rejected; stable strings so counters and logs can group by them. */
export type Hj212ErrorCode =
  | 'garbage'
  | 'bad-header'
  | 'bad-length'
  | 'length-mismatch'
  | 'oversize'
  | 'bad-crc'
  | 'bad-crc-format'
  | 'bad-trailer'
  | 'truncated'
  | 'bad-encoding'
  | 'bad-field'
  | 'missing-field'
  | 'duplicate-field'
  | 'bad-flag'
  | 'unknown-version'
  | 'bad-cp'
  | 'bad-value'
  | 'decrypt-failed'
  | 'unencrypted-cp'
  | 'split-incomplete'
  | 'split-mismatch'
  | 'bad-input';

export interface Hj212ErrorInfo {
  code: Hj212ErrorCode;
  message: string;
  /** The data-segment or CP field at fault, e.g. "Flag" or "w01018-Rtd". */
  field?: string;
  /** Byte offset of the fault: within the frame for frame errors, within the stream for stream errors. */
  offset?: number;
}

export class Hj212Error extends Error implements Hj212ErrorInfo {
  readonly code: Hj212ErrorCode;
  readonly field?: string;
  readonly offset?: number;

  constructor(code: Hj212ErrorCode, message: string, where: { field?: string; offset?: number } = {}) {
    super(message);
    this.name = 'Hj212Error';
    this.code = code;
    if (where.field !== undefined) this.field = where.field;
    if (where.offset !== undefined) this.offset = where.offset;
  }

  toJSON(): Hj212ErrorInfo {
    const out: Hj212ErrorInfo = { code: this.code, message: this.message };
    if (this.field !== undefined) out.field = this.field;
    if (this.offset !== undefined) out.offset = this.offset;
    return out;
  }
}
