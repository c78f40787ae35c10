import { api } from './api.js';
import { acts, stationRangeEnd } from './format.js';
import {
  fmtTime,
  fromInput,
  h,
  label,
  outletPage,
  patch,
  reviewActions,
  select,
  table,
  timeInput,
  toInput,
} from './dom.js';
import { factorName, lang, reasonName, t } from './i18n.js';

const HOUR = 3_600_000;
/** The reasons of cloud/registrations.ts (不正常运行登记), in the order an enterprise picks them. */
const REGISTRATION_REASONS = ['stopped', 'maintenance', 'fault', 'outOfService', 'other'];
/** The reasons of cloud/marks.ts, in the order a reviewer picks them. */
/** Reasons an enterprise account may not mark with (cloud/marks.ts): the centre's and the authorities'. */
const ENTERPRISE_KEEPS_OFF = ['overRange', 'normal'];
const REASONS = [
  'stopped',
  'fault',
  'maintenance',
  'calibration',
  'overRange',
  'communication',
  'processAbnormal',
  'normal',
];

/** "2026-11-20 08:00 – 10:00": the hours a mark or a window covers. */
const span = (from, to) => `${toInput(from)} – ${toInput(to)}`;

/**
 * 数据审核/标记 of one outlet (#/review/MN): hours marked with a reason (停运, 故障, 检修, 校准 …) or a
 * corrected flag, the marks in force (withdrawable), the audit trail of every change, and the
 * outlet's shutdown windows (停运申报). Marking is an operator's or admin's; registering a shutdown
 * an admin's (as the API has it); a reader sees the lists.
 */
