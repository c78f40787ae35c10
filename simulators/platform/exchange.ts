import { chinaIso } from './report.js';
import { CN, ExeRtn, QnRtn, exeRtn as exeRtnDef, qnRtn as qnRtnDef, type Packet } from '../../protocol/index.js';

/** Requests answered with data between 9011 and 9012 (table 9 "提取" commands and history). */
const RETURNS_DATA = new Set<string>([
  CN.GetTime,
  CN.GetRtdInterval,
  CN.GetMinInterval,
  CN.DayData,
  CN.RunTimeDay,
  CN.MinuteData,
  CN.HourData,
  CN.FieldInfo,
  CN.GetSamplePeriod,
  CN.GetSampleOutputTime,
  CN.GetAnalyzerId,
  // C.34: the retained sample's DataTime and VaseNo come between 9011 and 9012, as "get" answers do.
  CN.RetainSample,
]);
/** Notices, answered with 9013. */
const NOTICES = new Set<string>([CN.StopRealtimeData, CN.StopRunState]);

/** One request the platform sent and what came back, as the report shows it. */
export interface ExchangeRecord {
  mn: string;
  cn: string;
  qn: string;
  /** When the request went out, in China time (UTC+8) with its offset. */
  sentAt: string;
  /** What arrived, in order, e.g. ["9011 QnRtn=1", "2061", "2061", "9012 ExeRtn=1"]. */
  answers: string[];
  qnRtn?: number;
  exeRtn?: number;
  dataPackets: number;
  ok: boolean;
  reason?: string;
  done: boolean;
  /** The refusal the script expects (QnRtn of table 7), when it expects one. */
  expectQnRtn?: number;
}

export function newExchange(mn: string, cn: string, qn: string, sentAt: Date, expectQnRtn?: number): ExchangeRecord {
  const ex: ExchangeRecord = {
    mn,
    cn,
    qn,
    sentAt: chinaIso(sentAt),
    answers: [],
    dataPackets: 0,
    ok: false,
    done: false,
  };
  if (expectQnRtn !== undefined) ex.expectQnRtn = expectQnRtn;
  return ex;
}

const describe = (kind: 'QnRtn' | 'ExeRtn', code: number): string =>
  `${kind}=${code} (${(kind === 'QnRtn' ? qnRtnDef(code) : exeRtnDef(code))?.nameEn ?? 'not in the table'})`;

function close(ex: ExchangeRecord, problems: string[]): void {
  ex.done = true;
  ex.ok = problems.length === 0;
  if (problems.length > 0) ex.reason = problems.join('; ');
}

/**
 * Folds one packet answering the request into its record, checking the standard sequence (§6.6,
 * appendix C): 9011 first, QnRtn=1, the data (for "get" requests and history), then 9012 last.
 * Returns true when the exchange is over.
 */
export function observe(ex: ExchangeRecord, p: Packet): boolean {
  if (ex.done) return true;
  const problems = ex.reason ? [ex.reason] : [];
  const note = (why: string): void => {
    problems.push(why);
    ex.reason = problems.join('; ');
  };
  if (p.cn === CN.NoticeAnswer) {
    ex.answers.push('9013');
    if (!NOTICES.has(ex.cn)) note(`9013 answers notices; CN ${ex.cn} is a request`);
    close(ex, problems);
    return true;
  }
  if (p.cn === CN.QnRtn) {
    const code = Number(p.cp.params['QnRtn']);
    ex.answers.push(`9011 QnRtn=${p.cp.params['QnRtn'] ?? '?'}`);
    if (ex.qnRtn !== undefined) note('9011 came twice');
    ex.qnRtn = code;
    if (ex.expectQnRtn !== undefined) {
      if (code !== ex.expectQnRtn)
        note(`expected a refusal ${describe('QnRtn', ex.expectQnRtn)}, got ${describe('QnRtn', code)}`);
      close(ex, problems);
      return true;
    }
    if (code !== QnRtn.Ready) {
      note(`request refused: ${describe('QnRtn', code)}`);
      close(ex, problems);
      return true;
    }
    return false;
  }
  if (p.cn === CN.ExeRtn) {
    const code = Number(p.cp.params['ExeRtn']);
    ex.answers.push(`9012 ExeRtn=${p.cp.params['ExeRtn'] ?? '?'}`);
    ex.exeRtn = code;
    if (ex.qnRtn === undefined) note('9012 without a 9011 first');
    const noData = code === ExeRtn.NoData && RETURNS_DATA.has(ex.cn);
    if (code !== ExeRtn.Success && !noData) note(`execution failed: ${describe('ExeRtn', code)}`);
    if (code === ExeRtn.Success && RETURNS_DATA.has(ex.cn) && ex.dataPackets === 0)
      note(`ExeRtn=1 but no ${ex.cn} data came between 9011 and 9012`);
    close(ex, problems);
    return true;
  }
  ex.answers.push(p.cn);
  if (p.cn !== ex.cn) note(`CN ${p.cn} answers a ${ex.cn} request`);
  else if (!RETURNS_DATA.has(ex.cn)) note(`a ${ex.cn} request returns no data`);
  if (ex.qnRtn === undefined) note(`${p.cn} data came before 9011`);
  ex.dataPackets++;
  return false;
}

/** Ends an exchange that ran out of time (or was cut short by shutdown). */
export function expire(ex: ExchangeRecord, why: string): void {
  if (ex.done) return;
  const got = ex.answers.length > 0 ? ` (got ${ex.answers.join(', ')})` : ' (nothing came back)';
  close(ex, [...(ex.reason ? [ex.reason] : []), `${why}${got}`]);
}
