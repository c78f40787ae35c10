// Pure formatting of what the dashboard shows: names, units, flags, times. No DOM here, so the unit
// tests import this file in Node and check it against strings written by hand.

const HOUR = 3_600_000;

/** Times are shown as the centre reads them: 24-hour China time (UTC+8), whatever the browser's zone. */
const TZ = 'Asia/Shanghai';
const FORMAT = new Intl.DateTimeFormat('en-CA', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const parts = (ms) => Object.fromEntries(FORMAT.formatToParts(ms).map((p) => [p.type, p.value]));

/** 2026-12-03 14:05:09 in China time. */
export function fmtTime(ms) {
  if (ms === undefined || ms === null) return '';
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * "YYYY-MM-DD HH:MM" in China time, for the time fields. They are text fields, not datetime-local
 * ones: a browser draws those in its own locale's clock (12-hour with AM/PM in an English browser).
 */
export function toInput(ms) {
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/**
 * The instant a time field names, read as China time; NaN when it is not "YYYY-MM-DD HH:MM" (a T may stand for the
 * space).
 */
export function fromInput(value) {
  const m = /^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})\s*$/.exec(value);
  return m ? Date.parse(`${m[1]}T${m[2]}:00+08:00`) : NaN;
}

/** YYYYMMDDhhmmss in China time: a time field of a request (HJ 212-2017 table 4, SystemTime, BeginTime, EndTime). */
export function hjTime(ms) {
  const p = parts(ms);
  return `${p.year}${p.month}${p.day}${p.hour}${p.minute}${p.second}`;
}

/** The pattern the time fields accept, for the browser to refuse anything else before it is sent. */
export const TIME_PATTERN = '\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}';

/** A chart's time tick: HH:MM within a day, MM-DD HH:MM over longer spans. */
export const fmtTick = (ms, spanMs) => fmtTime(ms).slice(spanMs > 24 * HOUR ? 5 : 11, 16);

/** The China-time day (YYYY-MM-DD) of an instant. */
export const chinaDay = (ms) => toInput(ms).slice(0, 10);

/**
 * Appendix B names the flow codes after the water or gas they measure (w00000 污水, a00000 废气); an
 * operator reads them as flows, as HJ 75-2017 and HJ 353-2019 call them.
 */
const FLOW_NAMES = {};
/** Appendix B's pollutant names by code, for factors the API sends no info of (filled by useLabels). */
const POLLUTANTS = {};

/** A factor's name in the language shown: appendix B's (from the API), the flow names above, else the code. */
export function factorLabel(code, info, lang) {
  const i = lang === 'en' ? 1 : 0;
  if (FLOW_NAMES[code]) return FLOW_NAMES[code][i];
  if (!info) return POLLUTANTS[code]?.[i] ?? code;
  return lang === 'en' ? info.nameEn : info.name;
}

/**
 * Flue gas flow travels in appendix B's unit, m3/s (HJ 212-2017 table B.2; the edge converts readings to
 * it), while HJ 75-2017 and the centres' reports give 烟气流量 in m3/h: shown as m3/h, times 3600.
 */
const SHOWN_AS = { a00000: { from: 'm3/s', unit: 'm3/h', factor: 3600 } };

/** The unit a factor's values are shown in, in the language shown (appendix B's symbol, 无量纲 in Chinese). */
export function unitLabel(code, unit, lang) {
  const shown = SHOWN_AS[code]?.from === unit ? SHOWN_AS[code].unit : unit;
  if (!shown) return '';
  if (lang === 'en') return shown;
  return ZH_UNITS[shown] ?? shown;
}

/** The symbols whose Chinese reading differs (HJ 212-2017 appendix B prints 无量纲, [色]度, 个/升). */
const ZH_UNITS = {};

/** A value as shown: in the unit unitLabel names, rounded to 3 decimals, '' when absent. */
export function valueShown(code, unit, v) {
  if (v === undefined || v === null) return '';
  return num(v * shownFactor(code, unit));
}

/** What a value in `unit` is multiplied by to be in the unit shown (1 but for flue gas flow in m3/s). */
export const shownFactor = (code, unit) => (SHOWN_AS[code]?.from === unit ? SHOWN_AS[code].factor : 1);

export const num = (v) => (v === undefined || v === null ? '' : String(Math.round(v * 1000) / 1000));
export const pct = (r) => `${(r * 100).toFixed(1)}%`;

/** The data flags of HJ 212-2017 table 8, short names for a legend (filled by useLabels). */
export const FLAGS = {};
const ROLES = {};
const MARK_REASONS = {};

/**
 * Takes the names and units from the server's one home of them (cloud/api/labels.ts, served as the
 * module /ui/labels.js): app.js hands them over before the first page is drawn.
 */
export function useLabels(labels) {
  Object.assign(FLOW_NAMES, labels.flows);
  Object.assign(ZH_UNITS, labels.zhUnits);
  Object.assign(FLAGS, labels.flags);
  Object.assign(ROLES, labels.roles);
  Object.assign(MARK_REASONS, labels.markReasons);
  Object.assign(POLLUTANTS, labels.pollutants);
}

/** 故障, 停运 …: a review mark's reason (cloud/marks.ts). */
export const markReasonLabel = (reason, lang) => MARK_REASONS[reason]?.[lang === 'en' ? 1 : 0] ?? reason;

/** "N 正常" for a flag letter; an unknown letter stands alone. */
export const flagLabel = (flag, lang) => (FLAGS[flag] ? `${flag} ${FLAGS[flag][lang === 'en' ? 1 : 0]}` : flag);

export const roleLabel = (role, lang) => ROLES[role]?.[lang === 'en' ? 1 : 0] ?? role;

/** "ops（管理员）": who is logged in and with which role. */
export const whoLabel = (name, role, lang) => {
  const r = ROLES[role]?.[lang === 'en' ? 1 : 0] ?? role;
  return lang === 'en' ? `${name} (${r})` : `${name}（${r}）`;
};

/**
 * The end of a default range: the latest data time shown, at the end of its hour for hour data and of
 * its day for day data, so the newest record sits inside the range rather than the wall clock's.
 */
export function rangeEnd(latestMs, kind) {
  if (kind === 'hour') return Math.floor(latestMs / HOUR) * HOUR + HOUR;
  if (kind === 'day') {
    const dayStart = Date.parse(`${chinaDay(latestMs)}T00:00:00+08:00`);
    return dayStart + 24 * HOUR;
  }
  return latestMs + 60_000;
}

/** The end of a station's default range of `kind` (rangeEnd): at its newest record, or now when it has none. */
export const stationRangeEnd = (station, kind) =>
  rangeEnd(Math.max(0, ...Object.values(station.latest).map((l) => l.time)) || Date.now(), kind);

/**
 * Runs `run` at most once per `periodMs` however often `poke` is called: at once on the first poke
 * after a quiet period (leading), and once more at the end of the period if pokes came during it or
 * while a run was in flight (trailing), so the last change is always shown. `timer` is injected
 * ({ now, after(ms, fn) }) so that the unit tests drive the clock.
 */
export function throttled(run, periodMs, timer) {
  let last = -Infinity;
  let busy = false;
  let wanted = false;
  let scheduled = false;
  const go = async () => {
    scheduled = false;
    wanted = false;
    busy = true;
    last = timer.now();
    try {
      await run();
    } finally {
      busy = false;
      if (wanted) plan();
    }
  };
  const plan = () => {
    if (scheduled) return;
    scheduled = true;
    timer.after(Math.max(0, last + periodMs - timer.now()), go);
  };
  return function poke() {
    wanted = true;
    if (busy || scheduled) return;
    if (timer.now() - last >= periodMs) go();
    else plan();
  };
}

/**
 * Whether a gas chart's values are 折算 (converted to the reference O2, HJ 75-2017 6.3 / HJ 212-2017
 * ZsRtd, ZsAvg) or 实测: converted where the logger sent Zs values or the cloud judged a value other
 * than the measured one. undefined with no points: nothing to tell.
 */
export function gasBasis(points) {
  if (points.length === 0) return undefined;
  const raw = (p) => p.values[p.kind === 'rtd' ? 'Rtd' : 'Avg'];
  const zs = (p) => p.values[`Zs${p.kind === 'rtd' ? 'Rtd' : 'Avg'}`];
  const converted = points.some(
    (p) => zs(p) !== undefined || (p.judged !== undefined && raw(p) !== undefined && p.judged.value !== raw(p)),
  );
  return converted ? 'converted' : 'measured';
}

/**
 * Whether a station matches what is typed into the stations search: part of its outlet, enterprise or
 * region name, or of its MN (letters in any case); nothing typed matches every station.
 */
export function stationMatches(s, typed) {
  const needle = typed.trim().toLowerCase();
  return needle === '' || [s.outlet, s.enterprise, s.region ?? '', s.mn].some((x) => x.toLowerCase().includes(needle));
}

/**
 * Whether an account acts on what it sees (acknowledges, marks, sends requests to loggers): an operator or admin
 * of the centre or an authority. An enterprise user reads its own data; the API refuses it the rest (scopeGuard).
 */
export const acts = (who) => !!who && who.role !== 'read' && who.enterprise === undefined;

/** Whether an account is the centre's (no enterprise, no region): only the centre manages accounts. */
export const isCentre = (who) => !!who && who.enterprise === undefined && who.region === undefined;

/**
 * An API refusal split into the fields it names:
 * "400: body.items.1.method: give the method (监测方法); body.lab: …" →
 * [{ path: ['items', '1', 'method'], reason: 'give the method (监测方法)' }, { path: ['lab'], … }].
 * A refusal that names no field is one part with path null.
 */
export function refusalParts(message) {
  const text = String(message).replace(/^\d{3}: /, '');
  const parts = text.split(/; (?=(?:body|query|params)\.)/);
  return parts.map((p) => {
    const m = /^(?:body|query|params)\.([\w.]+): ([\s\S]*)$/.exec(p);
    return m ? { path: m[1].split('.'), reason: m[2] } : { path: null, reason: p };
  });
}
