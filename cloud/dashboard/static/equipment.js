import { api } from './api.js';
import { stationRangeEnd } from './format.js';
import { fmtTime, fromInput, h, label, num, outletPage, patch, pct, select, table, timeInput, toInput } from './dom.js';
import { factorName, flagName, refusal, t } from './i18n.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The register's fields (cloud/instruments.ts InstrumentBodySchema), in the order of the regulators' form. */
const TEXT_FIELDS = ['name', 'manufacturer', 'model', 'principle', 'serial', 'sn', 'range'];
const NUMBER_FIELDS = ['slope', 'intercept'];
const UNIT_FIELDS = ['installer', 'omCompany'];
const OPTIONAL = new Set(['sn', 'range', 'slope', 'intercept']);
/** The record types of cloud/om-records.ts (OM_TYPES). */
const OM_TYPES = [
  'inspection',
  'repair',
  'standardCheck',
  'calibration',
  'consumables',
  'standardReplacement',
  'comparison',
];

/** "2026-11-20 08:00 – 10:00". */
const span = (from, to) => `${toInput(from)} – ${toInput(to)}`;
/**
 * A number field's value for the API: a number, left out when empty, as typed when it is no number
 * (refused by name).
 */
const numberOf = (v) => (v.trim() === '' ? undefined : Number.isNaN(Number(v)) ? v.trim() : Number(v));

/**
 * 仪器备案与运维 of one outlet (#/equipment/MN): the instrument register per factor beside what the logger last
 * reported (3019, 3020) and where they differ, the outlet's dynamic-control alarms (instrument-mismatch, 动态管控),
 * the O&M records of a period and the flagged hours (C, M, D, F) no record explains (待说明). Registering and
 * filing records is for any account that may change something (an enterprise, its O&M company with the
 * enterprise's account, the centre); a read-only account sees the lists. The API checks again.
 */
