/* global location, URLSearchParams */
import { api } from './api.js';
import { acts } from './format.js';
import { fmtTime, fromInput, h, label, num, patch, select, statusLine, table, timeInput } from './dom.js';
import { factorName, refusal, t } from './i18n.js';

const TYPES = [
  'exceedance',
  'warning',
  'negative',
  'zero',
  'constant',
  'offline',
  'missing-hour',
  'treatment-stopped',
  'instrument-mismatch',
  'password-guessing',
];
/** The tabs above the list: 超标 and 预警 apart, as a duty operator works through them. */
const TABS = ['', 'exceedance', 'warning', 'missing-hour'];
const FOLLOW_UP_STATES = ['notified', 'handled'];
/**
 * The alarms sent as supervision items (电子督办): an exceedance as 超标, a missing hour or offline as
 * 数据缺失.
 */
const SUPERVISED = ['exceedance', 'missing-hour', 'offline'];

/** For the centre and the authorities: 督办 sends the alarm to the enterprise with a deadline (POST /supervision). */
function superviseCell(a, who, say) {
  if (!acts(who) || !SUPERVISED.includes(a.type)) return '';
  // Typed by the person (no default that changes by the minute: a live patch keeps what is typed).
  const deadline = timeInput('deadline');
  const form = h(
    'form',
    { class: 'supervise-form' },
    label(t('supervision.deadline'), deadline),
    h('button', { type: 'submit', class: 'supervise' }, t('supervision.fromAlarm')),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ms = fromInput(form.elements.deadline.value);
    // A missing hour is one event of its factors' alarms: the first one gives the station and the hour.
    const alarmId = a.type === 'missing-hour' ? (a.factors[0]?.alarmId ?? a.id) : a.id;
    try {
      const item = await api('/supervision', {
        method: 'POST',
        json: {
          alarmId,
          deadline: Number.isNaN(ms) ? form.elements.deadline.value : new Date(ms).toISOString(),
        },
      });
      say(t('supervision.fromAlarmSent', { alarm: a.id, id: item.id }));
    } catch (err) {
      say(refusal(err), true);
    }
  });
  return form;
}

function ackCell(a, who, refresh) {
  if (a.ack) return h('div', { class: 'ack' }, `${a.ack.by} · ${fmtTime(a.ack.at)}`, h('br'), a.ack.comment);
  if (!acts(who)) return '';
  const input = h('input', { name: 'comment', required: true, placeholder: t('comment') });
  const form = h('form', { class: 'ack-form' }, input, h('button', { type: 'submit' }, t('acknowledge')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await api(`/alarms/${a.id}/ack`, { method: 'POST', json: { comment: input.value } });
    await refresh();
  });
  return form;
}

/**
 * The follow-up state (已通知企业 / 已处理) with its whole trail, and for an operator or admin the form to
 * change it.
 */
function followUpCell(a, who, refresh) {
  const trail = h(
    'ol',
    { class: 'trail' },
    a.followUps.map((f) =>
      h(
        'li',
        { 'data-state': f.state },
        h('span', { class: `badge follow-up ${f.state}` }, t(`followUp.${f.state}`)),
        ` ${f.by} · ${fmtTime(f.at)} · `,
        h('span', { class: 'trail-comment' }, f.comment),
      ),
    ),
  );
  if (!acts(who)) return trail;
  const state = select(
    'state',
    FOLLOW_UP_STATES.map((s) => [s, t(`followUp.${s}`)]),
    a.followUps.length ? 'handled' : 'notified',
  );
  const input = h('input', { name: 'followUpComment', required: true, placeholder: t('comment') });
  const form = h('form', { class: 'follow-up-form' }, state, input, h('button', { type: 'submit' }, t('followUp.set')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Read from the form as it is now: a live patch may have put a new select (its default follows the trail) in it.
    const { state: chosen, followUpComment: comment } = form.elements;
    await api(`/alarms/${a.id}/follow-ups`, { method: 'POST', json: { state: chosen.value, comment: comment.value } });
    comment.value = '';
    await refresh();
  });
  return [trail, form];
}

