import type { Logger } from 'pino';
import { z } from 'zod';
import { formatHjTime, historyRequest, type Packet } from '../../protocol/index.js';
import type { Notify } from '../alarms/notify.js';
import type { BackfillStore } from '../alarms/backfills.js';
import type { AlarmOpen, AlarmStore, ClosedBy } from '../alarms/store.js';
import type { Via } from '../ingest/ingest.js';
import type { Registry, Shutdown, Station } from '../registry.js';
import { headlineValue, type MeasurementStore, type Point } from '../store/types.js';
import { judge, nextRun, type Condition, type Run } from './judge.js';
import { HOUR, missingHours } from './missing.js';
import { judgeTreatment } from './treatment.js';
import { mismatches, reportedBy, type InstrumentBook, type Mismatch } from '../instruments.js';
import {
  LocalRuleState,
  andThen,
  type Awaitable,
  type RuleState,
  type Seen,
  type StationRules,
  type StationUnit,
} from './state.js';

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

/** How often a cluster's process reads what the others heard (RuleState.heard). */
const HEARD_EVERY_MS = 5_000;

/** Parts joined by `|`, by a template rather than an array join: one is built for every condition of every point. */
function key(a: string | number, b: string | number, c?: string | number, d?: string | number): string {
  if (c === undefined) return `${a}|${b}`;
  return d === undefined ? `${a}|${b}|${c}` : `${a}|${b}|${c}|${d}`;
}

export interface RuleEngineOptions {
  options: RulesOptions;
  registry: () => Registry;
  store: MeasurementStore;
  /** Episodes of the embedded default (LocalRuleState), unless `state` is given. */
  alarms: AlarmStore;
  /** Where hours that arrive late (补传) are marked; none kept without it. */
  backfills?: BackfillStore;
  /** Queues and announces an episode change (in its transaction) of the embedded default. */
  notify: Notify;
  /** Where rule state and episodes are kept instead (a cluster's PostgreSQL: cloud/state/pg-rule-state.ts). */
  state?: RuleState;
  /** Sends a packet to the logger with this MN over the transport it last used; false if it is not reachable. */
  send: (mn: string, via: Via, packet: Packet) => boolean;
  /** The QN of a request to a station, unique per station (cloud/commands/store.ts); default the clock's. */
  qn?: (mn: string, now: number) => string;
  /** Shutdown windows of a station: the registry's and those registered since. */
  shutdowns: (station: Station) => Awaitable<Shutdown[]>;
  log: Logger;
  now?: () => number;
  /** Whether this process keeps the rule state of a station (cloud/cluster.ts); all of them by default. */
  owns?: (mn: string) => boolean;
  /** The instrument register the analyzers' reports are checked against (动态管控); no check without it. */
  instruments?: Pick<InstrumentBook, 'get' | 'current' | 'report' | 'reported'>;
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

/**
 * Applies the pure rules to what the ingest stores, and the clock-driven ones (offline, missing hour)
 * on a timer, turning conditions into alarm episodes: opened once, closed once, pushed both times.
 * Each station's rules run as units of its RuleState (cloud/rules/state.ts): in this process over
 * SQLite by default, or over PostgreSQL in a cluster, where any process may run any station's unit.
 */
export class RuleEngine {
  private readonly state: RuleState;
  /**
   * The last packet heard of each station, by this process or as a sweep read it from the state
   * (another process of a cluster heard it): what a request to the station must carry.
   */
  private readonly heard = new Map<string, Seen>();
  /**
   * Hour records stored since start-up, per station (factor|time → time). The store may not show
   * an hour just stored yet (still in the InfluxDB spill); what this process was told is stored is
   * not missing.
   */
  private readonly hoursStored = new Map<string, Map<string, number>>();
  private readonly started: number;
  private timer: NodeJS.Timeout | undefined;
  private heardTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  /** Units not yet committed (PostgreSQL): awaited by stop(). */
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly o: RuleEngineOptions) {
    this.started = this.now();
    this.state =
      o.state ??
      new LocalRuleState({
        alarms: o.alarms,
        ...(o.backfills && { backfills: o.backfills }),
        notify: o.notify,
        log: o.log,
      });
  }

  get options(): RulesOptions {
    return this.o.options;
  }

