import type pg from 'pg';
import type { Logger } from 'pino';
import type { Backfill } from '../alarms/backfills.js';
import type { AlarmEvent } from '../alarms/notify.js';
import { PgAlarmStore } from '../alarms/pg-store.js';
import type { Alarm, AlarmOpen, ClosedBy } from '../alarms/store.js';
import { logChange, type RuleState, type Seen, type StationRules, type StationUnit } from '../rules/state.js';
import { PgBackfillStore, readHeard, readStationStates, withStationState } from './pg-stores.js';

type Op =
  | { op: 'open'; a: AlarmOpen & { raisedAt: number } }
  | { op: 'close'; key: string; at: number; by?: ClosedBy }
  | { op: 'backfill'; b: Backfill };

export interface PgRuleStateOptions {
  pool: pg.Pool;
  log: Logger;
  /** Queues an episode change's notifications (webhook events) in its transaction, on `db`. */
  queue?: (db: Pick<pg.PoolClient, 'query'>, event: AlarmEvent, alarm: Alarm) => Promise<void>;
  /** Told of each change once committed (the alarm topic, live views). */
  announce?: (event: AlarmEvent, alarm: Alarm) => void;
}

/**
 * The rules' state of a cluster in PostgreSQL. A unit of a station is one transaction holding the
 * station's `rule_state` row lock: it reads the station's state and open episodes, lets the rules
 * decide in memory (StationUnit), writes the episode changes, back-filled hours and queued events,
 * and stores the state, all committed together. Whichever process stored a packet runs its unit;
 * the row lock orders two processes' units of one station, so each sees what the other left, and
 * the unique indexes of `alarms` (cloud/state/pg-schema.ts) refuse a second open episode of a
 * condition should anything race all the same. Within this process the units of a station also
 * run in the order they were asked for.
 */
export class PgRuleState implements RuleState {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly o: PgRuleStateOptions) {}

  peek(mns: readonly string[]): Promise<ReadonlyMap<string, StationRules>> {
    return readStationStates(this.o.pool, mns);
  }

  heard(): Promise<ReadonlyMap<string, Seen>> {
    return readHeard(this.o.pool);
  }

  unit(mn: string, fn: (u: StationUnit) => void): Promise<void> {
    const before = this.chains.get(mn) ?? Promise.resolve();
    const run = before.then(() => this.run(mn, fn));
    const settled = run.catch(() => undefined);
    this.chains.set(mn, settled);
    void settled.then(() => {
      if (this.chains.get(mn) === settled) this.chains.delete(mn);
    });
    return run;
  }

  private async run(mn: string, fn: (u: StationUnit) => void): Promise<void> {
    const { pool, queue } = this.o;
    const committed = await withStationState(pool, mn, async (state, client) => {
      const rows = await client.query<{ key: string; peak: number | null }>(
        'SELECT key, peak FROM alarms WHERE mn = $1 AND closed_at IS NULL',
        [mn],
      );
      const open = new Map(rows.rows.map((r) => [r.key, r.peak]));
      const ops: Op[] = [];
      const wouldOpen = (a: AlarmOpen): boolean => {
        if (!open.has(a.key)) return true;
        const peak = open.get(a.key) ?? null;
        return a.multiple !== undefined && (peak === null || peak < a.multiple);
      };
      fn({
        state,
        hasOpen: () => open.size > 0,
        isOpen: (key) => open.has(key),
        wouldOpen,
        open: (a) => {
          if (!wouldOpen(a)) return;
          ops.push({ op: 'open', a });
          const peak = open.get(a.key) ?? null;
          open.set(a.key, a.multiple === undefined ? peak : Math.max(a.multiple, peak ?? -Infinity));
        },
        close: (key, at, by) => {
          if (!open.delete(key)) return false;
          ops.push(by === undefined ? { op: 'close', key, at } : { op: 'close', key, at, by });
          return true;
        },
        backfill: (b) => void ops.push({ op: 'backfill', b }),
      });
      const alarms = new PgAlarmStore(pool, client, []);
      const backfills = new PgBackfillStore(client);
      const changes: [AlarmEvent, Alarm][] = [];
      for (const op of ops) {
        if (op.op === 'backfill') {
          await backfills.add(op.b);
          continue;
        }
        const event: AlarmEvent = op.op === 'open' ? 'opened' : 'closed';
        // An open that only raises the peak, or one the unique indexes refuse, returns nothing.
        const alarm = op.op === 'open' ? await alarms.open(op.a) : await alarms.close(op.key, op.at, op.by);
        if (!alarm) continue;
        await queue?.(client, event, alarm);
        changes.push([event, alarm]);
      }
      return changes;
    });
    for (const [event, alarm] of committed) {
      logChange(this.o.log, event, alarm);
      this.o.announce?.(event, alarm);
    }
  }
}
