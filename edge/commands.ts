import {
  CN,
  ExeRtn,
  NEW_KEY_FIELD,
  QnRtn,
  answerable,
  command,
  isKeyHex,
  exeRtnAnswer,
  formatHjTime,
  makeFlag,
  noticeAnswer,
  parseHjTime,
  qnRtnAnswer,
  NEW_MN_FIELD,
} from '../protocol/index.js';
import type { Answered, Packet } from '../protocol/index.js';
import type { HistoryCn } from './aggregator.js';
import { MIN_INTERVALS, RETRIES_MAX, TIMEOUT_SECONDS_MAX } from './config-values.js';
import type { ClockPolicy } from './config.js';
import { CONTROL_CNS_2025, isControlCn } from './control.js';
import type { ControlResult } from './control.js';
import { infoGroups } from './packets.js';
import type { Addressee } from './packets.js';

/**
 * What a command changes in the box's settings. One pure reducer turns it into the next settings and
 * the agent applies what follows from them in one place (edge/agent/effects.ts).
 */
export type SettingEffect =
  | { kind: 'set-time'; at: number }
  /** 1012 under clock policy keep-ntp: nothing changes; the agent logs how far the platform's time was off. */
  | { kind: 'clock-kept'; differenceMs: number }
  /** 1000 (C.1): every uplink's answer timeout and resends, persisted. */
  | { kind: 'set-timeout-retry'; overTimeSeconds: number; reCount: number }
  | { kind: 'set-rtd-interval'; seconds: number }
  | { kind: 'set-min-interval'; minutes: number }
  /** 1072: the uplink's password, persisted. */
  | { kind: 'set-password'; pw: string }
  /** 1002 (HJ 212-2025, assumed: docs/protocol-2025.md): the uplink's MN from now on, persisted. */
  | { kind: 'set-mn'; mn: string }
  /** HJ 212-2025 1014: the platform sets the link's SM4 key (docs/protocol-2025.md), persisted. */
  | { kind: 'set-key'; key: string }
  /** 2011/2012: whether the uplink sends real-time data. */
  | { kind: 'realtime'; on: boolean }
  /** 2021/2022: whether the uplink sends facility run states. */
  | { kind: 'run-state'; on: boolean };

/** What a command has carried out on an analyzer; the uplink answers once it is done. */
export type AnalyzerEffect =
  /** 3021: written to the analyzer asynchronously; `answer` builds the 9012 once the write is done. */
  | { kind: 'set-parameters'; polId: string; values: Record<string, number>; answer: (exeRtn: number) => Packet }
  /**
   * 3011-3019, 3022, 3024: carried out on the analyzer asynchronously (edge/control.ts); `answer` builds the upload
   * and 9012 (a 3024's 2062 goes through the outbox instead).
   */
  | {
      kind: 'control';
      cn: string;
      polId: string | undefined;
      params: Record<string, string>;
      answer: (result: ControlResult, at: number) => Packet[];
    };

/** What a command may change or carry out (and persists nothing the standard does not ask for). */
export type CommandEffect = SettingEffect | AnalyzerEffect;

/** What the handler needs to know about the agent, read-only. */
export interface CommandContext {
  to: Addressee;
  now: number;
  utcOffsetMinutes: number;
  rtdIntervalSeconds: number;
  minIntervalMinutes: number;
  /** Whether the box clock follows a time source (NTP) the platform may rely on. */
  clockTrusted: boolean;
  /** What a 1012 does: set the clock, or keep the NTP time and answer success (edge/config.ts clockPolicyOf). */
  clockPolicy: ClockPolicy;
  /** Latest analyzer parameters by factor code, as i-code → value. */
  parameters: (polId: string) => Record<string, number> | undefined;
  /**
   * Whether the uplink can take a history request with this QN: 'running' when one with the same QN
   * is still being answered, 'busy' when its queue of history requests is full.
   */
  historySlot: (qn: string | undefined) => 'free' | 'running' | 'busy';
  /** Whether a device's `control` maps this analyzer control command (3011-3019) for the PolId. */
  controlled?: (cn: string, polId: string | undefined) => boolean;
}

