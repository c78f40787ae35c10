import { emptyCpFrame } from './answer-frame.js';
import { crc16, crcHex, matchCrcDialect } from './crc.js';
import { Hj212Error } from './errors.js';
import { buildSegment, parseSegment } from './segment.js';
import type { CodecOptions, DecodeResult, DecodedFrame, Packet, Relaxation } from './types.js';

/** HJ 212-2017 caps the data segment at 1024 bytes; the 4-digit length field caps any frame at 9999. */
export const STANDARD_MAX_SEGMENT = 1024;
export const LENGTH_FIELD_MAX = 9999;

const HASH = 0x23;
const CR = 0x0d;
const LF = 0x0a;
const AMP = 0x26;

export function maxSegmentOf(opts: CodecOptions): number {
  return Math.min(
    opts.maxSegment ?? (opts.mode === 'strict' ? STANDARD_MAX_SEGMENT : LENGTH_FIELD_MAX),
    LENGTH_FIELD_MAX,
  );
}

/** Wraps a data segment into a frame: `##`, 4-digit UTF-8 byte length, segment, CRC, CR LF. */
export function frameSegment(segment: string, maxSegment = LENGTH_FIELD_MAX): string {
  const bytes = Buffer.from(segment, 'utf8');
  if (bytes.length > maxSegment) {
    throw new Hj212Error(
      'oversize',
      `data segment is ${bytes.length} bytes, over the limit of ${maxSegment}; split it with splitPacket()`,
      { field: 'CP' },
    );
  }
  return `##${String(bytes.length).padStart(4, '0')}${segment}${crcHex(crc16(bytes))}\r\n`;
}

export type EncodeOptions = Pick<CodecOptions, 'sm4Key' | 'maxSegment'>;

/**
 * Encodes a packet as a complete frame (text). A data segment over `maxSegment` (default the
 * standard's 1024 bytes, HJ 212-2017 6.3.1) is refused with `oversize`: split it with
 * `encodeFrames(packet, { split: true })`, or raise `maxSegment` for a peer that takes more.
 */
export function encodeFrame(packet: Packet, opts: EncodeOptions = {}): string {
  const max = Math.min(opts.maxSegment ?? STANDARD_MAX_SEGMENT, LENGTH_FIELD_MAX);
  return emptyCpFrame(packet, max) ?? frameSegment(buildSegment(packet, opts), max);
}

export type Located =
  | { kind: 'need' }
  | { kind: 'error'; error: Hj212Error; resume: number }
  | { kind: 'frame'; segStart: number; segEnd: number; crcEnd: number; end: number; relaxations: Relaxation[] };

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isUpperHex = (c: number | undefined): boolean => isDigit(c) || (c !== undefined && c >= 0x41 && c <= 0x46);
const isHex = (c: number | undefined): boolean => isUpperHex(c) || (c !== undefined && c >= 0x61 && c <= 0x66);

function fail(code: Hj212Error['code'], message: string, offset: number, resume: number, field?: string): Located {
  const where: { field?: string; offset: number } = { offset };
  if (field !== undefined) where.field = field;
  return { kind: 'error', error: new Hj212Error(code, message, where), resume };
}

/**
 * Where a data segment starting at `segStart` really ends when its length field is wrong: the first
 * `&&` followed by 4 hex digits and CR LF before `limit` (the next `##` or the end of the bytes).
 * A segment holds no CR LF (HJ 212-2017 6.3.1), so this is the frame's own end, not one further on.
 */
function actualEnd(b: Buffer, segStart: number, limit: number): number | undefined {
  let p = b.indexOf('&&', segStart);
  while (p >= 0 && p + 8 <= limit) {
    const at = p + 2;
    if (
      at > segStart + 5 &&
      isHex(b[at]) &&
      isHex(b[at + 1]) &&
      isHex(b[at + 2]) &&
      isHex(b[at + 3]) &&
      b[at + 4] === CR &&
      b[at + 5] === LF
    )
      return at;
    p = b.indexOf('&&', p + 1);
  }
  return undefined;
}

function lengthMismatch(b: Buffer, i: number, segStart: number, segEnd: number, len: number): Located {
  const actual = segEnd - segStart;
  const chars = b.toString('utf8', segStart, segEnd).length;
  const why = chars === len && chars !== actual ? ' (the sender counts characters, not UTF-8 bytes)' : '';
  return fail(
    'length-mismatch',
    `declared length ${len} but the data segment is ${actual} bytes, up to its && + CRC + CR LF${why}`,
    2,
    i + 2,
    'length',
  );
}

/** The next `##` after the header of the frame at `i`, or `n`: no frame reaches past it. */
function nextHeader(b: Buffer, i: number, n: number): number {
  const k = b.indexOf('##', i + 2);
  return k >= 0 && k < n ? k : n;
}

