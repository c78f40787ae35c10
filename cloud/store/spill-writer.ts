import type { LineRun } from './line-protocol.js';
import type { SpillIndex } from './spill-index.js';
import type { SpillLog } from './spill-log.js';

interface Waiting {
  runs: readonly LineRun[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit into the spill log: the writes of one event-loop turn are appended in one write and
 * fsynced once (the 9014 a logger is waiting for is sent only after it, as the logger
 * deletes what we confirm). If the append fails (a full disk), each write is tried alone, so one that
 * fits is not failed by its neighbours. A run is indexed as soon as it is in the file, for queries.
 */
export class SpillWriter {
  private waiting: Waiting[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly log: SpillLog,
    private readonly index: SpillIndex,
    /** Points appended (they count as pending from then on). */
    private readonly appended: (points: number) => void,
  ) {}

  /** Resolves once `runs` are on disk. */
  add(runs: readonly LineRun[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ runs, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Appends what waits now, and fsyncs it. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    const done: Waiting[] = [];
    try {
      this.append(batch);
      done.push(...batch);
    } catch {
      for (const w of batch)
        try {
          this.append([w]);
          done.push(w);
        } catch (e) {
          w.reject(e);
        }
    }
    if (done.length === 0) return;
    try {
      this.log.syncNow();
      for (const w of done) w.resolve();
    } catch (e) {
      for (const w of done) w.reject(e);
    }
  }

  private append(batch: readonly Waiting[]): void {
    let text = '';
    for (const w of batch) for (const r of w.runs) text += r.text;
    const at = this.log.append(text);
    let offset = at.offset;
    let points = 0;
    for (const w of batch)
      for (const r of w.runs) {
        const length = Buffer.byteLength(r.text);
        this.index.add(at.seq, r.mn, r.kind, r.time, offset, length);
        offset += length;
        points += r.n;
      }
    this.appended(points);
  }
}