/** A history request (2031, 2041, 2051, 2061) the uplink streams from the store, a page at a time. */
export interface HistoryQuery {
  cn: HistoryCn;
  from: number;
  to: number;
  /** The request it answers: its QN goes on every record sent (C.20-C.23). */
  request: Packet;
  /** The 9012 that ends the exchange, once `sent` records went out (ExeRtn 1, or 100 for none). */
  finish: (sent: number) => Packet;
}

export interface CommandOutcome {
  replies: Packet[];
  effect?: CommandEffect;
  history?: HistoryQuery;
  /** Why the request was refused or not carried out, a stable code for logs and counters. */
  reason?: string;
}

/**
 * The largest clock step a 1012 may make (either way). HJ 212-2017 table C.3 sets no bound; a platform
 * correcting drift moves the clock by seconds, while a step of years would make the box close every
 * minute in between. A larger error needs the operator (or NTP and clockPolicy keep-ntp).
 */
export const MAX_CLOCK_STEP_MS = 86_400_000;

const QN_FORMAT = /^\d{17}$/;
const ST_FORMAT = /^[0-9A-Z]{2}$/;
/** An MN as the edge config takes one (HJ 212-2017 §6.3.2: up to 24 characters). */
const MN_PATTERN = /^[0-9A-Za-z]{14,24}$/;

const HISTORY_CNS = new Set<string>([CN.DayData, CN.MinuteData, CN.HourData, CN.RunTimeDay]);

/** A response upload of a request (1011, 1061, 1063, 3020): same QN and ST as the request, no answer wanted. */
function response(request: Packet, to: Addressee, params: Record<string, string>, info?: Packet['cp']['info']): Packet {
  const packet: Packet = {
    version: to.version,
    st: request.st !== undefined && ST_FORMAT.test(request.st) ? request.st : to.st,
    cn: request.cn,
    pw: to.pw,
    mn: to.mn,
    flag: makeFlag(to.version),
    cp: { params, factors: {} },
  };
  if (request.qn !== undefined && QN_FORMAT.test(request.qn)) packet.qn = request.qn;
  if (info) packet.cp.info = info;
  return packet;
}

/** What the answers to an accepted request carry: its QN, the box's own MN and PW. */
const answeredBy = (p: Packet, to: Addressee): Answered => answerable({ ...p, pw: to.pw, mn: to.mn });

/** 9011 Ready then 9012 with `exeRtn`, and why it was not carried out. */
const notCarriedOut = (p: Packet, to: Addressee, exeRtn: number, reason: string): CommandOutcome => ({
  ...requestFlow(p, to, () => ({ exeRtn })),
  reason,
});

/** A 9011 refusing the request (table 7), echoing only what the answer can carry. */
const refuse = (answered: Answered, qnRtn: number, reason: string): CommandOutcome => ({
  replies: [qnRtnAnswer(answered, qnRtn)],
  reason,
});

