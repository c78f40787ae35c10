import { chinaTime, type Lang } from './labels.js';
import type { DisclosureView } from './schemas.js';

/**
 * The public disclosure pages (信息公开) as HTML: server-rendered, no script, every text escaped, the
 * stylesheet the dashboard serves. What they show is the JSON of `/public/enterprises/...`, in words.
 */
const esc = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const WORDS = {
  zh: {
    title: '企业自行监测信息公开',
    enterprises: '公开企业',
    outlets: '排口数',
    region: '所属辖区',
    month: '月份',
    plan: '监测方案',
    approved: '审核通过于',
    item: '监测项目',
    mode: '监测方式',
    automatic: '自动监测',
    manual: '手工监测',
    frequency: '监测频次',
    method: '监测方法',
    methodSource: '方法来源',
    days: '自动监测日均值',
    day: '日期',
    dayValue: '日均值',
    converted: '折算',
    limit: '标准限值',
    hoursValid: '有效小时数',
    hoursExceeding: '超标小时数',
    verdict: '是否达标',
    yes: '达标',
    no: '超标',
    none: '—',
    results: '手工监测结果(本年度)',
    sampled: '采样时间',
    value: '监测值',
    lab: '监测机构',
    noData: '无数据',
    water: '废水',
    gas: '废气',
    prev: '上月',
    next: '下月',
    other: 'English',
    none404: '未公开',
  },
  en: {
    title: 'Self-monitoring disclosure',
    enterprises: 'Enterprises disclosing',
    outlets: 'outlets',
    region: 'jurisdiction',
    month: 'month',
    plan: 'Monitoring plan',
    approved: 'approved',
    item: 'item',
    mode: 'mode',
    automatic: 'automatic',
    manual: 'manual',
    frequency: 'frequency',
    method: 'method',
    methodSource: 'method source',
    days: 'Automatic monitoring: day values',
    day: 'day',
    dayValue: 'day value',
    converted: 'converted',
    limit: 'limit',
    hoursValid: 'valid hours',
    hoursExceeding: 'hours over the limit',
    verdict: 'verdict',
    yes: 'compliant',
    no: 'exceeding',
    none: '—',
    results: 'Manual monitoring results (this year)',
    sampled: 'sampled',
    value: 'value',
    lab: 'laboratory',
    noData: 'no data',
    water: 'wastewater',
    gas: 'flue gas',
    prev: 'previous month',
    next: 'next month',
    other: '中文',
    none404: 'not disclosed',
  },
} as const;

const VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">';

function shell(lang: Lang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang === 'en' ? 'en' : 'zh-CN'}">
<head><meta charset="utf-8">${VIEWPORT}<title>${esc(title)}</title>
<link rel="stylesheet" href="/ui/disclosure.css"></head>
<body class="disclosure">${body}</body>
</html>
`;
}

const table = (head: readonly string[], rows: readonly string[][], cls: string): string =>
  `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join('')}</tr>`)
    .join('')}</tbody></table>`;
