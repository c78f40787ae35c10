import { makeFlag } from './flag.js';
import { formatHjTime, makeQn } from './time.js';
import type { Cp, Packet, Version } from './types.js';

/** What an answer copies from the packet it answers. */
export type Answered = Pick<Packet, 'version' | 'qn' | 'mn' | 'pw'>;

/** System code of interaction commands (table 5). */
export const ST_SYSTEM = '91';

/** A header value an answer can carry: the encoder refuses empty ones and ones holding a separator or line break. */
const carriable = (v: string | undefined): string | undefined =>
  v !== undefined && /^[^;=&\r\n]+$/.test(v) ? v : undefined;

/**
 * What an answer copies from what it answers, less any value no answer can carry. A request the
 * lenient decoder took with `PW=` or a damaged QN still gets its answer (9011 QnRtn=3, 7...), just
 * without that field: echoing it would make encoding the answer throw.
 */
export function answerable(p: Answered): Answered {
  const out: Answered = { version: p.version };
  for (const k of ['qn', 'mn', 'pw'] as const) {
    const v = carriable(p[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Header fields of a frame that failed to decode (bad CRC), for addressing the 9011 that says why. */
export function rawHeader(raw: string): Answered & { cn?: string } {
  const field = (name: string): string | undefined => new RegExp(`(?:^|[;#\\d])${name}=([^;&]*)`).exec(raw)?.[1];
  const out: Answered & { cn?: string } = answerable({
    version: '2017',
    qn: field('QN'),
    mn: field('MN'),
    pw: field('PW'),
  });
  const cn = field('CN');
  if (cn !== undefined && /^\d{4}$/.test(cn)) out.cn = cn;
  return out;
}

/**
 * Interaction packets (ST=91) echo the QN of what they answer; HJ/T 212-2005 put that QN in the CP
 * instead of the header (its appendix examples), and sent Flag=0.
 */
function answer(given: Answered, cn: string, params: Record<string, string>): Packet {
  const to = answerable(given);
  const cp: Cp = { params: {}, factors: {} };
  const packet: Packet = { version: to.version, st: ST_SYSTEM, cn, cp, flag: makeFlag(to.version) };
  if (to.version === '2005') {
    if (to.qn !== undefined) cp.params['QN'] = to.qn;
  } else if (to.qn !== undefined) {
    packet.qn = to.qn;
  }
  Object.assign(cp.params, params);
  if (to.pw !== undefined) packet.pw = to.pw;
  if (to.mn !== undefined) packet.mn = to.mn;
  return packet;
}

/** 9011 request answer with a QnRtn of table 7 (1 ready, 3 wrong PW, 4 wrong MN, 9 bad CRC...). */
export const qnRtnAnswer = (to: Answered, qnRtn: number): Packet => answer(to, '9011', { QnRtn: String(qnRtn) });

/** 9012 execution result with an ExeRtn of table 6 (1 success, 100 no data...). */
export const exeRtnAnswer = (to: Answered, exeRtn: number): Packet => answer(to, '9012', { ExeRtn: String(exeRtn) });

/** 9013 answer to a notice (1013, 2012, 2022). */
export const noticeAnswer = (to: Answered): Packet => answer(to, '9013', {});

/**
 * 9014 answer to an upload that had the A bit set. HJ/T 212-2005 (its examples of 2051) also echoes
 * the CN of the upload and, for a split packet, its PNO and PNUM: `CP=&&QN=…;CN=2051;PNO=1;PNUM=1&&`.
 */
export function dataAnswer(to: Answered & Partial<Pick<Packet, 'cn' | 'pnum' | 'pno'>>): Packet {
  if (to.version !== '2005' || to.cn === undefined) return answer(to, '9014', {});
  const params: Record<string, string> = { CN: to.cn };
  if (to.pno !== undefined && to.pnum !== undefined) {
    params['PNO'] = String(to.pno);
    params['PNUM'] = String(to.pnum);
  }
  return answer(to, '9014', params);
}

/** The station a platform addresses. */
export interface Target {
  mn: string;
  pw: string;
  st: string;
  version?: Version;
}

export interface RequestOptions {
  qn?: string;
  now?: Date;
  /** Minutes east of UTC for the QN and times (default UTC+8). */
  utcOffsetMinutes?: number;
  ack?: boolean;
}

/** A platform request or notice to a logger (1000-3999), with the A bit set unless told otherwise. */
export function request(
  target: Target,
  cn: string,
  params: Record<string, string> = {},
  opts: RequestOptions = {},
): Packet {
  const version = target.version ?? '2017';
  return {
    version,
    qn: opts.qn ?? makeQn(opts.now ?? new Date(), opts.utcOffsetMinutes),
    st: target.st,
    cn,
    pw: target.pw,
    mn: target.mn,
    flag: makeFlag(version, { ack: opts.ack ?? true }),
    cp: { params: { ...params }, factors: {} },
  };
}

export type HistoryCn = '2031' | '2041' | '2051' | '2061';

/** A history request (day 2031, run time 2041, minute 2051, hour 2061) for BeginTime..EndTime. */
export function historyRequest(
  target: Target,
  cn: HistoryCn,
  begin: Date | string,
  end: Date | string,
  opts: RequestOptions = {},
): Packet {
  const t = (d: Date | string): string => (typeof d === 'string' ? d : formatHjTime(d, opts.utcOffsetMinutes));
  return request(target, cn, { BeginTime: t(begin), EndTime: t(end) }, opts);
}
