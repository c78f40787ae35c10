/* global document, URL, location */
import { api } from './api.js';
import { h, label, pct, table, today } from './dom.js';
import { lang, t } from './i18n.js';

/** Downloads the CSV through fetch (it needs the token header), then hands the browser a file. */
async function downloadCsv(day) {
  const res = await api(`/report.csv?day=${day}&lang=${lang()}`, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `hj212-report-${day}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

/** Daily report per outlet (#/report?day=YYYY-MM-DD, China time). */
export async function reportView({ root, query }) {
  const day = query.get('day') ?? today();
  const form = h(
    'form',
    { class: 'filters' },
    label(t('dayLabel'), h('input', { type: 'date', name: 'day', value: day })),
    h('button', { type: 'submit' }, t('apply')),
    h('button', { type: 'button', class: 'csv', onclick: () => downloadCsv(day) }, t('csv')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/report?day=${form.day.value}`;
  });
  const list = h('div');
  const refresh = async () => {
    const report = await api(`/report?day=${day}`);
    const rows = report.outlets.map((o) =>
      h(
        'tr',
        { 'data-mn': o.mn },
        h('td', {}, o.enterprise),
        h('td', {}, o.outlet),
        h('td', { class: 'num transmission' }, pct(o.transmissionRate)),
        h('td', { class: 'num validity' }, pct(o.validityRate)),
        h('td', { class: 'num effectiveness' }, pct(o.effectivenessRate)),
        h('td', { class: 'num missing' }, o.hoursMissing),
        h('td', { class: `num exceeding ${o.hoursExceeding > 0 ? 'exceed' : ''}` }, o.hoursExceeding),
      ),
    );
    list.replaceChildren(
      table(
        [
          t('enterprise'),
          t('outlet'),
          t('transmissionRate'),
          t('validityRate'),
          t('effectivenessRate'),
          t('hoursMissing'),
          t('hoursExceeding'),
        ],
        rows,
        { class: 'report' },
      ),
    );
  };
  await refresh();
  root.replaceChildren(h('h2', {}, `${t('report')} ${day}`), form, list);
  return { refresh };
}