function locateStrict(b: Buffer, i: number, n: number, max: number, final: boolean): Located {
  if (n - i < 6) return final ? fail('truncated', 'stream ended inside a frame header', n - i, n) : { kind: 'need' };
  for (let k = i + 2; k < i + 6; k++) {
    if (!isDigit(b[k])) return fail('bad-length', 'the length after ## is not 4 decimal digits', 2, i + 1, 'length');
  }
  const len = (b[i + 2]! - 0x30) * 1000 + (b[i + 3]! - 0x30) * 100 + (b[i + 4]! - 0x30) * 10 + (b[i + 5]! - 0x30);
  if (len > max)
    return fail('oversize', `declared data segment of ${len} bytes exceeds the limit of ${max}`, 2, i + 2, 'length');
  const segEnd = i + 6 + len;
  const end = segEnd + 6;
  // Errors resume just past this "##": a wrong length may have announced more than came, over whole frames.
  if (n < end) {
    const early = b.indexOf('\r\n##', i + 6);
    const real = actualEnd(b, i + 6, early >= 0 && early < n ? early + 2 : n);
    // A complete frame whose CRC checks out under a too-long length: say so now rather than wait.
    if (
      real !== undefined &&
      (final ||
        (early >= 0 && early < n) ||
        (real + 6 === n && crc16(b, i + 6, real) === parseInt(b.toString('latin1', real, real + 4), 16)))
    )
      return lengthMismatch(b, i, i + 6, real, len);
    if (early >= 0 && early < n) {
      return fail(
        'bad-length',
        `declared length ${len} but the frame ends after ${early - 4 - (i + 6)} bytes`,
        2,
        i + 2,
        'length',
      );
    }
    return final
      ? fail('truncated', `stream ended inside a frame (${n - i} of ${end - i} bytes)`, n - i, i + 2)
      : { kind: 'need' };
  }
  const tailOk = isHex(b[segEnd]) && isHex(b[segEnd + 1]) && isHex(b[segEnd + 2]) && isHex(b[segEnd + 3]);
  if (!tailOk || b[end - 2] !== CR || b[end - 1] !== LF) {
    const real = actualEnd(b, i + 6, nextHeader(b, i, n));
    if (real !== undefined && real !== segEnd) return lengthMismatch(b, i, i + 6, real, len);
  }
  for (let k = segEnd; k < segEnd + 4; k++) {
    if (!isUpperHex(b[k])) {
      if (isHex(b[k])) return fail('bad-crc-format', 'CRC must be 4 upper-case hex digits', k - i, i + 2, 'CRC');
      return fail(
        'bad-length',
        `no CRC at the declared end of the data segment (length ${len}); the length is wrong or bytes were lost`,
        2,
        i + 2,
        'length',
      );
    }
  }
  if (b[end - 2] !== CR || b[end - 1] !== LF)
    return fail('bad-trailer', 'the frame does not end with CR LF after the CRC', end - 2 - i, i + 2, 'trailer');
  return { kind: 'frame', segStart: i + 6, segEnd, crcEnd: segEnd + 4, end, relaxations: [] };
}

/** Where the CRC + trailer after a candidate segment end start and stop; undefined if they don't fit. */
function tailAt(
  b: Buffer,
  at: number,
  n: number,
  final: boolean,
): { crcEnd: number; end: number; trailer: boolean } | 'need' | undefined {
  let k = at;
  while (k < n && k - at < 4 && isHex(b[k])) k++;
  if (k === at) return k >= n && !final ? 'need' : undefined;
  if (k >= n) return final ? { crcEnd: k, end: k, trailer: false } : 'need';
  if (b[k] === CR) {
    if (k + 1 >= n) return final ? { crcEnd: k, end: k + 1, trailer: false } : 'need';
    if (b[k + 1] === LF) return { crcEnd: k, end: k + 2, trailer: true };
    return { crcEnd: k, end: k + 1, trailer: false };
  }
  if (b[k] === LF) return { crcEnd: k, end: k + 1, trailer: false };
  if (b[k] === HASH) return { crcEnd: k, end: k, trailer: false };
  return undefined;
}

