import {
  CN,
  ExeRtn,
  QnRtn,
  command,
  exeRtnAnswer,
  formatHjTime,
  isKeyHex,
  NEW_KEY_FIELD,
  makeFlag,
  noticeAnswer,
  parseHjTime,
  qnRtnAnswer,
  type Cp,
  type Packet,
  type Version,
} from '../../protocol/index.js';
import {
  aggregateCp,
  periodMs,
  periodStarts,
  OUTLET_FACTORS,
  type Outlet,
  type PeriodCn,
  type Script,
} from './values.js';

export interface Identity {
  mn: string;
  pw: string;
  st: string;
  version: Version;
}

/** What a request handler needs to know about the logger; the handler itself never mutates it. */
export interface LoggerState {
  identity: Identity;
  outlet: Outlet;
  seed: number;
  /** The logger's own clock (simulated time plus any offset set by 1012). */
  now: number;
  rtdIntervalS: number;
  minIntervalMin: number;
  /** Scripted values and flags: history answers carry them as the uploads did. */
  script?: Script;
  /** What the analyzers behind the logger were set to (3016) and the retained samples taken (3015). */
  analyzers: AnalyzerState;
}

/**
 * The analyzers' side of the control commands (HJ 212-2017 C.30-C.39), per factor code: the sampling
 * period 3016 sets and 3017 reads, and the count of samples 3015 retained (the next VaseNo is one more).
 */
export interface AnalyzerState {
  samplePeriods: Readonly<Record<string, { start: string; hours: number }>>;
  vasesUsed: number;
}

/** C.35's example and default: sampling from 00:00:00 every 2 hours, until a 3016 sets another. */
export const DEFAULT_SAMPLE_PERIOD = { start: '000000', hours: 2 } as const;
/** C.37's example: 40 minutes from the start of sampling to its end (出样时间). */
export const SAMPLE_OUTPUT_MINUTES = 40;

/**
 * An analyzer's unique id as 3019 reports it (C.38: 24 characters, EPC96): the logger's MN with its last two
 * characters replaced by the factor's 1-based place among the outlet's factors, in two upper-case hex digits,
 * as C.38's example (MN …9DC0, analyzer …9DC1).
 */
export function analyzerId(mn: string, outlet: Outlet, polId: string): string | undefined {
  const i = OUTLET_FACTORS[outlet].findIndex((f) => f.code === polId);
  return i < 0 ? undefined : mn.slice(0, -2) + (i + 1).toString(16).toUpperCase().padStart(2, '0');
}

/** Changes a request asks for, applied by the connection that owns the state. */
export interface StateChange {
  setTime?: number;
  rtdIntervalS?: number;
  minIntervalMin?: number;
  realtime?: boolean;
  /** 1000 (C.1): the timeout, seconds, and the retries of the uploads that want a 9014. */
  overTimeS?: number;
  reCount?: number;
  /** HJ 212-2025 1014 (docs/protocol-2025.md): the SM4 key every frame after the 9012 goes under. */
  sm4Key?: string;
  /** 1072 (C.9): the PW every frame after the 9012 carries. */
  pw?: string;
  /** 3016 (C.35): a factor's analyzer samples from `start` (hhmmss) every `hours`. */
  samplePeriod?: { polId: string; start: string; hours: number };
  /** 3015 (C.34): one more sample retained. */
  vaseUsed?: true;
}

export interface Handled {
  /** Packets to send, in order (9011, data, 9012 for a request). */
  replies: Packet[];
  change: StateChange;
  /** Why the request was refused, for the log. */
  refused?: string;
}

/** HJ 212-2017 §6.6: RtdInterval 30-3600 s; MinInterval one of these minutes. */
const MIN_INTERVALS = new Set([1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30]);
/** A history request over a long range would otherwise flood the link. */
export const HISTORY_LIMIT = 500;

const NOTICES = new Set<string>([CN.StopRealtimeData, CN.StopRunState]);
const HISTORY = new Set<string>([CN.MinuteData, CN.HourData, CN.DayData]);

/** A data packet answering a request: it echoes the request's QN and wants no 9014. */
function dataReply(state: LoggerState, req: Packet, cn: string, cp: Cp): Packet {
  const { identity: id } = state;
  const p: Packet = { version: id.version, st: id.st, cn, pw: id.pw, mn: id.mn, flag: makeFlag(id.version), cp };
  if (req.qn !== undefined) p.qn = req.qn;
  return p;
}

const params = (p: Record<string, string>): Cp => ({ params: p, factors: {} });

function refuse(req: Packet, code: number, why: string): Handled {
  return { replies: [qnRtnAnswer(req, code)], change: {}, refused: why };
}

/** Runs a request and wraps its result into the standard sequence 9011 QnRtn=1, data..., 9012. */
function execute(req: Packet, run: () => { data: Packet[]; exeRtn: number; change?: StateChange }): Handled {
  const { data, exeRtn, change } = run();
  return { replies: [qnRtnAnswer(req, QnRtn.Ready), ...data, exeRtnAnswer(req, exeRtn)], change: change ?? {} };
}

