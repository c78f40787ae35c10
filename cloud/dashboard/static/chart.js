/* global uPlot, devicePixelRatio */
import { h } from './dom.js';
import { fmtTick, fmtTime, gasBasis, shownFactor } from './format.js';
import { flagName, shownValue, t, unitName } from './i18n.js';

import { FLAGS } from './format.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A back-filled record stands for its whole period; real-time and minute ones for a mark only. */
const PERIOD = { hour: HOUR, day: DAY };
/** Flag colours (HJ 212-2017 table 8); N is the series' own colour. */
const FLAG_COLOURS = {
  F: '#0891b2',
  M: '#a16207',
  S: '#16a34a',
  D: '#be185d',
  C: '#4f46e5',
  T: '#b91c1c',
  B: '#525252',
};

/**
 * Shades time windows (missing, back-filled hours, shutdowns) under the series, as elements of the
 * plot (div.band.band-KIND with data-from/-to) placed on each redraw: a zoom moves them with the axis.
 */
function bandsPlugin(bands) {
  let layer;
  const place = (u) => {
    const width = u.bbox.width / devicePixelRatio;
    const shown = [];
    for (const b of bands) {
      const x0 = Math.max(0, u.valToPos(b.from / 1000, 'x'));
      const x1 = Math.min(width, u.valToPos(b.to / 1000, 'x'));
      if (!(x1 > x0)) continue;
      const el = h('div', { class: `band band-${b.kind}`, 'data-from': b.from, 'data-to': b.to });
      // CSSOM, not a style attribute: the content-security policy allows no inline styles.
      el.style.left = `${x0}px`;
      el.style.width = `${x1 - x0}px`;
      shown.push(el);
    }
    layer.replaceChildren(...shown);
  };
  return {
    hooks: {
      init: [
        (u) => {
          layer = h('div', { class: 'bands' });
          u.under.append(layer);
        },
      ],
      draw: [place],
    },
  };
}

const markers = (label, color) => ({
  label,
  stroke: color,
  fill: color,
  paths: () => null,
  points: { show: true, size: 9, stroke: color, fill: color },
});
const line = (label, color) => ({ label, stroke: color, dash: [8, 5], width: 1.5, points: { show: false } });

/**
 * One factor's chart: the judged values, its limits as dashed lines, flagged, exceeding (超标),
 * warning (预警) and back-filled (补传) points as markers, missing hours and shutdown windows shaded;
 * drag to zoom in, double-click to zoom out.
 * `points` are the API's, `info` the factor's limits and unit, `missing` hour starts, `shutdowns` {from, to} ms;
 * `gas` says whether the title names the basis (实测 or 折算) of the values.
 * Returns { update(next), destroy() }: live updates give new points, missing hours and shutdowns and keep a zoom.
 */
