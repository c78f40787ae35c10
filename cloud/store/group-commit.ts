interface Pending<T> {
  items: readonly T[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: the writes of one event-loop turn go to disk in one transaction, so the fsync a
 * 9014 must wait for (the logger deletes what we confirm) is paid once per turn rather than once per
 * upload. If the group fails, each write is tried alone, so one bad write cannot fail its neighbours.
 */
export class GroupCommit<T> {
  private pending: Pending<T>[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /**
   * `commit` writes every group in one transaction (and throws if it did not). Where writing and
   * making durable are two steps (an append, then an fsync), `sync` is the second: run once after the
   * commits of a turn, the fallback's included; the writes resolve only once it has returned, and are
   * all rejected if it throws.
   */
  constructor(
    private readonly commit: (groups: readonly (readonly T[])[]) => void,
    private readonly sync?: () => void,
  ) {}

  /** Resolves once `items` are committed. */
  add(items: readonly T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what waits now (before the database closes). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let done: Pending<T>[] = [];
    try {
      this.commit(batch.map((p) => p.items));
      done = batch;
    } catch {
      for (const p of batch) {
        try {
          this.commit([p.items]);
          done.push(p);
        } catch (e) {
          p.reject(e);
        }
      }
    }
    if (done.length === 0) return;
    try {
      this.sync?.();
      for (const p of done) p.resolve();
    } catch (e) {
      for (const p of done) p.reject(e);
    }
  }
}