function history(state: LoggerState, req: Packet): Handled {
  let begin: number;
  let end: number;
  try {
    begin = parseHjTime(req.cp.params['BeginTime'] ?? '', undefined, 'BeginTime').getTime();
    end = parseHjTime(req.cp.params['EndTime'] ?? '', undefined, 'EndTime').getTime();
  } catch {
    return execute(req, () => ({ data: [], exeRtn: ExeRtn.BadCondition }));
  }
  const cn = req.cn as PeriodCn;
  const len = periodMs(cn, state.minIntervalMin);
  const starts = periodStarts(begin, end, len, state.now, HISTORY_LIMIT);
  const data = starts.map((s) =>
    dataReply(state, req, cn, aggregateCp(state.seed, state.identity.mn, state.outlet, s, len, state.script)),
  );
  return execute(req, () => ({ data, exeRtn: data.length > 0 ? ExeRtn.Success : ExeRtn.NoData }));
}

function fieldInfo(state: LoggerState, req: Packet): Handled {
  const polId = req.cp.params['PolId'] ?? OUTLET_FACTORS[state.outlet][0]!.code;
  const time = formatHjTime(new Date(state.now));
  // B.10: i12001 work state 0 = running, i13001 measuring range; enough for a platform to parse 3020.
  const cp: Cp = {
    params: { DataTime: time },
    factors: {},
    info: [{ polId, codes: { i12001: { Info: '0' }, i13001: { Info: '500' } } }],
  };
  return execute(req, () => ({ data: [dataReply(state, req, CN.FieldInfo, cp)], exeRtn: ExeRtn.Success }));
}

/**
 * C.30-C.39: the analyzer control commands, addressed to the analyzer of one factor (PolId), except 3015,
 * which is the logger's sampler. 9011 QnRtn=1 for each; a PolId not of this outlet is a condition error
 * (9012 ExeRtn=3); 3015, 3017, 3018 and 3019 send their data packet (echoing the QN) before the 9012.
 */
