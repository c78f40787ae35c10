import { to2005Code, to2017Code } from './codes/legacy-2005.js';
import { systemCode } from './codes/system-codes.js';
import { buildCp, parseCpIn } from './cp.js';
import { Hj212Error } from './errors.js';
import { FLAG_SPLIT, isSplit, makeFlag, versionFromFlag } from './flag.js';
import { decryptCp, encryptCp, isEncryptableCn, looksEncrypted } from './sm4.js';
import { isCalendarTime } from './time.js';
import type { CodecOptions, Cp, DecodeMode, Packet, Relaxation, Version } from './types.js';

const HEADER_ORDER = ['QN', 'ST', 'CN', 'PW', 'MN', 'Flag', 'PNUM', 'PNO'] as const;
type HeaderKey = (typeof HEADER_ORDER)[number];
/**
 * HJ/T 212-2005 6.3.2 puts the packet numbers right after QN (HJ 212-2017 table 3 moved them after
 * Flag). The 2005 examples themselves print QN after CN and PNO before PNUM; the table is followed
 * here, and lenient decoding takes the examples' order as a field-order dialect.
 */
const HEADER_ORDER_2005: readonly HeaderKey[] = ['QN', 'PNUM', 'PNO', 'ST', 'CN', 'PW', 'MN', 'Flag'];

const FORMATS: Record<HeaderKey, { re: RegExp; what: string }> = {
  QN: { re: /^\d{17}$/, what: '17 digits YYYYMMDDhhmmsszzz' },
  ST: { re: /^[0-9A-Z]{2}$/, what: '2 characters of table 5, e.g. 32' },
  CN: { re: /^\d{4}$/, what: '4 digits of table 9, e.g. 2011' },
  PW: { re: /^[0-9A-Za-z]{1,6}$/, what: 'up to 6 letters or digits' },
  MN: { re: /^[0-9A-F]{24}$/, what: '24 hex digits (EPC-96)' },
  Flag: { re: /^\d{1,3}$/, what: 'an integer 0-255' },
  PNUM: { re: /^\d{1,4}$/, what: 'a positive integer' },
  PNO: { re: /^\d{1,4}$/, what: 'a positive integer' },
};
/** HJ/T 212-2005 6.3.2: 14 characters, the last 7 of the maker's organisation code and 7 of its own. */
const MN_2005 = /^[0-9A-Z]{14}$/;
const MN_2005_WHAT = '14 letters or digits (HJ/T 212-2005 6.3.2)';

export interface ParsedSegment {
  packet: Packet;
  relaxations: Relaxation[];
  encrypted?: boolean;
  legacyCodes?: Record<string, string>;
}

class SegmentReader {
  readonly relaxations: Relaxation[] = [];
  constructor(readonly mode: DecodeMode) {}

  relax(code: Relaxation['code'], message: string, field: string | undefined, errorCode: Hj212Error['code']): void {
    if (this.mode === 'strict') throw new Hj212Error(errorCode, message, field === undefined ? {} : { field });
    const r: Relaxation = { code, message };
    if (field !== undefined) r.field = field;
    this.relaxations.push(r);
  }
}

const KNOWN_KEYS = new Set<string>(HEADER_ORDER);

function readHeader(text: string, reader: SegmentReader): Map<string, string> {
  const header = new Map<string, string>();
  const commas = text.includes(',');
  if (commas)
    reader.relax('value-format', 'a "," separates data segment fields; the standard uses ";"', undefined, 'bad-field');
  const spaces = text.includes(' ');
  let i = 0;
  while (i < text.length) {
    let end = text.indexOf(';', i);
    if (end < 0) end = text.length;
    if (commas) {
      const comma = text.indexOf(',', i);
      if (comma >= 0 && comma < end) end = comma;
    }
    // Key and value are cut straight from the header text: no string for the whole field.
    const from = i;
    i = end + 1;
    if (end === from || (spaces && text.slice(from, end).trim() === '')) continue;
    const eq = text.indexOf('=', from);
    if (eq < 0 || eq >= end) {
      const piece = text.slice(from, end);
      throw new Hj212Error('bad-field', `data segment field "${piece}" has no "="`, { field: piece });
    }
    let key = text.slice(from, eq);
    let value = text.slice(eq + 1, end);
    if (spaces && (key.trim() !== key || value.trim() !== value)) {
      key = key.trim();
      value = value.trim();
      reader.relax('spaces', `spaces around ${key}; fields are written ${key}=value with no spaces`, key, 'bad-field');
    }
    if (!KNOWN_KEYS.has(key)) {
      reader.relax(
        'unknown-field',
        `"${key}" is not a data segment field (QN ST CN PW MN Flag PNUM PNO CP)`,
        key,
        'bad-field',
      );
      continue;
    }
    if (header.has(key))
      throw new Hj212Error('duplicate-field', `${key} appears twice in the data segment`, { field: key });
    header.set(key, value);
  }
  return header;
}

