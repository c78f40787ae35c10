/* global setTimeout */
import { api } from './api.js';
import { acts, fmtTime, fromInput, hjTime } from './format.js';
import { h, label, patch, select, table, timeInput } from './dom.js';
import { factorName, lang, t } from './i18n.js';

const HOUR = 3_600_000;
/** HJ 212-2017 table 4: the minute intervals a logger takes. */
const MIN_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const pol = { name: 'PolId', type: 'factor' };
const range = [
  { name: 'BeginTime', type: 'time', back: 2 * HOUR },
  { name: 'EndTime', type: 'time', back: 0 },
];

/**
 * The requests the panel sends (POST /stations/{mn}/commands takes them, cloud/commands/requests.ts),
 * with their fields; `changes`: the request changes the logger or the analyzer (a setting, a
 * calibration, a sample taken), so it is sent only after a confirmation. 1012 carries the centre's
 * time (the cloud's clock) at the moment it is confirmed (C.3).
 */
const FORMS = {
  1011: { fields: [] },
  1012: { fields: [], changes: true, centreTime: true },
  1061: { fields: [] },
  1062: { fields: [{ name: 'RtdInterval', type: 'number', min: 30, max: 3600 }], changes: true },
  1063: { fields: [] },
  1064: { fields: [{ name: 'MinInterval', type: 'choice', options: MIN_INTERVALS }], changes: true },
  2031: { fields: range },
  2051: { fields: range },
  2061: { fields: range },
  3011: { fields: [pol], changes: true },
  3012: { fields: [pol], changes: true },
  3013: { fields: [pol], changes: true },
  3014: { fields: [pol], changes: true },
  3015: { fields: [], changes: true },
  3016: {
    fields: [
      pol,
      { name: 'CstartTime', type: 'text', pattern: '([01]\\d|2[0-3])[0-5]\\d[0-5]\\d', placeholder: 'hhmmss' },
      { name: 'Ctime', type: 'number', min: 1, max: 24 },
    ],
    changes: true,
  },
  3017: { fields: [pol], changes: true },
  3018: { fields: [pol], changes: true },
  3019: { fields: [pol], changes: true },
  3020: {
    fields: [
      { ...pol, optional: true },
      { name: 'InfoId', type: 'text', pattern: 'i\\d{5}', placeholder: 'i13004' },
    ],
  },
};

/** Table 9's names (and tables 6 and 7) from the API: one home for them, protocol/codes/. */
let namesOnce;
const commandNames = () => (namesOnce ??= api('/command-names'));
const named = (list, key) => new Map(list.map((x) => [String(x[key]), lang() === 'en' ? x.nameEn : x.name]));

/** A field of a request's form; `station` gives the factors an analyzer request can address. */
function field(f, station) {
  const text = t(f.name === 'PolId' ? 'control.factor' : f.name);
  if (f.type === 'factor')
    return label(
      text,
      select(
        f.name,
        [...(f.optional ? [['', '—']] : []), ...station.factors.map((c) => [c, factorName(station.limits[c], c)])],
        f.optional ? '' : station.factors[0],
      ),
    );
  if (f.type === 'choice')
    return label(
      text,
      select(
        f.name,
        f.options.map((o) => [String(o), String(o)]),
        String(f.options[0]),
      ),
    );
  if (f.type === 'time') return label(text, timeInput(f.name, Date.now() - f.back));
  const attrs = { name: f.name, required: true, inputmode: 'numeric', size: 8 };
  if (f.type === 'number') Object.assign(attrs, { type: 'number', min: f.min, max: f.max, step: 1 });
  else Object.assign(attrs, { type: 'text', pattern: f.pattern, placeholder: f.placeholder });
  return label(text, h('input', attrs));
}

/** The body of the request as the form holds it; times read as China time (HJ 212-2017 table 4). */
function bodyOf(cn, form) {
  const body = { cn };
  for (const f of FORMS[cn].fields) {
    const v = form.elements[f.name].value.trim();
    if (f.optional && v === '') continue;
    if (f.type === 'number' || f.type === 'choice') body[f.name] = Number(v);
    else if (f.type === 'time') body[f.name] = hjTime(fromInput(v));
    else body[f.name] = v;
  }
  return body;
}

const paramsText = (params) =>
  Object.entries(params)
    .filter(([k]) => k !== 'QN')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/**
 * What the logger answered: 9011 with its QnRtn, 9012 with its ExeRtn, the data uploads of the request's CN counted.
 */
function answersOf(c, names) {
  const byCn = new Map();
  for (const a of c.answers) byCn.set(a.cn, [...(byCn.get(a.cn) ?? []), a]);
  return [...byCn].map(([cn, list]) => {
    const last = list[list.length - 1];
    let detail = '';
    if (cn === '9011') detail = `QnRtn=${last.cp.params.QnRtn} ${names.qnRtn.get(last.cp.params.QnRtn) ?? ''}`;
    else if (cn === '9012') detail = `ExeRtn=${last.cp.params.ExeRtn} ${names.exeRtn.get(last.cp.params.ExeRtn) ?? ''}`;
    else if (list.length > 1) detail = `×${list.length} ${t('control.records')}`;
    else detail = paramsText(Object.fromEntries(Object.entries(last.cp.params).filter(([k]) => k !== 'DataTime')));
    return h(
      'span',
      { class: 'answer', 'data-cn': cn },
      `${cn} ${names.answers.get(cn) ?? ''}`,
      detail ? ` ${detail}` : '',
    );
  });
}

