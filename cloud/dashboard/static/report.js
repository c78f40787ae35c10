/* global location, window */
import { api, download } from './api.js';
import { h, label, num, patch, pct, select, table, today } from './dom.js';
import { chinaDay } from './format.js';
import { factorName, lang, t } from './i18n.js';

const KINDS = ['day', 'month', 'quarter', 'year'];
const FLOW_AMOUNTS = { w00000: 'amount.w00000', a00000: 'amount.a00000' };

/** The month, quarter (YYYY-Qn) or year a day falls in, to open another kind of report on the same data. */
function periodOfDay(kind, day) {
  if (kind === 'month') return day.slice(0, 7);
  if (kind === 'quarter') return `${day.slice(0, 4)}-Q${Math.ceil(Number(day.slice(5, 7)) / 3)}`;
  if (kind === 'year') return day.slice(0, 4);
  return day;
}

/** The field a period is typed into: the browser's pickers for a day and a month, text for a quarter and a year. */
function periodInput(kind, value) {
  if (kind === 'day') return h('input', { type: 'date', name: 'period', value, required: true });
  if (kind === 'month') return h('input', { type: 'month', name: 'period', value, required: true });
  const pattern = kind === 'quarter' ? '\\d{4}-Q[1-4]' : '\\d{4}';
  return h('input', {
    type: 'text',
    name: 'period',
    value,
    pattern,
    placeholder: kind === 'quarter' ? 'YYYY-Qn' : 'YYYY',
    size: 8,
    required: true,
  });
}

/** 排放量 columns: one per pollutant any outlet has an amount of, named with its unit (kg, m3). */
function emissionTable(report, names) {
  const factors = [];
  for (const e of report.outlets.flatMap((o) => o.emissions))
    if (!factors.some((f) => f.factor === e.factor)) factors.push(e);
  if (factors.length === 0) return h('p', { class: 'muted no-emissions' }, t('noEmissions'));
  const amounts = (list) =>
    factors.map((f) => h('td', { class: 'num amount' }, num(list.find((e) => e.factor === f.factor)?.amount)));
  // Of a flow the amount is the volume discharged (废水排放量), as the exports name it.
  const header = factors.map(
    (f) => `${FLOW_AMOUNTS[f.factor] ? t(FLOW_AMOUNTS[f.factor]) : factorName(names[f.factor], f.factor)} (${f.unit})`,
  );
  return h(
    'div',
    { class: 'emissions' },
    table(
      [t('enterprise'), t('outlet'), ...header],
      [
        ...report.outlets.map((o) =>
          h('tr', { 'data-mn': o.mn }, h('td', {}, o.enterprise), h('td', {}, o.outlet), amounts(o.emissions)),
        ),
        ...report.enterprises.map((e) =>
          h(
            'tr',
            { 'data-enterprise': e.enterprise, class: 'total' },
            h('td', {}, e.enterprise),
            h('td', {}, '—'),
            amounts(e.emissions),
          ),
        ),
      ],
      { class: 'report-emissions' },
    ),
    h('p', { class: 'muted' }, t('emissionsNote')),
  );
}

/**
 * The China-time day of the newest data any station sent (its DataTime, not when it arrived): the
 * report opens on data, not on the wall clock's day.
 */
function newestDay(stations) {
  const newest = Math.max(0, ...stations.flatMap((s) => Object.values(s.latest).map((l) => l.time)));
  return newest ? chinaDay(newest) : today();
}

const rates = (r) => [
  h('td', { class: 'num transmission' }, pct(r.transmissionRate)),
  h('td', { class: 'num validity' }, pct(r.validityRate)),
  h('td', { class: 'num effectiveness' }, pct(r.effectivenessRate)),
];

/**
 * The report of a day, month, quarter or year, per outlet and per enterprise (#/report?day=YYYY-MM-DD,
 * ?month=YYYY-MM, ?quarter=YYYY-Qn, ?year=YYYY, China time): the rates, hours missing, exceeding and
 * back-filled, and the emission amounts, as the API computes them; printable, exported as CSV or XLSX.
 */
export async function reportView({ root, query }) {
  /** @type {import('./api.js').StationView[]} */
  const stations = await api('/stations');
  const key = KINDS.find((k) => query.get(k)) ?? 'day';
  const period = query.get(key) ?? newestDay(stations);
  // Factor names from appendix B, as the stations list carries them.
  const names = Object.assign({}, ...stations.map((s) => s.limits));
  const form = h(
    'form',
    { class: 'filters' },
    label(
      t('reportKind'),
      select(
        'kind',
        KINDS.map((k) => [k, t(`period.${k}`)]),
        key,
      ),
    ),
    label(t('periodLabel'), periodInput(key, period)),
    h('button', { type: 'submit' }, t('apply')),
    h(
      'button',
      {
        type: 'button',
        class: 'csv',
        onclick: () => download(`/report.csv?${key}=${period}&lang=${lang()}`, `hj212-report-${period}.csv`),
      },
      t('csv'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'xlsx',
        onclick: () => download(`/report.xlsx?${key}=${period}&lang=${lang()}`, `hj212-report-${period}.xlsx`),
      },
      t('xlsx'),
    ),
    h('button', { type: 'button', class: 'print', onclick: () => window.print() }, t('print')),
  );
  // Another kind of report opens on the period holding the one shown (the month of the day shown...).
  form.kind.addEventListener('change', () => {
    const day = key === 'day' ? period : key === 'month' ? `${period}-01` : newestDay(stations);
    location.hash = `#/report?${form.kind.value}=${periodOfDay(form.kind.value, day)}`;
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/report?${key}=${form.period.value || periodOfDay(key, today())}`;
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
        // Manual results (手工监测) entered for the period: the history kind `manual` lists them.
        h(
          'td',
          { class: 'num manual' },
          h('a', { href: `#/history/${encodeURIComponent(o.mn)}?kind=manual` }, String(o.manualResults)),
        ),
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
          t('manualResults'),
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
      h('h3', {}, t('emissions')),
      emissionTable(report, names),
    ]);
  };
  await refresh();
  root.replaceChildren(h('h2', {}, `${t(`period.${key}`)} ${period}`), form, list);
  return { refresh };
}