/** The factors of an event by name; a missing hour's factors each say whether they were back-filled. */
function factorsCell(a, info) {
  return a.factors.map((f) =>
    h(
      'span',
      { class: 'factor-item', 'data-factor': f.factor },
      h('span', { class: 'factor-name' }, factorName(info?.limits[f.factor], f.factor)),
      a.type === 'missing-hour' && f.closedBy ? h('span', { class: 'closed-by' }, t(`closedBy.${f.closedBy}`)) : '',
    ),
  );
}

function closedCell(a) {
  if (!a.closedAt) return h('span', { class: 'exceed' }, t('open'));
  return [
    fmtTime(a.closedAt),
    a.closedBy ? h('span', { class: 'closed-by' }, ` (${t(`closedBy.${a.closedBy}`)})`) : '',
  ];
}

/**
 * Alarm events, newest first, one row per event (a missing hour is one row listing its factors),
 * filtered by kind, station, state and opening time (#/alarms?type&mn&state&from&to).
 */
export async function alarmsView({ root, query, who }) {
  const stations = /** @type {import('./api.js').StationView[]} */ (await api('/stations'));
  const outlet = new Map(stations.map((s) => [s.mn, s]));
  const q = Object.fromEntries(['type', 'mn', 'state', 'from', 'to'].map((k) => [k, query.get(k) ?? '']));
  const tabs = h(
    'div',
    { class: 'tabs' },
    TABS.map((type) => {
      const next = new URLSearchParams(Object.entries({ ...q, type }).filter(([, v]) => v !== ''));
      return h(
        'a',
        { href: `#/alarms?${next}`, class: type === q.type ? 'active' : undefined, 'data-tab': type || 'all' },
        type ? t(`alarm.${type}`) : t('all'),
      );
    }),
  );
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
  const { message, say } = statusLine();
  const list = h('div');
  const refresh = async () => {
    const filter = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== ''));
    const events = /** @type {import('./api.js').AlarmEventView[]} */ (await api(`/alarm-events?${filter}`));
    const rows = events.map((a) => {
      const last = a.followUps.at(-1);
      return h(
        'tr',
        {
          'data-alarm': a.id,
          'data-type': a.type,
          'data-follow-up': last?.state,
          class: a.closedAt ? 'closed' : 'open',
        },
        h('td', { class: 'num' }, a.id),
        h('td', {}, h('a', { href: `#/station/${encodeURIComponent(a.mn)}` }, outlet.get(a.mn)?.outlet ?? a.mn)),
        h('td', { class: a.closedAt ? undefined : a.type === 'warning' ? 'warn' : 'exceed' }, t(`alarm.${a.type}`)),
        h('td', { class: 'factor' }, factorsCell(a, outlet.get(a.mn))),
        h('td', {}, a.kind ? t(a.kind) : ''),
        h('td', { class: 'opened-at' }, fmtTime(a.openedAt)),
        h('td', { class: 'raised-at' }, a.raisedAt ? fmtTime(a.raisedAt) : ''),
        h('td', { class: 'closed-at' }, closedCell(a)),
        h('td', { class: 'num' }, num(a.value)),
        h('td', { class: 'num' }, num(a.limit)),
        h('td', { class: 'num' }, num(a.peak ?? a.multiple)),
        h('td', { class: 'ack-cell' }, ackCell(a, who, refresh)),
        h('td', { class: 'follow-up-cell' }, followUpCell(a, who, refresh)),
        h('td', { class: 'supervise-cell' }, superviseCell(a, who, say)),
      );
    });
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
          t('raised'),
          t('closedAt'),
          t('value'),
          t('limit'),
          t('multiple'),
          t('ack'),
          t('followUp'),
          t('supervision'),
        ],
        rows,
        { class: 'alarms' },
      ),
    ]);
  };
  await refresh();
  root.replaceChildren(h('h2', {}, t('alarms')), tabs, form, message, list);
  return { refresh };
}
