/* global document, window, location, setTimeout, URLSearchParams */
import { api, AuthError, clearToken, login, logout, streamEvents, takeTokenFromUrl, token } from './api.js';
import { applyLabels, lang, t, toggleLang } from './i18n.js';
import { isCentre, throttled, useLabels, whoLabel } from './format.js';
import { LABELS } from './labels.js';
import { alarmsView } from './alarms.js';
import { historyView } from './history.js';
import { equipmentView } from './equipment.js';
import { overviewView } from './overview.js';
import { plansView } from './plans.js';
import { reportView } from './report.js';
import { reviewView } from './review.js';
import { stationView } from './station.js';
import { stationsView } from './stations.js';
import { supervisionView } from './supervision.js';
import { jurisdictionsView } from './jurisdictions.js';
import { usersView } from './users.js';

useLabels(LABELS);

const VIEWS = {
  overview: overviewView,
  stations: stationsView,
  station: stationView,
  alarms: alarmsView,
  report: reportView,
  history: historyView,
  review: reviewView,
  plans: plansView,
  equipment: equipmentView,
  supervision: supervisionView,
  jurisdictions: jurisdictionsView,
  users: usersView,
};
const $ = (id) => document.getElementById(id);
const session = { who: undefined, view: undefined, stopEvents: undefined };

/** "#/station/MN?kind=hour" → ['station', ['MN'], URLSearchParams]. */
function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...args] = path.split('/').map(decodeURIComponent);
  return { name: VIEWS[name] ? name : 'overview', args, query: new URLSearchParams(query ?? '') };
}

function showLogin(message = '') {
  session.stopEvents?.();
  session.who = undefined;
  $('login').hidden = false;
  $('view').replaceChildren();
  for (const id of ['logout', 'live']) $(id).hidden = true;
  document.querySelector('nav').hidden = true;
  $('who').textContent = '';
  $('login-error').textContent = message;
}

async function render() {
  const r = route();
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.getAttribute('href') === `#/${r.name === 'station' ? 'stations' : r.name}`);
  const root = $('view');
  try {
    const view = await VIEWS[r.name]({ root, args: r.args, query: r.query, who: session.who });
    session.view = view;
    // Which address the page shows is complete: what scripts (and the browser tests) wait for.
    root.dataset.shown = location.hash;
  } catch (e) {
    if (e instanceof AuthError) return showLogin(t('login.ended'));
    root.replaceChildren(Object.assign(document.createElement('p'), { className: 'error', textContent: e.message }));
  }
}

/**
 * Live events only say that something changed; the view shown re-reads what it shows (if it concerns
 * it) and patches what differs, at most once per REFRESH_MS however many events arrive: a centre's
 * stream never starves the page of updates, and a burst costs one re-read.
 */
const REFRESH_MS = 2000;
let refreshes = 0;
const refreshView = throttled(
  () =>
    session.view
      ?.refresh?.()
      // How many live refreshes the page has shown: what scripts (and the browser tests) wait for.
      .then(() => ($('view').dataset.refreshes = String(++refreshes)))
      .catch((e) => e instanceof AuthError && showLogin(t('login.ended'))),
  REFRESH_MS,
  { now: () => Date.now(), after: (ms, fn) => setTimeout(fn, ms) },
);
function onEvent(event) {
  if (session.view?.concerns && !session.view.concerns(event)) return;
  refreshView();
}

const showWho = () => ($('who').textContent = whoLabel(session.who.name, session.who.role, lang()));

async function start() {
  try {
    // The session cookie is HttpOnly: whether there is one, only the server can say.
    session.who = /** @type {import('./api.js').Whoami} */ (await api('/whoami'));
  } catch (e) {
    // Only a refused token is forgotten; an unreachable server is no reason to type it again.
    if (!(e instanceof AuthError)) return showLogin(e.message);
    const hadToken = token() !== null;
    clearToken();
    return showLogin(hadToken ? t('login.badToken') : '');
  }
  $('login').hidden = true;
  $('logout').hidden = false;
  document.querySelector('nav').hidden = false;
  // A link with data-role is shown to that role only (the pages check again, and so does the API).
  for (const a of document.querySelectorAll('nav a[data-role]'))
    a.hidden = a.dataset.role !== session.who.role || (a.dataset.centre !== undefined && !isCentre(session.who));
  // A link with data-no-enterprise is not an enterprise user's (the API refuses it that page's data).
  for (const a of document.querySelectorAll('nav a[data-no-enterprise]'))
    a.hidden = session.who.enterprise !== undefined;
  showWho();
  session.stopEvents = streamEvents(onEvent, (up) => ($('live').hidden = !up));
  await render();
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const submit = $('login').querySelector('button[type=submit]');
  submit.disabled = true;
  try {
    await login($('user').value.trim(), $('password').value);
  } catch (err) {
    const known = { API_BAD_LOGIN: 'login.bad', API_LOCKED_OUT: 'login.locked' }[err.code];
    $('login-error').textContent = known ? t(known) : err.message;
    return;
  } finally {
    submit.disabled = false;
    $('password').value = '';
  }
  start();
});
$('logout').addEventListener('click', async () => {
  session.stopEvents?.();
  await logout();
  showLogin();
});
$('lang').addEventListener('click', () => {
  toggleLang();
  if (session.who) {
    showWho();
    render();
  }
});
window.addEventListener('hashchange', () => {
  // A link with a token may be opened while the dashboard is already open with another one.
  if (takeTokenFromUrl()) {
    session.stopEvents?.();
    start();
  } else if (session.who) render();
});

takeTokenFromUrl();
applyLabels();
start();