  /** The rules' clock: wall time, or the one the service was started with (a demo's warped time). */
  now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Runs a unit of station `mn`; one still running at stop() is awaited. */
  private unit(mn: string, fn: (u: StationUnit) => void): Awaitable<void> {
    const done = this.state.unit(mn, fn);
    if (!(done instanceof Promise)) return;
    const p = done.catch((e: Error) => this.notStored(mn, e));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /** The COMMIT of a unit's alarm changes failed: none of them happened. */
  private notStored(mn: string | undefined, err: Error): void {
    this.o.log.error(
      { mn, reason: err.message },
      'alarm changes not stored; their conditions are judged again on the next data or check',
    );
  }

  /**
   * A login locked out for guessing its password: an alarm episode on the station (or on `addr:…` when
   * only the address is known), closed when the station next logs in with the right secret.
   */
  guessing(lockout: { mn?: string; addr?: string; key: string; failures: number }): Awaitable<void> {
    const mn = lockout.mn ?? `addr:${lockout.addr ?? lockout.key}`;
    const detail = `locked out after ${lockout.failures} failed logins (${lockout.key})`;
    const time = this.now();
    return this.unit(mn, (u) =>
      open(u, { key: key('password-guessing', mn), type: 'password-guessing', mn, time, detail }, time),
    );
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.options.checkEverySeconds * 1000);
    const heard = this.state.heard?.bind(this.state);
    if (!heard) return;
    // Stations other processes hear: their online flags and addresses on this one, every few seconds.
    let reading = false;
    const read = (): void => {
      if (reading) return;
      reading = true;
      heard()
        .then((all) => {
          for (const [mn, seen] of all) this.learn(mn, seen);
        })
        .catch((e: Error) => this.o.log.warn({ reason: e.message }, 'last packets of the cluster not read'))
        .finally(() => (reading = false));
    };
    read();
    this.heardTimer = setInterval(read, HEARD_EVERY_MS);
  }

