/* global FileReader, URLSearchParams */
import { api, download } from './api.js';
import { acts } from './format.js';
import { fmtTime, fromInput, h, label, patch, select, statusLine, table, timeInput, toInput } from './dom.js';
import { factorName, refusal, t } from './i18n.js';

const STATES = ['sent', 'answered', 'returned', 'accepted'];
const KINDS = ['exceedance', 'dataGap'];
const DAY = 86_400_000;

/** A file as base64 (the API takes JSON bodies only). */
const base64Of = (file) =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });

/** A China wall time typed as YYYY-MM-DD HH:MM, as the API takes it (what is not a time goes as typed: refused). */
const isoOf = (text) => {
  const ms = fromInput(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
};

/**
 * 电子督办 (#/supervision): the items of the stations the account sees, with state, kind (超标, 数据缺失),
 * station, factor, period, deadline (已逾期 when past it and not accepted) and every step (who, when, what).
 * The centre and the authorities (acts()) send an item for a station and a period and accept (通过) or return
 * (退回, with a comment) an answer; the station's enterprise answers with the cause (原因), the measures
 * (整改措施) and attachments. The API checks each again.
 */
export async function supervisionView({ root, query, who }) {
  /** @type {import('./api.js').StationView[]} */
  const stations = await api('/stations');
  const stationName = (m) => {
    const s = stations.find((x) => x.mn === m);
    return s ? `${s.enterprise} · ${s.outlet}` : m;
  };
  const nameOf = (m, code) => factorName(stations.find((x) => x.mn === m)?.limits[code], code);
  const sends = acts(who);
  const answers = who.enterprise !== undefined && who.role !== 'read';

  const { message, say } = statusLine();

  // --- the filters: by state, and the overdue list.
  const filters = h(
    'form',
    { class: 'filters supervision-filters' },
    label(
      t('supervision.state'),
      select(
        'state',
        [['', t('all')], ...STATES.map((s) => [s, t(`supervision.state.${s}`)])],
        query.get('state') ?? '',
      ),
    ),
    label(
      t('supervision.overdueOnly'),
      h('input', { type: 'checkbox', name: 'overdue', checked: query.get('overdue') === 'true' }),
    ),
  );
  filters.addEventListener('change', () => refresh());
  filters.addEventListener('submit', (e) => e.preventDefault());

  // --- sending (the centre, the authority): a station, a kind, a factor or none, a period and a deadline.
  const mnPick = select(
    'mn',
    stations.map((s) => [s.mn, `${s.enterprise} · ${s.outlet}`]),
    query.get('mn') ?? stations[0]?.mn,
  );
  const factorCell = h('span', {});
  const factorPick = () => {
    const s = stations.find((x) => x.mn === mnPick.value);
    factorCell.replaceChildren(
      select('factor', [['', t('supervision.noFactor')], ...(s?.factors ?? []).map((f) => [f, nameOf(s.mn, f)])], ''),
    );
  };
  factorPick();
  mnPick.addEventListener('change', factorPick);
  const sendForm = h(
    'form',
    { class: 'filters supervision-send' },
    label(t('station'), mnPick),
    label(
      t('supervision.kind'),
      select(
        'kind',
        KINDS.map((k) => [k, t(`supervision.kind.${k}`)]),
        'exceedance',
      ),
    ),
    label(t('review.factor'), factorCell),
    label(t('field.from'), timeInput('from')),
    label(t('field.to'), timeInput('to')),
    label(t('supervision.deadline'), timeInput('deadline', Date.now() + 7 * DAY)),
    label(t('supervision.request'), h('input', { name: 'request', maxlength: 1000, size: 24 })),
    h('button', { type: 'submit' }, t('supervision.send')),
  );
  sendForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = sendForm;
    const body = {
      mn: f.mn.value,
      kind: f.kind.value,
      ...(f.factor.value && { factor: f.factor.value }),
      from: isoOf(f.from.value),
      to: isoOf(f.to.value),
      deadline: isoOf(f.deadline.value),
      request: f.request.value.trim(),
    };
    try {
      const item = await api('/supervision', { method: 'POST', json: body });
      f.request.value = '';
      await refresh();
      // Said once the page shows it.
      say(t('supervision.sent', { id: item.id }));
    } catch (err) {
      say(refusal(err), true);
    }
  });

  // --- answering (the enterprise), reviewing (the centre, the authority).
  const act = async (i, path, body, done) => {
    try {
      await api(`/supervision/${i.id}/${path}`, { method: 'POST', json: body });
      await refresh();
      // Said once the page shows it.
      say(t(done, { id: i.id }));
    } catch (err) {
      say(refusal(err), true);
    }
  };
  const answerForm = (i) => {
    const reason = h('input', { name: 'reason', maxlength: 1000, size: 16, placeholder: t('supervision.reason') });
    const measures = h('input', {
      name: 'measures',
      maxlength: 1000,
      size: 16,
      placeholder: t('supervision.measures'),
    });
    // Up to 5 files an answer (the API's limit, which it checks again).
    const file = h('input', {
      type: 'file',
      name: 'attachment',
      accept: '.pdf,.jpg,.jpeg,.png',
      multiple: true,
      hidden: true,
    });
    const chosen = h('span', { class: 'muted chosen' });
    const names = () => [...(file.files ?? [])].map((f) => f.name).join('、');
    file.addEventListener('change', () => (chosen.textContent = names()));
    const send = async () => {
      const attachments = await Promise.all(
        [...(file.files ?? [])].map(async (f) => ({ name: f.name, base64: await base64Of(f) })),
      );
      await act(
        i,
        'answer',
        { reason: reason.value.trim(), measures: measures.value.trim(), attachments },
        'supervision.answered',
      );
    };
    return h(
      'span',
      { class: 'answer-actions' },
      reason,
      measures,
      // The browser's own file button speaks the browser's language: a label of ours opens it instead.
      h('label', { class: 'upload' }, t('supervision.attach'), file),
      chosen,
      h('button', { type: 'button', class: 'answer', onclick: send }, t('supervision.answer')),
    );
  };
  const reviewForm = (i) => {
    const comment = h('input', { name: 'comment', maxlength: 1000, size: 16, placeholder: t('registration.comment') });
    const decide = (decision) =>
      act(
        i,
        'review',
        { decision, comment: comment.value.trim() },
        decision === 'accept' ? 'supervision.accepted' : 'supervision.returned',
      );
    return h(
      'span',
      { class: 'review-actions' },
      comment,
      h('button', { type: 'button', class: 'accept', onclick: () => decide('accept') }, t('supervision.accept')),
      h('button', { type: 'button', class: 'return', onclick: () => decide('return') }, t('supervision.return')),
    );
  };
  const stepLine = (i, s, n) =>
    h(
      'li',
      { 'data-step': n, 'data-action': s.action },
      `${s.by} · ${fmtTime(s.at)} · ${t(`supervision.action.${s.action}`)}`,
      s.reason ? ` · ${t('supervision.reason')}：${s.reason}` : '',
      s.measures ? ` · ${t('supervision.measures')}：${s.measures}` : '',
      s.comment ? ` · ${s.comment}` : '',
      (s.attachments ?? []).map((a) =>
        h(
          'button',
          {
            type: 'button',
            class: 'link download',
            onclick: () => download(`/supervision/${i.id}/attachments/${a.id}`, a.name),
          },
          a.name,
        ),
      ),
    );
  const actions = (i) =>
    answers && (i.state === 'sent' || i.state === 'returned')
      ? answerForm(i)
      : sends && i.state === 'answered'
        ? reviewForm(i)
        : '';

  const listEl = h('div', { class: 'supervision' });
  const refresh = async () => {
    const q = new URLSearchParams();
    if (filters.state.value) q.set('state', filters.state.value);
    if (filters.overdue.checked) q.set('overdue', 'true');
    const items = await api(`/supervision${q.size ? `?${q}` : ''}`);
    patch(listEl, [
      items.length === 0
        ? h('p', { class: 'muted' }, t('supervision.none'))
        : table(
            [
              t('id'),
              t('supervision.state'),
              t('supervision.kind'),
              t('station'),
              t('review.factor'),
              t('review.hours'),
              t('supervision.deadline'),
              t('supervision.request'),
              t('supervision.steps'),
              '',
            ],
            [...items].reverse().map((i) =>
              h(
                'tr',
                {
                  'data-supervision': i.id,
                  'data-state': i.state,
                  class: i.overdue ? 'overdue' : undefined,
                },
                h('td', {}, `#${i.id}`),
                h(
                  'td',
                  { class: `state ${i.state}` },
                  t(`supervision.state.${i.state}`),
                  i.overdue ? [' · ', h('span', { class: 'overdue-mark' }, t('supervision.overdue'))] : '',
                ),
                h('td', { class: 'kind' }, t(`supervision.kind.${i.kind}`)),
                h('td', {}, stationName(i.mn)),
                h('td', {}, i.factor ? nameOf(i.mn, i.factor) : ''),
                h('td', {}, `${toInput(i.from)} – ${i.to === undefined ? '' : toInput(i.to)}`),
                h('td', { class: 'deadline' }, toInput(i.deadline)),
                h('td', {}, i.request),
                h(
                  'td',
                  {},
                  h(
                    'ol',
                    { class: 'steps' },
                    i.steps.map((s, n) => stepLine(i, s, n + 1)),
                  ),
                ),
                h('td', { class: 'actions' }, actions(i)),
              ),
            ),
            { class: 'supervision-table' },
          ),
    ]);
  };
  await refresh();
  root.replaceChildren(
    h('h2', {}, t('supervision')),
    h('p', { class: 'muted' }, t('supervision.explain')),
    message,
    sends ? h('h3', {}, t('supervision.new')) : '',
    sends ? sendForm : '',
    h('h3', {}, t('supervision.list')),
    filters,
    listEl,
  );
  return { refresh, concerns: (e) => e.type === 'supervision' };
}