function locateLenient(b: Buffer, i: number, n: number, max: number, final: boolean): Located {
  let d = 0;
  while (d < 4 && i + 2 + d < n && isDigit(b[i + 2 + d])) d++;
  if (d === 0) {
    if (i + 2 >= n && !final) return { kind: 'need' };
    return fail('bad-length', 'no length digits after ##', 2, i + 1, 'length');
  }
  if (d < 4 && i + 2 + d >= n && !final) return { kind: 'need' };
  let len = 0;
  for (let k = 0; k < d; k++) len = len * 10 + (b[i + 2 + k]! - 0x30);
  if (len > max)
    return fail('oversize', `declared data segment of ${len} bytes exceeds the limit of ${max}`, 2, i + 2, 'length');
  const segStart = i + 2 + d;
  const relaxations: Relaxation[] = [];
  if (d < 4)
    relaxations.push({
      code: 'length-unpadded',
      message: `length written with ${d} digits; the standard pads it to 4`,
      field: 'length',
    });

  const declaredEnd = segStart + len;
  const endsWithCp = (at: number): boolean => at - 2 >= segStart && b[at - 1] === AMP && b[at - 2] === AMP;
  let found: { segEnd: number; crcEnd: number; end: number; trailer: boolean } | undefined;
  if (declaredEnd <= n && endsWithCp(declaredEnd)) {
    const tail = tailAt(b, declaredEnd, n, final);
    if (tail === 'need') return { kind: 'need' };
    if (tail) found = { segEnd: declaredEnd, ...tail };
  }
  // A full CRC and CR LF at the declared end bear the length out even when the segment does not end
  // with "&&" (a field after CP): the frame is whole, and parsing it says what is wrong (bad-cp).
  if (!found && declaredEnd > segStart + 5 && declaredEnd + 6 <= n) {
    const tail = tailAt(b, declaredEnd, n, final);
    if (typeof tail === 'object' && tail.trailer && tail.crcEnd === declaredEnd + 4)
      found = { segEnd: declaredEnd, ...tail };
  }
  if (!found) {
    const nextHeader = b.indexOf('##', segStart);
    const limit = nextHeader >= 0 && nextHeader < n ? nextHeader : n;
    let p = b.indexOf('&&', segStart);
    while (p >= 0 && p < limit) {
      const tail = tailAt(b, p + 2, n, final);
      if (tail === 'need') return { kind: 'need' };
      if (tail && p + 2 > segStart + 5) {
        found = { segEnd: p + 2, ...tail };
        break;
      }
      p = b.indexOf('&&', p + 1);
    }
    if (!found) {
      if (limit < n) return fail('bad-length', 'no end of frame (&& + CRC) before the next ##', 2, limit, 'length');
      if (n - i > max + 16) return fail('oversize', `no end of frame within ${max} bytes`, 2, i + 2, 'length');
      return final ? fail('truncated', `stream ended inside a frame (${n - i} bytes)`, n - i, n) : { kind: 'need' };
    }
    const actual = found.segEnd - segStart;
    const chars = Buffer.from(b.buffer, b.byteOffset + segStart, actual).toString('utf8').length;
    relaxations.push({
      code: 'length-mismatch',
      message:
        `declared length ${len} but the data segment is ${actual} bytes` +
        (chars === len && chars !== actual
          ? ` (${chars} characters: the sender counts characters, not UTF-8 bytes)`
          : ''),
      field: 'length',
    });
  }
  if (!found.trailer)
    relaxations.push({ code: 'missing-trailer', message: 'the frame does not end with CR LF', field: 'trailer' });
  return { kind: 'frame', segStart, segEnd: found.segEnd, crcEnd: found.crcEnd, end: found.end, relaxations };
}

/**
 * Finds the frame that starts with `##` at `i` in `b[.., n)`. `final` says no more bytes will come,
 * so an incomplete frame is an error rather than a wait.
 */
export function locateFrame(b: Buffer, i: number, n: number, opts: CodecOptions, final: boolean): Located {
  const max = maxSegmentOf(opts);
  return opts.mode === 'strict' ? locateStrict(b, i, n, max, final) : locateLenient(b, i, n, max, final);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const gbk = new TextDecoder('gbk', { fatal: true });

function segmentText(b: Buffer, start: number, end: number, opts: CodecOptions, relaxations: Relaxation[]): string {
  const text = b.toString('utf8', start, end);
  if (!text.includes('\uFFFD')) return text;
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    if (opts.mode === 'strict')
      throw new Hj212Error('bad-encoding', 'the data segment is not valid UTF-8', { field: 'segment' });
    try {
      const decoded = gbk.decode(b.subarray(start, end));
      relaxations.push({
        code: 'value-format',
        message: 'the data segment is GBK-encoded; the standard requires UTF-8',
        field: 'segment',
      });
      return decoded;
    } catch {
      throw new Hj212Error('bad-encoding', 'the data segment is neither UTF-8 nor GBK', { field: 'segment' });
    }
  }
}