const td = (v: string | number, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${esc(v)}</td>`;

/** A limit as written in a standard: "≤ 50", "6-9", "≥ 6". */
function limitText(f: { upper?: number; lower?: number } | undefined, none: string): string {
  if (f?.upper !== undefined && f.lower !== undefined) return `${f.lower}-${f.upper}`;
  if (f?.upper !== undefined) return `≤ ${f.upper}`;
  if (f?.lower !== undefined) return `≥ ${f.lower}`;
  return none;
}

/** `/disclosure`: the enterprises that disclose, each linking to its page. */
export function disclosureListPage(
  list: readonly { enterprise: string; region?: string; outlets: number }[],
  lang: Lang,
): string {
  const w = WORDS[lang];
  const q = lang === 'en' ? '?lang=en' : '';
  const rows = list.map((e) => [
    `<td><a href="/disclosure/${encodeURIComponent(e.enterprise)}${q}">${esc(e.enterprise)}</a></td>`,
    td(e.region ?? w.none),
    td(e.outlets, 'num'),
  ]);
  const other = `<a class="lang" href="/disclosure${lang === 'en' ? '' : '?lang=en'}">${w.other}</a>`;
  return shell(
    lang,
    w.title,
    `<header><h1>${esc(w.title)}</h1>${other}</header><main>${
      rows.length
        ? table([w.enterprises, w.region, w.outlets], rows, 'enterprises')
        : `<p class="muted">${esc(w.noData)}</p>`
    }</main>`,
  );
}

const shiftMonth = (month: string, by: number): string => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const i = y * 12 + (m - 1) + by;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
};

/** `/disclosure/:enterprise`: per outlet the plan in force, the month's day values, the year's manual results. */
export function disclosurePage(d: DisclosureView, lang: Lang): string {
  const w = WORDS[lang];
  const base = `/disclosure/${encodeURIComponent(d.enterprise)}`;
  const link = (month: string, text: string, cls: string) =>
    `<a class="${cls}" href="${base}?month=${month}${lang === 'en' ? '&amp;lang=en' : ''}">${esc(text)}</a>`;
  const other = `<a class="lang" href="${base}?month=${d.month}${lang === 'en' ? '' : '&amp;lang=en'}">${w.other}</a>`;
  const prev = link(shiftMonth(d.month, -1), w.prev, 'prev');
  const nav = `<nav>${prev} ${link(shiftMonth(d.month, 1), w.next, 'next')} ${other}</nav>`;
  const verdict = (c: boolean | null) =>
    c === null ? td(w.none, 'verdict') : td(c ? w.yes : w.no, `verdict ${c ? 'ok' : 'exceed'}`);
  const sections = d.outlets.map((o) => {
    const name = (f: string) => o.factors[f]?.name ?? f;
    const unit = (f: string) => (o.factors[f]?.unit ? ` (${o.factors[f]!.unit})` : '');
    const plan = table(
      [w.item, w.mode, w.frequency, w.method, w.methodSource],
      o.plan.items.map((i) => [
        td(i.name),
        td(i.mode === 'automatic' ? w.automatic : w.manual),
        td(i.frequency),
        td(i.method ?? w.none),
        td(i.methodSource ?? w.none),
      ]),
      'plan',
    );
    const days = o.days.length
      ? table(
          [w.day, w.item, w.dayValue, w.limit, w.hoursValid, w.hoursExceeding, w.verdict],
          o.days.map((l) => [
            td(l.day),
            td(`${name(l.factor)}${unit(l.factor)}`),
            td(l.value === null ? w.none : `${l.value}${l.converted ? ` (${w.converted})` : ''}`, 'num'),
            td(limitText(o.factors[l.factor], w.none)),
            td(l.hoursValid, 'num'),
            td(l.hoursExceeding, 'num'),
            verdict(l.compliant),
          ]),
          'days',
        )
      : `<p class="muted">${esc(w.noData)}</p>`;
    const manual = o.manual.length
      ? table(
          [w.sampled, w.item, w.value, w.limit, w.verdict, w.method, w.lab],
          o.manual.map((r) => [
            td(chinaTime(r.time).slice(0, 16)),
            td(`${name(r.factor)}${unit(r.factor)}`),
            td(r.value, 'num'),
            td(limitText(o.factors[r.factor], w.none)),
            verdict(r.compliant),
            td(`${r.method} (${r.methodSource})`),
            td(r.lab),
          ]),
          'manual',
        )
      : `<p class="muted">${esc(w.noData)}</p>`;
    return `<section class="outlet"><h2>${esc(o.outlet)} · ${esc(w[o.type as 'water' | 'gas'] ?? o.type)}</h2>
<h3>${esc(w.plan)} <small>${esc(w.approved)} ${esc(chinaTime(o.plan.approvedAt).slice(0, 10))}</small></h3>${plan}
<h3>${esc(w.days)} · ${esc(d.month)}</h3>${days}
<h3>${esc(w.results)}</h3>${manual}</section>`;
  });
  const region = d.region ? `<p>${esc(w.region)}: ${esc(d.region)}</p>` : '';
  return shell(
    lang,
    `${w.title} · ${d.enterprise}`,
    `<header><p><a href="/disclosure${lang === 'en' ? '?lang=en' : ''}">${esc(w.title)}</a></p>` +
      `<h1>${esc(d.enterprise)}</h1>${region}<p>${esc(w.month)}: ${esc(d.month)}</p>${nav}</header>` +
      `<main>${sections.join('\n')}</main>`,
  );
}

/** The page for an enterprise that discloses nothing (404). */
export function notDisclosedPage(enterprise: string, lang: Lang): string {
  const w = WORDS[lang];
  return shell(
    lang,
    w.none404,
    `<header><p><a href="/disclosure">${esc(w.title)}</a></p><h1>${esc(enterprise)}</h1></header>` +
      `<main><p class="muted">${esc(w.none404)}</p></main>`,
  );
}
