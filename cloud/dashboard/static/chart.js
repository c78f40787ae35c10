/* global uPlot */
import { fmtTime, h } from './dom.js';
import { t } from './i18n.js';

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
 * `points` are the API's, `info` the factor's limits and unit, `missing` hour starts, `shutdowns` {from, to} ms.
 */
export function factorChart({ el, code, title, points, info, missing, shutdowns, range, width }) {
  // The value the cloud judged (converted for gas), as the API gives it; the raw one where nothing is judged.
  const field = (p) =>
    p.judged?.value ??
    p.values[`Zs${p.kind === 'rtd' ? 'Rtd' : 'Avg'}`] ??
    p.values[p.kind === 'rtd' ? 'Rtd' : 'Avg'] ??
    null;
  // The range's ends are x values too, with no measurement, so that the limit lines span the whole range.
  const xs = [range.from / 1000, ...points.map((p) => p.time / 1000), range.to / 1000];
  const ys = [null, ...points.map(field), null];
  const where = (test) => [null, ...points.map((p, i) => (test(p) ? ys[i + 1] : null)), null];
  const flagged = where((p) => p.flag && p.flag !== 'N');
  const exceeding = where((p) => p.judged?.state === 'exceedance');
  const warning = where((p) => p.judged?.state === 'warning');
  const backfilled = where((p) => p.backfilled);
  const series = [
    { label: t('time') },
    { label: `${title} (${info.unit ?? ''})`, stroke: '#2563eb', width: 1.5, points: { show: points.length < 100 } },
  ];
  const data = [xs, ys];
  for (const [key, limit] of [
    ['upper', info.upper],
    ['lower', info.lower],
  ]) {
    if (limit == null) continue;
    series.push(limitLine(`${t(key)} ${limit}`));
    data.push(xs.map(() => limit));
  }
  series.push(
    markers(t('flaggedPts'), '#f59e0b'),
    markers(t('exceedPts'), '#dc2626'),
    markers(t('warnPts'), '#ea580c'),
    markers(t('backfilledPts'), '#7c3aed'),
  );
  data.push(flagged, exceeding, warning, backfilled);
  const bands = [
    ...missing.map((m) => ({ from: m, to: m + HOUR, color: MISSING })),
    ...shutdowns.map((w) => ({ ...w, color: SHUTDOWN })),
  ];
  const box = h('div', { class: 'plot' });
  const count = (xs) => xs.filter((v) => v !== null).length;
  el.append(
    h('h3', {}, title, ' ', h('span', { class: 'muted' }, code)),
    box,
    h(
      'div',
      { class: 'summary', 'data-factor': code },
      `${t('points')} ${points.length} · `,
      h('span', { class: 'exceed-count' }, `${t('exceedPts')} ${count(exceeding)}`),
      ' · ',
      h('span', { class: 'warn-count' }, `${t('warnPts')} ${count(warning)}`),
      ` · ${t('flaggedPts')} ${count(flagged)} · `,
      h('span', { class: 'backfilled-count' }, `${t('backfilledPts')} ${count(backfilled)}`),
      ' · ',
      h('span', { class: 'legend-key key-missing' }),
      h('span', { class: 'missing-count' }, `${t('missingHours')} ${missing.length}`),
      h('span', { class: 'legend-key key-shutdown' }),
      `${t('shutdownWindows')} ${shutdowns.length}`,
    ),
  );
  return new uPlot(
    {
      width,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
      scales: { x: { time: true, min: range.from / 1000, max: range.to / 1000 } },
      cursor: { drag: { x: true, y: false } },
      // 24-hour China time, with the date where the span needs it.
      axes: [
        {
          values: (_u, ticks) =>
            ticks.map((s) => fmtTime(s * 1000).slice(range.to - range.from > 86_400_000 ? 5 : 11, 16)),
        },
        {},
      ],
      series,
      plugins: [bandsPlugin(bands)],
    },
    data,
    box,
  );
}
