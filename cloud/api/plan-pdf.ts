import { existsSync } from 'node:fs';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import { PERIODS, type Plan } from '../plans.js';
import type { Station } from '../registry.js';
import { chinaTime, factorName, type Lang } from './labels.js';

/**
 * A monitoring plan (自行监测方案) as a printable PDF: the enterprise prints it, signs and stamps it, and
 * uploads the scan back as the plan's attachment (PUT /plans/{id}/attachment). Chinese text needs a CJK font
 * embedded (subset by pdfkit); the system's is found among these, or `http.pdfFont` names one.
 */
export const CJK_FONTS = [
  // Debian fonts-wqy-zenhei, fonts-noto-cjk.
  '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
  '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
];

/** The font file to embed: the configured one, else the first CJK font installed; undefined if there is none. */
export function pdfFont(configured?: string): string | undefined {
  if (configured !== undefined) return configured;
  return CJK_FONTS.find((f) => existsSync(f));
}

const WORDS = {
  zh: {
    title: '自行监测方案',
    enterprise: '排污单位',
    outlet: '监测点位(排口)',
    region: '所属辖区',
    type: '排口类型',
    water: '废水',
    gas: '废气',
    plan: '方案编号',
    state: '状态',
    submitted: '待审核',
    approved: '审核通过',
    rejected: '已退回',
    submittedBy: '提交',
    reviewedBy: '审核',
    head: ['序号', '监测项目', '监测方式', '监测频次', '监测方法', '方法来源'],
    automatic: '自动监测',
    manual: '手工监测',
    continuous: '连续监测',
    times: (n: number, per: string) => `${n}次/${per}`,
    sign: ['排污单位(盖章):', '负责人(签字):', '日期:'],
    printed: '导出时间',
    upload: '签字盖章后扫描,作为方案附件上传(PDF、JPG 或 PNG)。',
  },
  en: {
    title: 'Monitoring plan',
    enterprise: 'Enterprise',
    outlet: 'Outlet',
    region: 'Jurisdiction',
    type: 'Type',
    water: 'wastewater',
    gas: 'flue gas',
    plan: 'Plan no.',
    state: 'State',
    submitted: 'awaiting review',
    approved: 'approved',
    rejected: 'rejected',
    submittedBy: 'submitted',
    reviewedBy: 'reviewed',
    head: ['No.', 'Item', 'Mode', 'Frequency', 'Method', 'Method source'],
    automatic: 'automatic',
    manual: 'manual',
    continuous: 'continuous',
    times: (n: number, per: string) => `${n} per ${per}`,
    sign: ['Enterprise (stamp):', 'Responsible person (signature):', 'Date:'],
    printed: 'Exported',
    upload: 'Sign and stamp, scan, and upload it as the plan’s attachment (PDF, JPG or PNG).',
  },
} as const;
const PER_EN = { month: 'month', quarter: 'quarter', halfYear: 'half-year', year: 'year' } as const;

/** The table's rows: one per item, in the plan's order. */
export function planRows(plan: Plan, lang: Lang): string[][] {
  const w = WORDS[lang];
  return plan.items.map((i, n) => [
    String(n + 1),
    `${factorName(i.factor, lang)} (${i.factor})`,
    i.mode === 'automatic' ? w.automatic : w.manual,
    i.mode === 'automatic' ? w.continuous : w.times(i.times, lang === 'en' ? PER_EN[i.per] : PERIODS[i.per]),
    i.mode === 'automatic' ? '—' : i.method,
    i.mode === 'automatic' ? '—' : i.methodSource,
  ]);
}

/** Per font file, the name collectionFont found: opening a CJK collection parses megabytes, once is enough. */
const collectionNames = new Map<string, string | undefined>();

/** The first font of a collection (.ttc), which pdfkit needs named; undefined for a single font file. */
function collectionFont(file: string): string | undefined {
  if (!collectionNames.has(file)) {
    const f = fontkit.openSync(file);
    collectionNames.set(file, 'fonts' in f ? f.fonts[0]?.postscriptName : undefined);
  }
  return collectionNames.get(file);
}

/** Renders the plan; `font` is a CJK font file (see pdfFont). `now` stamps the export. */
export function planPdf(opts: {
  plan: Plan;
  station: Station;
  lang: Lang;
  font: string;
  now: number;
}): Promise<Buffer> {
  const { plan, station: s, lang, font, now } = opts;
  const w = WORDS[lang];
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    // A fixed creation date: the same plan exported at the same time gives the same file.
    info: { Title: `${w.title} ${s.enterprise} ${s.outlet}`, Creator: 'hj212', CreationDate: new Date(now) },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const inCollection = collectionFont(font);
  if (inCollection !== undefined) doc.registerFont('cjk', font, inCollection);
  else doc.registerFont('cjk', font);
  doc.font('cjk');

  doc.fontSize(18).text(w.title, { align: 'center' });
  doc.moveDown();
  const state = { submitted: w.submitted, approved: w.approved, rejected: w.rejected }[plan.state];
  const fields: [string, string][] = [
    [w.enterprise, s.enterprise],
    ...(s.region ? [[w.region, s.region] as [string, string]] : []),
    [w.outlet, `${s.outlet} (MN ${s.mn})`],
    [w.type, w[s.type]],
    [w.plan, String(plan.id)],
    [w.state, state],
    [w.submittedBy, `${plan.by} ${chinaTime(plan.at)}`],
    ...(plan.review
      ? [
          [
            w.reviewedBy,
            `${plan.review.by} ${chinaTime(plan.review.at)}${plan.review.comment ? ` · ${plan.review.comment}` : ''}`,
          ] as [string, string],
        ]
      : []),
  ];
  doc.fontSize(11);
  for (const [k, v] of fields) doc.text(`${k}: ${v}`);
  doc.moveDown();

  // The items as a ruled table: column widths over the 495 pt between the margins.
  const widths = [30, 120, 60, 70, 105, 110];
  const left = doc.page.margins.left;
  const drawRow = (cells: readonly string[], bold: boolean) => {
    doc.fontSize(bold ? 10.5 : 10);
    const pad = 4;
    const height = Math.max(...cells.map((c, i) => doc.heightOfString(c, { width: widths[i]! - 2 * pad }))) + 2 * pad;
    if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const top = doc.y;
    let x = left;
    cells.forEach((c, i) => {
      doc.rect(x, top, widths[i]!, height).stroke();
      doc.text(c, x + pad, top + pad, { width: widths[i]! - 2 * pad });
      x += widths[i]!;
    });
    doc.x = left;
    doc.y = top + height;
  };
  drawRow(w.head, true);
  for (const row of planRows(plan, lang)) drawRow(row, false);

  doc.moveDown(2);
  doc.fontSize(11);
  for (const line of w.sign) {
    doc.text(`${line} ______________________________`, left);
    doc.moveDown();
  }
  doc.moveDown();
  doc.fontSize(9).text(w.upload, left);
  doc.text(`${w.printed}: ${chinaTime(now)}`, left);
  doc.end();
  return done;
}
