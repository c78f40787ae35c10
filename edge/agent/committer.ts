import type { Logger } from 'pino';
import type { DataRecord } from '../aggregator.js';
import type { EdgeStore } from '../store/index.js';
import { trimUnsaved, type Unsaved } from '../unsaved.js';
import type { AgentClock } from './clock.js';
import type { RecordPipeline } from './pipeline.js';

const DAY_MS = 86_400_000;
/** Pruning history more than once an hour would only cost writes: retention is counted in days. */
const PRUNE_EVERY_MS = DAY_MS / 24;
/** A tick a second against a full disk would bury everything else in the log: once a minute. */
const STORE_ERROR_LOG_MS = 60_000;

/** What the committer needs of the outputs: who takes which record, and a wake-up once they are in. */
export interface CommitTargets {
  targets(): { uplink: string; accepts: (r: DataRecord) => boolean }[];
  notify(): void;
}

export interface CommitterOptions {
  store: EdgeStore;
  pipeline: RecordPipeline;
  outputs: CommitTargets;
  clock: AgentClock;
  logger: Logger;
  historyDays: number;
}

/**
 * The third stage: each tick takes what the pipeline produced and commits closed minutes, records and
 * the state behind them to history and every outbox in one transaction (EdgeStore.commitTick), prunes
 * old history and wakes the uplinks. It owns the disk-full fallback: what the store refuses waits in
 * memory, bounded (edge/unsaved.ts), and is retried on the next tick.
 */
export class Committer {
  private readonly unsaved: Unsaved = { minutes: [], records: [] };
  private droppedInMemory = 0;
  /** When the last store error was logged (elapsed ms); unset once a commit went through. */
  private lastStoreError: number | undefined;
  private lastPrune = 0;

  constructor(private readonly options: CommitterOptions) {}

  /** One tick; never throws, whatever the disk does. */
  tick(): void {
    try {
      this.commit();
    } catch (err) {
      this.refused(err as Error);
    }
  }

  /** Records dropped from memory so far, and records waiting in memory for the store. */
  stats(): { droppedInMemory: number; unsavedRecords: number } {
    return { droppedInMemory: this.droppedInMemory, unsavedRecords: this.unsaved.records.length };
  }

  private commit(): void {
    const { store, pipeline, outputs, clock } = this.options;
    const at = clock.now();
    const produced = pipeline.tick(at);
    this.unsaved.minutes.push(...produced.minutes);
    this.unsaved.records.push(...produced.records);
    if (this.unsaved.minutes.length === 0 && this.unsaved.records.length === 0) return;
    store.commitTick(
      at,
      { ...produced, minutes: this.unsaved.minutes, records: this.unsaved.records },
      outputs.targets(),
    );
    this.unsaved.minutes = [];
    this.unsaved.records = [];
    this.lastStoreError = undefined;
    if (at - this.lastPrune > PRUNE_EVERY_MS) {
      store.prune(at - this.options.historyDays * DAY_MS, at);
      this.lastPrune = at;
    }
    outputs.notify();
  }

  private refused(err: Error): void {
    const { logger, clock } = this.options;
    const dropped = trimUnsaved(this.unsaved);
    if (dropped.length > 0) {
      this.droppedInMemory += dropped.length;
      logger.warn(
        {
          reason: 'store-refuses',
          dropped: dropped.length,
          cns: [...new Set(dropped.map((r) => r.cn))],
          from: dropped[0]!.at,
          to: dropped.at(-1)!.at,
        },
        'records held in memory reached their bound: dropped the oldest real-time and minute data',
      );
    }
    const now = clock.elapsed();
    if (this.lastStoreError === undefined || now - this.lastStoreError >= STORE_ERROR_LOG_MS) {
      this.lastStoreError = now;
      logger.error(
        { reason: err.message, unsaved: this.unsaved.records.length },
        'cannot store records; retrying every tick',
      );
    }
  }
}