export async function reviewView({ root, args, who }) {
  const { mn, station, path, pick, message, say } = await outletPage('review', args);
  const q = `lang=${lang()}`;
  const name = (code) => (code === null ? t('review.allFactors') : factorName(station.limits[code], code));
  // The form opens on the last day of data: the hours a reviewer looks at.
  const end = stationRangeEnd(station, 'hour');

  const markForm = h(
    'form',
    { class: 'filters mark-form' },
    label(
      t('review.factor'),
      select('factor', [['', t('review.allFactors')], ...station.factors.map((f) => [f, name(f)])], ''),
    ),
    label(t('review.from'), timeInput('from', end - 2 * HOUR)),
    label(t('review.to'), timeInput('to', end)),
    label(
      t('review.reason'),
      select(
        'reason',
        // An enterprise marks its own hours with its list (the API's): clearing a flag and 超量程 stay the
        // reviewers'.
        REASONS.filter((r) => acts(who) || !ENTERPRISE_KEEPS_OFF.includes(r)).map((r) => [r, reasonName(r)]),
        'fault',
      ),
    ),
    label(t('review.note'), h('input', { name: 'note', maxlength: 500, size: 24 })),
    h('button', { type: 'submit' }, t('review.mark')),
  );
  markForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      ...(markForm.factor.value && { factor: markForm.factor.value }),
      from: new Date(fromInput(markForm.from.value)).toISOString(),
      to: new Date(fromInput(markForm.to.value)).toISOString(),
      reason: markForm.reason.value,
      note: markForm.note.value.trim(),
    };
    try {
      const m = await api(`${path}/marks?${q}`, { method: 'POST', json: body });
      say(t('review.marked', { reason: m.reasonName, span: span(m.from, m.to) }));
      markForm.note.value = '';
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });

  const shutdownForm = h(
    'form',
    { class: 'filters shutdown-form' },
    label(t('review.from'), timeInput('from', end - 2 * HOUR)),
    label(t('review.to'), timeInput('to', end)),
    label(t('review.note'), h('input', { name: 'reason', value: t('review.shutdownReason'), maxlength: 200 })),
    h('button', { type: 'submit' }, t('review.register')),
  );
  shutdownForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      from: new Date(fromInput(shutdownForm.from.value)).toISOString(),
      to: new Date(fromInput(shutdownForm.to.value)).toISOString(),
      reason: shutdownForm.reason.value.trim() || t('review.shutdownReason'),
    };
    try {
      await api(`${path}/shutdowns`, { method: 'POST', json: body });
      say(t('review.registered', { span: span(Date.parse(body.from), Date.parse(body.to)) }));
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });

  // 不正常运行登记: anyone who may change something submits (an enterprise its own outlets); the centre or the
  // authority approves or rejects each once.
  const registrationForm = h(
    'form',
    { class: 'filters registration-form' },
    label(t('review.from'), timeInput('from', end - 2 * HOUR)),
    label(t('review.to'), timeInput('to', end)),
    label(
      t('review.reason'),
      select(
        'reason',
        REGISTRATION_REASONS.map((r) => [r, t(`registration.reason.${r}`)]),
        'stopped',
      ),
    ),
    label(t('registration.detail'), h('input', { name: 'detail', maxlength: 500, size: 24 })),
    h('button', { type: 'submit' }, t('registration.submit')),
  );
  registrationForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      from: new Date(fromInput(registrationForm.from.value)).toISOString(),
      to: new Date(fromInput(registrationForm.to.value)).toISOString(),
      reason: registrationForm.reason.value,
      detail: registrationForm.detail.value.trim(),
    };
    try {
      const r = await api(`${path}/registrations`, { method: 'POST', json: body });
      say(t('registration.submitted', { id: r.id, span: span(Date.parse(r.from), Date.parse(r.to)) }));
      registrationForm.detail.value = '';
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  });
  const registrationsEl = h('div', { class: 'registrations' });
  const decide = async (r, decision, comment) => {
    try {
      await api(`/registrations/${r.id}/review`, { method: 'POST', json: { decision, comment } });
      say(t(decision === 'approve' ? 'registration.approved' : 'registration.rejected', { id: r.id }));
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  };
  const reviewCell = (r) => {
    if (r.review) {
      const comment = r.review.comment ? ` · ${r.review.comment}` : '';
      return `${r.review.by} · ${fmtTime(r.review.at)}${comment}`;
    }
    if (!acts(who)) return '';
    return reviewActions((decision, comment) => decide(r, decision, comment));
  };

  // The centre and authorities mark and withdraw; an enterprise's operator marks its own recent hours (数据标记).
  const canMark = acts(who) || (!!who && who.role !== 'read' && who.enterprise !== undefined);
  const canWithdraw = acts(who);
  const inForce = h('div', { class: 'marks' });
  const audit = h('div', { class: 'audit' });
  const windows = h('div', { class: 'shutdowns' });
  const withdraw = async (m) => {
    try {
      await api(`${path}/marks/${m.id}?${q}`, { method: 'DELETE' });
      say(t('review.withdrawn', { reason: m.reasonName, span: span(m.from, m.to) }));
      await refresh();
    } catch (err) {
      say(err.message, true);
    }
  };

  const refresh = async () => {
    const [marks, trail, shutdowns, registrations] = await Promise.all([
      api(`${path}/marks?${q}`),
      api(`${path}/marks/audit?${q}`),
      api(`${path}/shutdowns`),
      api(`${path}/registrations`),
    ]);
    // Newest period first; a row keeps its comment field while others are decided (patch replaces the table).
    patch(registrationsEl, [
      registrations.length === 0
        ? h('p', { class: 'muted' }, t('registration.none'))
        : table(
            [
              t('review.hours'),
              t('review.reason'),
              t('registration.detail'),
              t('registration.state'),
              t('review.by'),
              t('registration.review'),
            ],
            [...registrations]
              .reverse()
              .map((r) =>
                h(
                  'tr',
                  { 'data-registration': r.id, 'data-state': r.state },
                  h('td', { class: 'time' }, span(Date.parse(r.from), Date.parse(r.to))),
                  h('td', {}, r.reasonName),
                  h('td', {}, r.detail),
                  h('td', { class: `state ${r.state}` }, t(`registration.state.${r.state}`)),
                  h('td', {}, `${r.by} · ${fmtTime(r.at)}`),
                  h('td', {}, reviewCell(r)),
                ),
              ),
            { class: 'registrations-table' },
          ),
    ]);
    patch(inForce, [
      marks.length === 0
        ? h('p', { class: 'muted' }, t('review.noMarks'))
        : table(
            [
              t('review.factor'),
              t('review.hours'),
              t('review.reason'),
              t('flag'),
              t('review.note'),
              t('review.by'),
              '',
            ],
            [...marks]
              .reverse()
              .map((m) =>
                h(
                  'tr',
                  { 'data-mark': m.id },
                  h('td', {}, name(m.factor)),
                  h('td', { class: 'time' }, span(m.from, m.to)),
                  h('td', {}, m.reasonName),
                  h('td', { class: 'flag' }, m.flagName),
                  h('td', {}, m.note),
                  h('td', {}, `${m.by} · ${fmtTime(m.at)}`),
                  h(
                    'td',
                    {},
                    canWithdraw
                      ? h('button', { type: 'button', onclick: () => withdraw(m) }, t('review.withdraw'))
                      : '',
                  ),
                ),
              ),
            { class: 'marks-table' },
          ),
    ]);
    patch(audit, [
      trail.length === 0
        ? h('p', { class: 'muted' }, t('review.noAudit'))
        : table(
            [
              t('time'),
              t('review.action'),
              t('review.by'),
              t('review.factor'),
              t('review.hours'),
              t('review.reason'),
              t('review.note'),
            ],
            [...trail]
              .reverse()
              .map((a) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'time' }, fmtTime(a.at)),
                  h('td', {}, t(`review.action.${a.action}`)),
                  h('td', {}, a.by),
                  h('td', {}, name(a.mark.factor)),
                  h('td', { class: 'time' }, span(a.mark.from, a.mark.to)),
                  h('td', {}, a.mark.reasonName),
                  h('td', {}, a.mark.note),
                ),
              ),
            { class: 'audit-table' },
          ),
    ]);
    patch(windows, [
      shutdowns.length === 0
        ? h('p', { class: 'muted' }, t('review.noShutdowns'))
        : table(
            [t('review.hours'), t('review.note')],
            shutdowns.map((w) =>
              h(
                'tr',
                {},
                h('td', { class: 'time' }, span(Date.parse(w.from), Date.parse(w.to))),
                h('td', {}, w.reason),
              ),
            ),
            { class: 'shutdowns-table' },
          ),
    ]);
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, `${t('review')} · ${station.enterprise} · ${station.outlet}`),
    h('form', { class: 'filters' }, label(t('station'), pick)),
    h('p', { class: 'muted' }, t('review.explain')),
    canMark ? markForm : h('p', { class: 'muted' }, t('review.readOnly')),
    message,
    h('h3', {}, t('review.inForce')),
    inForce,
    h('h3', {}, t('review.audit')),
    audit,
    h('h3', {}, t('registration')),
    who.role !== 'read' ? registrationForm : '',
    registrationsEl,
    h('h3', {}, t('review.shutdowns')),
    acts(who) && who.role === 'admin' ? shutdownForm : '',
    windows,
  );
  return { refresh, concerns: (e) => e.type === 'data' && e.mn === mn };
}
