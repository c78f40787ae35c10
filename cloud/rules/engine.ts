import type { Logger } from 'pino';
import { z } from 'zod';
import { formatHjTime, historyRequest, type Packet } from '../../protocol/index.js';
import type { AlarmEvent, Notify } from '../alarms/notify.js';
import type { BackfillStore } from '../alarms/backfills.js';
import type { Alarm, AlarmOpen, AlarmStore, ClosedBy } from '../alarms/store.js';
import type { Via } from '../ingest/ingest.js';
import type { Registry, Shutdown, Station } from '../registry.js';
import { headlineValue, type MeasurementStore, type Point } from '../store/types.js';
import { judge, nextRun, type Condition, type Run } from './judge.js';
import { HOUR, missingHours } from './missing.js';
import { judgeTreatment, type TreatmentRun } from './treatment.js';
import { mismatches, reportedBy, type InstrumentStore, type Mismatch } from '../instruments.js';

export const RulesOptionsSchema = z
  .strictObject({
    /** How long after an hour ends its record may still arrive before it counts as missing. */
    graceMinutes: z.number().int().min(0).default(20),
    /** How far back hours are checked. */
    lookbackHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 31)
      .default(24),
    checkEverySeconds: z.number().int().min(1).default(60),
    /** Least time between two 2061 requests to one logger. */
    requestEveryMinutes: z.number().int().min(1).default(10),
    webhooks: z.array(z.url()).default([]),
    /** How long an alarm event is retried for a webhook that is down or failing. */
    webhookRetryHours: z
      .number()
      .min(0)
      .max(24 * 31)
      .default(24),
    /**
     * S (manually entered, HJ 212-2017 table 8) hour records count as valid in the rates, not only as
     * received: for regions whose platform accepts audited manual data (docs/statistics.md).
     */
    manualCountsValid: z.boolean().default(false),
    /** Alarm events go to `{alarmTopic}/{MN}` on the MQTT broker. */
    alarmTopic: z.string().default('hj212/alarms'),
  })
  .prefault({});
export type RulesOptions = z.output<typeof RulesOptionsSchema>;

/** Parts joined by `|`, by a template rather than an array join: one is built for every condition of every point. */
function key(a: string | number, b: string | number, c?: string | number, d?: string | number): string {
  if (c === undefined) return `${a}|${b}`;
  return d === undefined ? `${a}|${b}|${c}` : `${a}|${b}|${c}|${d}`;
}

export interface RuleEngineOptions {
  options: RulesOptions;
  registry: () => Registry;
  store: MeasurementStore;
  alarms: AlarmStore;
  /** Where hours that arrive late (补传) are marked; none kept without it. */
  backfills?: BackfillStore;
  notify: Notify;
  /** Sends a packet to the logger with this MN over the transport it last used; false if it is not reachable. */
  send: (mn: string, via: Via, packet: Packet) => boolean;
  /** The QN of a request to a station, unique per station (cloud/commands/store.ts); default the clock's. */
  qn?: (mn: string, now: number) => string;
  /** Shutdown windows of a station: the registry's and those registered since. */
  shutdowns: (station: Station) => Shutdown[];
  log: Logger;
  now?: () => number;
  /** Whether this process keeps the rule state of a station (cloud/cluster.ts); all of them by default. */
  owns?: (mn: string) => boolean;
  /** The instrument register the analyzers' reports are checked against (动态管控); no check without it. */
  instruments?: Pick<InstrumentStore, 'get' | 'current' | 'report' | 'reported'>;
}

/** The register's fields as the platforms name them, for an alarm's detail. */
const FIELD_NAMES: Record<Mismatch['field'], string> = {
  sn: '设备唯一标识',
  range: '测量量程',
  slope: '斜率',
  intercept: '截距',
  register: '未备案',
};

