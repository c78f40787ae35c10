/* global document, URL, location */
import { api } from './api.js';
import { h, label, patch, pct, table, today } from './dom.js';
import { chinaDay } from './format.js';
import { lang, t } from './i18n.js';

/** Downloads the CSV through fetch (it needs the token header), then hands the browser a file. */
async function downloadCsv(key, period) {
  const res = await api(`/report.csv?${key}=${period}&lang=${lang()}`, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `hj212-report-${period}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

/**
 * The China-time day of the newest data any station sent (its DataTime, not when it arrived): the
 * report opens on data, not on the wall clock's day.
 */
async function newestDay() {
  const stations = /** @type {import('./api.js').StationView[]} */ (await api('/stations'));
  const newest = Math.max(0, ...stations.flatMap((s) => Object.values(s.latest).map((l) => l.time)));
  return newest ? chinaDay(newest) : today();
}

const rates = (r) => [
  h('td', { class: 'num transmission' }, pct(r.transmissionRate)),
  h('td', { class: 'num validity' }, pct(r.validityRate)),
  h('td', { class: 'num effectiveness' }, pct(r.effectivenessRate)),
];

/**
 * The report of a day or a month, per outlet and per enterprise (#/report?day=YYYY-MM-DD or
 * #/report?month=YYYY-MM, China time): the rates, hours missing, exceeding and back-filled, as the API computes them.
 */
export async function reportView({ root, query }) {
  const month = query.get('month');
  const [key, period] = month ? ['month', month] : ['day', query.get('day') ?? (await newestDay())];
  const form = h(
    'form',
    { class: 'filters' },
    label(t('dayLabel'), h('input', { type: 'date', name: 'day', value: key === 'day' ? period : '' })),
    label(t('monthLabel'), h('input', { type: 'month', name: 'month', value: key === 'month' ? period : '' })),
    h('button', { type: 'submit' }, t('apply')),
    h('button', { type: 'button', class: 'csv', onclick: () => downloadCsv(key, period) }, t('csv')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // A month typed in wins over the day: the day field keeps its value when only the month is changed.
    const m = form.month.value;
    location.hash = m && m !== month ? `#/report?month=${m}` : `#/report?day=${form.day.value || today()}`;
  });
  const list = h('div');
  const refresh = async () => {
    const report = /** @type {import('./api.js').PeriodReport} */ (await api(`/report?${key}=${period}`));
    const rows = report.outlets.map((o) =>
      h(
        'tr',
        { 'data-mn': o.mn },
        h('td', {}, o.enterprise),
        h('td', {}, o.outlet),
        ...rates(o),
        h('td', { class: 'num missing' }, o.hoursMissing),
        h('td', { class: `num exceeding ${o.hoursExceeding > 0 ? 'exceed' : ''}` }, o.hoursExceeding),
        h('td', { class: 'num backfilled' }, o.hoursBackfilled),
      ),
    );
    const enterprises = report.enterprises.map((e) =>
      h(
        'tr',
        { 'data-enterprise': e.enterprise },
        h('td', {}, e.enterprise),
        h('td', { class: 'num' }, e.outlets),
        ...rates(e),
      ),
    );
    patch(list, [
      table(
        [
          t('enterprise'),
          t('outlet'),
          t('transmissionRate'),
          t('validityRate'),
          t('effectivenessRate'),
          t('hoursMissing'),
          t('hoursExceeding'),
          t('hoursBackfilled'),
        ],
        rows,
        { class: 'report' },
      ),
      h('h3', {}, t('enterprises')),
      table(
        [t('enterprise'), t('outlets'), t('transmissionRate'), t('validityRate'), t('effectivenessRate')],
        enterprises,
        { class: 'report-enterprises' },
      ),
    ]);
  };
  await refresh();
  root.replaceChildren(h('h2', {}, `${t('report')} ${period}`), form, list);
  return { refresh };
}
