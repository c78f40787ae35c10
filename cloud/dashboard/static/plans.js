/* global FileReader */
import { api, download } from './api.js';
import { acts, chinaDay } from './format.js';
import {
  fmtTime,
  fromInput,
  h,
  label,
  outletPage,
  patch,
  pct,
  reviewActions,
  select,
  table,
  timeInput,
  toInput,
} from './dom.js';
import { factorName, lang, refusal, t } from './i18n.js';

/** The frequencies of cloud/plans.ts (PERIODS), in the order a person picks them. */
const PERIODS = ['month', 'quarter', 'halfYear', 'year'];
const MODES = ['automatic', 'manual', 'none'];

/** A file as base64, for PUT /plans/:id/attachment (the API takes JSON bodies only). */
const base64Of = (file) =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });

/**
 * 监测方案 of one outlet (#/plans/MN): the outlet's plans (the one in force marked 生效), the form an enterprise
 * submits a plan with (automatic factors continuous, manual items with frequency, method and method source), the
 * review queue of the centre or the authority (each plan approved or rejected once, with a comment), the manual
 * results entered against the plan in force and its 手工监测完成率 for a year. Submitting and entering results
 * are for any account that may change something (an enterprise its own outlets); reviewing for the centre and
 * the authorities (acts()); the API checks both again.
 */
