/* global fetch, localStorage, location, history, TextDecoder, setTimeout, AbortController, document, URL */
/**
 * What the API answers, as cloud/api/schemas.ts declares it (the same schemas serialize the answers
 * and document them in /openapi.json); the views name these types where they read an answer.
 * @typedef {import('../../api/schemas.js').StationView} StationView
 * @typedef {import('../../api/schemas.js').Enterprise} Enterprise
 * @typedef {import('../../api/schemas.js').DataPoint} DataPoint
 * @typedef {import('../../api/schemas.js').AlarmView} AlarmView
 * @typedef {import('../../api/schemas.js').AlarmEventView} AlarmEventView
 * @typedef {import('../../api/schemas.js').OverviewView} OverviewView
 * @typedef {import('../../api/schemas.js').PeriodReport} PeriodReport
 * @typedef {import('../../api/schemas.js').HistoryPage} HistoryPage
 * @typedef {import('../../api/schemas.js').Shutdown} Shutdown
 * @typedef {import('../../api/schemas.js').Whoami} Whoami
 * @typedef {import('../../api/routes/commands.js').CommandView} CommandView
 * @typedef {import('../../api/errors.js').ErrorBody} ErrorBody
 */
const KEY = 'hj212.token';

/** A token handed over in the URL fragment (#token=...) is kept like a typed one and taken out of the address bar. */
export function takeTokenFromUrl() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  localStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + '#/overview');
  return true;
}

export const token = () => localStorage.getItem(KEY);
export const setToken = (t) => localStorage.setItem(KEY, t);
export const clearToken = () => localStorage.removeItem(KEY);

export class AuthError extends Error {}

/** A refusal of the API: its HTTP status and the catalogue's code (cloud/api/errors.ts). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${status}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls the API as the person logged in (the session cookie, which the browser sends itself and no
 * script can read) or with a token handed over for a machine (#token=); X-Requested-With tells the
 * server the request comes from this page, not from a form on another site. A 401 means the session
 * or token is gone or wrong; any other refusal is an ErrorBody whose message is shown.
 */
export async function api(path, opts = {}) {
  const headers = { 'x-requested-with': 'hj212-dashboard' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  // A text body (a CSV sheet) goes as it is, with its type.
  if (opts.text !== undefined) headers['content-type'] = opts.type ?? 'text/plain';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    body: opts.text ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json)),
    signal: opts.signal,
  });
  if (res.status === 401 && !opts.login) throw new AuthError(`HTTP 401 on ${path}`);
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, body.code, body.message ?? res.statusText);
  }
  if (res.status === 204) return undefined;
  return opts.raw ? res : res.json();
}

/** Logs in with a user name and password: the server sets the session cookie. */
export const login = (user, password) =>
  api('/session/login', { method: 'POST', json: { user, password }, login: true });

/** Ends the session (the server clears the cookie) or forgets the token. */
export async function logout() {
  if (token()) return clearToken();
  await api('/session/logout', { method: 'POST' }).catch(() => undefined);
}

/**
 * Reads GET /events (server-sent events) with fetch, which can send the Authorization header, and
 * calls onEvent with each event; reconnects after a drop. onState(true/false) tells the connection state.
 */
export function streamEvents(onEvent, onState) {
  const stop = new AbortController();
  const run = async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await api('/events', { raw: true, signal: stop.signal });
        onState(true);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (data) onEvent(JSON.parse(data));
          }
        }
      } catch (e) {
        if (e instanceof AuthError) return;
      }
      onState(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  run();
  return () => stop.abort();
}

/** Downloads a file from the API through fetch (it needs the token header), then hands the browser a file. */
export async function download(path, filename) {
  const res = await api(path, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