/** Checks the CRC of a located frame and parses its data segment. */
export function checkFrame(
  b: Buffer,
  i: number,
  loc: Extract<Located, { kind: 'frame' }>,
  opts: CodecOptions,
): DecodeResult {
  const rawText = b.toString('utf8', i, loc.end);
  const raw = (): string => rawText;
  const relaxations = loc.relaxations;
  try {
    const crcText = b.toString('latin1', loc.segEnd, loc.crcEnd);
    const printed = parseInt(crcText, 16);
    let dialect: DecodedFrame['crcDialect'] | undefined;
    if (opts.mode === 'strict') {
      dialect = crc16(b, loc.segStart, loc.segEnd) === printed ? 'hj212' : undefined;
    } else {
      dialect = matchCrcDialect(printed, b, loc.segStart, loc.segEnd);
      if (crcText.length < 4)
        relaxations.push({
          code: 'crc-unpadded',
          message: `CRC written with ${crcText.length} hex digits; the standard pads it to 4`,
          field: 'CRC',
        });
      if (crcText !== crcText.toUpperCase())
        relaxations.push({
          code: 'crc-lowercase',
          message: 'CRC in lower-case hex; the standard prints upper case',
          field: 'CRC',
        });
      if (dialect !== undefined && dialect !== 'hj212')
        relaxations.push({
          code: 'crc-dialect',
          message:
            `CRC is ${dialect === 'modbus' ? 'CRC-16/MODBUS' : 'CRC-16/MODBUS with its bytes swapped'}, not ` +
            'the appendix A CRC',
          field: 'CRC',
        });
    }
    if (dialect === undefined) {
      throw new Hj212Error(
        'bad-crc',
        `CRC ${crcText} does not match the data segment (appendix A CRC is ` +
          `${crcHex(crc16(b, loc.segStart, loc.segEnd))})`,
        { field: 'CRC', offset: loc.segEnd - i },
      );
    }
    const segLen = loc.segEnd - loc.segStart;
    if (opts.mode !== 'strict' && segLen > STANDARD_MAX_SEGMENT) {
      relaxations.push({
        code: 'oversize-segment',
        message: `data segment of ${segLen} bytes exceeds the standard's 1024`,
        field: 'length',
      });
    }
    // An ASCII frame (the usual case) has one character per byte: the segment is its bytes as Latin-1, a
    // flat string of its own (a slice of the raw text would make every character read go through it).
    const ascii = rawText.length === loc.end - i && !rawText.includes('\uFFFD');
    const segment = ascii
      ? b.toString('latin1', loc.segStart, loc.segEnd)
      : segmentText(b, loc.segStart, loc.segEnd, opts, relaxations);
    const parsed = parseSegment(segment, opts);
    const frame: DecodedFrame = {
      packet: parsed.packet,
      raw: raw(),
      crcDialect: dialect,
      // Most frames have no relaxation at all: concatenate only when both lists hold some.
      relaxations:
        parsed.relaxations.length === 0
          ? relaxations
          : relaxations.length === 0
            ? parsed.relaxations
            : relaxations.concat(parsed.relaxations),
    };
    if (parsed.encrypted) frame.encrypted = true;
    if (parsed.legacyCodes) frame.legacyCodes = parsed.legacyCodes;
    return { ok: true, frame };
  } catch (err) {
    if (!(err instanceof Hj212Error)) throw err;
    const offset = err.offset === undefined || err.code === 'bad-crc' ? err.offset : err.offset + (loc.segStart - i);
    const where: { field?: string; offset?: number } = {};
    if (err.field !== undefined) where.field = err.field;
    if (offset !== undefined) where.offset = offset;
    return { ok: false, error: new Hj212Error(err.code, err.message, where).toJSON(), raw: raw() };
  }
}

/** Decodes exactly one frame; anything before or after it is an error, not silently dropped. */
export function decodeFrame(input: Uint8Array | string, opts: CodecOptions = {}): DecodeResult {
  const b =
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.isBuffer(input)
        ? input
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const rawAll = (): string => b.toString('utf8');
  if (b[0] !== HASH || b[1] !== HASH) {
    return {
      ok: false,
      error: new Hj212Error('bad-header', 'a frame starts with ##', { offset: 0 }).toJSON(),
      raw: rawAll(),
    };
  }
  const loc = locateFrame(b, 0, b.length, opts, true);
  if (loc.kind === 'need') throw new Error('unreachable: a final locate never waits');
  if (loc.kind === 'error') return { ok: false, error: loc.error.toJSON(), raw: rawAll() };
  if (loc.end !== b.length) {
    return {
      ok: false,
      error: new Hj212Error('bad-trailer', `${b.length - loc.end} bytes follow the end of the frame`, {
        offset: loc.end,
      }).toJSON(),
      raw: rawAll(),
    };
  }
  return checkFrame(b, 0, loc, opts);
}
