/* global fetch, localStorage, location, history, TextDecoder, setTimeout, AbortController */
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

/** Calls the API with the stored token; a 401 means the token is gone or wrong, any other refusal is an ErrorBody whose message is shown. */
export async function api(path, opts = {}) {
  const headers = { authorization: `Bearer ${token()}` };
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
    signal: opts.signal,
  });
  if (res.status === 401) throw new AuthError(`HTTP 401 on ${path}`);
  if (!res.ok) throw new Error(`${res.status}: ${(await res.json().catch(() => ({}))).message ?? res.statusText}`);
  return opts.raw ? res : res.json();
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
