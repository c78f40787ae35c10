/** Where a run of lines of one station and kind at one time lies in the spill log. */
export interface SpilledRun {
  seq: number;
  offset: number;
  length: number;
}

/**
 * The points in the spill log, found by station, kind and time without reading the log: for each
 * segment, per `mn` and kind, a flat array of (time, offset, length) per run of lines (an upload's
 * factors). Numbers only, three per upload, so an outage's million points cost a few MB here; the
 * lines themselves are read back from the log when a query needs them. A segment's entries go with it.
 */
export class SpillIndex {
  private readonly segments = new Map<number, Map<string, number[]>>();

  add(seq: number, mn: string, kind: string, time: number, offset: number, length: number): void {
    let keys = this.segments.get(seq);
    if (keys === undefined) this.segments.set(seq, (keys = new Map()));
    const key = `${kind} ${mn}`;
    const runs = keys.get(key);
    if (runs === undefined) keys.set(key, [time, offset, length]);
    else runs.push(time, offset, length);
  }

  /** Segment `seq` was sent and deleted. */
  drop(seq: number): void {
    this.segments.delete(seq);
  }

  /** The runs of `mn` and `kind` with a time in [from, to), in the order they were written. */
  find(mn: string, kind: string, from: number, to: number): SpilledRun[] {
    const key = `${kind} ${mn}`;
    const found: SpilledRun[] = [];
    for (const [seq, keys] of [...this.segments].sort((a, b) => a[0] - b[0])) {
      const runs = keys.get(key);
      if (runs === undefined) continue;
      for (let i = 0; i < runs.length; i += 3)
        if (runs[i]! >= from && runs[i]! < to) found.push({ seq, offset: runs[i + 1]!, length: runs[i + 2]! });
    }
    return found;
  }
}