export function factorChart({ el, code, title, points, info, kind, missing, shutdowns, range, width, gas }) {
  const k = shownFactor(code, info.unit);
  const unit = unitName(code, info.unit);
  // The value the cloud judged (converted for gas), as the API gives it; the raw one where nothing is judged.
  const field = (p) => {
    const v =
      p.judged?.value ??
      p.values[`Zs${p.kind === 'rtd' ? 'Rtd' : 'Avg'}`] ??
      p.values[p.kind === 'rtd' ? 'Rtd' : 'Avg'];
    return v === undefined ? null : v * k;
  };
  const heading = (pts) => {
    const basis = gas ? gasBasis(pts) : undefined;
    return basis ? `${title}（${t(basis)}）` : title;
  };
  const series = [
    // 24-hour China time in the legend too (uPlot's own default is a 12-hour clock).
    { label: t('time'), value: (_u, v) => (v == null ? '' : fmtTime(v * 1000)) },
    {
      label: `${title}${unit ? ` (${unit})` : ''}`,
      stroke: '#2563eb',
      width: 1.5,
      points: { show: points.length < 100 },
    },
  ];
  // The lines of the kind shown, as the cloud judges it (GET /stations limits.kinds: the kind's own limit, else the
  // factor's).
  const lim = info.kinds?.[kind] ?? info;
  const lines = [
    ['limitLine', lim.upper, '#dc2626'],
    ['lower', lim.lower, '#dc2626'],
    ['warnLine', lim.warning, '#ea580c'],
  ].filter(([, v]) => v != null);
  for (const [key, v, color] of lines) series.push(line(`${t(key)} ${shownValue(code, info.unit, v)}`, color));
  series.push(
    markers(t('exceedPts'), '#dc2626'),
    markers(t('warnPts'), '#ea580c'),
    markers(t('backfilledPts'), '#7c3aed'),
  );
  // One colour per flag of table 8 other than N, each with its name in the legend (shown only where the range has it).
  const flagKeys = Object.keys(FLAGS).filter((f) => f !== 'N');
  for (const f of flagKeys) series.push({ ...markers(flagName(f), FLAG_COLOURS[f]), class: `flag-${f}` });
  const bands = [];
  const count = (xs) => xs.filter((v) => v !== null).length;
  const build = (pts, miss, downs) => {
    // The range's ends are x values too, with no measurement, so that the lines span the whole range.
    const xs = [range.from / 1000, ...pts.map((p) => p.time / 1000), range.to / 1000];
    const ys = [null, ...pts.map(field), null];
    const where = (test) => [null, ...pts.map((p, i) => (test(p) ? ys[i + 1] : null)), null];
    const exceeding = where((p) => p.judged?.state === 'exceedance');
    const warning = where((p) => p.judged?.state === 'warning');
    const backfilled = where((p) => p.backfilled);
    const byFlag = flagKeys.map((f) => where((p) => p.flag === f));
    const data = [xs, ys, ...lines.map(([, v]) => xs.map(() => v * k)), exceeding, warning, backfilled, ...byFlag];
    const period = PERIOD[kind];
    bands.splice(
      0,
      bands.length,
      ...miss.map((m) => ({ from: m, to: m + HOUR, kind: 'missing' })),
      ...(period
        ? pts.filter((p) => p.backfilled).map((p) => ({ from: p.time, to: p.time + period, kind: 'backfilled' }))
        : []),
      ...downs.map((w) => ({ ...w, kind: 'shutdown' })),
    );
    const flags = [...new Set(pts.map((p) => p.flag).filter((f) => f))].sort();
    const flagged = byFlag.reduce((n, ys) => n + count(ys), 0);
    const summary = [
      `${t('points')} ${pts.length} · `,
      h('span', { class: 'exceed-count' }, `${t('exceedPts')} ${count(exceeding)}`),
      ' · ',
      h('span', { class: 'warn-count' }, `${t('warnPts')} ${count(warning)}`),
      ` · ${t('flaggedPts')} ${flagged} · `,
      // The key of the shading beside the count: a back-filled hour or day is shaded purple as a whole.
      h('span', { class: 'legend-key key-backfilled', title: t('backfilledHours') }),
      h('span', { class: 'backfilled-count' }, `${t('backfilledPts')} ${count(backfilled)}`),
      ' · ',
      h('span', { class: 'legend-key key-missing' }),
      h('span', { class: 'missing-count' }, `${t('missingHours')} ${miss.length}`),
      h('span', { class: 'legend-key key-shutdown' }),
      `${t('shutdownWindows')} ${downs.length}`,
      flags.length ? h('span', { class: 'flags' }, ` · ${t('flags')}: ${flags.map(flagName).join(' · ')}`) : '',
    ];
    return { data, summary, present: new Set(flags) };
  };
  const first = build(points, missing, shutdowns);
  const box = h('div', { class: 'plot' });
  // Named, not coded: the factor code is the title's tooltip.
  const h3 = h('h3', { title: code }, heading(points));
  const summaryEl = h('div', { class: 'summary', 'data-factor': code }, first.summary);
  el.append(h3, box, summaryEl);
  const span = range.to - range.from;
  const u = new uPlot(
    {
      width,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
      scales: { x: { time: true, min: range.from / 1000, max: range.to / 1000 } },
      cursor: { drag: { x: true, y: false } },
      // 24-hour China time, with the date where the span needs it; ticks far enough apart for "MM-DD HH:MM".
      axes: [
        { space: span > 86_400_000 ? 90 : 50, values: (_u, ticks) => ticks.map((s) => fmtTick(s * 1000, span)) },
        {},
      ],
      series,
      plugins: [bandsPlugin(bands)],
      // The x range shown (after a drag-zoom too), on the chart's element: what scripts and the browser tests read.
      hooks: {
        setScale: [
          (plot, key) => {
            if (key !== 'x') return;
            el.dataset.shownFrom = String(Math.round(plot.scales.x.min * 1000));
            el.dataset.shownTo = String(Math.round(plot.scales.x.max * 1000));
          },
        ],
      },
    },
    first.data,
    box,
  );
  // The legend names the flags the range has, each in its colour.
  const showFlags = (present) => {
    for (const f of flagKeys)
      for (const row of u.root.querySelectorAll(`.u-legend .flag-${f}`)) row.hidden = !present.has(f);
  };
  showFlags(first.present);
  return {
    /** New data, same range: a drag-zoom the operator made stays where it is. */
    update(next) {
      const { data, summary, present } = build(next.points, next.missing, next.shutdowns);
      showFlags(present);
      const { min, max } = u.scales.x;
      const zoomed = min !== range.from / 1000 || max !== range.to / 1000;
      u.setData(data);
      if (zoomed) u.setScale('x', { min, max });
      h3.firstChild.textContent = heading(next.points);
      summaryEl.replaceChildren(...summary);
    },
    destroy: () => u.destroy(),
    plot: u,
  };
}
