/* global location, URLSearchParams */
import { api } from './api.js';
import { fmtTime, fromInput, h, label, num, patch, select, table, timeInput } from './dom.js';
import { factorName, t } from './i18n.js';

const TYPES = ['exceedance', 'warning', 'negative', 'zero', 'constant', 'offline', 'missing-hour', 'password-guessing'];

function ackCell(a, who, refresh) {
  if (a.ack) return h('div', { class: 'ack' }, `${a.ack.by} · ${fmtTime(a.ack.at)}`, h('br'), a.ack.comment);
  if (who.role !== 'admin') return '';
  const input = h('input', { name: 'comment', required: true, placeholder: t('comment') });
  const form = h('form', { class: 'ack-form' }, input, h('button', { type: 'submit' }, t('acknowledge')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await api(`/alarms/${a.id}/ack`, { method: 'POST', json: { comment: input.value } });
    await refresh();
  });
  return form;
}

/** Alarm episodes, open and closed, filtered by kind, station, state and opening time (#/alarms?type&mn&state&from&to). */
export async function alarmsView({ root, query, who }) {
  const stations = /** @type {import('./api.js').StationView[]} */ (await api('/stations'));
  const outlet = new Map(stations.map((s) => [s.mn, s]));
  const q = Object.fromEntries(['type', 'mn', 'state', 'from', 'to'].map((k) => [k, query.get(k) ?? '']));
  const form = h(
    'form',
    { class: 'filters' },
    label(t('type'), select('type', [['', t('all')], ...TYPES.map((x) => [x, t(`alarm.${x}`)])], q.type)),
    label(
      t('station'),
      select('mn', [['', t('all')], ...stations.map((s) => [s.mn, `${s.enterprise} ${s.outlet}`])], q.mn),
    ),
    label(
      t('state'),
      select(
        'state',
        [
          ['', t('all')],
          ['open', t('open')],
          ['closed', t('closed')],
        ],
        q.state,
      ),
    ),
    label(t('from'), timeInput('from', q.from ? Number(q.from) : undefined)),
    label(t('to'), timeInput('to', q.to ? Number(q.to) : undefined)),
    h('button', { type: 'submit' }, t('apply')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const k of ['type', 'mn', 'state']) if (form[k].value) next.set(k, form[k].value);
    for (const k of ['from', 'to']) if (form[k].value) next.set(k, String(fromInput(form[k].value)));
    location.hash = `#/alarms?${next}`;
  });
  const list = h('div');
  const refresh = async () => {
    const filter = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== ''));
    const alarms = /** @type {import('./api.js').AlarmView[]} */ (await api(`/alarms?${filter}`)).reverse();
    const rows = alarms.map((a) =>
      h(
        'tr',
        { 'data-alarm': a.id, 'data-type': a.type, class: a.closedAt ? 'closed' : 'open' },
        h('td', { class: 'num' }, a.id),
        h('td', {}, h('a', { href: `#/station/${encodeURIComponent(a.mn)}` }, outlet.get(a.mn)?.outlet ?? a.mn)),
        h('td', { class: a.closedAt ? undefined : a.type === 'warning' ? 'warn' : 'exceed' }, t(`alarm.${a.type}`)),
        h('td', { class: 'factor' }, a.factor ? factorName(outlet.get(a.mn)?.limits[a.factor], a.factor) : ''),
        h('td', {}, a.kind ? t(a.kind) : ''),
        h('td', {}, fmtTime(a.openedAt)),
        h(
          'td',
          { class: 'closed-at' },
          a.closedAt ? fmtTime(a.closedAt) : h('span', { class: 'exceed' }, t('open')),
          a.closedBy ? h('span', { class: 'closed-by' }, ` (${t(`closedBy.${a.closedBy}`)})`) : '',
        ),
        h('td', { class: 'num' }, num(a.value)),
        h('td', { class: 'num' }, num(a.limit)),
        h('td', { class: 'num' }, num(a.peak ?? a.multiple)),
        h('td', { class: 'ack-cell' }, ackCell(a, who, refresh)),
      ),
    );
    // Patched, not replaced: a comment being typed into an open alarm's row survives live updates.
    patch(list, [
      table(
        [
          t('id'),
          t('outlet'),
          t('type'),
          t('factor'),
          t('kind'),
          t('opened'),
          t('closedAt'),
          t('value'),
          t('limit'),
          t('multiple'),
          t('ack'),
        ],
        rows,
        { class: 'alarms' },
      ),
    ]);
  };
  await refresh();
  root.replaceChildren(h('h2', {}, t('alarms')), form, list);
  return { refresh };
}