export async function plansView({ root, args, who }) {
  const { stations, station, path, pick, message, say } = await outletPage('plans', args);
  const name = (code) => factorName(station.limits[code], code);
  const stationName = (m) => {
    const s = stations.find((x) => x.mn === m);
    return s ? `${s.enterprise} · ${s.outlet}` : m;
  };
  const submits = who.role !== 'read';
  const reviews = acts(who);

  const itemText = (i) =>
    i.mode === 'automatic'
      ? `${name(i.factor)} ${t('plans.automatic')}`
      : `${name(i.factor)} ${t('plans.manual', {
          times: i.times,
          per: t(`plans.per.${i.per}`),
          method: i.method,
          source: i.methodSource,
        })}`;
  const items = (p) =>
    h(
      'ul',
      { class: 'plan-items' },
      p.items.map((i) => h('li', { 'data-item': i.factor }, itemText(i))),
    );
  const reviewText = (p) =>
    p.review ? `${p.review.by} · ${fmtTime(p.review.at)}${p.review.comment ? ` · ${p.review.comment}` : ''}` : '';

  // --- the form a plan is submitted with: one row per factor of the outlet, one more for a factor by hand only.
  const manualFields = () => [
    h('td', {}, h('input', { name: 'times', type: 'number', min: 1, max: 31, value: 1, size: 3 })),
    h(
      'td',
      {},
      select(
        'per',
        PERIODS.map((p) => [p, t(`plans.per.${p}`)]),
        'quarter',
      ),
    ),
    h('td', {}, h('input', { name: 'method', maxlength: 100, size: 12 })),
    h('td', {}, h('input', { name: 'methodSource', maxlength: 100, size: 14 })),
  ];
  const modeSelect = (value) =>
    select(
      'mode',
      MODES.map((m) => [m, t(`plans.mode.${m}`)]),
      value,
    );
  const factorRows = station.factors.map((f) =>
    h('tr', { 'data-item': f }, h('td', {}, name(f)), h('td', {}, modeSelect('automatic')), manualFields()),
  );
  const otherRow = h(
    'tr',
    { class: 'other-item' },
    h('td', {}, h('input', { name: 'factor', maxlength: 16, size: 8, placeholder: t('plans.otherFactor') })),
    h('td', {}, t('plans.mode.manual')),
    manualFields(),
  );
  const planForm = h(
    'form',
    { class: 'plan-form' },
    table(
      [
        t('review.factor'),
        t('plans.mode'),
        t('plans.times'),
        t('plans.per'),
        t('plans.method'),
        t('plans.methodSource'),
      ],
      [...factorRows, otherRow],
      { class: 'plan-form-table' },
    ),
    h('button', { type: 'submit' }, t('plans.submit')),
  );
  const manualOf = (row, factor) => ({
    factor,
    mode: 'manual',
    times: Number(row.querySelector('[name=times]').value),
    per: row.querySelector('[name=per]').value,
    method: row.querySelector('[name=method]').value.trim(),
    methodSource: row.querySelector('[name=methodSource]').value.trim(),
  });
  planForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { items: [] };
    for (const row of factorRows) {
      const mode = row.querySelector('[name=mode]').value;
      if (mode === 'automatic') body.items.push({ factor: row.dataset.item, mode });
      else if (mode === 'manual') body.items.push(manualOf(row, row.dataset.item));
    }
    const other = otherRow.querySelector('[name=factor]').value.trim();
    if (other) body.items.push(manualOf(otherRow, other));
    try {
      const p = await api(`${path}/plans`, { method: 'POST', json: body });
      await refresh();
      // Said once the page shows it.
      say(t('plans.submitted', { id: p.id }));
    } catch (err) {
      say(
        refusal(err, (n) => name(body.items[n]?.factor ?? '')),
        true,
      );
    }
  });

  // --- review (the centre, the authority): once each, with a comment (required to reject, as the API has it).
  const decide = async (p, decision, comment) => {
    try {
      await api(`/plans/${p.id}/review`, { method: 'POST', json: { decision, comment } });
      await refresh();
      // Said once the page shows it.
      say(t(decision === 'approve' ? 'plans.approved' : 'plans.rejected', { id: p.id }));
    } catch (err) {
      say(refusal(err), true);
    }
  };
  const planActions = (p) => reviewActions((decision, comment) => decide(p, decision, comment));

  // --- the signed scan (签章扫描件), uploaded by whoever submits.
  const attach = async (p, input) => {
    const file = input.files?.[0];
    if (!file) return;
    try {
      await api(`/plans/${p.id}/attachment`, {
        method: 'PUT',
        json: { name: file.name, base64: await base64Of(file) },
      });
      await refresh();
      // Said once the page shows it.
      say(t('plans.attached', { id: p.id, name: file.name }));
    } catch (err) {
      say(refusal(err), true);
    }
  };
  const attachmentCell = (p) => {
    const got = p.attachment
      ? h(
          'button',
          {
            type: 'button',
            class: 'link download',
            onclick: () => download(`/plans/${p.id}/attachment`, p.attachment.name),
          },
          p.attachment.name,
        )
      : '';
    // The plan as a printable PDF, to sign and stamp before the scan comes back.
    const pdf = h(
      'button',
      {
        type: 'button',
        class: 'link pdf',
        onclick: () => download(`/plans/${p.id}/pdf?lang=${lang()}`, `hj212-plan-${p.id}-${p.mn}.pdf`),
      },
      t('plans.pdf'),
    );
    if (!submits) return h('span', { class: 'attachment' }, pdf, got);
    // The browser's own file button speaks the browser's language: a label of ours opens it instead.
    const input = h('input', { type: 'file', name: 'scan', accept: '.pdf,.jpg,.jpeg,.png', hidden: true });
    input.addEventListener('change', () => attach(p, input));
    return h('span', { class: 'attachment' }, pdf, got, h('label', { class: 'upload' }, t('plans.attach'), input));
  };

  // --- manual results against the plan in force, and its completion for a year.
  const resultForm = h('form', { class: 'filters result-form' });
  const resultsEl = h('div', { class: 'manual-results' });
  const completionEl = h('div', { class: 'completion' });
  const yearForm = h(
    'form',
    { class: 'filters year-form' },
    label(
      t('completion.year'),
      h('input', { name: 'year', type: 'number', min: 2000, max: 2100, value: chinaDay(Date.now()).slice(0, 4) }),
    ),
    h('button', { type: 'submit' }, t('apply')),
  );
  yearForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    await refresh();
  });
  const yearBounds = (y) => [Date.parse(`${y}-01-01T00:00:00+08:00`), Date.parse(`${y + 1}-01-01T00:00:00+08:00`)];
  let shownPlanId;
  // A laboratory's sheet of results (CSV): the lines that check are entered, the others listed by line.
  const importEl = h('div', { class: 'result-import' });
  const rejectedEl = h('ul', { class: 'import-rejected' });
  const importCsv = async (input) => {
    const file = input.files?.[0];
    if (!file) return;
    try {
      const r = await api(`${path}/manual-results.csv`, { method: 'POST', text: await file.text(), type: 'text/csv' });
      input.value = '';
      await refresh();
      patch(
        rejectedEl,
        r.rejected.map((x) => h('li', {}, t('manual.rejectedLine', { line: x.line, message: x.message }))),
      );
      say(t('manual.imported', { n: r.imported.length, rejected: r.rejected.length }), r.rejected.length > 0);
    } catch (err) {
      say(refusal(err), true);
    }
  };
  const buildResultForm = (plan) => {
    shownPlanId = plan?.id;
    const manual = plan ? plan.items.filter((i) => i.mode === 'manual') : [];
    if (!plan || manual.length === 0 || !submits) {
      importEl.replaceChildren();
      return resultForm.replaceChildren();
    }
    const sheet = h('input', { type: 'file', name: 'sheet', accept: '.csv,text/csv', hidden: true });
    sheet.addEventListener('change', () => importCsv(sheet));
    importEl.replaceChildren(
      h('label', { class: 'upload import' }, t('manual.import'), sheet),
      h('span', { class: 'muted' }, ` ${t('manual.importHint')}`),
    );
    resultForm.replaceChildren(
      label(
        t('review.factor'),
        select(
          'factor',
          manual.map((i) => [i.factor, name(i.factor)]),
          manual[0].factor,
        ),
      ),
      label(t('manual.time'), timeInput('time')),
      label(t('manual.value'), h('input', { name: 'value', inputmode: 'decimal', size: 8 })),
      label(t('manual.lab'), h('input', { name: 'lab', maxlength: 100, size: 16 })),
      label(t('manual.note'), h('input', { name: 'note', maxlength: 500, size: 16 })),
      h('button', { type: 'submit' }, t('manual.enter')),
    );
  };
  resultForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = resultForm;
    const time = fromInput(f.time.value);
    const value = f.value.value.trim();
    const body = {
      factor: f.factor.value,
      time: Number.isNaN(time) ? f.time.value : new Date(time).toISOString(),
      value: value === '' || Number.isNaN(Number(value)) ? value : Number(value),
      lab: f.lab.value.trim(),
      note: f.note.value.trim(),
    };
    try {
      const r = await api(`${path}/manual-results`, { method: 'POST', json: body });
      f.value.value = '';
      f.note.value = '';
      await refresh();
      // Said once the page shows it.
      say(t('manual.entered', { factor: name(r.factor), time: toInput(r.time) }));
    } catch (err) {
      say(refusal(err), true);
    }
  });

  const queueEl = h('div', { class: 'plan-queue' });
  const listEl = h('div', { class: 'plans' });

  const refresh = async () => {
    const year = Number(yearForm.year.value) || Number(chinaDay(Date.now()).slice(0, 4));
    const [from, to] = yearBounds(year);
    const [plans, queue, results] = await Promise.all([
      api(`${path}/plans`),
      reviews ? api('/plans?state=submitted') : Promise.resolve([]),
      api(`${path}/manual-results?from=${from}&to=${to}`),
    ]);
    // The newest approved is in force (cloud/plans.ts inForce): by approval time.
    const inForce = plans
      .filter((p) => p.state === 'approved')
      .sort((a, b) => b.review.at - a.review.at || b.id - a.id)[0];
    const completion = inForce ? await api(`${path}/plan/completion?year=${year}`) : undefined;

    if (reviews)
      patch(queueEl, [
        queue.length === 0
          ? h('p', { class: 'muted' }, t('plans.noQueue'))
          : table(
              [t('id'), t('station'), t('plans.items'), t('plans.submittedBy'), t('registration.review')],
              queue.map((p) =>
                h(
                  'tr',
                  { 'data-plan': p.id },
                  h('td', {}, `#${p.id}`),
                  h('td', {}, stationName(p.mn)),
                  h('td', {}, items(p)),
                  h('td', {}, `${p.by} · ${fmtTime(p.at)}`),
                  h('td', {}, planActions(p)),
                ),
              ),
              { class: 'plan-queue-table' },
            ),
      ]);
    patch(listEl, [
      plans.length === 0
        ? h('p', { class: 'muted' }, t('plans.none'))
        : table(
            [
              t('id'),
              t('plans.items'),
              t('registration.state'),
              t('plans.submittedBy'),
              t('registration.review'),
              t('plans.attachment'),
            ],
            [...plans].reverse().map((p) => {
              const live = p.id === inForce?.id;
              return h(
                'tr',
                { 'data-plan': p.id, 'data-state': live ? 'in-force' : p.state },
                h('td', {}, `#${p.id}`),
                h('td', {}, items(p)),
                h(
                  'td',
                  { class: `state ${p.state}` },
                  t(`registration.state.${p.state}`),
                  live ? [' · ', h('span', { class: 'in-force' }, t('plans.inForce'))] : '',
                ),
                h('td', {}, `${p.by} · ${fmtTime(p.at)}`),
                h('td', {}, reviewText(p)),
                h('td', {}, attachmentCell(p)),
              );
            }),
            { class: 'plans-table' },
          ),
    ]);
    if (inForce?.id !== shownPlanId || resultForm.childNodes.length === 0) buildResultForm(inForce);
    patch(resultsEl, [
      !inForce
        ? h('p', { class: 'muted' }, t('plans.noPlanInForce'))
        : results.length === 0
          ? h('p', { class: 'muted' }, t('manual.none'))
          : table(
              [
                t('manual.time'),
                t('review.factor'),
                t('manual.value'),
                t('manual.method'),
                t('manual.lab'),
                t('review.by'),
                t('manual.note'),
              ],
              [...results]
                .reverse()
                .map((r) =>
                  h(
                    'tr',
                    { 'data-result': r.id },
                    h('td', { class: 'time' }, toInput(r.time)),
                    h('td', {}, name(r.factor)),
                    h('td', { class: 'num' }, String(r.value)),
                    h('td', {}, t('manual.methodOf', { method: r.method, source: r.methodSource })),
                    h('td', {}, r.lab),
                    h('td', {}, `${r.by} · ${fmtTime(r.at)}`),
                    h('td', {}, r.note),
                  ),
                ),
              { class: 'results-table' },
            ),
    ]);
    const rate = (c) => (c.rate === null ? t('completion.notDue') : pct(c.rate));
    patch(completionEl, [
      !completion
        ? h('p', { class: 'muted' }, t('completion.noPlan'))
        : h(
            'div',
            {},
            h(
              'p',
              { class: 'completion-total' },
              t('completion.of', { year: completion.year }),
              h('strong', { 'data-figure': 'completion' }, rate(completion)),
              t('completion.count', { done: completion.done, required: completion.required }),
            ),
            table(
              [
                t('review.factor'),
                t('completion.frequency'),
                t('completion.due'),
                t('completion.required'),
                t('completion.done'),
                t('completion.rate'),
              ],
              completion.items.map((c) =>
                h(
                  'tr',
                  { 'data-item': c.factor },
                  h('td', {}, name(c.factor)),
                  h('td', {}, t('completion.freq', { times: c.times, per: t(`plans.per.${c.per}`) })),
                  h('td', { class: 'num' }, String(c.periodsDue)),
                  h('td', { class: 'num' }, String(c.required)),
                  h('td', { class: 'num' }, String(c.done)),
                  h('td', { class: 'num' }, rate(c)),
                ),
              ),
              { class: 'completion-table' },
            ),
          ),
    ]);
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, `${t('plans')} · ${station.enterprise} · ${station.outlet}`),
    h('form', { class: 'filters' }, label(t('station'), pick)),
    h('p', { class: 'muted' }, t('plans.explain')),
    message,
    reviews ? h('h3', {}, t('plans.queue')) : '',
    reviews ? queueEl : '',
    h('h3', {}, t('plans.list')),
    listEl,
    submits ? h('h3', {}, t('plans.new')) : '',
    submits ? planForm : '',
    h('h3', {}, t('manual')),
    resultForm,
    importEl,
    rejectedEl,
    resultsEl,
    h('h3', {}, t('completion')),
    yearForm,
    completionEl,
  );
  return { refresh, concerns: () => false };
}
