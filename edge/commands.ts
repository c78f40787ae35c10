import {
  CN,
  ExeRtn,
  QnRtn,
  command,
  exeRtnAnswer,
  formatHjTime,
  makeFlag,
  noticeAnswer,
  parseHjTime,
  qnRtnAnswer,
} from '../protocol/index.js';
import type { Packet } from '../protocol/index.js';
import type { DataRecord, HistoryCn } from './aggregator.js';
import { MIN_INTERVALS } from './config.js';
import { infoGroups } from './packets.js';
import type { Addressee } from './packets.js';

/** What a command may change; the agent applies it (and persists nothing the standard does not ask for). */
export type CommandEffect =
  | { kind: 'set-time'; at: number }
  | { kind: 'set-rtd-interval'; seconds: number }
  | { kind: 'set-min-interval'; minutes: number }
  | { kind: 'set-password'; pw: string }
  | { kind: 'realtime'; on: boolean }
  | { kind: 'run-state'; on: boolean }
  /** 3021: written to the analyzer asynchronously; `answer` builds the 9012 once the write is done. */
  | { kind: 'set-parameters'; polId: string; values: Record<string, number>; answer: (exeRtn: number) => Packet };

/** What the handler needs to know about the agent, read-only. */
export interface CommandContext {
  to: Addressee;
  now: number;
  utcOffsetMinutes: number;
  rtdIntervalSeconds: number;
  minIntervalMinutes: number;
  /** Whether the box clock follows a time source (NTP) the platform may rely on. */
  clockTrusted: boolean;
  history: (cn: HistoryCn, from: number, to: number) => DataRecord[];
  /** Latest analyzer parameters by factor code, as i-code → value. */
  parameters: (polId: string) => Record<string, number> | undefined;
  /** Packets the agent sends for a history record (the uplink's own builder, with a fresh QN). */
  dataPacket: (record: DataRecord) => Packet;
}

export interface CommandOutcome {
  replies: Packet[];
  effect?: CommandEffect;
}

const HISTORY_CNS = new Set<string>([CN.DayData, CN.MinuteData, CN.HourData, CN.RunTimeDay]);

/** A response upload of a request (1011, 1061, 1063, 3020): same QN and ST as the request, no answer wanted. */
function response(request: Packet, to: Addressee, params: Record<string, string>, info?: Packet['cp']['info']): Packet {
  const packet: Packet = {
    version: to.version,
    st: request.st ?? to.st,
    cn: request.cn,
    pw: to.pw,
    mn: to.mn,
    flag: makeFlag(to.version),
    cp: { params, factors: {} },
  };
  if (request.qn !== undefined) packet.qn = request.qn;
  if (info) packet.cp.info = info;
  return packet;
}

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
  const answered = { ...p, pw: to.pw, mn: to.mn };
  const outcome: CommandOutcome = {
    replies: [qnRtnAnswer(answered, QnRtn.Ready), ...(done.replies ?? []), exeRtnAnswer(answered, done.exeRtn)],
  };
  if (done.effect) outcome.effect = done.effect;
  return outcome;
}

function history(p: Packet, ctx: CommandContext): { replies: Packet[]; exeRtn: number } {
  try {
    const from = parseHjTime(p.cp.params['BeginTime'] ?? '', ctx.utcOffsetMinutes, 'BeginTime').getTime();
    const to = parseHjTime(p.cp.params['EndTime'] ?? '', ctx.utcOffsetMinutes, 'EndTime').getTime();
    const records = ctx.history(p.cn as HistoryCn, from, to);
    return { replies: records.map(ctx.dataPacket), exeRtn: records.length > 0 ? ExeRtn.Success : ExeRtn.NoData };
  } catch {
    return { replies: [], exeRtn: ExeRtn.BadCondition };
  }
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
  const answered = { ...p, pw: to.pw, mn: to.mn };
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
  if (!complete) return requestFlow(p, to, () => ({ exeRtn: ExeRtn.BadCondition }));
  return {
    replies: [qnRtnAnswer(answered, QnRtn.Ready)],
    effect: { kind: 'set-parameters', polId: group.polId!, values, answer: (exeRtn) => exeRtnAnswer(answered, exeRtn) },
  };
}

/**
 * Answers a platform's command as HJ 212-2017 appendix C prescribes. Returns undefined for packets
 * that are not commands to a data logger (answers, uploads), which the uplink handles itself.
 */
export function handleCommand(p: Packet, ctx: CommandContext): CommandOutcome | undefined {
  const { to } = ctx;
  if (p.cn.startsWith('9') || p.cn === CN.TimeCalibration) return undefined;
  if (p.mn !== to.mn) return { replies: [qnRtnAnswer({ ...p, mn: to.mn }, QnRtn.BadMn)] };
  if (p.pw !== to.pw) return { replies: [qnRtnAnswer(p, QnRtn.BadPassword)] };
  const now = formatHjTime(new Date(ctx.now), ctx.utcOffsetMinutes);
  switch (p.cn) {
    case CN.GetTime:
      return requestFlow(p, to, () => ({
        replies: [response(p, to, { ...(p.cp.params['PolId'] && { PolId: p.cp.params['PolId'] }), SystemTime: now })],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetTime:
      return requestFlow(p, to, () => {
        try {
          const at = parseHjTime(p.cp.params['SystemTime'] ?? '', ctx.utcOffsetMinutes, 'SystemTime').getTime();
          // A box on NTP keeps its clock: the platform's is no better, and jumps would split periods.
          return ctx.clockTrusted
            ? { exeRtn: ExeRtn.BadCondition }
            : { exeRtn: ExeRtn.Success, effect: { kind: 'set-time', at } };
        } catch {
          return { exeRtn: ExeRtn.BadCondition };
        }
      });
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
    case CN.RealtimeData:
      return requestFlow(p, to, () => ({ exeRtn: ExeRtn.Success, effect: { kind: 'realtime', on: true } }));
    case CN.StopRealtimeData:
      return { replies: [noticeAnswer({ ...p, pw: to.pw, mn: to.mn })], effect: { kind: 'realtime', on: false } };
    case CN.RunState:
      return requestFlow(p, to, () => ({ exeRtn: ExeRtn.Success, effect: { kind: 'run-state', on: true } }));
    case CN.StopRunState:
      return { replies: [noticeAnswer({ ...p, pw: to.pw, mn: to.mn })], effect: { kind: 'run-state', on: false } };
    case CN.FieldInfo:
      return requestFlow(p, to, () => fieldInfo(p, ctx));
    case CN.SetFieldParams:
      return setParameters(p, to);
    default:
      if (HISTORY_CNS.has(p.cn)) return requestFlow(p, to, () => history(p, ctx));
      // A command of table 9 this box cannot carry out (analyzer control...) is refused; anything else is a bad CN.
      return { replies: [qnRtnAnswer(p, command(p.cn) ? QnRtn.Rejected : QnRtn.BadCn)] };
  }
}