/**
 * 反控: a form to send one of FORMS to the station's logger (operators and admins; a state-changing request
 * after a confirmation), and its recent requests with their state and answers. The form is made once
 * and never re-rendered by a refresh: only the list is patched, row by row (keyed by request id).
 */
export async function controlPanel({ station, who }) {
  const mn = station.mn;
  const raw = await commandNames();
  const names = {
    requests: named(raw.requests, 'cn'),
    answers: named(raw.answers, 'cn'),
    exeRtn: named(raw.exeRtn, 'code'),
    qnRtn: named(raw.qnRtn, 'code'),
  };
  const cmdLabel = (cn) => `${names.requests.get(cn) ?? cn}（${cn}）`;
  const rows = h('tbody');
  const list = table(
    [
      t('id'),
      t('control.sentAt'),
      t('control.command'),
      t('control.params'),
      t('control.by'),
      t('state'),
      t('control.answers'),
    ],
    [],
    { class: 'commands' },
  );
  list.querySelector('tbody').replaceWith(rows);

  const refreshList = async () => {
    /** @type {import('./api.js').CommandView[]} */
    const recent = await api(`/stations/${encodeURIComponent(mn)}/commands?limit=20`);
    const next = recent.map((c) =>
      h(
        'tr',
        { 'data-command': c.id, 'data-state': c.state },
        h('td', { class: 'num' }, c.id),
        h('td', {}, fmtTime(c.sentAt)),
        h('td', { class: 'cmd-name' }, cmdLabel(c.cn)),
        h('td', { class: 'cmd-params' }, paramsText(c.cp.params)),
        h('td', {}, c.by),
        h('td', {}, h('span', { class: `cmd-state state-${c.state}` }, t(`cmd.${c.state}`))),
        h('td', { class: 'cmd-answers' }, answersOf(c, names)),
      ),
    );
    patch(rows, next.length ? next : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('control.none')))]);
  };

  const el = h('section', { class: 'control' }, h('h3', {}, t('control')));
  if (!acts(who)) {
    el.append(h('p', { class: 'muted' }, t('control.readOnly')));
  } else {
    const order = raw.requests.map((r) => r.cn).filter((cn) => FORMS[cn]);
    const choice = select(
      'cn',
      order.map((cn) => [cn, cmdLabel(cn)]),
      order[0],
    );
    const fields = h('span', { class: 'fields' });
    const note = h('span', { class: 'muted' });
    const confirm = h('div', { class: 'confirm', hidden: true });
    const error = h('p', { class: 'error' });
    const form = h(
      'form',
      { class: 'filters control-form' },
      label(t('control.command'), choice),
      fields,
      note,
      h('button', { type: 'submit' }, t('control.send')),
    );
    const showFields = () => {
      const cn = choice.value;
      fields.replaceChildren(...FORMS[cn].fields.map((f) => field(f, station)));
      note.textContent = FORMS[cn].centreTime ? t('control.centreTime') : '';
      confirm.hidden = true;
    };
    choice.addEventListener('change', showFields);
    showFields();

    const send = async (cn) => {
      error.textContent = '';
      try {
        const body = bodyOf(cn, form);
        // The centre's time is the cloud's clock (GET /overview's now), not this browser's: the one the
        // cloud dates and judges uploads by (a demo runs it warped), read as the request goes.
        if (FORMS[cn].centreTime) body.SystemTime = hjTime((await api('/overview')).now);
        const record = await api(`/stations/${encodeURIComponent(mn)}/commands`, { method: 'POST', json: body });
        // No answer within the deadline makes it timed-out on the next read: read once more then.
        setTimeout(() => refreshList().catch(() => {}), record.deadline - record.sentAt + 500);
      } catch (e) {
        error.textContent = e.message;
      }
      await refreshList();
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const cn = choice.value;
      if (!FORMS[cn].changes) return send(cn);
      const body = bodyOf(cn, form);
      const shown = paramsText(Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'cn')));
      confirm.replaceChildren(
        h('span', {}, t('control.ask'), ' ', h('strong', {}, cmdLabel(cn)), shown ? ` ${shown}` : ''),
        h(
          'button',
          {
            type: 'button',
            class: 'confirm-send',
            onclick: () => {
              confirm.hidden = true;
              send(cn);
            },
          },
          t('control.confirm'),
        ),
        h(
          'button',
          { type: 'button', class: 'confirm-cancel', onclick: () => (confirm.hidden = true) },
          t('control.cancel'),
        ),
      );
      confirm.hidden = false;
    });
    el.append(form, confirm, error);
  }
  el.append(h('h4', {}, t('control.recent')), list);
  await refreshList();
  return { el, refresh: refreshList };
}
