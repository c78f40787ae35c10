import { formatHjTime, type Hj212ErrorInfo, type Relaxation } from '../../protocol/index.js';
import { type CrcDialect } from '../../protocol/crc.js';
import { CHINA_ISO_OFFSET } from '../../protocol/time.js';
import type { ExchangeRecord } from './exchange.js';

export interface CheckTally {
  passed: number;
  failed: number;
  /** Distinct reasons of the failures, the first few only. */
  reasons: string[];
  /** The first few failures, each with the frame it was found in. */
  failures: CheckFailure[];
}

/** Which frame a finding is about: its QN and CN where they can be read, and its first bytes. */
export interface FrameRef {
  qn?: string;
  cn?: string;
  excerpt: string;
}

export interface CheckFailure {
  reason: string;
  frame?: FrameRef;
}

export interface RejectedFrame {
  error: Hj212ErrorInfo;
  /** What lenient decoding made of it: the dialect a failing logger speaks, or why even that failed. */
  lenient: { ok: true; crcDialect: CrcDialect; relaxations: Relaxation[] } | { ok: false; error: Hj212ErrorInfo };
  raw: string;
  frame?: FrameRef;
}

const EXCERPT = 72;

/** The QN, CN and first bytes of a frame, from its packet where it decoded and from its text where not. */
export function frameRef(raw: string, packet?: { qn?: string; cn?: string }): FrameRef {
  const text = raw.replace(/\r\n$/, '').replace(/[\r\n]/g, ' ');
  const ref: FrameRef = { excerpt: text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text };
  const qn = packet?.qn ?? /(?:^|[;#\d])QN=(\d{1,20})/.exec(raw)?.[1];
  const cn = packet?.cn ?? /(?:^|;)CN=(\d{4})/.exec(raw)?.[1];
  if (qn !== undefined) ref.qn = qn;
  if (cn !== undefined) ref.cn = cn;
  return ref;
}

/** An instant in China time (UTC+8), the zone of HJ 212 time stamps, as ISO 8601 with its offset. */
export function chinaIso(date: Date): string {
  const t = formatHjTime(date);
  const ms = String(date.getUTCMilliseconds()).padStart(3, '0');
  return (
    `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}` +
    `.${ms}${CHINA_ISO_OFFSET}`
  );
}

export interface StationReport {
  /** The MN, or `unidentified <address>` for bytes from a connection that never sent a readable MN. */
  mn: string;
  configured: boolean;
  versions: string[];
  frames: { accepted: number; rejected: number };
  uploads: Record<string, number>;
  acknowledged: number;
  checks: Record<string, CheckTally>;
  rejected: RejectedFrame[];
  requests: ExchangeRecord[];
  /** Findings that do not fail acceptance but should be fixed, e.g. the default password. */
  warnings: string[];
  verdict: 'pass' | 'fail';
}

export interface ConformanceReport {
  generatedAt: string;
  totals: { connections: number; accepted: number; rejected: number; uploads: number; acknowledged: number };
  stations: StationReport[];
}

const MAX_REASONS = 5;
const MAX_REJECTED = 20;
const MAX_RAW = 200;
const MAX_WARNINGS = 20;

/** Collects what the platform saw, per MN; memory per station is bounded. */
export class ReportBuilder {
  private readonly stations = new Map<string, StationReport>();
  private readonly warned = new Map<string, Set<string>>();
  readonly totals: ConformanceReport['totals'] = {
    connections: 0,
    accepted: 0,
    rejected: 0,
    uploads: 0,
    acknowledged: 0,
  };

  constructor(private readonly configured: ReadonlySet<string>) {}

  station(mn: string): StationReport {
    let s = this.stations.get(mn);
    if (!s) {
      s = {
        mn,
        configured: this.configured.has(mn),
        versions: [],
        frames: { accepted: 0, rejected: 0 },
        uploads: {},
        acknowledged: 0,
        checks: {},
        rejected: [],
        requests: [],
        warnings: [],
        verdict: 'fail',
      };
      this.stations.set(mn, s);
    }
    return s;
  }

  /** `frame` may be given as a function: only a failure needs it, and most checks pass. */
  check(mn: string, check: string, ok: boolean, reason?: string, frame?: FrameRef | (() => FrameRef)): void {
    const t = (this.station(mn).checks[check] ??= { passed: 0, failed: 0, reasons: [], failures: [] });
    if (ok) t.passed++;
    else {
      t.failed++;
      if (reason !== undefined && t.reasons.length < MAX_REASONS && !t.reasons.includes(reason)) t.reasons.push(reason);
      if (t.failures.length < MAX_REASONS) {
        const failure: CheckFailure = { reason: reason ?? check };
        if (frame) failure.frame = typeof frame === 'function' ? frame() : frame;
        t.failures.push(failure);
      }
    }
  }

  accepted(mn: string, version: string): void {
    const s = this.station(mn);
    s.frames.accepted++;
    this.totals.accepted++;
    if (!s.versions.includes(version)) s.versions.push(version);
  }

  rejected(mn: string, frame: RejectedFrame): void {
    const s = this.station(mn);
    s.frames.rejected++;
    this.totals.rejected++;
    if (s.rejected.length < MAX_REJECTED) s.rejected.push({ ...frame, raw: frame.raw.slice(0, MAX_RAW) });
  }

  upload(mn: string, cn: string, acknowledged: boolean): void {
    const s = this.station(mn);
    s.uploads[cn] = (s.uploads[cn] ?? 0) + 1;
    this.totals.uploads++;
    if (acknowledged) {
      s.acknowledged++;
      this.totals.acknowledged++;
    }
  }

  /** A finding once per station and `key` (the warning itself by default), the first few only. */
  warn(mn: string, warning: string, key = warning): void {
    const s = this.station(mn);
    const keys = (this.warned.get(mn) ?? this.warned.set(mn, new Set()).get(mn))!;
    if (keys.has(key) || s.warnings.length >= MAX_WARNINGS) return;
    keys.add(key);
    s.warnings.push(warning);
  }

  exchange(ex: ExchangeRecord): void {
    this.station(ex.mn).requests.push(ex);
  }

  build(now: Date = new Date()): ConformanceReport {
    const stations = [...this.stations.values()].map((s) => ({ ...s, verdict: verdict(s) }));
    return { generatedAt: chinaIso(now), totals: { ...this.totals }, stations };
  }
}

/** A station passes when it is configured, sent valid frames, and nothing it did failed a check. */
function verdict(s: StationReport): 'pass' | 'fail' {
  const failed =
    Object.values(s.checks).some((t) => t.failed > 0) || s.frames.rejected > 0 || s.requests.some((r) => !r.ok);
  return s.configured && s.frames.accepted > 0 && !failed ? 'pass' : 'fail';
}

export type ReportLang = 'en' | 'zh';

const TEXT = {
  en: {
    title: 'HJ 212 conformance report',
    time: (t: string) => `${t} China time (UTC+8)`,
    totals: (t: ConformanceReport['totals']) =>
      `connections ${t.connections}, frames accepted ${t.accepted}, rejected ${t.rejected}, uploads ${t.uploads}, ` +
      `acknowledged ${t.acknowledged}`,
    pass: 'PASS',
    fail: 'FAIL',
    unconfigured: '  (not a configured station)',
    frames: (ok: number, bad: number, uploads: string, acked: number) =>
      `frames ${ok} ok / ${bad} rejected; uploads ${uploads}; answered 9014 ${acked}`,
    none: 'none',
    tally: (passed: number, failed: number) =>
      `${String(passed).padStart(5)} passed ${String(failed).padStart(5)} failed`,
    rejected: 'rejected frame',
    lenientOk: (crc: string, relaxed: string) =>
      `lenient decode accepts it (CRC ${crc}${relaxed ? `; ${relaxed}` : ''})`,
    lenientBad: (code: string) => `lenient decode also fails (${code})`,
    request: 'request',
    noAnswer: 'no answer',
    checks: {} as Record<string, string>,
  },
  zh: {
    title: 'HJ 212 联网符合性报告',
    time: (t: string) => `${t}（北京时间 UTC+8）`,
    totals: (t: ConformanceReport['totals']) =>
      `连接 ${t.connections}，接收帧 ${t.accepted}，拒收帧 ${t.rejected}，上传 ${t.uploads}，已应答 ${t.acknowledged}`,
    pass: '通过',
    fail: '不通过',
    unconfigured: '（未配置的站点）',
    frames: (ok: number, bad: number, uploads: string, acked: number) =>
      `正确帧 ${ok} / 拒收帧 ${bad}；上传 ${uploads}；已回 9014 ${acked}`,
    none: '无',
    tally: (passed: number, failed: number) => `通过 ${String(passed).padStart(5)} 失败 ${String(failed).padStart(5)}`,
    rejected: '拒收帧',
    lenientOk: (crc: string, relaxed: string) => `宽松解码可接受（CRC ${crc}${relaxed ? `；${relaxed}` : ''}）`,
    lenientBad: (code: string) => `宽松解码亦失败（${code}）`,
    request: '请求',
    noAnswer: '无应答',
    checks: {
      'frame-strict': '帧格式（严格）',
      'station-known': '站点已登记',
      password: '访问密码 PW',
      version: '协议版本',
      'data-flags': '数据标记 Flag',
      'data-time': '数据时间 DataTime',
      qn: '请求编码 QN',
      st: '系统编码 ST',
      split: '拆分包 PNUM/PNO',
      answers: '应答',
      'key-change': '密钥更新 1014',
    } as Record<string, string>,
  },
};

function checkName(lang: ReportLang, name: string): string {
  const named = TEXT[lang].checks[name];
  if (named !== undefined || lang === 'en') return named ?? name;
  if (name.startsWith('fields-')) return `字段 ${name.slice(7)}`;
  if (name.startsWith('request-')) return `请求 ${name.slice(8)}`;
  return name;
}

const showTime = (iso: string): string => iso.slice(0, 19).replace('T', ' ');

function describeFrame(f: FrameRef): string {
  const ids = [f.qn !== undefined ? `QN=${f.qn}` : undefined, f.cn !== undefined ? `CN=${f.cn}` : undefined]
    .filter(Boolean)
    .join(' ');
  return `${ids ? `${ids} ` : ''}"${f.excerpt}"`;
}

/**
 * The report as a readable table: one line per check and per scripted request, each failure followed
 * by the frame it was found in (QN, CN and its first bytes); times in China time. Reasons are the
 * codec's and the checks' own words (English) in either language.
 */
export function renderReport(r: ConformanceReport, opts: { lang?: ReportLang } = {}): string {
  const lang = opts.lang ?? 'en';
  const T = TEXT[lang];
  const lines: string[] = [];
  lines.push(`${T.title} ${T.time(showTime(r.generatedAt))}`);
  lines.push(T.totals(r.totals));
  for (const s of r.stations) {
    lines.push('');
    lines.push(
      `${s.verdict === 'pass' ? T.pass : T.fail}  ${s.mn}${s.configured ? '' : T.unconfigured}  ` +
        `HJ 212-${s.versions.join('/') || '?'}`,
    );
    const uploads =
      Object.entries(s.uploads)
        .map(([cn, n]) => `${cn}×${n}`)
        .join(' ') || T.none;
    lines.push(`      ${T.frames(s.frames.accepted, s.frames.rejected, uploads, s.acknowledged)}`);
    for (const [name, c] of Object.entries(s.checks)) {
      lines.push(
        `  ${c.failed > 0 ? 'x' : 'ok'} ${checkName(lang, name).padEnd(18)} ` +
          `${T.tally(c.passed, c.failed)}${c.reasons.length > 0 ? `  ${c.reasons.join(' | ')}` : ''}`,
      );
      for (const f of c.failures) if (f.frame) lines.push(`       - ${describeFrame(f.frame)}: ${f.reason}`);
    }
    for (const f of s.rejected) {
      const dialect = f.lenient.ok
        ? T.lenientOk(f.lenient.crcDialect, f.lenient.relaxations.map((x) => x.code).join(', '))
        : T.lenientBad(f.lenient.error.code);
      lines.push(`  x ${T.rejected.padEnd(18)} ${f.error.code}: ${f.error.message}; ${dialect}`);
      if (f.frame) lines.push(`       - ${describeFrame(f.frame)}`);
    }
    for (const w of s.warnings) lines.push(`  ! ${w}`);
    for (const q of s.requests) {
      lines.push(
        `  ${q.ok ? 'ok' : 'x'} ${T.request} ${q.cn} QN=${q.qn} ${showTime(q.sentAt)}: ` +
          `${q.answers.join(' → ') || T.noAnswer}${q.reason ? `  ${q.reason}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
