import type { Answered } from '../../protocol/index.js';

/** A header value an answer can carry: the encoder refuses empty ones and ones holding a separator or line break. */
const carriable = (v: string | undefined): string | undefined =>
  v !== undefined && /^[^;=&\r\n]+$/.test(v) ? v : undefined;

/**
 * What an answer copies from what it answers, less any value no answer can carry: a damaged frame,
 * or one the lenient decoder took (a QN with a CR in it), would otherwise make encoding the answer
 * throw after the packet was already counted, stored or refused.
 */
export function answerable(p: Answered): Answered {
  const out: Answered = { version: p.version };
  for (const k of ['qn', 'mn', 'pw'] as const) {
    const v = carriable(p[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Header fields of a frame that failed to decode, for addressing the 9011 that says why. */
export function headerOf(raw: string): Answered {
  const field = (name: string): string | undefined => new RegExp(`(?:^|[;#\\d])${name}=([^;&]*)`).exec(raw)?.[1];
  return answerable({ version: '2017', qn: field('QN'), mn: field('MN'), pw: field('PW') });
}