function control(state: LoggerState, req: Packet): Handled {
  const p = req.cp.params;
  const polId = p['PolId'];
  const known = polId !== undefined && OUTLET_FACTORS[state.outlet].some((f) => f.code === polId);
  if (req.cn === CN.RetainSample) {
    // C.34: DataTime is when the sample was retained, VaseNo the bottle it went into.
    const vaseNo = state.analyzers.vasesUsed + 1;
    const cp = params({ DataTime: formatHjTime(new Date(state.now)), VaseNo: String(vaseNo) });
    return execute(req, () => ({
      data: [dataReply(state, req, CN.RetainSample, cp)],
      exeRtn: ExeRtn.Success,
      change: { vaseUsed: true },
    }));
  }
  if (!known) return execute(req, () => ({ data: [], exeRtn: ExeRtn.BadCondition }));
  switch (req.cn) {
    case CN.SetSamplePeriod: {
      // C.35 writes CTime in its example and Ctime in its field list: either is taken.
      const start = p['CstartTime'] ?? DEFAULT_SAMPLE_PERIOD.start;
      const hours = Number(p['CTime'] ?? p['Ctime']);
      const ok = /^([01]\d|2[0-3])[0-5]\d[0-5]\d$/.test(start) && Number.isInteger(hours) && hours >= 1 && hours <= 24;
      return execute(req, () =>
        ok
          ? { data: [], exeRtn: ExeRtn.Success, change: { samplePeriod: { polId, start, hours } } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.GetSamplePeriod: {
      const period = state.analyzers.samplePeriods[polId] ?? DEFAULT_SAMPLE_PERIOD;
      const cp = params({ PolId: polId, CstartTime: period.start, CTime: String(period.hours) });
      return execute(req, () => ({ data: [dataReply(state, req, CN.GetSamplePeriod, cp)], exeRtn: ExeRtn.Success }));
    }
    case CN.GetSampleOutputTime: {
      const cp = params({ PolId: polId, Stime: String(SAMPLE_OUTPUT_MINUTES) });
      return execute(req, () => ({
        data: [dataReply(state, req, CN.GetSampleOutputTime, cp)],
        exeRtn: ExeRtn.Success,
      }));
    }
    case CN.GetAnalyzerId: {
      const cp: Cp = {
        params: { PolId: polId },
        factors: { [polId]: { SN: analyzerId(state.identity.mn, state.outlet, polId)! } },
      };
      return execute(req, () => ({ data: [dataReply(state, req, CN.GetAnalyzerId, cp)], exeRtn: ExeRtn.Success }));
    }
    default:
      // 3011 zero/span calibration, 3012 immediate sampling, 3013 cleaning/back-blowing, 3014 comparison sampling.
      return execute(req, () => ({ data: [], exeRtn: ExeRtn.Success }));
  }
}

const CONTROL = new Set<string>([
  CN.Calibrate,
  CN.SampleNow,
  CN.CleanBlowback,
  CN.ComparisonSample,
  CN.RetainSample,
  CN.SetSamplePeriod,
  CN.GetSamplePeriod,
  CN.GetSampleOutputTime,
  CN.GetAnalyzerId,
]);

/**
 * Answers one platform request per HJ 212-2017 §6.6 and appendix C: wrong PW → QnRtn=3, another
 * station's MN → QnRtn=4, CN not in table 9 → QnRtn=8, a CN this logger does not implement → QnRtn=2.
 */
export function handleRequest(state: LoggerState, req: Packet): Handled {
  if (NOTICES.has(req.cn)) {
    return { replies: [noticeAnswer(req)], change: req.cn === CN.StopRealtimeData ? { realtime: false } : {} };
  }
  if (req.mn !== undefined && req.mn !== state.identity.mn)
    return refuse(req, QnRtn.BadMn, `MN ${req.mn} is not this logger`);
  if (req.pw !== state.identity.pw) return refuse(req, QnRtn.BadPassword, 'wrong PW');
  if (command(req.cn) === undefined) return refuse(req, QnRtn.BadCn, `CN ${req.cn} is not in table 9`);
  const p = req.cp.params;
  switch (req.cn) {
    case CN.KeyUpdate: {
      // docs/protocol-2025.md §1014: a 2025 command; NewKey is 32 hex digits, else a condition error.
      if (state.identity.version !== '2025') return refuse(req, QnRtn.Rejected, 'no 1014 before HJ 212-2025');
      const key = p[NEW_KEY_FIELD];
      return execute(req, () =>
        isKeyHex(key)
          ? { data: [], exeRtn: ExeRtn.Success, change: { sm4Key: key.toUpperCase() } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.SetTimeoutRetry: {
      // Table 4: OverTime 0<n≤99 s, ReCount 0<n≤99.
      const over = Number(p['OverTime']);
      const re = Number(p['ReCount']);
      const ok = [over, re].every((n) => Number.isInteger(n) && n > 0 && n <= 99);
      return execute(req, () =>
        ok
          ? { data: [], exeRtn: ExeRtn.Success, change: { overTimeS: over, reCount: re } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.GetTime:
      return execute(req, () => ({
        data: [dataReply(state, req, CN.GetTime, params({ SystemTime: formatHjTime(new Date(state.now)) }))],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetTime:
      return execute(req, () => {
        try {
          return {
            data: [],
            exeRtn: ExeRtn.Success,
            change: { setTime: parseHjTime(p['SystemTime'] ?? '', undefined, 'SystemTime').getTime() },
          };
        } catch {
          return { data: [], exeRtn: ExeRtn.BadCondition };
        }
      });
    case CN.GetRtdInterval:
      return execute(req, () => ({
        data: [dataReply(state, req, CN.GetRtdInterval, params({ RtdInterval: String(state.rtdIntervalS) }))],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetRtdInterval: {
      const v = Number(p['RtdInterval']);
      const ok = Number.isInteger(v) && v >= 30 && v <= 3600;
      return execute(req, () =>
        ok
          ? { data: [], exeRtn: ExeRtn.Success, change: { rtdIntervalS: v } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.GetMinInterval:
      return execute(req, () => ({
        data: [dataReply(state, req, CN.GetMinInterval, params({ MinInterval: String(state.minIntervalMin) }))],
        exeRtn: ExeRtn.Success,
      }));
    case CN.SetMinInterval: {
      const v = Number(p['MinInterval']);
      const ok = MIN_INTERVALS.has(v);
      return execute(req, () =>
        ok
          ? { data: [], exeRtn: ExeRtn.Success, change: { minIntervalMin: v } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.RealtimeData:
      // Table C.10: 9011, then 9012 once uploading has started; the 2011 uploads follow on their own.
      return {
        replies: [qnRtnAnswer(req, QnRtn.Ready), exeRtnAnswer(req, ExeRtn.Success)],
        change: { realtime: true },
      };
    case CN.SetPassword: {
      // C.9: answered under the PW the request came with; table 4: NewPW is C6 of 0-9, a-z, A-Z.
      const pw = p['NewPW'];
      return execute(req, () =>
        pw !== undefined && /^[0-9A-Za-z]{1,6}$/.test(pw)
          ? { data: [], exeRtn: ExeRtn.Success, change: { pw } }
          : { data: [], exeRtn: ExeRtn.BadCondition },
      );
    }
    case CN.FieldInfo:
      return fieldInfo(state, req);
    default:
      if (CONTROL.has(req.cn)) return control(state, req);
      if (HISTORY.has(req.cn)) return history(state, req);
      return refuse(req, QnRtn.Rejected, `CN ${req.cn} is not implemented by this simulator`);
  }
}
