import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { makeQn, parseHjTime } from '../../protocol/index.js';
import type { AggregatorState, DataRecord, HistoryCn } from '../aggregator.js';
import type { PeriodStats } from '../datasets.js';
import type { HistoryPager } from '../history.js';
import { bodyOf } from './body.js';
import { openStoreDb, type Statements } from './db.js';
import { DiskGuard, type DiskFullStats, type Dropped } from './disk-guard.js';
import { HistoryStore } from './history.js';
import { Outboxes, type Outbox } from './outbox.js';
import { DROPPABLE_CNS, planDrops } from './retention.js';
import { SettingsStore, type EdgeSettings, type SettingsPatch } from './settings.js';

export { DiskFullError, type DiskFullStats } from './disk-guard.js';
export type { Outbox, OutboxRow } from './outbox.js';
export { isDroppable, planDrops, compareDrop, dropClass, type DropCandidate, type DropClass } from './retention.js';
export { decodeSettings, encodeSettings, type EdgeSettings, type SettingsPatch } from './settings.js';

/** QNs are this far apart: a record split into PNUM parts numbers its parts QN+1, QN+2... (HJ 212-2017 6.3.3, C.49). */
const QN_STEP_MS = 10;

export interface StoreOptions {
  logger: Logger;
  /** Outbox cap per uplink, in bytes of stored records. */
  outboxBytes: ReadonlyMap<string, number>;
  utcOffsetMinutes: number;
}

/** What one tick derived, committed at once. */
export interface Tick {
  minutes: [number, PeriodStats][];
  /** The aggregator's resume point. */
  state: AggregatorState;
  records: DataRecord[];
  /** State kept beside the data (the facilities' open day): in the same transaction as the records it produced. */
  settings?: SettingsPatch;
}

/**
 * History, aggregator state, settings and every uplink's outbox in one SQLite file (edge/store/db.ts),
 * so a tick's records enter the history and all outboxes with the state that produced them in one
 * transaction: after `kill -9` or a power cut it is everywhere or nowhere.
 */
export class EdgeStore implements HistoryPager {
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly guard: DiskGuard;
  private readonly historyStore: HistoryStore;
  private readonly outboxes: Outboxes;
  private readonly settings: SettingsStore;
  /** Receivers match 9014 answers by QN, so QNs stay unique and increasing, even across restarts. */
  private lastQnAt = 0;

  constructor(
    dataDir: string,
    private readonly options: StoreOptions,
  ) {
    ({ db: this.db, sql: this.sql } = openStoreDb(dataDir, options.logger));
    this.historyStore = new HistoryStore(this.sql);
    this.guard = new DiskGuard(this.db, dataDir, options.logger, () => this.dropOldest());
    this.outboxes = new Outboxes(this.db, this.sql, this.guard, options.logger, options.outboxBytes);
    this.settings = new SettingsStore(this.sql, this.guard, options.logger);
    const last = this.sql.lastQn.get() as { qn: string | null };
    if (last.qn) this.lastQnAt = parseHjTime(last.qn, options.utcOffsetMinutes, 'QN').getTime();
  }

  private nextQn(now: number): string {
    this.lastQnAt = Math.max(now, this.lastQnAt + QN_STEP_MS);
    return makeQn(new Date(this.lastQnAt), this.options.utcOffsetMinutes);
  }

  close(): void {
    this.outboxes.close();
    this.db.close();
  }

  /** An uplink's outbox. */
  outbox(uplink: string): Outbox {
    return this.outboxes.get(uplink);
  }

  /**
   * Commits a tick's outcome at once: the closed minutes, the aggregator's resume point, the state
   * given in `tick.settings`, the new records in history and in the outbox of each uplink that takes
   * them. Then each outbox over its cap gives way by the retention policy.
   */
  commitTick(now: number, tick: Tick, outboxes: { uplink: string; accepts: (r: DataRecord) => boolean }[]): void {
    // Confirmed records leave first: the cap must not count them.
    this.outboxes.flush();
    const qnAt = this.lastQnAt;
    const added = this.guard.write(() => {
      // A retry after a disk-full drop numbers the same records alike.
      this.lastQnAt = qnAt;
      return this.db.transaction(() => {
        const added = new Map<string, number>();
        const bodies = tick.records.map((record) => ({ record, body: bodyOf(record) }));
        this.historyStore.write(tick.minutes, bodies, tick.state);
        if (tick.settings) this.settings.write(tick.settings);
        for (const { record, body } of bodies)
          for (const box of outboxes) {
            if (!box.accepts(record)) continue;
            const bytes = this.outboxes.get(box.uplink).enqueue(record, body, this.nextQn(now));
            added.set(box.uplink, (added.get(box.uplink) ?? 0) + bytes);
          }
        return added;
      })();
    });
    for (const [uplink, bytes] of added) this.outboxes.get(uplink).grow(bytes);
  }

  nextBatch(uplink: string, size: number, skip: ReadonlySet<number>) {
    return this.outboxes.get(uplink).nextBatch(size, skip);
  }

  confirm(uplink: string, qn: string): boolean {
    return this.outboxes.get(uplink).confirm(qn);
  }

  outboxDepth(uplink: string): { records: number; bytes: number; oldestAt?: number } {
    return this.outboxes.get(uplink).depth();
  }

  /** The settings record, each field checked (edge/store/settings.ts). */
  readSettings(): EdgeSettings {
    return this.settings.read();
  }

  /** Saves settings a command changed at once; on a disk full beyond help they hold in memory only (logged). */
  saveSettings(patch: SettingsPatch): void {
    this.settings.save(patch);
  }

  history(cn: HistoryCn, from: number, to: number): DataRecord[] {
    return this.historyStore.history(cn, from, to);
  }

  historyPage(cn: HistoryCn, from: number, to: number, after: number | undefined, limit: number): DataRecord[] {
    return this.historyStore.historyPage(cn, from, to, after, limit);
  }

  restore(hourStart: (at: number) => number, dayStart: (at: number) => number): AggregatorState | undefined {
    return this.historyStore.restore(hourStart, dayStart);
  }

  prune(before: number, now: number): void {
    this.guard.write(() => this.historyStore.prune(before, now));
  }

  diskFullStats(): DiskFullStats {
    return this.guard.stats();
  }

  /**
   * A full disk's drop: the next chunk of the oldest real-time or minute data, wherever it is (an
   * uplink's outbox or the history), chosen by the retention policy among each source's oldest row.
   */
  private dropOldest(): Dropped[] {
    const heads = [
      ...this.outboxes.all().map((box) => {
        const head = box.oldestDroppable();
        return head && { cn: head.cn, order: head.at, size: 1, spare: true, drop: () => box.dropOldest() };
      }),
      ...DROPPABLE_CNS.map((cn) => {
        const at = this.historyStore.oldest(cn);
        return at === undefined ? undefined : { cn, order: at, size: 1, drop: () => this.historyStore.dropOldest(cn) };
      }),
    ].filter((h) => h !== undefined);
    return planDrops(heads, 1, 0)[0]?.drop() ?? [];
  }
}