function intParam(p: Packet, key: string): number | undefined {
  const text = p.cp.params[key];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** 9011 Ready, then whatever `run` sends, then 9012 with its execution result (HJ 212-2017 appendix C). */
function requestFlow(
  p: Packet,
  to: Addressee,
  run: () => { replies?: Packet[]; exeRtn: number; effect?: CommandEffect },
): CommandOutcome {
  const done = run();
  const answered = answeredBy(p, to);
  const outcome: CommandOutcome = {
    replies: [qnRtnAnswer(answered, QnRtn.Ready), ...(done.replies ?? []), exeRtnAnswer(answered, done.exeRtn)],
  };
  if (done.effect) outcome.effect = done.effect;
  return outcome;
}

/**
 * 2031/2041/2051/2061 (C.20-C.23): 9011 at once; the records of BeginTime..EndTime and the 9012 are
 * left to the uplink, which streams them from the store. A time that is no time, or an EndTime before
 * the BeginTime, is a condition error (ExeRtn 3, table 6); a request with the QN of one still being
 * answered is the platform resending it (6.2.1): its 9011 goes again and the records are not sent twice.
 */
function history(p: Packet, ctx: CommandContext): CommandOutcome {
  const { to } = ctx;
  let from: number;
  let until: number;
  try {
    from = parseHjTime(p.cp.params['BeginTime'] ?? '', ctx.utcOffsetMinutes, 'BeginTime').getTime();
    until = parseHjTime(p.cp.params['EndTime'] ?? '', ctx.utcOffsetMinutes, 'EndTime').getTime();
  } catch {
    return notCarriedOut(p, to, ExeRtn.BadCondition, 'bad-time');
  }
  if (until < from) return notCarriedOut(p, to, ExeRtn.BadCondition, 'end-before-begin');
  const answered = answeredBy(p, to);
  const slot = ctx.historySlot(p.qn);
  if (slot === 'running') return { replies: [qnRtnAnswer(answered, QnRtn.Ready)], reason: 'duplicate-request' };
  if (slot === 'busy') return notCarriedOut(p, to, ExeRtn.Busy, 'history-busy');
  return {
    replies: [qnRtnAnswer(answered, QnRtn.Ready)],
    history: {
      cn: p.cn as HistoryCn,
      from,
      to: until,
      request: p,
      finish: (sent) => exeRtnAnswer(answered, sent > 0 ? ExeRtn.Success : ExeRtn.NoData),
    },
  };
}

function fieldInfo(p: Packet, ctx: CommandContext): { replies: Packet[]; exeRtn: number } {
  const polId = p.cp.params['PolId'];
  const infoId = p.cp.params['InfoId'];
  const values = polId === undefined ? undefined : ctx.parameters(polId);
  const wanted = Object.entries(values ?? {}).filter(([code]) => infoId === undefined || code === infoId);
  if (polId === undefined || wanted.length === 0) return { replies: [], exeRtn: ExeRtn.NoData };
  const info = infoGroups({ [polId]: Object.fromEntries(wanted) });
  return {
    replies: [response(p, ctx.to, { DataTime: formatHjTime(new Date(ctx.now), ctx.utcOffsetMinutes) }, info)],
    exeRtn: ExeRtn.Success,
  };
}

/**
 * 3021 (table C.46): the parameters come as i-codes under their analyzer's PolId. 9011 goes at once;
 * the 9012 waits for the Modbus write, so it says whether the analyzer took the values.
 */
function setParameters(p: Packet, to: Addressee): CommandOutcome {
  const answered = answeredBy(p, to);
  const [group, ...more] = p.cp.info ?? [];
  const values: Record<string, number> = {};
  for (const [code, fields] of Object.entries(group?.codes ?? {})) {
    const text = fields['Info'];
    if (text !== undefined && /^[+-]?\d+(\.\d+)?$/.test(text)) values[code] = Number(text);
  }
  const complete =
    group?.polId !== undefined &&
    more.length === 0 &&
    Object.keys(values).length > 0 &&
    Object.keys(values).length === Object.keys(group.codes).length;
  if (!complete) return notCarriedOut(p, to, ExeRtn.BadCondition, 'bad-parameters');
  return {
    replies: [qnRtnAnswer(answered, QnRtn.Ready)],
    effect: { kind: 'set-parameters', polId: group.polId!, values, answer: (exeRtn) => exeRtnAnswer(answered, exeRtn) },
  };
}

/**
 * 3011-3019 (HJ 212-2017 C.30-C.38): 9011 at once; the 9012 waits for the analyzer's verdict, and the
 * uploads of 3015 (DataTime, VaseNo), 3017 (CstartTime, CTime), 3018 (Stime) and 3019 (PolId-SN) go
 * before it, with the request's QN, as the flows show.
 */
function control(p: Packet, ctx: CommandContext): CommandOutcome {
  const { to } = ctx;
  const answered = answeredBy(p, to);
  const answer = (result: ControlResult, at: number): Packet[] => {
    const exe = exeRtnAnswer(answered, result.exeRtn);
    if (result.exeRtn !== ExeRtn.Success || !result.params) return [exe];
    const dataTime = formatHjTime(new Date(at), ctx.utcOffsetMinutes);
    // C.34 (3015) carries the time the sample was retained; C.36-C.38 only the analyzer's fields.
    const upload = response(p, to, p.cn === '3015' ? { DataTime: dataTime, ...result.params } : result.params);
    if (result.factors) upload.cp.factors = result.factors;
    return [upload, exe];
  };
  return {
    replies: [qnRtnAnswer(answered, QnRtn.Ready)],
    effect: { kind: 'control', cn: p.cn, polId: p.cp.params['PolId'], params: p.cp.params, answer },
  };
}

/**
 * Checks a request's header against table 7 before anything is carried out: MN (4), PW (3), then,
 * from HJ 212-2017 on where both are required (6.3.2), ST (5) and QN (7). A wrong MN is answered
 * under the box's own MN; nothing is answered with the box's PW to a request that did not know it.
 */
function refusal(p: Packet, to: Addressee): CommandOutcome | undefined {
  if (p.mn !== to.mn) return refuse(answerable({ ...p, mn: to.mn }), QnRtn.BadMn, 'bad-mn');
  if (p.pw !== to.pw) return refuse(answerable(p), QnRtn.BadPassword, p.pw ? 'bad-password' : 'no-password');
  if (p.version === '2005') return undefined;
  const answered = answeredBy(p, to);
  if (p.st === undefined || !ST_FORMAT.test(p.st)) return refuse(answered, QnRtn.BadSt, 'bad-st');
  if (p.qn === undefined || !QN_FORMAT.test(p.qn)) return refuse(answered, QnRtn.BadQn, 'bad-qn');
  return undefined;
}

/**
 * Answers a platform's command as HJ 212-2017 appendix C prescribes. Returns undefined for packets
 * that are not commands to a data logger (answers, uploads), which the uplink handles itself. Pure:
 * whatever the packet holds, it returns answers the encoder can carry and never throws for it.
 */
export function handleCommand(p: Packet, ctx: CommandContext): CommandOutcome | undefined {
  const { to } = ctx;
  if (p.cn.startsWith('9') || p.cn === CN.TimeCalibration) return undefined;
  const refused = refusal(p, to);
  if (refused) return refused;
  const now = formatHjTime(new Date(ctx.now), ctx.utcOffsetMinutes);
  switch (p.cn) {
    case CN.GetTime:
      return requestFlow(p, to, () => ({
        replies: [response(p, to, { ...(p.cp.params['PolId'] && { PolId: p.cp.params['PolId'] }), SystemTime: now })],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetTime: {
      let at: number;
      try {
        at = parseHjTime(p.cp.params['SystemTime'] ?? '', ctx.utcOffsetMinutes, 'SystemTime').getTime();
      } catch {
        return notCarriedOut(p, to, ExeRtn.BadCondition, 'bad-time');
      }
      // A box on NTP keeps its clock (the platform's is no better, and jumps would split periods), yet the
      // request is answered as carried out: the box's time is right, which is what the platform asked for.
      if (ctx.clockPolicy === 'keep-ntp')
        return requestFlow(p, to, () => ({
          exeRtn: ExeRtn.Success,
          effect: { kind: 'clock-kept', differenceMs: at - ctx.now },
        }));
      if (Math.abs(at - ctx.now) > MAX_CLOCK_STEP_MS)
        return notCarriedOut(p, to, ExeRtn.BadCondition, 'clock-step-too-large');
      return requestFlow(p, to, () => ({ exeRtn: ExeRtn.Success, effect: { kind: 'set-time', at } }));
    }
    case CN.SetTimeoutRetry: {
      // C.1: both fields, within what the uplink config itself takes; otherwise 9011 Ready then 9012
      // ExeRtn 3 (condition error), like every setting of table 9 with an out-of-range value.
      const overTimeSeconds = intParam(p, 'OverTime');
      const reCount = intParam(p, 'ReCount');
      if (
        overTimeSeconds === undefined ||
        reCount === undefined ||
        overTimeSeconds < 1 ||
        overTimeSeconds > TIMEOUT_SECONDS_MAX ||
        reCount > RETRIES_MAX
      )
        return notCarriedOut(p, to, ExeRtn.BadCondition, 'bad-timeout-retry');
      return requestFlow(p, to, () => ({
        exeRtn: ExeRtn.Success,
        effect: { kind: 'set-timeout-retry', overTimeSeconds, reCount },
      }));
    }
    case CN.GetRtdInterval:
      return requestFlow(p, to, () => ({
        replies: [response(p, to, { RtdInterval: String(ctx.rtdIntervalSeconds) })],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetRtdInterval:
      return requestFlow(p, to, () => {
        const seconds = intParam(p, 'RtdInterval');
        return seconds !== undefined && seconds >= 30 && seconds <= 3600
          ? { exeRtn: ExeRtn.Success, effect: { kind: 'set-rtd-interval', seconds } }
          : { exeRtn: ExeRtn.BadCondition };
      });
    case CN.GetMinInterval:
      return requestFlow(p, to, () => ({
        replies: [response(p, to, { MinInterval: String(ctx.minIntervalMinutes) })],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetMinInterval:
      return requestFlow(p, to, () => {
        const minutes = intParam(p, 'MinInterval');
        return minutes !== undefined && (MIN_INTERVALS as readonly number[]).includes(minutes)
          ? { exeRtn: ExeRtn.Success, effect: { kind: 'set-min-interval', minutes } }
          : { exeRtn: ExeRtn.BadCondition };
      });
    case CN.SetPassword:
      return requestFlow(p, to, () => {
        const pw = p.cp.params['NewPW'];
        return pw !== undefined && /^[0-9A-Za-z]{1,6}$/.test(pw)
          ? { exeRtn: ExeRtn.Success, effect: { kind: 'set-password', pw } }
          : { exeRtn: ExeRtn.BadCondition };
      });
    case CN.SetMn:
      // A 2025 command: to a 2017 or 2005 platform, 1002 is a reserved code of table 9, not a command.
      if (to.version !== '2025') return refuse(answeredBy(p, to), QnRtn.BadCn, 'bad-cn');
      return requestFlow(p, to, () => {
        // The parameter name is assumed by analogy with 1072's NewPW (the 2025 text is not public here).
        const mn = p.cp.params[NEW_MN_FIELD];
        return mn !== undefined && MN_PATTERN.test(mn)
          ? { exeRtn: ExeRtn.Success, effect: { kind: 'set-mn', mn } }
          : { exeRtn: ExeRtn.BadCondition };
      });
    case CN.RealtimeData:
      return requestFlow(p, to, () => ({ exeRtn: ExeRtn.Success, effect: { kind: 'realtime', on: true } }));
    case CN.StopRealtimeData:
      return { replies: [noticeAnswer(answeredBy(p, to))], effect: { kind: 'realtime', on: false } };
    case CN.RunState:
      return requestFlow(p, to, () => ({ exeRtn: ExeRtn.Success, effect: { kind: 'run-state', on: true } }));
    case CN.StopRunState:
      return { replies: [noticeAnswer(answeredBy(p, to))], effect: { kind: 'run-state', on: false } };
    case CN.FieldInfo:
      return requestFlow(p, to, () => fieldInfo(p, ctx));
    case CN.SetFieldParams:
      return setParameters(p, to);
    case CN.KeyUpdate:
      // A 2025 command (docs/protocol-2025.md §1014): on 2005/2017 links it is no command of the edition.
      if (to.version !== '2025') return refuse(answeredBy(p, to), QnRtn.Rejected, 'not-supported');
      return requestFlow(p, to, () => {
        const key = p.cp.params[NEW_KEY_FIELD];
        return isKeyHex(key)
          ? { exeRtn: ExeRtn.Success, effect: { kind: 'set-key', key: key.toUpperCase() } }
          : { exeRtn: ExeRtn.BadCondition };
      });
    default:
      if (HISTORY_CNS.has(p.cn)) return history(p, ctx);
      // HJ 212-2025's 3022/3024: on a 2005/2017 link a reserved code of table 9, refused as 1014 is.
      if (CONTROL_CNS_2025.includes(p.cn) && to.version !== '2025')
        return refuse(answeredBy(p, to), QnRtn.Rejected, 'not-supported');
      if (isControlCn(p.cn) && ctx.controlled?.(p.cn, p.cp.params['PolId'])) return control(p, ctx);
      // A command of table 9 this box cannot carry out (analyzer control no device maps...) is refused with
      // QnRtn 2, 请求被拒绝 (table 7, HJ 212-2017 §6.6.3); anything else is a bad CN.
      return command(p.cn)
        ? refuse(answeredBy(p, to), QnRtn.Rejected, 'not-supported')
        : refuse(answeredBy(p, to), QnRtn.BadCn, 'bad-cn');
  }
}
