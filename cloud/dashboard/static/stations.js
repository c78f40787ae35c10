import { api } from './api.js';
import { fmtTime, h, patch, table } from './dom.js';
import { factorName, flagLegend, flagName, shownValue, t, unitName } from './i18n.js';

const STATE_CLASS = { exceedance: 'exceed', warning: 'warn' };

/**
 * "COD 38.2 mg/L N" per factor, as the cloud judged it: red when 超标, orange when 预警, amber when
 * flagged other than N; a gas value judged converted shows that value too.
 */
function currentValues(s) {
  return Object.entries(s.latest).map(([code, l]) => {
    const info = s.limits[code];
    const cls = STATE_CLASS[l.state] ?? (l.flag && l.flag !== 'N' ? 'flagged' : undefined);
    const unit = info?.unit;
    const converted =
      l.judged !== undefined && l.judged !== l.value ? ` (${t('converted')} ${shownValue(code, unit, l.judged)})` : '';
    return h(
      'div',
      { class: cls, 'data-factor': code, 'data-state': l.state },
      `${factorName(info, code)} ${shownValue(code, unit, l.value)}${converted} ${unitName(code, unit)} `,
      l.flag ? h('span', { class: 'flag', title: flagName(l.flag) }, l.flag) : '',
    );
  });
}

function stationRow(s) {
  return h(
    'tr',
    { 'data-mn': s.mn },
    h('td', {}, h('a', { href: `#/station/${encodeURIComponent(s.mn)}` }, s.outlet)),
    h('td', {}, s.mn),
    h('td', {}, t(s.type)),
    h(
      'td',
      { class: 'state' },
      h('span', { class: `badge ${s.online ? 'online' : 'offline'}` }, t(s.online ? 'online' : 'offline')),
    ),
    h(
      'td',
      { class: 'last-seen' },
      s.lastSeen ? fmtTime(Date.parse(s.lastSeen)) : h('span', { class: 'muted' }, t('never')),
    ),
    h('td', { class: 'current' }, currentValues(s)),
    h(
      'td',
      { class: 'num open-alarms' },
      s.openAlarms > 0 ? h('a', { href: `#/alarms?mn=${s.mn}&state=open`, class: 'exceed' }, s.openAlarms) : '0',
    ),
  );
}

/** Stations grouped by enterprise, each enterprise with its networking status. */
export async function stationsView({ root }) {
  // The first render replaces the previous view; later ones patch this one.
  let put = (nodes) => root.replaceChildren(...nodes);
  const refresh = async () => {
    /** @type {[import('./api.js').StationView[], import('./api.js').Enterprise[]]} */
    const [stations, enterprises] = await Promise.all([api('/stations'), api('/enterprises')]);
    const sections = enterprises.map((e) =>
      h(
        'section',
        { class: 'enterprise', 'data-enterprise': e.enterprise },
        h(
          'h3',
          {},
          e.enterprise,
          ' ',
          h('span', { class: `badge networking ${e.networking}` }, t(e.networking)),
          ' ',
          h('span', { class: 'muted' }, `${e.online}/${e.outlets} ${t('outletsOnline')}`),
        ),
        table(
          [t('outlet'), t('mn'), t('type'), t('state'), t('lastSeen'), t('current'), t('openAlarms')],
          stations.filter((s) => s.enterprise === e.enterprise).map(stationRow),
          { class: 'stations' },
        ),
      ),
    );
    put([
      h('h2', {}, t('nav.stations')),
      ...sections,
      h('p', { class: 'muted flag-legend' }, `${t('flags')}: ${flagLegend()}`),
    ]);
    put = (nodes) => patch(root, nodes);
  };
  await refresh();
  return { refresh };
}
