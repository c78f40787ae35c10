/* global location, URLSearchParams */
import { api, download } from './api.js';
import { stationRangeEnd } from './format.js';
import { fmtTime, fromInput, h, label, num, patch, select, timeInput } from './dom.js';
import { flagLegend, lang, t } from './i18n.js';

const HOUR = 3_600_000;
// A table holds more than a chart shows at once: an hour of real-time data, a week of hours, a month of days.
// The HJ 212-2025 records (2013, 2052, 2062, 2111): a day of raw and furnace data, a week of noise runs,
// a month of checks.
const DEFAULT_SPAN = {
  rtd: HOUR,
  minute: 24 * HOUR,
  hour: 7 * 24 * HOUR,
  day: 31 * 24 * HOUR,
  raw: 24 * HOUR,
  noise: 7 * 24 * HOUR,
  check: 31 * 24 * HOUR,
  furnace: 24 * HOUR,
  // Manual results (手工监测) come a few times a year: a year of them.
  manual: 366 * 24 * HOUR,
};
const PAGE_SIZE = 50;

/** Two header rows: each factor with its unit over its fields (Cou in its amount unit) and its flag. */
function head(columns) {
  return h(
    'thead',
    {},
    h(
      'tr',
      {},
      h('th', { rowspan: 2 }, t('dataTime')),
      columns.map((c) => h('th', { colspan: c.fields.length + 1, 'data-factor': c.factor }, c.name)),
    ),
    h(
      'tr',
      {},
      columns.flatMap((c) => [
        ...c.fields.map((f) => {
          const unit = f === 'Cou' ? c.amountUnit : c.unit;
          return h('th', {}, `${t(`field.${f}`)}${unit ? ` (${unit})` : ''}`);
        }),
        h('th', {}, t('flag')),
      ]),
    ),
  );
}

/**
 * A station's history (#/history/MN?kind&from&to&page): a table per outlet and data kind, a row per
 * DataTime (newest first, paged), per factor its values and flag with its meaning, as the API names
 * them; the whole range exported as CSV or XLSX.
 */
export async function historyView({ root, args, query }) {
  /** @type {import('./api.js').StationView[]} */
  const stations = await api('/stations');
  const mn = args[0] ?? stations[0]?.mn;
  const station = stations.find((x) => x.mn === mn);
  if (!station) throw new Error(`MN ${mn}?`);
  const kind = query.get('kind') ?? 'hour';
  // Ends at the station's newest record, not the wall clock (as its charts do).
  const to = Number(query.get('to') ?? stationRangeEnd(station, kind));
  const from = Number(query.get('from') ?? to - DEFAULT_SPAN[kind]);
  const page = Math.max(1, Number(query.get('page') ?? 1));
  const address = (q) => `#/history/${encodeURIComponent(mn)}?${new URLSearchParams({ kind, from, to, page, ...q })}`;
  const range = `kind=${kind}&from=${from}&to=${to}&lang=${lang()}`;
  const path = `/stations/${encodeURIComponent(mn)}/history`;

  const form = h(
    'form',
    { class: 'filters' },
    label(
      t('station'),
      select(
        'mn',
        stations.map((s) => [s.mn, `${s.enterprise} · ${s.outlet}`]),
        mn,
      ),
    ),
    label(
      t('kind'),
      select(
        'kind',
        ['rtd', 'minute', 'hour', 'day', 'raw', 'noise', 'check', 'furnace', 'manual'].map((k) => [k, t(k)]),
        kind,
      ),
    ),
    label(t('from'), timeInput('from', from)),
    label(t('to'), timeInput('to', to)),
    h('button', { type: 'submit' }, t('apply')),
    h(
      'button',
      {
        type: 'button',
        class: 'csv',
        onclick: () => download(`${path}.csv?${range}`, `hj212-history-${mn}-${kind}.csv`),
      },
      t('csv'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'xlsx',
        onclick: () => download(`${path}.xlsx?${range}`, `hj212-history-${mn}-${kind}.xlsx`),
      },
      t('xlsx'),
    ),
  );
  const changed = () => {
    // Another station or kind opens on its own newest data; the same one keeps the range typed.
    if (form.mn.value !== mn || form.kind.value !== kind) {
      location.hash = `#/history/${encodeURIComponent(form.mn.value)}?kind=${form.kind.value}`;
      return;
    }
    location.hash = address({ from: fromInput(form.from.value), to: fromInput(form.to.value), page: 1 });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    changed();
  });
  form.mn.addEventListener('change', changed);
  form.kind.addEventListener('change', changed);

  const status = h('p', { class: 'muted pager' });
  const list = h('div', { class: 'history' });
  const refresh = async () => {
    /** @type {import('./api.js').HistoryPage} */
    const got = await api(`${path}?${range}&page=${page}&pageSize=${PAGE_SIZE}`);
    const pages = Math.max(1, Math.ceil(got.total / PAGE_SIZE));
    const rows = got.rows.map((r) =>
      h(
        'tr',
        {},
        h('td', { class: 'time' }, fmtTime(r.time)),
        got.columns.flatMap((c) => {
          const cell = r.cells[c.factor];
          return [
            ...c.fields.map((f) => h('td', { class: 'num' }, num(cell?.values[f]))),
            h(
              'td',
              {
                class: `flag ${cell?.flag && cell.flag !== 'N' ? 'flagged' : ''} ${cell?.mark ? 'marked' : ''}`,
                title: cell?.mark ? `${cell.mark.by}: ${cell.mark.note}` : undefined,
              },
              cell?.flagName ?? '',
              // A manual result says how it was measured and by which laboratory.
              cell?.manual
                ? h(
                    'span',
                    { class: 'manual' },
                    ` ${cell.manual.method} (${cell.manual.methodSource}) · ${cell.manual.lab}` +
                      (cell.manual.note ? ` · ${cell.manual.note}` : ''),
                  )
                : '',
              // A review mark decides the flag; the one the record came with stays beside it.
              cell?.mark
                ? h(
                    'span',
                    { class: 'mark' },
                    ` ${t('review.markedCell', {
                      reason: cell.mark.reasonName,
                      was: cell.mark.originalFlagName ?? '-',
                    })}`,
                  )
                : '',
            ),
          ];
        }),
      ),
    );
    patch(status, [
      h('span', { class: 'count' }, t('pageOf', { page, pages, total: got.total })),
      h('a', { href: page > 1 ? address({ page: page - 1 }) : undefined, class: 'prev' }, t('prevPage')),
      h('a', { href: page < pages ? address({ page: page + 1 }) : undefined, class: 'next' }, t('nextPage')),
    ]);
    patch(
      list,
      [
        got.truncated ? h('p', { class: 'error' }, t('truncated')) : false,
        got.total === 0
          ? h('p', { class: 'muted' }, t('noData'))
          : h('table', { class: 'history-table' }, head(got.columns), h('tbody', {}, rows)),
        h('p', { class: 'legend' }, `${t('flag')}: ${flagLegend()}`),
      ].filter(Boolean),
    );
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, `${t('history')} · ${station.enterprise} · ${station.outlet} · ${t(kind)}`),
    form,
    status,
    list,
  );
  return { refresh, concerns: (e) => e.type === 'data' && e.mn === mn };
}
