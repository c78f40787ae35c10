import { Hj212Error } from './errors.js';
import { isCalendarTime } from './time.js';
import type { Cp, DecodeMode, FactorFields, InfoGroup, Relaxation } from './types.js';

const TIME_PARAMS = new Set(['DataTime', 'SystemTime', 'BeginTime', 'EndTime', 'RestartTime']);
const INT_PARAMS = new Set([
  'QnRtn',
  'ExeRtn',
  'RtdInterval',
  'MinInterval',
  'OverTime',
  'ReCount',
  'VaseNo',
  'Ctime',
  'Stime',
  'RS',
]);
const NUMERIC_FIELDS = new Set([
  'Rtd',
  'Min',
  'Avg',
  'Max',
  'Cou',
  'ZsRtd',
  'ZsMin',
  'ZsAvg',
  'ZsMax',
  'RT',
  'Data',
  'DayData',
  'NightData',
]);
const KNOWN_FIELDS = new Set([...NUMERIC_FIELDS, 'Flag', 'EFlag', 'SampleTime', 'Info', 'SN', 'RS']);
const INFO_CODE = /^i[0-9a-z]{5}$/;
const INFO_ITEM = /(?:^|[;,])\s*i[0-9a-z]{5}-/;

const COMMA = 44;
const SEMI = 59;
const DASH = 45;
const SLASH = 47;
const SPACE = 32;

/** The index of `ch` at or after `from` and before `n`, or `n` when there is none. */
function indexOr(s: string, ch: string, from: number, n: number): number {
  const k = s.indexOf(ch, from);
  return k < 0 || k > n ? n : k;
}

/** `[A-Za-z0-9][A-Za-z0-9_-]*`: a CP field name or factor code, checked without a regular expression. */
function isKey(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) continue;
    if (k > 0 && (c === 95 || c === DASH)) continue;
    return false;
  }
  return true;
}