/** The fields in the order of the edition's table (HJ 212-2017 table 3, HJ/T 212-2005 6.3.2). */
function checkOrder(header: Map<string, string>, version: Version, reader: SegmentReader): void {
  const order = version === '2005' ? HEADER_ORDER_2005 : HEADER_ORDER;
  let last = -1;
  for (const key of header.keys()) {
    const at = order.indexOf(key as HeaderKey);
    if (at < last) {
      reader.relax(
        'field-order',
        `fields in order ${[...header.keys()].join(';')}; ` +
          `${version === '2005' ? 'HJ/T 212-2005' : `HJ 212-${version}`} orders them ${order.join(';')};CP`,
        undefined,
        'bad-field',
      );
      return;
    }
    last = at;
  }
}

/** The edition of a frame without Flag: 2005 codes (011, B01, S01...) give it away; otherwise 2017. */
function guessVersion(cpText: string): Version {
  return /(^|[;,])(\d{2,3}|[BS]\d{2})-/.test(cpText) ? '2005' : '2017';
}

function versionOf(header: Map<string, string>, cpText: string, reader: SegmentReader): Version {
  const flagText = header.get('Flag');
  if (flagText === undefined) {
    if (reader.mode === 'strict') return '2005';
    const guessed = guessVersion(cpText);
    reader.relax(
      'missing-flag',
      `no Flag field; assumed HJ ${guessed === '2005' ? 'T 212-2005' : '212-2017'} from the content`,
      'Flag',
      'missing-field',
    );
    return guessed;
  }
  if (!FORMATS.Flag.re.test(flagText) || Number(flagText) > 255) {
    throw new Hj212Error('bad-flag', `Flag=${flagText} is not ${FORMATS.Flag.what}`, { field: 'Flag' });
  }
  return versionFromFlag(Number(flagText));
}

const REQUIRED: readonly HeaderKey[] = ['QN', 'ST', 'CN', 'PW', 'MN', 'Flag'];
const REQUIRED_2005: readonly HeaderKey[] = ['ST', 'CN', 'PW', 'MN'];

function checkHeader(header: Map<string, string>, version: Version, reader: SegmentReader): void {
  if (!header.has('CN'))
    throw new Hj212Error('missing-field', 'the data segment has no CN (command code)', { field: 'CN' });
  for (const key of version === '2005' ? REQUIRED_2005 : REQUIRED) {
    if (!header.has(key)) reader.relax('missing-field', `the data segment has no ${key}`, key, 'missing-field');
  }
  for (const [key, value] of header) {
    const k = key as HeaderKey;
    const legacyMn = k === 'MN' && version === '2005';
    const ok = legacyMn ? MN_2005.test(value) : FORMATS[k].re.test(value);
    if (ok) continue;
    const what = legacyMn ? MN_2005_WHAT : FORMATS[k].what;
    // CN and the packet numbers drive dispatch and reassembly: no dialect can excuse them.
    if (k === 'CN' || k === 'PNUM' || k === 'PNO')
      throw new Hj212Error('bad-field', `${key}=${value} is not ${what}`, { field: key });
    reader.relax('value-format', `${key}=${value} is not ${what}`, key, 'bad-field');
  }
  const qn = header.get('QN');
  if (qn !== undefined && FORMATS.QN.re.test(qn) && !isCalendarTime(qn))
    reader.relax('value-format', `QN=${qn} is not a real date and time (YYYYMMDDhhmmsszzz)`, 'QN', 'bad-field');
  const st = header.get('ST');
  if (st !== undefined && FORMATS.ST.re.test(st) && !isSystemCode(st, version)) {
    // HJ 212-2017 6.6.1.1 reserves A0-Z9 for extensions but names none: without an agreed code, table 5 is the list.
    reader.relax(
      'unknown-system-code',
      `ST=${st} is not a system code of table 5 (e.g. 31 air, 32 water pollution source, 91 system interaction)`,
      'ST',
      'bad-field',
    );
  }
}

/** Table 5 of HJ 212-2017 (the 2005 list is a subset), with the HJ 212-2025 additions in 2025 frames. */
function isSystemCode(st: string, version: Version): boolean {
  const def = systemCode(st);
  return def !== undefined && (def.since === undefined || version === '2025');
}

