import type { CrcDialect, Hj212ErrorInfo, Relaxation } from '../../protocol/index.js';
import type { ExchangeRecord } from './exchange.js';

export interface CheckTally {
  passed: number;
  failed: number;
  /** Distinct reasons of the failures, the first few only. */
  reasons: string[];
}

export interface RejectedFrame {
  error: Hj212ErrorInfo;
  /** What lenient decoding made of it: the dialect a failing logger speaks, or why even that failed. */
  lenient: { ok: true; crcDialect: CrcDialect; relaxations: Relaxation[] } | { ok: false; error: Hj212ErrorInfo };
  raw: string;
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

/** Collects what the platform saw, per MN; memory per station is bounded. */
export class ReportBuilder {
  private readonly stations = new Map<string, StationReport>();
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

  check(mn: string, check: string, ok: boolean, reason?: string): void {
    const t = (this.station(mn).checks[check] ??= { passed: 0, failed: 0, reasons: [] });
    if (ok) t.passed++;
    else {
      t.failed++;
      if (reason !== undefined && t.reasons.length < MAX_REASONS && !t.reasons.includes(reason)) t.reasons.push(reason);
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

  warn(mn: string, warning: string): void {
    const s = this.station(mn);
    if (!s.warnings.includes(warning)) s.warnings.push(warning);
  }

  exchange(ex: ExchangeRecord): void {
    this.station(ex.mn).requests.push(ex);
  }

  build(now: Date = new Date()): ConformanceReport {
    const stations = [...this.stations.values()].map((s) => ({ ...s, verdict: verdict(s) }));
    return { generatedAt: now.toISOString(), totals: { ...this.totals }, stations };
  }
}

/** A station passes when it is configured, sent valid frames, and nothing it did failed a check. */
function verdict(s: StationReport): 'pass' | 'fail' {
  const failed =
    Object.values(s.checks).some((t) => t.failed > 0) || s.frames.rejected > 0 || s.requests.some((r) => !r.ok);
  return s.configured && s.frames.accepted > 0 && !failed ? 'pass' : 'fail';
}

/** The report as a readable table: one line per check and per scripted request, reasons inline. */
export function renderReport(r: ConformanceReport): string {
  const lines: string[] = [];
  const t = r.totals;
  lines.push(`HJ 212 conformance report ${r.generatedAt}`);
  lines.push(
    `connections ${t.connections}, frames accepted ${t.accepted}, rejected ${t.rejected}, uploads ${t.uploads}, acknowledged ${t.acknowledged}`,
  );
  for (const s of r.stations) {
    lines.push('');
    lines.push(
      `${s.verdict === 'pass' ? 'PASS' : 'FAIL'}  ${s.mn}${s.configured ? '' : '  (not a configured station)'}  HJ 212-${s.versions.join('/') || '?'}`,
    );
    const uploads =
      Object.entries(s.uploads)
        .map(([cn, n]) => `${cn}×${n}`)
        .join(' ') || 'none';
    lines.push(
      `      frames ${s.frames.accepted} ok / ${s.frames.rejected} rejected; uploads ${uploads}; answered 9014 ${s.acknowledged}`,
    );
    for (const [name, c] of Object.entries(s.checks)) {
      lines.push(
        `  ${c.failed > 0 ? 'x' : 'ok'} ${name.padEnd(18)} ${String(c.passed).padStart(5)} passed ${String(c.failed).padStart(5)} failed${c.reasons.length > 0 ? `  ${c.reasons.join(' | ')}` : ''}`,
      );
    }
    for (const f of s.rejected) {
      const dialect = f.lenient.ok
        ? `lenient decode accepts it (CRC ${f.lenient.crcDialect}${f.lenient.relaxations.length > 0 ? `; ${f.lenient.relaxations.map((x) => x.code).join(', ')}` : ''})`
        : `lenient decode also fails (${f.lenient.error.code})`;
      lines.push(`  x rejected frame    ${f.error.code}: ${f.error.message}; ${dialect}`);
    }
    for (const w of s.warnings) lines.push(`  ! ${w}`);
    for (const q of s.requests) {
      lines.push(
        `  ${q.ok ? 'ok' : 'x'} request ${q.cn} QN=${q.qn}: ${q.answers.join(' → ') || 'no answer'}${q.reason ? `  ${q.reason}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
