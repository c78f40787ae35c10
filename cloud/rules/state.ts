import type { Logger } from 'pino';
import type { Packet } from '../../protocol/index.js';
import type { Backfill, BackfillStore } from '../alarms/backfills.js';
import type { AlarmEvent, Notify } from '../alarms/notify.js';
import type { Alarm, AlarmOpen, AlarmStore, ClosedBy } from '../alarms/store.js';
import type { Via } from '../ingest/ingest.js';
import type { Run } from './judge.js';
import type { TreatmentRun } from './treatment.js';

/** A value that is there now (the embedded SQLite state) or later (PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

/**
 * Applies `f` to `x` at once when it is a value, after it settles when it is a promise. (Not named
 * `then`: a module exporting `then` is a thenable to dynamic import.)
 */
export function andThen<T, U>(x: Awaitable<T>, f: (v: T) => Awaitable<U>): Awaitable<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}

/** What the platform knows to address a logger with: its last accepted PW, ST, version and transport. */
export interface Seen {
  at: number;
  via: Via;
  pw?: string;
  st?: string;
  version: Packet['version'];
}

/**
 * What the rules keep of one station between its packets: plain data, so that PostgreSQL can hold it
 * (`rule_state`) and any process of a cluster can carry on where another left off.
 */
export interface StationRules {
  /** Runs of equal values by `factor|kind` (negative, zero and constant-value rules). */
  runs: Record<string, Run>;
  /** The run of 治污设施未运行 periods in progress. */
  treatment?: TreatmentRun;
  /** The last packet heard from the station (by any process). */
  seen?: Seen;
  /** The earliest of its first stored hour and its first packet heard. */
  since?: number;
  /** When a 2061 was last sent to it for missing hours. */
  requestedAt?: number;
}

export const emptyRules = (): StationRules => ({ runs: {} });

/**
 * One station's rules at work: its state and its open alarm episodes, as one unit. What `fn` of
 * `RuleState.unit` changes here is committed together (one transaction), or none of it is.
 */
export interface StationUnit {
  readonly state: StationRules;
  /** Whether any episode of the station is open (none to close when not). */
  hasOpen(): boolean;
  isOpen(key: string): boolean;
  /** Whether `open(a)` would change anything: no episode of its key is open, or `a` raises its peak. */
  wouldOpen(a: AlarmOpen): boolean;
  /** Opens an episode or raises the peak of the open one. */
  open(a: AlarmOpen & { raisedAt: number }): void;
  /** Closes the open episode of `key`; whether one was open. */
  close(key: string, at: number, by?: ClosedBy): boolean;
  /** Records a back-filled hour (补传) with the episode changes. */
  backfill(b: Backfill): void;
}

/**
 * Where the rules keep their state and episodes: in this process and its SQLite state database
 * (LocalRuleState, the embedded default), or in PostgreSQL for a cluster (cloud/state/pg-rule-state.ts).
 * The same rules code (cloud/rules/engine.ts) runs on both.
 */
export interface RuleState {
  /**
   * Runs `fn` with station `mn`'s state and episodes to itself (no other unit of the station runs
   * meanwhile, in this process or another) and commits what it changed.
   */
  unit(mn: string, fn: (u: StationUnit) => void): Awaitable<void>;
  /** The committed state of these stations (a sweep reads it before it takes a station's unit). */
  peek(mns: readonly string[]): Awaitable<ReadonlyMap<string, StationRules>>;
  /**
   * The last packet any process heard of each station, where other processes hear stations too (a
   * cluster): what the online flags, the overview and requests to a station go by on every process.
   */
  heard?(): Promise<ReadonlyMap<string, Seen>>;
}

/** The log line of an episode change, once it is committed. */
export function logChange(log: Logger, event: AlarmEvent, alarm: Alarm): void {
  if (event === 'opened')
    log.warn(
      { mn: alarm.mn, factor: alarm.factor, reason: alarm.type, value: alarm.value, multiple: alarm.multiple },
      'alarm opened',
    );
  else log.info({ mn: alarm.mn, factor: alarm.factor, reason: alarm.type, closedBy: alarm.closedBy }, 'alarm closed');
}

/**
 * The embedded default: rule state in memory, episodes in the SQLite AlarmStore, whose open
 * episodes are in memory too, so a unit that changes nothing (a valid value's "not negative") costs
 * no transaction, and the changes of one unit share one (AlarmStore.batch).
 */
export class LocalRuleState implements RuleState {
  private readonly stations = new Map<string, StationRules>();

  constructor(
    private readonly o: {
      alarms: AlarmStore;
      backfills?: BackfillStore;
      /** Queues the change's notifications (webhooks) in its transaction, and announces it. */
      notify: Notify;
      log: Logger;
    },
  ) {}

  private rules(mn: string): StationRules {
    let s = this.stations.get(mn);
    if (!s) this.stations.set(mn, (s = emptyRules()));
    return s;
  }

  peek(mns: readonly string[]): ReadonlyMap<string, StationRules> {
    const found = new Map<string, StationRules>();
    for (const mn of mns) {
      const s = this.stations.get(mn);
      if (s) found.set(mn, s);
    }
    return found;
  }

  unit(mn: string, fn: (u: StationUnit) => void): void {
    const { alarms, backfills } = this.o;
    const u: StationUnit = {
      state: this.rules(mn),
      hasOpen: () => alarms.hasOpen(mn),
      isOpen: (key) => alarms.isOpen(key),
      wouldOpen: (a) => alarms.wouldOpen(a),
      open: (a) => {
        if (alarms.wouldOpen(a)) this.record('opened', mn, () => alarms.open(a));
      },
      close: (key, at, by) => alarms.isOpen(key) && this.record('closed', mn, () => alarms.close(key, at, by)),
      backfill: (b) => {
        if (backfills) alarms.write(() => backfills.add(b));
      },
    };
    alarms.batch(
      () => fn(u),
      (err) =>
        this.o.log.error(
          { mn, reason: err.message },
          'alarm changes not stored; their conditions are judged again on the next data or check',
        ),
    );
  }

  /**
   * An episode change and its notification (queued webhook events) are stored together or not at
   * all; when not, the condition still holds and the next data or check records it again.
   */
  private record(event: AlarmEvent, mn: string, change: () => Alarm | undefined): boolean {
    try {
      const alarm = this.o.alarms.atomically(() => {
        const a = change();
        if (a) this.o.notify(event, a);
        return a;
      });
      if (alarm) logChange(this.o.log, event, alarm);
      return true;
    } catch (err) {
      this.o.log.error(
        { mn, event, reason: (err as Error).message },
        'alarm change not stored; it is made again on the next data or check',
      );
      return false;
    }
  }
}