function splitNumbers(
  header: Map<string, string>,
  flag: number | undefined,
  reader: SegmentReader,
): { pnum?: number; pno?: number } {
  const pnumText = header.get('PNUM');
  const pnoText = header.get('PNO');
  const flagged = isSplit(flag);
  if (pnumText === undefined || pnoText === undefined) {
    if (flagged)
      reader.relax(
        'missing-field',
        'Flag has the D bit (split packet) but PNUM/PNO are missing',
        'PNUM',
        'split-mismatch',
      );
    if (pnumText !== undefined || pnoText !== undefined)
      reader.relax('missing-field', 'PNUM and PNO must come together', 'PNO', 'split-mismatch');
    return {};
  }
  const pnum = Number(pnumText);
  const pno = Number(pnoText);
  if (pnum < 1 || pno < 1 || pno > pnum)
    throw new Hj212Error('split-mismatch', `PNO=${pno} of PNUM=${pnum} is out of range`, { field: 'PNO' });
  if (!flagged) reader.relax('value-format', 'PNUM/PNO present but Flag has no D bit', 'Flag', 'split-mismatch');
  return { pnum, pno };
}

function mapLegacyCodes(cp: Cp): Record<string, string> | undefined {
  let mapped: Record<string, string> | undefined;
  const factors: Cp['factors'] = {};
  for (const code in cp.factors) {
    const modern = to2017Code(code);
    if (modern !== undefined && modern !== code) (mapped ??= {})[modern] = code;
    factors[modern ?? code] = cp.factors[code]!;
  }
  cp.factors = factors;
  return mapped;
}

/** Parses a data segment (without `##`, length, CRC and trailer) into a packet. */
export function parseSegment(segment: string, opts: CodecOptions = {}): ParsedSegment {
  const reader = new SegmentReader(opts.mode ?? 'lenient');
  // No dialect puts a line break inside a segment, and no answer or re-encoding could carry one.
  const cr = segment.indexOf('\r');
  const lf = segment.indexOf('\n');
  if (cr >= 0 || lf >= 0) {
    const at = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
    throw new Hj212Error(
      'bad-field',
      `line break inside the data segment at offset ${at}; a frame's only CR LF is its trailer`,
      { field: 'segment', offset: at },
    );
  }
  const cpStart = segment.indexOf('CP=&&');
  if (cpStart < 0)
    throw new Hj212Error('missing-field', 'the data segment has no CP=&&...&& data area', { field: 'CP' });
  const cpEnd = segment.lastIndexOf('&&');
  if (cpEnd < cpStart + 5)
    throw new Hj212Error('bad-cp', 'the CP data area is not closed with "&&"', { field: 'CP', offset: segment.length });
  const tail = segment.slice(cpEnd + 2);
  if (tail !== '') {
    if (tail.trim() !== '')
      throw new Hj212Error('bad-cp', `"${tail}" follows the CP data area; CP=&&...&& must end the data segment`, {
        field: 'CP',
        offset: cpEnd + 2,
      });
    reader.relax('spaces', 'spaces after the CP data area', 'CP', 'bad-cp');
  }
  const headerText = segment.slice(0, cpStart);
  const last = headerText.charCodeAt(headerText.length - 1);
  // The usual header ends with ";" right before CP=&&: the regular expression only for the rest.
  if (headerText !== '' && last !== 0x3b && last !== 0x2c && !/[;,]\s*$/.test(headerText)) {
    reader.relax('value-format', 'no ";" before CP=&&', 'CP', 'bad-field');
  }
  const header = readHeader(headerText, reader);
  let cpText = segment.slice(cpStart + 5, cpEnd);
  const version = versionOf(header, cpText, reader);
  checkOrder(header, version, reader);
  checkHeader(header, version, reader);
  const flagText = header.get('Flag');
  const flag = flagText === undefined ? undefined : Number(flagText);
  const cn = header.get('CN')!;
  const mn = header.get('MN');

  let encrypted: boolean | undefined;
  if (version === '2025' && isEncryptableCn(cn) && looksEncrypted(cpText)) {
    const key = opts.sm4Key?.(mn);
    if (!key)
      throw new Hj212Error(
        'decrypt-failed',
        `the CP of CN ${cn} from MN ${mn ?? '(none)'} is SM4-encrypted and no key is configured for this station`,
        { field: 'CP' },
      );
    cpText = decryptWithAny(cpText, [key, ...(opts.sm4DecodeKeys?.(mn) ?? [])]);
    encrypted = true;
  } else if (version === '2025' && isEncryptableCn(cn) && cpText !== '' && opts.sm4Key?.(mn) !== undefined) {
    // A keyed station's data in clear text: a logger that stopped encrypting, or someone else.
    const message =
      `the CP of CN ${cn} from MN ${mn ?? '(none)'} is clear text, but HJ 212-2025 encrypts it with ` +
      `the station's SM4 key`;
    const policy = opts.clearCp ?? (reader.mode === 'strict' ? 'refuse' : 'flag');
    if (policy === 'refuse') throw new Hj212Error('unencrypted-cp', message, { field: 'CP' });
    reader.relaxations.push({ code: 'unencrypted-cp', message, field: 'CP' });
  }

  // Clear text is parsed in place inside the segment; a decrypted CP is a string of its own.
  const cp = encrypted
    ? parseCpIn(cpText, 0, cpText.length, reader.mode, reader.relaxations)
    : parseCpIn(segment, cpStart + 5, cpEnd, reader.mode, reader.relaxations);
  const legacyCodes = version === '2005' ? mapLegacyCodes(cp) : undefined;
  const packet: Packet = { version, cn, cp };
  const qn = header.get('QN');
  const st = header.get('ST');
  const pw = header.get('PW');
  if (qn !== undefined) packet.qn = qn;
  if (st !== undefined) packet.st = st;
  if (pw !== undefined) packet.pw = pw;
  if (mn !== undefined) packet.mn = mn;
  if (flag !== undefined) packet.flag = flag;
  Object.assign(packet, splitNumbers(header, flag, reader));
  const out: ParsedSegment = { packet, relaxations: reader.relaxations };
  if (encrypted) out.encrypted = true;
  if (legacyCodes) out.legacyCodes = legacyCodes;
  return out;
}

