import { Hj212Error } from './errors.js';

/** HJ 212 time stamps are local time without a zone; in China that is UTC+8. */
export const CHINA_UTC_OFFSET_MINUTES = 480;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** An offset east of UTC in minutes as ISO 8601 writes it: 480 is `+08:00`, -90 is `-01:30`. */
export function isoOffset(offsetMinutes: number): string {
  const abs = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** China's offset, `+08:00`, for ISO 8601 times in the zone of HJ 212 time stamps. */
export const CHINA_ISO_OFFSET = isoOffset(CHINA_UTC_OFFSET_MINUTES);

/** The China day (YYYY-MM-DD) an instant falls on: HJ 212's days are local days, UTC+8. */
export const chinaDay = (ms: number): string =>
  new Date(ms + CHINA_UTC_OFFSET_MINUTES * 60_000).toISOString().slice(0, 10);

function shifted(date: Date, offsetMinutes: number): Date {
  return new Date(date.getTime() + offsetMinutes * 60_000);
}

/** `YYYYMMDDhhmmss` in the outlet's local time. */
export function formatHjTime(date: Date, offsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  const d = shifted(date, offsetMinutes);
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}` +
    `${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`
  );
}

/** A QN: `YYYYMMDDhhmmsszzz` in local time. */
export function makeQn(date: Date = new Date(), offsetMinutes = CHINA_UTC_OFFSET_MINUTES): string {
  return formatHjTime(date, offsetMinutes) + pad(shifted(date, offsetMinutes).getUTCMilliseconds(), 3);
}

const two = (s: string, at: number): number => (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);

/**
 * Whether the 14 digits at `from` (already known to be digits) name a real date and time: month 1-12,
 * a day the month has (29 February in leap years only), hh 00-23, mm and ss 00-59. Checked without
 * allocating, since every upload carries DataTime.
 */
export function isCalendarTime(s: string, from = 0): boolean {
  const year = two(s, from) * 100 + two(s, from + 2);
  const month = two(s, from + 4);
  const day = two(s, from + 6);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days && two(s, from + 8) <= 23 && two(s, from + 10) <= 59 && two(s, from + 12) <= 59;
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
