import { Hj212Error } from './errors.js';

/** HJ 212 time stamps are local time without a zone; in China that is UTC+8. */
export const CHINA_UTC_OFFSET_MINUTES = 480;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function shifted(date: Date, offsetMinutes: number): Date {
  return new Date(date.getTime() + offsetMinutes * 60_000);
}

/** `YYYYMMDDhhmmss` in the outlet's local time. */
export function formatHjTime(date: Date, offsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  const d = shifted(date, offsetMinutes);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** A QN: `YYYYMMDDhhmmsszzz` in local time. */
export function makeQn(date: Date = new Date(), offsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  return formatHjTime(date, offsetMinutes) + pad(shifted(date, offsetMinutes).getUTCMilliseconds(), 3);
}

/** Parses `YYYYMMDDhhmmss` (or a 17-digit QN) in local time; rejects impossible dates by name. */
export function parseHjTime(text: string, offsetMinutes = CHINA_UTC_OFFSET_MINUTES, field = 'DataTime'): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(text);
  if (!m) throw new Hj212Error('bad-value', `${field}=${text} is not YYYYMMDDhhmmss`, { field });
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(utc);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new Hj212Error('bad-value', `${field}=${text} is not a valid date and time`, { field });
  }
  return new Date(utc - offsetMinutes * 60_000);
}

/** A QN `ms` milliseconds later, as split packets number theirs (table C.49). */
export function qnPlus(qn: string, ms: number, offsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  return makeQn(new Date(parseHjTime(qn, offsetMinutes, 'QN').getTime() + ms), offsetMinutes);
}

/** A CP value as a number, or undefined when absent or not numeric. */
export function num(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
