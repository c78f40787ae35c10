import { GroupCommit } from './group-commit.js';
import type { LineRun } from './line-protocol.js';
import type { SpillIndex } from './spill-index.js';
import type { SpillLog } from './spill-log.js';

/**
 * Group commit into the spill log (GroupCommit): the writes of one event-loop turn are appended in one
 * write and fsynced once (the 9014 a logger is waiting for is sent only after it, as the logger
 * deletes what we confirm). If the append fails (a full disk), each write is tried alone, so one that
 * fits is not failed by its neighbours. A run is indexed as soon as it is in the file, for queries.
 */
export class SpillWriter {
  private readonly group: GroupCommit<LineRun>;

  constructor(
    private readonly log: SpillLog,
    private readonly index: SpillIndex,
    /** Points appended (they count as pending from then on). */
    private readonly appended: (points: number) => void,
  ) {
    this.group = new GroupCommit(
      (groups) => this.append(groups),
      () => this.log.syncNow(),
    );
  }

  /** Resolves once `runs` are on disk. */
  add(runs: readonly LineRun[]): Promise<void> {
    return this.group.add(runs);
  }

  /** Appends what waits now, and fsyncs it. */
  flush(): void {
    this.group.flush();
  }

  private append(groups: readonly (readonly LineRun[])[]): void {
    let text = '';
    for (const runs of groups) for (const r of runs) text += r.text;
    const at = this.log.append(text);
    let offset = at.offset;
    let points = 0;
    for (const runs of groups)
      for (const r of runs) {
        const length = Buffer.byteLength(r.text);
        this.index.add(at.seq, r.mn, r.kind, r.time, offset, length);
        offset += length;
        points += r.n;
      }
    this.appended(points);
  }
}
