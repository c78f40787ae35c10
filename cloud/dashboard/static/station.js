/* global location, URLSearchParams */
import { api } from './api.js';
import { factorChart } from './chart.js';
import { controlPanel } from './control.js';
import { stationRangeEnd } from './format.js';
import { fmtTime, fromInput, h, label, select, timeInput } from './dom.js';
import { factorName, t } from './i18n.js';

const HOUR = 3_600_000;
// Wide enough for a pattern, narrow enough that each point is seen: 24 hour values, a month of days.
const DEFAULT_SPAN = { rtd: 2 * HOUR, minute: 12 * HOUR, hour: 24 * HOUR, day: 31 * 24 * HOUR };

/**
 * A station: per-factor charts of one kind of data over a time range, taken from the address
 * (#/station/MN?kind&from&to).
 */
export async function stationView({ root, args, query, who }) {
  const mn = args[0];
  const kind = query.get('kind') ?? 'hour';
  /** @type {import('./api.js').StationView[]} */
  const listed = await api('/stations');
  const station = listed.find((x) => x.mn === mn);
  if (!station) throw new Error(`MN ${mn}?`);
  // The default range ends at the station's newest record, not at the wall clock: a station that
  // stopped yesterday, or a demo running ahead of the clock, still opens on its data.
  const to = Number(query.get('to') ?? stationRangeEnd(station, kind));
  const from = Number(query.get('from') ?? to - DEFAULT_SPAN[kind]);
  /** @type {Map<string, ReturnType<typeof factorChart>>} */
  const charts = new Map();

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
    label(t('from'), timeInput('from', from)),
    label(t('to'), timeInput('to', to)),
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
    /**
     * @type {[import('./api.js').StationView[], import('./api.js').DataPoint[], import('./api.js').Shutdown[],
     * import('./api.js').AlarmView[]]}
     */
    const [stations, points, shutdowns, missing] = await Promise.all([
      api('/stations'),
      api(`/stations/${encodeURIComponent(mn)}/data?kind=${kind}&from=${from}&to=${to}&limit=100000`),
      api(`/stations/${encodeURIComponent(mn)}/shutdowns`),
      api(`/alarms?mn=${encodeURIComponent(mn)}&type=missing-hour&state=open`),
    ]);
    const s = stations.find((x) => x.mn === mn);
    if (!s) throw new Error(`MN ${mn}?`);
    const lastSeen = s.lastSeen ? fmtTime(Date.parse(s.lastSeen)) : t('never');
    const online = t(s.online ? 'online' : 'offline');
    status.textContent = `${s.enterprise} · ${s.outlet} · ${online} · ${t('lastSeen')} ${lastSeen}`;
    const windows = shutdowns
      .map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to) }))
      .filter((w) => w.from < to && w.to > from);
    // Charts are made once and then given new data: a zoom, the legend's state and the scroll stay.
    for (const code of s.factors) {
      const next = {
        points: points.filter((p) => p.factor === code),
        missing: missing
          .filter((a) => a.factor === code && a.openedAt + HOUR > from && a.openedAt < to)
          .map((a) => a.openedAt),
        shutdowns: windows,
      };
      const chart = charts.get(code);
      if (chart) {
        chart.update(next);
        continue;
      }
      const el = h('div', { class: 'chart', 'data-factor': code });
      plots.append(el);
      charts.set(
        code,
        factorChart({
          el,
          code,
          title: factorName(s.limits[code], code),
          info: s.limits[code] ?? {},
          kind,
          range: { from, to },
          width: Math.max(480, root.clientWidth - 24),
          gas: s.type === 'gas',
          ...next,
        }),
      );
    }
  };
  const [control] = await Promise.all([controlPanel({ station, who }), refresh()]);
  root.replaceChildren(
    h(
      'h2',
      {},
      // The outlet by its names; the MN, a code, only beside them.
      `${station.enterprise} · ${station.outlet} `,
      h('span', { class: 'muted mn' }, mn),
      ' ',
      h('a', { href: `#/history/${encodeURIComponent(mn)}?kind=${kind}`, class: 'history-link' }, t('history')),
      ' ',
      h('a', { href: `#/review/${encodeURIComponent(mn)}`, class: 'review-link' }, t('nav.review')),
      ' ',
      h('a', { href: `#/plans/${encodeURIComponent(mn)}`, class: 'plans-link' }, t('nav.plans')),
      ' ',
      h('a', { href: `#/equipment/${encodeURIComponent(mn)}`, class: 'equipment-link' }, t('nav.equipment')),
    ),
    status,
    form,
    plots,
    control.el,
  );
  // Other stations' uploads would redraw every chart for nothing; its requests' answers concern it too.
  return {
    refresh: async () => {
      await Promise.all([refresh(), control.refresh()]);
    },
    concerns: (e) => (e.type === 'alarm' ? e.alarm.mn : e.mn) === mn,
  };
}
