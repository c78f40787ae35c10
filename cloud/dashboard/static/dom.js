/* global document, location, Node */
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

export { fmtTime, fromInput, toInput, num, pct } from './format.js';
import { api } from './api.js';
import { chinaDay, TIME_PATTERN, toInput } from './format.js';
import { t } from './i18n.js';

/** A 24-hour China-time field (see toInput); empty when `ms` is absent. */
export const timeInput = (name, ms) =>
  h('input', {
    type: 'text',
    name,
    value: ms === undefined ? '' : toInput(ms),
    pattern: TIME_PATTERN,
    placeholder: 'YYYY-MM-DD HH:MM',
    size: 16,
    inputmode: 'numeric',
  });
export const today = () => chinaDay(Date.now());

/** Which row or block a node is, for patch(): the data-* key the views set on rows, sections and charts. */
const keyOf = (n) =>
  n.nodeType === 1
    ? (n.dataset.alarm ??
      n.dataset.supervision ??
      n.dataset.command ??
      n.dataset.mn ??
      n.dataset.enterprise ??
      n.dataset.factor)
    : undefined;

/**
 * Makes `parent`'s children look like `next` while touching only what differs: a node equal to its
 * new version stays (with what is typed into it, its focus and its listeners), rows are matched by
 * their key so a new row above does not shift what an operator is typing into another alarm's row,
 * and the page does not jump. Live updates go through here instead of replacing the view.
 */
export function patch(parent, next) {
  const old = [...parent.childNodes];
  const byKey = new Map(old.filter((n) => keyOf(n) !== undefined).map((n) => [keyOf(n), n]));
  const unkeyed = old.filter((n) => keyOf(n) === undefined);
  const kept = next.map((n) => {
    const k = keyOf(n);
    const o = k === undefined ? unkeyed.shift() : byKey.get(k);
    if (k !== undefined) byKey.delete(k);
    if (!o) return n;
    if (o.isEqualNode(n)) return o;
    if (
      o.nodeType === 1 &&
      n.nodeType === 1 &&
      o.tagName === n.tagName &&
      !['INPUT', 'SELECT', 'TEXTAREA'].includes(o.tagName)
    ) {
      for (const a of [...o.attributes]) if (!n.hasAttribute(a.name)) o.removeAttribute(a.name);
      for (const a of [...n.attributes]) if (o.getAttribute(a.name) !== a.value) o.setAttribute(a.name, a.value);
      patch(o, [...n.childNodes]);
      return o;
    }
    return n;
  });
  const keep = new Set(kept);
  for (const o of old) if (!keep.has(o)) o.remove();
  // Only nodes out of place move; the one being typed into stays where it is.
  kept.forEach((n, i) => {
    if (parent.childNodes[i] !== n) parent.insertBefore(n, parent.childNodes[i] ?? null);
  });
}

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

/** A page's status line (role status: read out by screen readers) and `say`, which sets it, red for a refusal. */
export function statusLine() {
  const message = h('p', { class: 'message', role: 'status' });
  const say = (text, error = false) => {
    message.textContent = text;
    message.className = error ? 'message error' : 'message';
  };
  return { message, say };
}

/** A station's page's picker of the stations the account sees: choosing one opens `#/page/MN`. */
function stationPicker(stations, mn, page) {
  const pick = select(
    'mn',
    stations.map((s) => [s.mn, `${s.enterprise} · ${s.outlet}`]),
    mn,
  );
  pick.addEventListener('change', () => (location.hash = `#/${page}/${encodeURIComponent(pick.value)}`));
  return pick;
}

/**
 * What a page of one outlet (#/PAGE/MN) opens with: the stations the account sees, the outlet the address
 * names (the first one when it names none; an error when the account does not see it) and its API path, the
 * picker that opens another outlet's PAGE, and the page's status line.
 */
export async function outletPage(page, args) {
  /** @type {import('./api.js').StationView[]} */
  const stations = await api('/stations');
  const mn = args[0] ?? stations[0]?.mn;
  const station = stations.find((x) => x.mn === mn);
  if (!station) throw new Error(`MN ${mn}?`);
  const path = `/stations/${encodeURIComponent(mn)}`;
  return { stations, mn, station, path, pick: stationPicker(stations, mn, page), ...statusLine() };
}

/**
 * A submission's review controls (a registration, a plan): a comment and 通过 / 驳回, each calling
 * `decide(decision, comment)`; the API takes the decision once and asks a rejection's reason.
 */
export function reviewActions(decide) {
  const comment = h('input', { name: 'comment', maxlength: 500, size: 14, placeholder: t('registration.comment') });
  return h(
    'span',
    { class: 'review-actions' },
    comment,
    h(
      'button',
      { type: 'button', class: 'approve', onclick: () => decide('approve', comment.value.trim()) },
      t('registration.approve'),
    ),
    h(
      'button',
      { type: 'button', class: 'reject', onclick: () => decide('reject', comment.value.trim()) },
      t('registration.reject'),
    ),
  );
}
