/* global uPlot */
import { h } from './dom.js';
import { fmtTick, fmtTime, gasBasis, shownFactor } from './format.js';
import { flagName, shownValue, t, unitName } from './i18n.js';

const HOUR = 3_600_000;
const MISSING = 'rgba(120, 120, 120, 0.25)';
const SHUTDOWN = 'rgba(37, 99, 235, 0.15)';

/** Shades time windows (missing hours, shutdowns) behind the series. */
function bandsPlugin(bands) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { ctx, bbox } = u;
          ctx.save();
          for (const b of bands) {
            const x0 = Math.max(bbox.left, u.valToPos(b.from / 1000, 'x', true));
            const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b.to / 1000, 'x', true));
            if (x1 <= x0) continue;
            ctx.fillStyle = b.color;
            ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
          }
          ctx.restore();
        },
      ],
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
const limitLine = (label) => ({ label, stroke: '#dc2626', dash: [8, 5], width: 1.5, points: { show: false } });

/**
 * One factor's chart: the judged values, its limits as dashed lines, flagged, exceeding (超标),
 * warning (预警) and back-filled (补传) points as markers, missing hours and shutdown windows shaded; drag to zoom in, double-click to zoom out.
 * `points` are the API's, `info` the factor's limits and unit, `missing` hour starts, `shutdowns` {from, to} ms;
 * `gas` says whether the title names the basis (实测 or 折算) of the values.
 * Returns { update(next), destroy() }: live updates give new points, missing hours and shutdowns and keep a zoom.
 */
export function factorChart({ el, code, title, points, info, missing, shutdowns, range, width, gas }) {
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
  const limits = [
    ['upper', info.upper],
    ['lower', info.lower],
  ].filter(([, limit]) => limit != null);
  for (const [key, limit] of limits) series.push(limitLine(`${t(key)} ${shownValue(code, info.unit, limit)}`));
  series.push(
    markers(t('flaggedPts'), '#f59e0b'),
    markers(t('exceedPts'), '#dc2626'),
    markers(t('warnPts'), '#ea580c'),
    markers(t('backfilledPts'), '#7c3aed'),
  );
  const bands = [];
  const count = (xs) => xs.filter((v) => v !== null).length;
  const build = (pts, miss, downs) => {
    // The range's ends are x values too, with no measurement, so that the limit lines span the whole range.
    const xs = [range.from / 1000, ...pts.map((p) => p.time / 1000), range.to / 1000];
    const ys = [null, ...pts.map(field), null];
    const where = (test) => [null, ...pts.map((p, i) => (test(p) ? ys[i + 1] : null)), null];
    const flagged = where((p) => p.flag && p.flag !== 'N');
    const exceeding = where((p) => p.judged?.state === 'exceedance');
    const warning = where((p) => p.judged?.state === 'warning');
    const backfilled = where((p) => p.backfilled);
    const data = [
      xs,
      ys,
      ...limits.map(([, limit]) => xs.map(() => limit * k)),
      flagged,
      exceeding,
      warning,
      backfilled,
    ];
    bands.splice(
      0,
      bands.length,
      ...miss.map((m) => ({ from: m, to: m + HOUR, color: MISSING })),
      ...downs.map((w) => ({ ...w, color: SHUTDOWN })),
    );
    const flags = [...new Set(pts.map((p) => p.flag).filter((f) => f))].sort();
    const summary = [
      `${t('points')} ${pts.length} · `,
      h('span', { class: 'exceed-count' }, `${t('exceedPts')} ${count(exceeding)}`),
      ' · ',
      h('span', { class: 'warn-count' }, `${t('warnPts')} ${count(warning)}`),
      ` · ${t('flaggedPts')} ${count(flagged)} · `,
      h('span', { class: 'backfilled-count' }, `${t('backfilledPts')} ${count(backfilled)}`),
      ' · ',
      h('span', { class: 'legend-key key-missing' }),
      h('span', { class: 'missing-count' }, `${t('missingHours')} ${miss.length}`),
      h('span', { class: 'legend-key key-shutdown' }),
      `${t('shutdownWindows')} ${downs.length}`,
      flags.length ? h('span', { class: 'flags' }, ` · ${t('flags')}: ${flags.map(flagName).join(' · ')}`) : '',
    ];
    return { data, summary };
  };
  const first = build(points, missing, shutdowns);
  const box = h('div', { class: 'plot' });
  const h3 = h('h3', {}, heading(points), ' ', h('span', { class: 'muted' }, code));
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
  return {
    /** New data, same range: a drag-zoom the operator made stays where it is. */
    update(next) {
      const { data, summary } = build(next.points, next.missing, next.shutdowns);
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
