import { api } from './api.js';
import { h, patch, pct } from './dom.js';
import { t } from './i18n.js';

const KINDS = [
  'exceedance',
  'warning',
  'missing-hour',
  'offline',
  'treatment-stopped',
  'instrument-mismatch',
  'negative',
  'zero',
  'constant',
  'password-guessing',
];

/** One figure of the home page: a number that leads to the list it counts. */
const figure = (key, value, href, detail, cls) =>
  h(
    'a',
    { class: `figure ${cls ?? ''}`, href, 'data-figure': key },
    h('span', { class: 'figure-value' }, value),
    h('span', { class: 'figure-label' }, t(key)),
    detail ? h('span', { class: 'figure-detail muted' }, detail) : '',
  );

/** The home page (首页): the centre's figures now, each a link to the filtered list behind it. */
export async function overviewView({ root }) {
  let put = (nodes) => root.replaceChildren(...nodes);
  const refresh = async () => {
    const o = /** @type {import('./api.js').OverviewView} */ (await api('/overview'));
    const figures = h(
      'div',
      { class: 'figures' },
      figure('onlineRate', pct(o.onlineRate), '#/stations', `${o.online}/${o.stations} ${t('outletsOnline')}`),
      figure(
        'exceedingNow',
        o.exceedingNow.length,
        '#/alarms?type=exceedance&state=open',
        t('stationsUnit'),
        o.exceedingNow.length ? 'exceed' : undefined,
      ),
      figure(
        'warningNow',
        o.warningNow.length,
        '#/alarms?type=warning&state=open',
        t('stationsUnit'),
        o.warningNow.length ? 'warn' : undefined,
      ),
      figure(
        'todayEffectiveness',
        pct(o.today.effectivenessRate),
        `#/report?day=${o.today.day}`,
        `${o.today.day} · ${t('transmissionRate')} ${pct(o.today.transmissionRate)} · ` +
          `${t('validityRate')} ${pct(o.today.validityRate)}`,
      ),
      figure(
        'notReporting',
        o.notReporting.length,
        '#/stations?status=offline',
        t('stationsUnit'),
        o.notReporting.length ? 'exceed' : undefined,
      ),
    );
    const byKind = h(
      'div',
      { class: 'figures kinds' },
      KINDS.map((k) =>
        figure(
          `alarm.${k}`,
          o.openAlarms[k] ?? 0,
          `#/alarms?type=${k}&state=open`,
          undefined,
          o.openAlarms[k] ? 'exceed' : 'muted',
        ),
      ),
    );
    put([h('h2', {}, t('overview')), figures, h('h3', {}, t('openByKind')), byKind]);
    put = (nodes) => patch(root, nodes);
  };
  await refresh();
  return { refresh };
}
