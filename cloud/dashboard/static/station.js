/* global location, URLSearchParams */
import { api } from './api.js';
import { factorChart } from './chart.js';
import { fmtTime, fromInput, h, label, select, toInput } from './dom.js';
import { factorName, t } from './i18n.js';

const HOUR = 3_600_000;
const DEFAULT_SPAN = { rtd: 6 * HOUR, minute: 24 * HOUR, hour: 72 * HOUR, day: 60 * 24 * HOUR };

/** A station: per-factor charts of one kind of data over a time range, taken from the address (#/station/MN?kind&from&to). */
export async function stationView({ root, args, query }) {
  const mn = args[0];
  const kind = query.get('kind') ?? 'hour';
  const to = Number(query.get('to') ?? Date.now());
  const from = Number(query.get('from') ?? to - DEFAULT_SPAN[kind]);
  const charts = [];

  const form = h(
    'form',
    { class: 'filters' },
    label(
      t('kind'),
      select(
        'kind',
        ['rtd', 'minute', 'hour', 'day'].map((k) => [k, t(k)]),
        kind,
      ),
    ),
    label(t('from'), h('input', { type: 'datetime-local', name: 'from', value: toInput(from) })),
    label(t('to'), h('input', { type: 'datetime-local', name: 'to', value: toInput(to) })),
    h('button', { type: 'submit' }, t('apply')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams({
      kind: form.kind.value,
      from: fromInput(form.from.value),
      to: fromInput(form.to.value),
    });
    location.hash = `#/station/${encodeURIComponent(mn)}?${q}`;
  });
  const status = h('p', { class: 'muted' });
  const plots = h('div', { class: 'charts' });

  const refresh = async () => {
    /** @type {[import('./api.js').StationView[], import('./api.js').DataPoint[], import('./api.js').Shutdown[], import('./api.js').AlarmView[]]} */
    const [stations, points, shutdowns, missing] = await Promise.all([
      api('/stations'),
      api(`/stations/${encodeURIComponent(mn)}/data?kind=${kind}&from=${from}&to=${to}&limit=100000`),
      api(`/stations/${encodeURIComponent(mn)}/shutdowns`),
      api(`/alarms?mn=${encodeURIComponent(mn)}&type=missing-hour&state=open`),
    ]);
    const s = stations.find((x) => x.mn === mn);
    if (!s) throw new Error(`MN ${mn}?`);
    status.textContent = `${s.enterprise} · ${s.outlet} · ${t(s.online ? 'online' : 'offline')} · ${t('lastSeen')} ${s.lastSeen ? fmtTime(Date.parse(s.lastSeen)) : t('never')}`;
    for (const c of charts.splice(0)) c.destroy();
    plots.replaceChildren();
    const windows = shutdowns
      .map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to) }))
      .filter((w) => w.from < to && w.to > from);
    for (const code of s.factors) {
      const el = h('div', { class: 'chart', 'data-factor': code });
      plots.append(el);
      charts.push(
        factorChart({
          el,
          code,
          title: factorName(s.limits[code], code),
          points: points.filter((p) => p.factor === code),
          info: s.limits[code],
          missing: missing
            .filter((a) => a.factor === code && a.openedAt + HOUR > from && a.openedAt < to)
            .map((a) => a.openedAt),
          shutdowns: windows,
          range: { from, to },
          width: Math.max(480, root.clientWidth - 24),
        }),
      );
    }
  };
  await refresh();
  root.replaceChildren(h('h2', {}, `${t('station')} ${mn}`), status, form, plots);
  // Other stations' uploads would redraw every chart for nothing.
  return { refresh, concerns: (e) => (e.type === 'data' ? e.mn : e.alarm.mn) === mn };
}
