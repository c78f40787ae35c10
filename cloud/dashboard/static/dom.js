/* global document, Node */
/** h('td', {class: 'num'}, 'text', childNode): small DOM builder; strings become text nodes, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Times are shown as the centre reads them: China time (UTC+8), whatever the browser's zone. */
const TZ = 'Asia/Shanghai';
const parts = (ms) =>
  Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: TZ,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );

export function fmtTime(ms) {
  if (ms === undefined || ms === null) return '';
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** YYYY-MM-DDTHH:MM for a datetime-local input, in China time. */
export function toInput(ms) {
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

export const fromInput = (value) => Date.parse(`${value}:00+08:00`);
export const today = () => toInput(Date.now()).slice(0, 10);
export const pct = (r) => `${(r * 100).toFixed(1)}%`;
export const num = (v) => (v === undefined || v === null ? '' : String(Math.round(v * 1000) / 1000));

/** Table with a header row of labels. */
export const table = (headers, rows, attrs = {}) =>
  h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  );

export const label = (text, input) => h('label', {}, text, input);

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
  );
}