/** "测量量程 备案 0-500，上报 0-1000; 斜率 备案 1，上报 1.05": what differs, in the register's words. */
export function mismatchDetail(found: readonly Mismatch[]): string {
  return found
    .map((m) =>
      m.field === 'register'
        ? `未备案的仪器上报 ${m.reported}`
        : `${FIELD_NAMES[m.field]} 备案 ${m.registered}，上报 ${m.reported}`,
    )
    .join('; ');
}

/** What the platform knows to address a logger with: its last accepted PW, ST, version and transport. */
interface Seen {
  at: number;
  via: Via;
  pw?: string;
  st?: string;
  version: Packet['version'];
}

/**
 * Applies the pure rules to what the ingest stores, and the clock-driven ones (offline, missing hour)
 * on a timer, turning conditions into alarm episodes: opened once, closed once, pushed both times.
 */
export class RuleEngine {
  private readonly runs = new Map<string, Run>();
  /** Per station, the run of 治污设施未运行 periods in progress. */
  private readonly treatmentRuns = new Map<string, TreatmentRun>();
  private readonly seen = new Map<string, Seen>();
  private readonly requested = new Map<string, number>();
  /** Per station, the earliest of its first stored hour and its first packet heard by this process. */
  private readonly since = new Map<string, number>();
  /**
   * Hour records stored since start-up, per station (factor|time → time). With several ingest
   * processes another one may have stored an hour that the store cannot show yet (still in that
   * process's InfluxDB spill); what this process was told is stored is not missing.
   */
  private readonly hoursStored = new Map<string, Map<string, number>>();
  /** Stations with a guessing episode opened by this process (one check per packet must stay cheap). */
  private readonly guessed = new Set<string>();
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly o: RuleEngineOptions) {
    this.started = this.now();
  }

  get options(): RulesOptions {
    return this.o.options;
  }

  /** The rules' clock: wall time, or the one the service was started with (a demo's warped time). */
  now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /**
   * A login locked out for guessing its password: an alarm episode on the station (or on `addr:…` when
   * only the address is known), closed when the station next logs in with the right secret.
   */
  guessing(lockout: { mn?: string; addr?: string; key: string; failures: number }): void {
    const mn = lockout.mn ?? `addr:${lockout.addr ?? lockout.key}`;
    const detail = `locked out after ${lockout.failures} failed logins (${lockout.key})`;
    this.guessed.add(mn);
    this.open({ key: key('password-guessing', mn), type: 'password-guessing', mn, time: this.now(), detail });
  }

  /** The station logged in with its right secret: an open guessing episode ends. */
  loggedIn(mn: string): void {
    if (this.guessed.delete(mn)) this.close(mn, key('password-guessing', mn), this.now());
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.options.checkEverySeconds * 1000);
  }

  /**
   * One round of the clock-driven rules (offline, missing hours), as the timer runs it every
   * `checkEverySeconds`; also on demand (`hj212 cloud` on SIGUSR2). A round already running is awaited,
   * not started twice.
   */
  async check(): Promise<void> {
    const now = this.now();
    this.checkOffline(now);
    this.checking ??= this.checkMissing(now)
      .catch((e: Error) => this.o.log.error({ reason: e.message }, 'missing-hour check failed'))
      .finally(() => (this.checking = undefined));
    await this.checking;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** When and over what the station was last heard from. */
  lastSeen(mn: string): { at: number; via: Via } | undefined {
    const s = this.seen.get(mn);
    return s && { at: s.at, via: s.via };
  }

  /** What a request to the station must carry (its last accepted PW, ST and version) and the transport back to it. */
  addressOf(mn: string): Omit<Seen, 'at'> | undefined {
    const s = this.seen.get(mn);
    if (!s) return undefined;
    const { at: _at, ...address } = s;
    return address;
  }

  /** Every authenticated packet: the station is alive. */
  onPacket(station: Station, packet: Pick<Packet, 'version' | 'pw' | 'st'>, via: Via): void {
    const s: Seen = { at: this.now(), via, version: packet.version };
    if (packet.pw !== undefined) s.pw = packet.pw;
    if (packet.st !== undefined) s.st = packet.st;
    this.seen.set(station.mn, s);
    if (!this.since.has(station.mn)) this.since.set(station.mn, s.at);
    this.close(station.mn, key('offline', station.mn), s.at);
  }

  /**
   * Stored points: value rules, and the missing hours they fill. What they change of the alarm
   * episodes (and the hours marked back-filled) is one transaction of the state database, none when
   * nothing changes (AlarmStore.batch).
   */
  onStored(station: Station, points: readonly Point[]): void {
    this.o.alarms.batch(
      () => this.judgeStored(station, points),
      (err) => this.notStored(station.mn, err),
    );
  }

  private judgeStored(station: Station, points: readonly Point[]): void {
    const runs = (p: Point): Run | undefined => {
      const value = headlineValue(p);
      if (value === undefined) return undefined;
      const k = key(p.mn, p.factor, p.kind);
      const run = nextRun(this.runs.get(k), value, p.time);
      this.runs.set(k, run);
      return run;
    };
    for (const c of judge(station, points, runs)) this.apply(c);
    this.treatment(station, points);
    // A missing hour closes when its data arrives, so its close time is the arrival; the hour stays
    // marked as back-filled (补传), as does any hour that comes after it was due.
    const dueAfter = HOUR + this.o.options.graceMinutes * 60_000;
    // Every point of one upload arrived at one instant.
    const now = this.now();
    for (const p of points) {
      if (p.kind !== 'hour') continue;
      // A value entered by hand (S, table 8) fills the hour too, but is not the logger's back-fill.
      const by = p.flag === 'S' ? 'manual' : 'backfill';
      const closed = this.close(p.mn, key('missing-hour', p.mn, p.factor, p.time), now, by);
      const backfills = this.o.backfills;
      if (backfills && (closed || now >= p.time + dueAfter))
        this.o.alarms.write(() =>
          backfills.add({ mn: p.mn, factor: p.factor, time: p.time, arrivedAt: now, closedAlarm: !!closed }),
        );
      const hours = this.hoursStored.get(p.mn) ?? new Map<string, number>();
      this.hoursStored.set(p.mn, hours.set(key(p.factor, p.time), p.time));
    }
  }

  /** The COMMIT of a batch of alarm changes failed: none of them happened. */
  private notStored(mn: string | undefined, err: Error): void {
    this.o.log.error(
      { mn, reason: err.message },
      'alarm changes not stored; their conditions are judged again on the next data or check',
    );
  }

  /**
   * 治污设施未运行 on each upload of the rule's kind: opened at the start of the first period of a run
   * that lasted the rule's minutes, closed at the start of the first period that is normal again.
   */
  private treatment(station: Station, points: readonly Point[]): void {
    const rule = station.treatmentStopped;
    if (!rule) return;
    const k = key('treatment-stopped', station.mn);
    const periodMs = rule.kind === 'hour' ? HOUR : station.intervals.minuteMinutes * 60_000;
    const byTime = new Map<number, Point[]>();
    for (const p of points) if (p.kind === rule.kind) byTime.set(p.time, [...(byTime.get(p.time) ?? []), p]);
    for (const [time, at] of [...byTime].sort(([a], [b]) => a - b)) {
      const v = judgeTreatment(rule, at, time, periodMs, this.treatmentRuns.get(station.mn));
      if (v.state === 'unknown') continue;
      if (v.state === 'normal') {
        this.treatmentRuns.delete(station.mn);
        this.close(station.mn, k, time);
        continue;
      }
      this.treatmentRuns.set(station.mn, v.run);
      if (v.open)
        this.open({
          key: k,
          type: 'treatment-stopped',
          mn: station.mn,
          kind: rule.kind,
          time: v.run.since,
          detail: v.detail,
        });
    }
  }

  private apply(c: Condition): void {
    // A condition that is clear on a station with no episode open closes nothing: no key to build.
    if (!c.active && !this.o.alarms.hasOpen(c.mn)) return;
    const k = key(c.type, c.mn, c.factor, c.kind);
    if (!c.active) {
      this.close(c.mn, k, c.time);
      return;
    }
    const a: AlarmOpen = { key: k, type: c.type, mn: c.mn, factor: c.factor, kind: c.kind, time: c.time };
    if (c.value !== undefined) a.value = c.value;
    if (c.limit !== undefined) a.limit = c.limit;
    if (c.multiple !== undefined) a.multiple = c.multiple;
    if (c.detail !== undefined) a.detail = c.detail;
    this.open(a);
  }

  // The open episodes are known in memory (AlarmStore): a condition that changes none, like each valid
  // value's "not negative", costs no transaction, and those of one upload that do share one (batch).
  private open(a: AlarmOpen, raisedAt = this.now()): void {
    if (!this.o.alarms.wouldOpen(a)) return;
    const alarm = this.record('opened', a.mn, () => this.o.alarms.open({ ...a, raisedAt }));
    if (alarm)
      this.o.log.warn(
        { mn: alarm.mn, factor: alarm.factor, reason: alarm.type, value: alarm.value, multiple: alarm.multiple },
        'alarm opened',
      );
  }

  private close(mn: string, k: string, at: number, by?: ClosedBy): Alarm | undefined {
    if (!this.o.alarms.isOpen(k)) return undefined;
    const alarm = this.record('closed', mn, () => this.o.alarms.close(k, at, by));
    if (alarm)
      this.o.log.info({ mn: alarm.mn, factor: alarm.factor, reason: alarm.type, closedBy: by }, 'alarm closed');
    return alarm;
  }

  /**
   * An episode change and its notification (queued webhook events) are stored together or not at
   * all; when not, the condition still holds and the next data or check records it again.
   */
  private record(event: AlarmEvent, mn: string, change: () => Alarm | undefined): Alarm | undefined {
    try {
      return this.o.alarms.atomically(() => {
        const alarm = change();
        if (alarm) this.o.notify(event, alarm);
        return alarm;
      });
    } catch (err) {
      this.o.log.error(
        { mn, event, reason: (err as Error).message },
        'alarm change not stored; it is made again on the next data or check',
      );
      return undefined;
    }
  }

  /** Stations silent for longer than their offline threshold (counted from start-up if never seen). */
  checkOffline(now: number): void {
    this.o.alarms.batch(
      () => this.sweepOffline(now),
      (err) => this.notStored(undefined, err),
    );
  }

  private sweepOffline(now: number): void {
    for (const st of this.owned()) {
      const last = this.seen.get(st.mn)?.at ?? this.started;
      if (now - last > st.offlineMinutes * 60_000)
        this.open(
          {
            key: key('offline', st.mn),
            type: 'offline',
            mn: st.mn,
            time: last,
            detail: `no packet since ${new Date(last).toISOString()}`,
          },
          now,
        );
    }
  }

  /** Opens an alarm per missing station/factor hour and asks each reachable logger for its gap (2061). */
  async checkMissing(now: number): Promise<void> {
    const { graceMinutes, lookbackHours, requestEveryMinutes } = this.o.options;
    const lookbackMs = lookbackHours * HOUR;
    for (const st of this.owned()) {
      const since = await this.monitoredSince(st, now);
      // A station never heard from has no gap to fill: the offline alarm speaks for it.
      if (since === undefined) continue;
      const stored = await this.o.store.query({
        mn: st.mn,
        kind: 'hour',
        from: now - lookbackMs - HOUR,
        to: now,
        limit: 100_000,
      });
      const missing = missingHours({
        since,
        factors: Object.keys(st.factors),
        have: new Set([
          ...stored.map((p) => key(p.factor, p.time)),
          ...this.recentHours(st.mn, now - lookbackMs - HOUR),
        ]),
        shutdowns: this.o.shutdowns(st),
        now,
        graceMs: graceMinutes * 60_000,
        lookbackMs,
      });
      if (missing.length === 0) continue;
      for (const m of missing)
        this.open(
          {
            key: key('missing-hour', st.mn, m.factor, m.hour),
            type: 'missing-hour',
            mn: st.mn,
            factor: m.factor,
            kind: 'hour',
            time: m.hour,
          },
          now,
        );
      this.requestGap(
        st,
        Math.min(...missing.map((m) => m.hour)),
        Math.max(...missing.map((m) => m.hour)),
        now,
        requestEveryMinutes * 60_000,
      );
    }
  }

  /** Hours this process saw stored for a station, from `from` on; older ones are forgotten. */
  private recentHours(mn: string, from: number): string[] {
    const hours = this.hoursStored.get(mn);
    if (!hours) return [];
    for (const [k, time] of hours) if (time < from) hours.delete(k);
    return [...hours.keys()];
  }

  /** The stations whose clock-driven rules run here: the others' owners sweep them. */
  private owned(): Station[] {
    const owns = this.o.owns;
    const all = this.o.registry().stations;
    return owns ? all.filter((st) => owns(st.mn)) : [...all];
  }

  /** When monitoring of a station began: the registry says, or its first data on record does. */
  async monitoredSince(st: Station, now: number): Promise<number | undefined> {
    if (st.monitoredSince !== undefined) return Date.parse(st.monitoredSince);
    const heard = this.since.get(st.mn);
    const [first] = await this.o.store.query({ mn: st.mn, kind: 'hour', from: 0, to: now, limit: 1 });
    const since = Math.min(first?.time ?? Infinity, heard ?? Infinity);
    if (since === Infinity) return undefined;
    this.since.set(st.mn, since);
    return since;
  }

  private requestGap(st: Station, first: number, last: number, now: number, everyMs: number): void {
    const seen = this.seen.get(st.mn);
    const before = this.requested.get(st.mn);
    if (!seen || seen.pw === undefined || (before !== undefined && now - before < everyMs)) return;
    const packet = historyRequest(
      { mn: st.mn, pw: seen.pw, st: seen.st ?? st.st, version: seen.version },
      '2061',
      new Date(first),
      new Date(last),
      { now: new Date(now), ...(this.o.qn && { qn: this.o.qn(st.mn, now) }) },
    );
    if (!this.o.send(st.mn, seen.via, packet)) return;
    this.requested.set(st.mn, now);
    this.o.log.info(
      {
        mn: st.mn,
        reason: 'missing-hour',
        begin: formatHjTime(new Date(first)),
        end: formatHjTime(new Date(last)),
        via: seen.via,
      },
      'requested missing hours (2061)',
    );
  }

  /**
   * 动态管控 (cloud/instruments.ts): the analyzer fields a 3019 or 3020 reports are kept and checked against
   * the register. Each factor's differences are one episode, opened by the first report that differs and
   * closed by the first check that agrees (a later report, or the register updated: instrumentRegistered).
   * A station is checked once any of its analyzers is registered: before that the register is not in use
   * for it, and its reports are only kept.
   */
  instrumentReport(station: Pick<Station, 'mn'>, packet: Pick<Packet, 'cn' | 'cp'>): void {
    const reg = this.o.instruments;
    if (!reg || (packet.cn !== '3019' && packet.cn !== '3020')) return;
    const at = this.now();
    for (const [factor, reported] of reportedBy(packet)) {
      reg.report(station.mn, factor, reported, at);
      this.instrumentCheck(station.mn, factor, at);
    }
  }

  /** A registration changed: the analyzer's last reports are checked again. */
  instrumentRegistered(mn: string, factor: string): void {
    this.instrumentCheck(mn, factor, this.now());
  }

  private instrumentCheck(mn: string, factor: string, at: number): void {
    const reg = this.o.instruments!;
    if (reg.current(mn).length === 0) return;
    const found = mismatches(reg.get(mn, factor), reg.reported(mn, factor));
    const k = key('instrument-mismatch', mn, factor);
    if (found.length === 0) this.close(mn, k, at);
    else this.open({ key: k, type: 'instrument-mismatch', mn, factor, time: at, detail: mismatchDetail(found) });
  }
}
