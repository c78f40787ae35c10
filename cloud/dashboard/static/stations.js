import { api } from './api.js';
import { fmtTime, h, patch, table } from './dom.js';
import { factorName, flagLegend, flagName, shownValue, t, unitName } from './i18n.js';
import { stationMatches } from './format.js';

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

/** Region → enterprise → outlet, in registry order; outlets link to their station page. */
function tree(stations) {
  const regions = new Map();
  for (const s of stations) {
    const region = s.region ?? t('noRegion');
    const enterprises = regions.get(region) ?? new Map();
    regions.set(region, enterprises);
    enterprises.set(s.enterprise, [...(enterprises.get(s.enterprise) ?? []), s]);
  }
  if (regions.size === 0) return h('p', { class: 'muted no-match' }, t('noMatch'));
  return h(
    'ul',
    { class: 'tree' },
    [...regions].map(([region, enterprises]) =>
      h(
        'li',
        { class: 'region', 'data-region': region },
        h('span', { class: 'tree-region' }, region),
        h(
          'ul',
          {},
          [...enterprises].map(([enterprise, outlets]) =>
            h(
              'li',
              { class: 'tree-enterprise', 'data-enterprise': enterprise },
              h('span', {}, enterprise),
              h(
                'ul',
                {},
                outlets.map((s) =>
                  h(
                    'li',
                    { class: 'tree-outlet', 'data-mn': s.mn },
                    h('span', { class: `dot ${s.online ? 'online' : 'offline'}` }),
                    h('a', { href: `#/station/${encodeURIComponent(s.mn)}` }, s.outlet),
                    ' ',
                    h('span', { class: 'muted mn' }, s.mn),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Stations grouped by enterprise, each enterprise with its networking status, beside the tree of
 * regions, enterprises and outlets; the search (name or MN) narrows both, `?status=offline|online`
 * (the overview's links) keeps only those stations.
 */
export async function stationsView({ root, query }) {
  const status = query?.get('status') ?? '';
  const search = h('input', { type: 'search', name: 'search', placeholder: t('search'), size: 28 });
  const treeBox = h('aside', { class: 'tree-box' });
  const list = h('div', { class: 'station-list' });
  /** @type {[import('./api.js').StationView[], import('./api.js').Enterprise[]]} */
  let data = [[], []];
  // Drawn from what was last read: typing in the search re-filters without asking the API.
  const draw = () => {
    const [stations, enterprises] = data;
    const shown = stations.filter(
      (s) => stationMatches(s, search.value) && (status === '' || (status === 'online') === s.online),
    );
    patch(treeBox, [tree(shown)]);
    const sections = enterprises
      .filter((e) => shown.some((s) => s.enterprise === e.enterprise))
      .map((e) =>
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
            shown.filter((s) => s.enterprise === e.enterprise).map(stationRow),
            { class: 'stations' },
          ),
        ),
      );
    patch(list, sections.length ? sections : [h('p', { class: 'muted no-match' }, t('noMatch'))]);
  };
  search.addEventListener('input', draw);
  const refresh = async () => {
    data = await Promise.all([api('/stations'), api('/enterprises')]);
    draw();
  };
  await refresh();
  root.replaceChildren(
    h(
      'h2',
      {},
      t('nav.stations'),
      status ? h('span', { class: 'muted status-filter' }, ` · ${t(`status.${status}`)}`) : '',
    ),
    h('div', { class: 'station-search' }, search),
    h('div', { class: 'stations-layout' }, treeBox, list),
    h('p', { class: 'muted flag-legend' }, `${t('flags')}: ${flagLegend()}`),
  );
  return { refresh };
}