/** Decrypts with the first key that yields Field=Value pairs; the first key's error if none does. */
function decryptWithAny(hex: string, keys: readonly Uint8Array[]): string {
  let first: unknown;
  for (const key of keys) {
    try {
      return decryptCp(hex, key);
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}

/** The Flag a packet goes out with: as given (checked against the version), or derived from it. */
export function flagFor(packet: Packet): number | undefined {
  const split = packet.pnum !== undefined;
  if (packet.flag === undefined)
    return packet.version === '2005' && !split ? undefined : makeFlag(packet.version, { split });
  if (!Number.isInteger(packet.flag) || packet.flag < 0 || packet.flag > 255) {
    throw new Hj212Error('bad-input', `flag ${packet.flag} is not an integer 0-255`, { field: 'Flag' });
  }
  const flagVersion = versionFromFlag(packet.flag);
  if (flagVersion !== packet.version) {
    throw new Hj212Error(
      'bad-input',
      `flag ${packet.flag} says HJ 212-${flagVersion} but version is ${packet.version}; drop one or make them agree`,
      { field: 'Flag' },
    );
  }
  if (split !== ((packet.flag & FLAG_SPLIT) !== 0)) {
    throw new Hj212Error('bad-input', 'the D bit of flag and the presence of pnum/pno disagree', { field: 'Flag' });
  }
  return packet.flag;
}

const legacyCode = (code: string): string => to2005Code(code) ?? code;

function checkHeaderValue(key: HeaderKey, value: string): string {
  if (/[;=&\r\n]/.test(value) || value === '') {
    throw new Hj212Error('bad-input', `${key}="${value}" is empty or holds a separator`, { field: key });
  }
  return value;
}

/** Builds the data segment text of a packet; the CP is SM4-encrypted when a 2025 key is given. */
export function buildSegment(packet: Packet, opts: Pick<CodecOptions, 'sm4Key'> = {}): string {
  if (!/^\d{4}$/.test(packet.cn))
    throw new Hj212Error('bad-input', `cn "${packet.cn}" must be 4 digits of table 9`, { field: 'CN' });
  if ((packet.pnum === undefined) !== (packet.pno === undefined)) {
    throw new Hj212Error('bad-input', 'pnum and pno go together', { field: 'PNUM' });
  }
  const flag = flagFor(packet);
  const parts: string[] = [];
  const add = (key: HeaderKey, value: string | number | undefined): void => {
    if (value !== undefined) parts.push(`${key}=${checkHeaderValue(key, String(value))}`);
  };
  const values: Record<HeaderKey, string | number | undefined> = {
    QN: packet.qn,
    ST: packet.st,
    CN: packet.cn,
    PW: packet.pw,
    MN: packet.mn,
    Flag: flag,
    PNUM: packet.pnum,
    PNO: packet.pno,
  };
  for (const key of packet.version === '2005' ? HEADER_ORDER_2005 : HEADER_ORDER) add(key, values[key]);
  let cpText = buildCp(packet.cp, packet.version === '2005' ? legacyCode : undefined);
  const key = packet.version === '2025' && isEncryptableCn(packet.cn) ? opts.sm4Key?.(packet.mn) : undefined;
  if (key) cpText = encryptCp(cpText, key);
  parts.push(`CP=&&${cpText}&&`);
  return parts.join(';');
}