  /**
   * One round of the clock-driven rules (offline, missing hours), as the timer runs it every
   * `checkEverySeconds`; also on demand (`hj212 cloud` on SIGUSR2) and for stations just taken over.
   * Rounds never overlap: asked while one runs, one more follows it (it may have read the stations
   * before some were taken over), and every ask meanwhile waits for that one.
   */
  async check(): Promise<void> {
    if (this.checking) {
      this.again ??= this.checking.then(() => {
        this.again = undefined;
        return this.check();
      });
      return this.again;
    }
    const now = this.now();
    this.checking ??= Promise.resolve(this.checkOffline(now))
      .then(() => this.checkMissing(now))
      .catch((e: Error) => this.o.log.error({ reason: e.message }, 'missing-hour check failed'))
      .finally(() => (this.checking = undefined));
    await this.checking;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.heardTimer);
    await this.again;
    await this.checking;
    await Promise.all(this.inflight);
  }

  /** When and over what the station was last heard from. */
  lastSeen(mn: string): { at: number; via: Via } | undefined {
    const s = this.heard.get(mn);
    return s && { at: s.at, via: s.via };
  }

  /** What a request to the station must carry (its last accepted PW, ST and version) and the transport back to it. */
  addressOf(mn: string): Omit<Seen, 'at'> | undefined {
    const s = this.heard.get(mn);
    if (!s) return undefined;
    const { at: _at, ...address } = s;
    return address;
  }

  /** Another process heard the station later than this one did: requests to it carry what it last sent. */
  private learn(mn: string, seen: Seen | undefined): void {
    if (seen && seen.at > (this.heard.get(mn)?.at ?? -Infinity)) this.heard.set(mn, seen);
  }

  /**
   * Every authenticated packet: the station is alive, and logged in with its right secret (an open
   * guessing episode ends).
   */
  onPacket(station: Station, packet: Pick<Packet, 'version' | 'pw' | 'st'>, via: Via): Awaitable<void> {
    const s: Seen = { at: this.now(), via, version: packet.version };
    if (packet.pw !== undefined) s.pw = packet.pw;
    if (packet.st !== undefined) s.st = packet.st;
    const mn = station.mn;
    this.heard.set(mn, s);
    return this.unit(mn, (u) => {
      if (!u.state.seen || u.state.seen.at <= s.at) u.state.seen = s;
      u.state.since ??= s.at;
      close(u, key('offline', mn), s.at);
      close(u, key('password-guessing', mn), s.at);
    });
  }

  /**
   * Stored points: value rules, and the missing hours they fill. What they change of the alarm
   * episodes (and the hours marked back-filled) is one unit of the station: one transaction, none
   * when nothing changes.
   */
  onStored(station: Station, points: readonly Point[]): Awaitable<void> {
    // Every point of one upload arrived at one instant.
    const now = this.now();
    for (const p of points) {
      if (p.kind !== 'hour') continue;
      const hours = this.hoursStored.get(p.mn) ?? new Map<string, number>();
      this.hoursStored.set(p.mn, hours.set(key(p.factor, p.time), p.time));
    }
    return this.unit(station.mn, (u) => this.judgeStored(u, station, points, now));
  }

  private judgeStored(u: StationUnit, station: Station, points: readonly Point[], now: number): void {
    const runs = (p: Point): Run | undefined => {
      const value = headlineValue(p);
      if (value === undefined) return undefined;
      const k = key(p.factor, p.kind);
      const before = u.state.runs[k];
      const run = nextRun(before, value, p.time);
      if (before === undefined || run === before) {
        if (before === undefined) u.state.runs[k] = run;
        return run;
      }
      // The run kept a station's lifetime is updated in place, not replaced: one replaced per value of
      // every upload outlives the young generation and leaves the old one to collect (GC was ~25 % of the ingest).
      before.value = run.value;
      before.count = run.count;
      before.time = run.time;
      return before;
    };
    for (const c of judge(station, points, runs)) apply(u, c, now);
    this.treatment(u, station, points);
    // A missing hour closes when its data arrives, so its close time is the arrival; the hour stays
    // marked as back-filled (补传), as does any hour that comes after it was due.
    const dueAfter = HOUR + this.o.options.graceMinutes * 60_000;
    for (const p of points) {
      if (p.kind !== 'hour') continue;
      // A value entered by hand (S, table 8) fills the hour too, but is not the logger's back-fill.
      const by = p.flag === 'S' ? 'manual' : 'backfill';
      const closed = close(u, key('missing-hour', p.mn, p.factor, p.time), now, by);
      if (closed || now >= p.time + dueAfter)
        u.backfill({ mn: p.mn, factor: p.factor, time: p.time, arrivedAt: now, closedAlarm: closed });
    }
  }

  /**
   * 治污设施未运行 on each upload of the rule's kind: opened at the start of the first period of a run
   * that lasted the rule's minutes, closed at the start of the first period that is normal again.
   */
  private treatment(u: StationUnit, station: Station, points: readonly Point[]): void {
    const rule = station.treatmentStopped;
    if (!rule) return;
    const k = key('treatment-stopped', station.mn);
    const periodMs = rule.kind === 'hour' ? HOUR : station.intervals.minuteMinutes * 60_000;
    const byTime = new Map<number, Point[]>();
    for (const p of points) if (p.kind === rule.kind) byTime.set(p.time, [...(byTime.get(p.time) ?? []), p]);
    for (const [time, at] of [...byTime].sort(([a], [b]) => a - b)) {
      const v = judgeTreatment(rule, at, time, periodMs, u.state.treatment);
      if (v.state === 'unknown') continue;
      if (v.state === 'normal') {
        delete u.state.treatment;
        close(u, k, time);
        continue;
      }
      u.state.treatment = v.run;
      if (v.open)
        open(
          u,
          { key: k, type: 'treatment-stopped', mn: station.mn, kind: rule.kind, time: v.run.since, detail: v.detail },
          this.now(),
        );
    }
  }

  /** Stations silent for longer than their offline threshold (counted from start-up if never seen). */
  checkOffline(now: number): Awaitable<void> {
    const owned = this.owned();
    return andThen(this.state.peek(owned.map((st) => st.mn)), (states) => {
      const silent = (st: Station, seen: Seen | undefined): number | undefined => {
        const last = seen?.at ?? this.started;
        return now - last > st.offlineMinutes * 60_000 ? last : undefined;
      };
      const due: Station[] = [];
      for (const st of owned) {
        const seen = states.get(st.mn)?.seen;
        this.learn(st.mn, seen);
        if (silent(st, seen) !== undefined) due.push(st);
      }
      return sequence(due, (st) =>
        this.unit(st.mn, (u) => {
          const last = silent(st, u.state.seen);
          if (last === undefined) return;
          const detail = `no packet since ${new Date(last).toISOString()}`;
          open(u, { key: key('offline', st.mn), type: 'offline', mn: st.mn, time: last, detail }, now);
        }),
      );
    });
  }

  /** Opens an alarm per missing station/factor hour and asks each reachable logger for its gap (2061). */
  async checkMissing(now: number): Promise<void> {
    const { graceMinutes, lookbackHours, requestEveryMinutes } = this.o.options;
    const lookbackMs = lookbackHours * HOUR;
    const owned = this.owned();
    const states = await this.state.peek(owned.map((st) => st.mn));
    for (const st of owned) {
      const since = await this.sinceOf(st, now, states.get(st.mn));
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
        shutdowns: await this.o.shutdowns(st),
        now,
        graceMs: graceMinutes * 60_000,
        lookbackMs,
      });
      if (missing.length === 0) continue;
      await this.unit(st.mn, (u) => {
        for (const m of missing)
          open(
            u,
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
        const hours = missing.map((m) => m.hour);
        this.requestGap(u, st, Math.min(...hours), Math.max(...hours), now, requestEveryMinutes * 60_000);
      });
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

  /** When monitoring of a station began: the registry says, or its first data on record or first packet does. */
  async monitoredSince(st: Station, now: number): Promise<number | undefined> {
    return this.sinceOf(st, now, (await this.state.peek([st.mn])).get(st.mn));
  }

  private async sinceOf(st: Station, now: number, rules: StationRules | undefined): Promise<number | undefined> {
    if (st.monitoredSince !== undefined) return Date.parse(st.monitoredSince);
    const [first] = await this.o.store.query({ mn: st.mn, kind: 'hour', from: 0, to: now, limit: 1 });
    const since = Math.min(first?.time ?? Infinity, rules?.since ?? Infinity);
    return since === Infinity ? undefined : since;
  }

  private requestGap(u: StationUnit, st: Station, first: number, last: number, now: number, everyMs: number): void {
    const seen = u.state.seen;
    const before = u.state.requestedAt;
    if (!seen || seen.pw === undefined || (before !== undefined && now - before < everyMs)) return;
    const packet = historyRequest(
      { mn: st.mn, pw: seen.pw, st: seen.st ?? st.st, version: seen.version },
      '2061',
      new Date(first),
      new Date(last),
      { now: new Date(now), ...(this.o.qn && { qn: this.o.qn(st.mn, now) }) },
    );
    if (!this.o.send(st.mn, seen.via, packet)) return;
    u.state.requestedAt = now;
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
  instrumentReport(station: Pick<Station, 'mn'>, packet: Pick<Packet, 'cn' | 'cp'>): Awaitable<void> {
    const reg = this.o.instruments;
    if (!reg || (packet.cn !== '3019' && packet.cn !== '3020')) return;
    const at = this.now();
    const reports = [...reportedBy(packet)];
    return andThen(
      sequence(reports, ([factor, reported]) => reg.report(station.mn, factor, reported, at)),
      () =>
        this.instrumentCheck(
          station.mn,
          reports.map(([factor]) => factor),
          at,
        ),
    );
  }

  /** A registration changed: the analyzer's last reports are checked again. */
  instrumentRegistered(mn: string, factor: string): Awaitable<void> {
    return this.instrumentCheck(mn, [factor], this.now());
  }

  /**
   * The register's verdict on each factor (read first: in a cluster it is in PostgreSQL), then one unit
   * of the station opening or closing each factor's episode.
   */
  private instrumentCheck(mn: string, factors: readonly string[], at: number): Awaitable<void> {
    const reg = this.o.instruments!;
    return andThen(reg.current(mn), (current) => {
      if (current.length === 0) return;
      const found = new Map<string, Mismatch[]>();
      const read = sequence(factors, (factor) =>
        andThen(reg.get(mn, factor), (registered) =>
          andThen(reg.reported(mn, factor), (reported) => void found.set(factor, mismatches(registered, reported))),
        ),
      );
      return andThen(read, () =>
        this.unit(mn, (u) => {
          for (const [factor, differ] of found) {
            const k = key('instrument-mismatch', mn, factor);
            if (differ.length === 0) close(u, k, at);
            else
              open(
                u,
                { key: k, type: 'instrument-mismatch', mn, factor, time: at, detail: mismatchDetail(differ) },
                at,
              );
          }
        }),
      );
    });
  }
}

/** A condition as an episode change: open (or raise the peak of) an active one, close a clear one. */
function apply(u: StationUnit, c: Condition, raisedAt: number): void {
  // A condition that is clear on a station with no episode open closes nothing: no key to build.
  if (!c.active && !u.hasOpen()) return;
  const k = key(c.type, c.mn, c.factor, c.kind);
  if (!c.active) {
    close(u, k, c.time);
    return;
  }
  const a: AlarmOpen = { key: k, type: c.type, mn: c.mn, factor: c.factor, kind: c.kind, time: c.time };
  if (c.value !== undefined) a.value = c.value;
  if (c.limit !== undefined) a.limit = c.limit;
  if (c.multiple !== undefined) a.multiple = c.multiple;
  if (c.detail !== undefined) a.detail = c.detail;
  open(u, a, raisedAt);
}

// The open episodes are known to the unit: a condition that changes none, like each valid value's
// "not negative", costs no write, and those of one upload that do share one transaction.
function open(u: StationUnit, a: AlarmOpen, raisedAt: number): void {
  if (u.wouldOpen(a)) u.open({ ...a, raisedAt });
}

function close(u: StationUnit, k: string, at: number, by?: ClosedBy): boolean {
  return u.isOpen(k) && u.close(k, at, by);
}

/** Runs `f` on each item in turn: at once while each returns a value, one after another once one is a promise. */
function sequence<T>(items: readonly T[], f: (item: T) => Awaitable<void>): Awaitable<void> {
  for (let i = 0; i < items.length; i++) {
    const r = f(items[i]!);
    if (r instanceof Promise) return r.then(() => sequence(items.slice(i + 1), f));
  }
}