/** `[+-]digits[.digits]` between `from` and `to`, checked without building a string. */
function isNumber(s: string, from: number, to: number): boolean {
  let k = from;
  const first = s.charCodeAt(k);
  if (first === 43 || first === DASH) k++;
  let digits = 0;
  let dot = false;
  for (; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

function allDigits(s: string, from: number, to: number, exactly?: number): boolean {
  if (to <= from || (exactly !== undefined && to - from !== exactly)) return false;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function describe(field: string): string {
  if (TIME_PARAMS.has(field) || field === 'SampleTime') return 'date and time (YYYYMMDDhhmmss, a real calendar time)';
  if (INT_PARAMS.has(field)) return 'integer';
  if (NUMERIC_FIELDS.has(field)) return 'number';
  return 'data flag (one letter of table 8)';
}

/** Field names met in every upload, as shared strings: a property key that is already interned costs less to store. */
const COMMON_FIELDS: Record<number, readonly string[]> = {
  2: ['SN', 'RS', 'RT'],
  3: ['Rtd', 'Min', 'Avg', 'Max', 'Cou'],
  4: ['Flag', 'Info', 'Data'],
  5: ['ZsRtd', 'ZsMin', 'ZsAvg', 'ZsMax', 'EFlag'],
  10: ['SampleTime'],
};

/** Whether `name` is written at `from` in `s`; a char loop, as startsWith costs a builtin call per short name. */
function isAt(s: string, from: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if (s.charCodeAt(from + k) !== name.charCodeAt(k)) return false;
  return true;
}

function knownField(s: string, from: number, to: number): string | undefined {
  const names = COMMON_FIELDS[to - from];
  if (names) for (let k = 0; k < names.length; k++) if (isAt(s, from, names[k]!)) return names[k];
  return undefined;
}

/** Is the value at [from, to) of `field` malformed? */
function badValue(field: string, s: string, from: number, to: number): boolean {
  if (NUMERIC_FIELDS.has(field)) return !isNumber(s, from, to);
  if (field === 'Flag') return to - from !== 1 || !/[A-Za-z0-9]/.test(s[from]!);
  if (field === 'SampleTime' || TIME_PARAMS.has(field)) return !allDigits(s, from, to, 14) || !isCalendarTime(s, from);
  if (INT_PARAMS.has(field)) return !allDigits(s, from, to);
  return false;
}

/** Parse state for one CP: where deviations go (strict: thrown, lenient: reported once each). */
class CpParse {
  readonly cp: Cp = { params: {}, factors: {} };
  private group: InfoGroup | undefined;
  private code = '';
  private fields: FactorFields | undefined;

  constructor(
    private readonly strict: boolean,
    private readonly relaxations: Relaxation[],
    private readonly hasInfo: boolean,
  ) {}

  relax(code: Relaxation['code'], message: string, field: string | undefined, errorCode: Hj212Error['code']): void {
    if (this.strict) throw new Hj212Error(errorCode, message, field === undefined ? {} : { field });
    if (this.relaxations.some((r) => r.code === code && r.field === field)) return;
    const r: Relaxation = { code, message };
    if (field !== undefined) r.field = field;
    this.relaxations.push(r);
  }

  put(target: Record<string, string>, code: string, field: string, value: string): void {
    if (target[field] !== undefined) {
      const key = code === '' ? field : `${code}-${field}`;
      this.relax('duplicate-field', `${key} appears twice in the CP; the last value is kept`, key, 'duplicate-field');
    }
    target[field] = value;
  }

  param(key: string, value: string): void {
    if (!isKey(key))
      throw new Hj212Error('bad-field', `"${key}" is not a valid CP field name (letters and digits)`, { field: key });
    if (this.hasInfo && key === 'PolId') {
      this.group = { polId: value, codes: {} };
      (this.cp.info ??= []).push(this.group);
      this.code = '';
      this.fields = undefined;
      return;
    }
    if (badValue(key, value, 0, value.length))
      this.relax('value-format', `${key}=${value} is not a valid ${describe(key)}`, key, 'bad-value');
    this.put(this.cp.params, '', key, value);
  }

  /** The field map of a factor (or i-code), reusing the last one while the code repeats. */
  target(code: string): FactorFields {
    if (code === this.code && this.fields) return this.fields;
    if (!isKey(code)) throw new Hj212Error('bad-field', `"${code}" is not a valid factor code`, { field: code });
    let map: Record<string, FactorFields>;
    if (this.hasInfo && INFO_CODE.test(code)) {
      if (!this.group) {
        this.group = { codes: {} };
        (this.cp.info ??= []).push(this.group);
      }
      map = this.group.codes;
    } else {
      map = this.cp.factors;
    }
    this.code = code;
    this.fields = map[code] ??= {};
    return this.fields;
  }
}

/**
 * Parses the content between `CP=&&` and `&&` in one pass. Fields with a `-` belong to a factor
 * (`w01018-Rtd`); i-codes (table B.10) belong to the PolId item they follow; the rest are named
 * fields of table 4. `//...//` values (logs, table C.40) may hold separators.
 */
export function parseCp(content: string, mode: DecodeMode, relaxations: Relaxation[]): Cp {
  return parseCpIn(content, 0, content.length, mode, relaxations);
}

/** Whether `s` holds `what` starting inside [from, to). */
function holds(s: string, what: string, from: number, to: number): boolean {
  const k = s.indexOf(what, from);
  return k >= 0 && k + what.length <= to;
}

/**
 * `parseCp` over `content[start, n)`: the decoder passes the whole data segment and the CP's bounds, so
 * the characters are read from one flat string rather than through a slice of it (measurably slower in V8).
 */
export function parseCpIn(content: string, start: number, n: number, mode: DecodeMode, relaxations: Relaxation[]): Cp {
  const hasInfo = holds(content, '-Info', start, n) && INFO_ITEM.test(content.slice(start, n));
  const st = new CpParse(mode === 'strict', relaxations, hasInfo);
  if (n === start) return st.cp;
  const first = content.charCodeAt(start);
  // A printable first character cannot be trimmed away: only then is the blank check worth a string.
  if (!(first > SPACE && first < 0x7f) && content.slice(start, n).trim() === '') {
    st.relax('spaces', 'CP holds only spaces; expected CP=&&&& for an empty data area', undefined, 'bad-cp');
    return st.cp;
  }
  const hasSpace = holds(content, ' ', start, n);
  const hasQuote = holds(content, '//', start, n);
  // Cursors to the next separators; native indexOf scans far faster than a char loop.
  let semi = -1;
  let comma = -1;
  let eqAt = -1;
  let dashAt = -1;
  let i = start;
  let sepBefore = 0;
  let prevCode: string | undefined;
  while (i <= n) {
    if (semi < i) semi = indexOr(content, ';', i, n);
    if (comma < i) comma = indexOr(content, ',', i, n);
    if (eqAt < i) eqAt = indexOr(content, '=', i, n);
    const sep = semi < comma ? semi : comma;
    if (eqAt >= sep) {
      const piece = content.slice(i, sep);
      if (piece.trim() === '')
        st.relax(
          'empty-item',
          `empty data item at CP position ${i - start}; remove the extra ";" or ","`,
          undefined,
          'bad-cp',
        );
      else st.relax('value-format', `data item "${piece}" has no "=" (expected Field=Value)`, piece.trim(), 'bad-cp');
      sepBefore = sep < n ? content.charCodeAt(sep) : 0;
      i = sep + 1;
      continue;
    }
    const j = eqAt;
    if (dashAt < i) dashAt = indexOr(content, '-', i, n);
    let dash = dashAt < j ? dashAt : -1;
    const v = j + 1;
    let e = sep;
    if (hasQuote && content.charCodeAt(v) === SLASH && content.charCodeAt(v + 1) === SLASH) {
      const close = content.indexOf('//', v + 2);
      if (close < 0 || close + 2 > n)
        throw new Hj212Error('bad-cp', `value of "${content.slice(i, j)}" opens "//" and never closes it`, {
          field: content.slice(i, j).trim(),
        });
      semi = indexOr(content, ';', close + 2, n);
      comma = indexOr(content, ',', close + 2, n);
      e = semi < comma ? semi : comma;
    }
    let keyFrom = i;
    let keyTo = j;
    let valFrom = v;
    let valTo = e;
    if (
      hasSpace &&
      (content.charCodeAt(keyFrom) === SPACE ||
        content.charCodeAt(keyTo - 1) === SPACE ||
        content.charCodeAt(valFrom) === SPACE ||
        content.charCodeAt(valTo - 1) === SPACE)
    ) {
      while (keyFrom < keyTo && content.charCodeAt(keyFrom) === SPACE) keyFrom++;
      while (keyTo > keyFrom && content.charCodeAt(keyTo - 1) === SPACE) keyTo--;
      while (valFrom < valTo && content.charCodeAt(valFrom) === SPACE) valFrom++;
      while (valTo > valFrom && content.charCodeAt(valTo - 1) === SPACE) valTo--;
      if (dash >= 0 && dash < keyFrom) dash = -1;
      st.relax(
        'spaces',
        `spaces around "${content.slice(keyFrom, keyTo)}" or its value; fields are written Field=Value with no spaces`,
        content.slice(keyFrom, keyTo),
        'bad-field',
      );
    }
    const value = content.slice(valFrom, valTo);
    let code: string;
    if (dash < 0) {
      code = '';
      st.param(content.slice(keyFrom, keyTo), value);
    } else {
      code =
        prevCode !== undefined && dash - keyFrom === prevCode.length && isAt(content, keyFrom, prevCode)
          ? prevCode
          : content.slice(keyFrom, dash);
      const field = knownField(content, dash + 1, keyTo) ?? content.slice(dash + 1, keyTo);
      if (!KNOWN_FIELDS.has(field) && !isKey(field))
        throw new Hj212Error('bad-field', `"${code}-${field}" is not a valid CP field name`, {
          field: `${code}-${field}`,
        });
      if (badValue(field, content, valFrom, valTo))
        st.relax(
          'value-format',
          `${code}-${field}=${value} is not a valid ${describe(field)}`,
          `${code}-${field}`,
          'bad-value',
        );
      st.put(st.target(code), code, field, value);
    }
    // "," groups the fields of one factor; fields of different items are separated by ";".
    if (sepBefore === COMMA && (code === '' || code !== prevCode)) {
      st.relax(
        'value-format',
        `"," joins fields of different items before ${content.slice(keyFrom, keyTo)}; separate items with ";"`,
        content.slice(keyFrom, keyTo),
        'bad-cp',
      );
    } else if (sepBefore === SEMI && code !== '' && code === prevCode) {
      // HJ 212-2017 6.3.3.1: "," separates the fields of one item, ";" the items; a ";" here splits one factor in two.
      const key = content.slice(keyFrom, keyTo);
      st.relax('factor-separator', `";" before ${key} splits the fields of ${code}; join them with ","`, key, 'bad-cp');
    }
    prevCode = code;
    sepBefore = e < n ? content.charCodeAt(e) : 0;
    i = e + 1;
  }
  return st.cp;
}

function checkValue(key: string, value: string): void {
  const quoted = value.length >= 4 && value.startsWith('//') && value.endsWith('//');
  const inner = quoted ? value.slice(2, -2) : value;
  if (/[\r\n]|&&/.test(inner) || (!quoted && /[;,=]/.test(inner)) || (quoted && inner.includes('//'))) {
    throw new Hj212Error(
      'bad-input',
      `value of ${key} contains a separator (; , = && or a line break); wrap free text as //text//`,
      { field: key },
    );
  }
  if (!isKey(key)) throw new Hj212Error('bad-input', `"${key}" is not a valid CP field name`, { field: key });
}

function factorItem(code: string, fields: FactorFields): string {
  const parts: string[] = [];
  for (const field in fields) {
    const key = `${code}-${field}`;
    const value = fields[field]!;
    checkValue(key, value);
    parts.push(`${key}=${value}`);
  }
  return parts.join(',');
}

/**
 * Builds the CP content: named fields, one item per factor, then info groups. DataTime leads, and the
 * first PolId of field info precedes the named fields that qualify it (InfoId, table C.46).
 * `wireCode` renames factor codes on the way out (2017 codes back to 2005 ones).
 */
export function buildCp(cp: Cp, wireCode: (code: string) => string = (c) => c): string {
  const items: string[] = [];
  const param = (key: string): void => {
    const value = cp.params[key]!;
    checkValue(key, value);
    items.push(`${key}=${value}`);
  };
  const polId = (group: InfoGroup): void => {
    if (group.polId === undefined) return;
    checkValue('PolId', group.polId);
    items.push(`PolId=${group.polId}`);
  };
  const codes = (group: InfoGroup): void => {
    for (const code in group.codes) {
      const item = factorItem(code, group.codes[code]!);
      if (item !== '') items.push(item);
    }
  };
  const groups = cp.info ?? [];
  if ('DataTime' in cp.params) param('DataTime');
  if (groups[0]) polId(groups[0]);
  for (const key in cp.params) if (key !== 'DataTime') param(key);
  for (const code in cp.factors) {
    const item = factorItem(wireCode(code), cp.factors[code]!);
    if (item !== '') items.push(item);
  }
  groups.forEach((group, i) => {
    if (i > 0) polId(group);
    codes(group);
  });
  return items.join(';');
}

export const emptyCp = (): Cp => ({ params: {}, factors: {} });