export async function equipmentView({ root, args, who }) {
  const { mn, station, path, pick, message, say } = await outletPage('equipment', args);
  const name = (code) => (code === null ? t('om.wholeOutlet') : factorName(station.limits[code], code));
  const changes = who.role !== 'read';
  const end = stationRangeEnd(station, 'hour');

  // --- the register (仪器备案).
  let statuses = [];
  const fieldInput = (f) =>
    h('input', {
      name: f,
      size: f === 'sn' ? 26 : 14,
      maxlength: 100,
      ...(NUMBER_FIELDS.includes(f) && { inputmode: 'decimal', size: 6 }),
    });
  const instrumentForm = h(
    'form',
    { class: 'filters instrument-form' },
    label(
      t('review.factor'),
      select(
        'factor',
        station.factors.map((f) => [f, name(f)]),
        station.factors[0],
      ),
    ),
    [...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS].map((f) => label(t(`field.${f}`), fieldInput(f))),
    h('button', { type: 'submit' }, t('instruments.save')),
  );
  /** Fills the form with a factor's registered entry (or empties it): an update starts from what is registered. */
  const fill = (factor) => {
    instrumentForm.factor.value = factor;
    const reg = statuses.find((s) => s.factor === factor)?.registered;
    for (const f of [...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS])
      instrumentForm[f].value = reg?.[f] === undefined ? '' : String(reg[f]);
  };
  instrumentForm.factor.addEventListener('change', () => fill(instrumentForm.factor.value));
  instrumentForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = instrumentForm;
    const body = {};
    for (const k of [...TEXT_FIELDS, ...UNIT_FIELDS]) {
      const v = f[k].value.trim();
      if (v !== '' || !OPTIONAL.has(k)) body[k] = v;
    }
    for (const k of NUMBER_FIELDS) {
      const v = numberOf(f[k].value);
      if (v !== undefined) body[k] = v;
    }
    try {
      const put = await api(`${path}/instruments/${encodeURIComponent(f.factor.value)}`, { method: 'PUT', json: body });
      await refresh();
      // Said once the page shows it.
      say(t('instruments.saved', { factor: name(put.factor), version: put.version }));
    } catch (err) {
      say(refusal(err), true);
    }
  });
  const registerEl = h('div', { class: 'instruments' });
  // Every registered version of one factor's analyzer (who registered what, when), opened from its row.
  const historyEl = h('div', { class: 'instrument-history' });
  const showHistory = async (factor) => {
    try {
      const versions = await api(`${path}/instruments/${encodeURIComponent(factor)}/history`);
      historyEl.replaceChildren(
        h('h4', {}, t('instruments.historyOf', { factor: name(factor) })),
        table(
          [
            t('instruments.version'),
            ...[...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS].map((f) => t(`field.${f}`)),
            t('review.by'),
          ],
          [...versions].reverse().map((v) =>
            h(
              'tr',
              { 'data-version': v.version },
              h('td', { class: 'num' }, String(v.version)),
              [...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS].map((f) => h('td', { 'data-field': f }, v[f] ?? '')),
              h('td', {}, `${v.by} · ${fmtTime(v.at)}`),
            ),
          ),
          { class: 'instrument-history-table' },
        ),
      );
    } catch (err) {
      say(refusal(err), true);
    }
  };
  const reportedText = (r) =>
    ['sn', 'range', 'slope', 'intercept']
      .filter((k) => r[k] !== undefined)
      .map((k) => `${t(`field.${k}`)} ${r[k]}`)
      .join(t('sep'));
  const checkText = (s) =>
    s.mismatches.length === 0
      ? s.registered
        ? t('instruments.agree')
        : ''
      : s.mismatches
          .map((m) =>
            m.field === 'register'
              ? t('instruments.unregisteredReport', { reported: m.reported })
              : t('instruments.diff', {
                  field: t(`field.${m.field}`),
                  registered: m.registered ?? '',
                  reported: m.reported,
                }),
          )
          .join(t('sep'));

  // --- dynamic-control alarms of the outlet.
  const alarmsEl = h('div', { class: 'instrument-alarms' });
  const alarmsLink = `#/alarms?type=instrument-mismatch&mn=${encodeURIComponent(mn)}`;

  // --- O&M records and unexplained hours of a period.
  const periodForm = h(
    'form',
    { class: 'filters period-form' },
    label(t('from'), timeInput('from', end - 7 * DAY)),
    label(t('to'), timeInput('to', end)),
    h('button', { type: 'submit' }, t('apply')),
  );
  periodForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await refresh();
    } catch (err) {
      say(refusal(err), true);
    }
  });
  const omForm = h(
    'form',
    { class: 'filters om-form' },
    label(
      t('review.factor'),
      select('factor', [['', t('om.wholeOutlet')], ...station.factors.map((f) => [f, name(f)])], ''),
    ),
    label(
      t('om.type'),
      select(
        'type',
        OM_TYPES.map((x) => [x, t(`om.type.${x}`)]),
        'inspection',
      ),
    ),
    label(t('field.from'), timeInput('from', end - 2 * HOUR)),
    label(t('field.to'), timeInput('to', end)),
    label(t('field.company'), h('input', { name: 'company', maxlength: 100, size: 16 })),
    label(t('field.standardValue'), h('input', { name: 'standardValue', inputmode: 'decimal', size: 6 })),
    label(t('field.reading'), h('input', { name: 'reading', inputmode: 'decimal', size: 6 })),
    label(t('field.note'), h('input', { name: 'note', maxlength: 500, size: 16 })),
    h('button', { type: 'submit' }, t('om.add')),
  );
  const iso = (v) => {
    const ms = fromInput(v);
    return Number.isNaN(ms) ? v : new Date(ms).toISOString();
  };
  omForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = omForm;
    const body = {
      ...(f.factor.value && { factor: f.factor.value }),
      type: f.type.value,
      from: iso(f.from.value),
      to: iso(f.to.value),
      company: f.company.value.trim(),
      note: f.note.value.trim(),
    };
    for (const k of ['standardValue', 'reading']) {
      const v = numberOf(f[k].value);
      if (v !== undefined) body[k] = v;
    }
    try {
      const r = await api(`${path}/om-records`, { method: 'POST', json: body });
      f.note.value = '';
      await refresh();
      // Said once the page shows it.
      say(t('om.added', { id: r.id, type: t(`om.type.${r.type}`), span: span(r.from, r.to) }));
    } catch (err) {
      say(refusal(err), true);
    }
  });
  const recordsEl = h('div', { class: 'om-records' });
  const unexplainedEl = h('div', { class: 'unexplained' });

  const refresh = async () => {
    const from = fromInput(periodForm.from.value);
    const to = fromInput(periodForm.to.value);
    const range = `from=${Number.isNaN(from) ? '' : from}&to=${Number.isNaN(to) ? '' : to}`;
    const [got, alarms, records, unexplained] = await Promise.all([
      api(`${path}/instruments`),
      api(`/alarms?mn=${encodeURIComponent(mn)}&type=instrument-mismatch`),
      api(`${path}/om-records?${range}`),
      api(`${path}/unexplained?${range}`),
    ]);
    statuses = got;
    patch(registerEl, [
      table(
        [
          t('review.factor'),
          ...[...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS].map((f) => t(`field.${f}`)),
          t('instruments.version'),
          t('instruments.reported'),
          t('instruments.check'),
          '',
        ],
        statuses.map((s) =>
          h(
            'tr',
            {
              'data-factor': s.factor,
              'data-check': s.mismatches.length ? 'mismatch' : s.registered ? 'agrees' : 'none',
            },
            h('td', {}, name(s.factor)),
            [...TEXT_FIELDS, ...NUMBER_FIELDS, ...UNIT_FIELDS].map((f) =>
              h('td', { class: f === 'sn' ? 'mono' : undefined, 'data-field': f }, s.registered?.[f] ?? ''),
            ),
            h(
              'td',
              {},
              s.registered
                ? `${s.registered.version} · ${s.registered.by} · ${fmtTime(s.registered.at)}`
                : t('instruments.unregistered'),
            ),
            h('td', { class: 'reported' }, reportedText(s.reported)),
            h('td', { class: s.mismatches.length ? 'check mismatch' : 'check' }, checkText(s)),
            h(
              'td',
              {},
              changes
                ? h('button', { type: 'button', class: 'edit', onclick: () => fill(s.factor) }, t('instruments.edit'))
                : '',
              s.registered
                ? h(
                    'button',
                    { type: 'button', class: 'versions', onclick: () => showHistory(s.factor) },
                    t('instruments.versions'),
                  )
                : '',
            ),
          ),
        ),
        { class: 'instruments-table' },
      ),
    ]);
    patch(alarmsEl, [
      alarms.length === 0
        ? h('p', { class: 'muted' }, t('instruments.noAlarms'))
        : table(
            [t('id'), t('review.factor'), t('instruments.detail'), t('opened'), t('state')],
            alarms.map((a) =>
              h(
                'tr',
                { 'data-alarm': a.id, 'data-state': a.closedAt === undefined ? 'open' : 'closed' },
                h('td', {}, h('a', { href: alarmsLink }, `#${a.id}`)),
                h('td', {}, a.factor ? name(a.factor) : ''),
                h('td', {}, a.detail ?? ''),
                h('td', { class: 'time' }, fmtTime(a.openedAt)),
                h(
                  'td',
                  { class: a.closedAt === undefined ? 'state open' : 'state closed' },
                  a.closedAt === undefined ? t('open') : `${t('closed')} · ${fmtTime(a.closedAt)}`,
                ),
              ),
            ),
            { class: 'instrument-alarms-table' },
          ),
    ]);
    patch(recordsEl, [
      records.length === 0
        ? h('p', { class: 'muted' }, t('om.none'))
        : table(
            [
              t('review.hours'),
              t('review.factor'),
              t('om.type'),
              t('field.company'),
              t('field.standardValue'),
              t('field.reading'),
              t('om.error'),
              t('field.note'),
              t('review.by'),
            ],
            [...records]
              .reverse()
              .map((r) =>
                h(
                  'tr',
                  { 'data-record': r.id },
                  h('td', { class: 'time' }, span(r.from, r.to)),
                  h('td', {}, name(r.factor)),
                  h('td', {}, t(`om.type.${r.type}`)),
                  h('td', {}, r.company),
                  h('td', { class: 'num' }, num(r.standardValue)),
                  h('td', { class: 'num' }, num(r.reading)),
                  h('td', { class: 'num' }, r.relativeError === null ? '' : pct(r.relativeError)),
                  h('td', {}, r.note),
                  h('td', {}, `${r.by} · ${fmtTime(r.at)}`),
                ),
              ),
            { class: 'om-table' },
          ),
    ]);
    patch(unexplainedEl, [
      unexplained.length === 0
        ? h('p', { class: 'muted' }, t('unexplained.none'))
        : table(
            [t('time'), t('review.factor'), t('unexplained.flag')],
            unexplained.map((u) =>
              h(
                'tr',
                { 'data-hour': `${u.time}-${u.factor}` },
                h('td', { class: 'time' }, toInput(u.time)),
                h('td', {}, name(u.factor)),
                h('td', { class: 'flag' }, flagName(u.flag)),
              ),
            ),
            { class: 'unexplained-table' },
          ),
    ]);
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, `${t('equipment')} · ${station.enterprise} · ${station.outlet}`),
    h('form', { class: 'filters' }, label(t('station'), pick)),
    h('p', { class: 'muted' }, t('equipment.explain')),
    message,
    h('h3', {}, t('instruments')),
    registerEl,
    historyEl,
    changes ? h('h4', {}, t('instruments.form')) : '',
    changes ? instrumentForm : '',
    h('h3', {}, t('instruments.alarms')),
    alarmsEl,
    h('p', { class: 'muted' }, h('a', { href: alarmsLink }, t('instruments.allAlarms'))),
    h('h3', {}, t('om')),
    periodForm,
    changes ? omForm : '',
    recordsEl,
    h('h3', {}, t('unexplained')),
    unexplainedEl,
  );
  if (changes) fill(station.factors[0]);
  return {
    refresh,
    concerns: (e) => (e.type === 'alarm' ? e.alarm.mn : e.mn) === mn,
  };
}
