/* global location */
import { api, download } from './api.js';
import { chinaDay } from './format.js';
import { h, label, num, patch, select, table } from './dom.js';
import { lang, t } from './i18n.js';
import { LABELS } from './labels.js';

const KINDS = ['day', 'month', 'quarter', 'year'];
const PATTERNS = {
  day: ['\\d{4}-\\d{2}-\\d{2}', 'YYYY-MM-DD'],
  month: ['\\d{4}-\\d{2}', 'YYYY-MM'],
  quarter: ['\\d{4}-Q[1-4]', 'YYYY-Qn'],
  year: ['\\d{4}', 'YYYY'],
};
/**
 * The counts after the region, in the export's order (cloud/jurisdictions.ts, served in /ui/labels.js):
 * `stations`, or `networking.full` for one inside a group; each named by the label jurisdictions.<count>.
 */
const COLUMNS = LABELS.jurisdictionColumns;
const countOf = (r, path) => path.split('.').reduce((o, k) => o[k], r);

/** The day, month, quarter (YYYY-Qn) or year a day falls in. */
function periodOfDay(kind, day) {
  if (kind === 'month') return day.slice(0, 7);
  if (kind === 'quarter') return `${day.slice(0, 4)}-Q${Math.ceil(Number(day.slice(5, 7)) / 3)}`;
  if (kind === 'year') return day.slice(0, 4);
  return day;
}

/**
 * 辖区统计 (#/jurisdictions?month=YYYY-MM, ?day=, ?quarter=, ?year=, China time): per region the enterprises,
 * outlets, registered (备案) and uploaded outlets, registrations and plans reviewed, enterprises fully, partly or
 * not networked, and supervision items open, overdue and closed, with the total; as CSV from the API. The
 * centre sees every region, an authority its own; not for enterprise users (the API refuses them).
 */
export async function jurisdictionsView({ root, query, who }) {
  if (who.enterprise !== undefined) {
    root.replaceChildren(h('h2', {}, t('jurisdictions')), h('p', { class: 'error' }, t('jurisdictions.notEnterprise')));
    return { refresh: async () => undefined, concerns: () => false };
  }
  const key = KINDS.find((k) => query.get(k)) ?? 'month';
  let period = query.get(key);
  if (!period) {
    // The month of the newest data, or of now.
    const stations = await api('/stations');
    const newest = Math.max(0, ...stations.flatMap((s) => Object.values(s.latest ?? {}).map((l) => l.time)));
    period = periodOfDay(key, chinaDay(newest || Date.now()));
  }
  const [pattern, placeholder] = PATTERNS[key];
  const form = h(
    'form',
    { class: 'filters jurisdiction-period' },
    label(
      t('jurisdictions.kind'),
      select(
        'kind',
        KINDS.map((k) => [k, t(`jurisdictions.kind.${k}`)]),
        key,
      ),
    ),
    label(
      t('periodLabel'),
      h('input', { name: 'period', value: period, pattern, placeholder, size: 10, required: true }),
    ),
    h('button', { type: 'submit' }, t('apply')),
    h(
      'button',
      {
        type: 'button',
        class: 'csv',
        onclick: () =>
          download(`/jurisdictions.csv?${key}=${period}&lang=${lang()}`, `hj212-jurisdictions-${period}.csv`),
      },
      t('jurisdictions.csv'),
    ),
  );
  form.kind.addEventListener('change', () => {
    const day = key === 'day' ? period : key === 'month' ? `${period}-01` : chinaDay(Date.now());
    location.hash = `#/jurisdictions?${form.kind.value}=${periodOfDay(form.kind.value, day)}`;
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/jurisdictions?${key}=${form.period.value.trim()}`;
  });

  const listEl = h('div', { class: 'jurisdictions' });
  const cells = (r) => COLUMNS.map((c) => h('td', { class: 'num' }, num(countOf(r, c))));
  const refresh = async () => {
    const s = await api(`/jurisdictions?${key}=${encodeURIComponent(period)}`);
    patch(listEl, [
      table(
        [t('jurisdictions.region'), ...COLUMNS.map((c) => t(`jurisdictions.${c}`))],
        [
          ...s.regions.map((r) =>
            h('tr', { 'data-region': r.region ?? '' }, h('td', {}, r.region ?? t('jurisdictions.noRegion')), cells(r)),
          ),
          h('tr', { class: 'total', 'data-region': '*' }, h('td', {}, t('jurisdictions.total')), cells(s.total)),
        ],
        { class: 'jurisdictions-table' },
      ),
    ]);
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, `${t('jurisdictions')} · ${period}`),
    h('p', { class: 'muted' }, t('jurisdictions.explain')),
    form,
    listEl,
  );
  return { refresh, concerns: (e) => e.type === 'supervision' };
}
