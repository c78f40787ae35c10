import { closeSync, fsyncSync, openSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { WAL_LIMIT_BYTES } from './db.js';

/**
 * Ballast next to edge.db, given back when the disk is full: the DELETE that makes room and the
 * checkpoint that folds the log into the database need free space themselves. It holds a log that
 * outgrew its limit while checkpoints failed, plus the first rows dropped.
 */
const RESERVE_BYTES = WAL_LIMIT_BYTES + 512 * 1024;
/**
 * Free space a disk-full drop aims at: the reserve again, a full log, and room for new records so the next drop is not
 * the next write.
 */
const ROOM_BYTES = RESERVE_BYTES + WAL_LIMIT_BYTES + 512 * 1024;
/** Pages (4 KiB) given back per vacuum step: their moves, parents and pointer maps stay well within the reserve. */
const VACUUM_STEP_PAGES = 64;

/** A write the disk refused even after the drop: only freeing space or lowering the caps helps. */
export class DiskFullError extends Error {}

const isDiskFull = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';

/** Real-time and minute data a disk-full drop deleted, and from where. */
export interface Dropped {
  from: 'outbox' | 'history';
  cn: string;
  at: number;
}

export interface DiskFullStats {
  /** Writes that met a full disk and were retried after a drop. */
  events: number;
  /** Real-time and minute records dropped to make room, outbox and history rows alike. */
  dropped: number;
  /** Whether the reserve is in place for the next one. */
  reserve: boolean;
}

/** Writes real zeros: a sparse file would reserve nothing. */
function writeZeros(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const zeros = Buffer.alloc(64 * 1024);
    for (let done = 0; done < bytes;) done += writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - done));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Survives a full disk: every write of the store goes through `write`; on SQLITE_FULL the reserve is
 * given back, `dropOldest` (the retention policy's choice) makes room a chunk at a time, and the
 * write is tried once more; after that the error names the way out rather than repeating SQLITE_FULL.
 */
export class DiskGuard {
  private readonly reservePath: string;
  private reserved: boolean;
  private reserveWarned = false;
  /** A disk full beyond help fails every write alike: said once, until a write gets through again. */
  private futileWarned = false;
  private readonly counts = { events: 0, dropped: 0 };

  constructor(
    private readonly db: Database.Database,
    private readonly dataDir: string,
    private readonly logger: Logger,
    /** Deletes the next chunk of the oldest real-time and minute data; returns it (empty: nothing left). */
    private readonly dropOldest: () => Dropped[],
  ) {
    this.reservePath = join(dataDir, 'edge.db.reserve');
    this.reserved = statSync(this.reservePath, { throwIfNoEntry: false })?.size === RESERVE_BYTES;
    this.ensureReserve();
  }

  stats(): DiskFullStats {
    return { ...this.counts, reserve: this.reserved };
  }

  write<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      result = this.retryAfterMakingRoom(fn);
    }
    this.futileWarned = false;
    this.ensureReserve();
    return result;
  }

  private retryAfterMakingRoom<T>(fn: () => T): T {
    try {
      this.makeRoom();
      return fn();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      throw new DiskFullError(
        `disk full: no room for ${join(this.dataDir, 'edge.db')} even after dropping real-time and minute data; free ` +
          `disk space on that filesystem or lower the uplinks' outboxBytes`,
        { cause: err },
      );
    }
  }

  /**
   * Gives the reserve back, then drops the oldest real-time and minute data until there is room again. Never hour or
   * day data.
   */
  private makeRoom(): void {
    rmSync(this.reservePath, { force: true });
    this.reserved = false;
    this.reserveWarned = false;
    const dropped: Dropped[] = [];
    try {
      this.compact();
      while (this.room() < ROOM_BYTES) {
        const chunk = this.dropOldest();
        if (chunk.length === 0) break;
        dropped.push(...chunk);
        this.compact();
      }
    } finally {
      // Also when the disk refused even this: what was dropped is never silent.
      this.logDrop(dropped);
    }
  }

  private logDrop(dropped: Dropped[]): void {
    this.counts.events += 1;
    this.counts.dropped += dropped.length;
    const count = (from: Dropped['from']) => dropped.filter((d) => d.from === from).length;
    const ats = dropped.map((d) => d.at);
    const enough = this.room() >= ROOM_BYTES;
    const futile = dropped.length === 0 && !enough;
    if (futile && this.futileWarned) return;
    this.futileWarned = futile;
    this.logger.warn(
      {
        reason: 'disk-full',
        dataDir: this.dataDir,
        dropped: dropped.length,
        outbox: count('outbox'),
        history: count('history'),
        cns: [...new Set(dropped.map((d) => d.cn))],
        ...(dropped.length > 0 && { from: Math.min(...ats), to: Math.max(...ats) }),
        freeBytes: this.freeBytes(),
      },
      dropped.length > 0
        ? 'disk full: dropped the oldest real-time and minute data to make room'
        : enough
          ? 'disk full: made room without dropping data'
          : 'disk full: no real-time or minute data left to drop',
    );
  }

  /**
   * Folds the log into the database, then hands its free pages back to the filesystem a step at a
   * time: moving pages writes to the log, and each step must fit in the room the last one made. A
   * database without auto-vacuum frees nothing, which ends the loop.
   */
  private compact(): void {
    const freePages = () => this.db.pragma('freelist_count', { simple: true }) as number;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    let free = freePages();
    while (free > 0) {
      this.db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      const left = freePages();
      if (left >= free) break;
      free = left;
    }
  }

  /** Space SQLite can write to: free on the filesystem, plus free pages in a database that cannot give them back. */
  private room(): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return this.freeBytes() + free * (this.db.pragma('page_size', { simple: true }) as number);
  }

  private freeBytes(): number {
    const fs = statfsSync(this.dataDir);
    return fs.bavail * fs.bsize;
  }

  /**
   * Puts the reserve (back) in place if it is missing; without room for it, says so once and tries again after later
   * writes.
   */
  private ensureReserve(): void {
    if (this.reserved) return;
    const failure = this.placeReserve();
    if (failure !== undefined && !this.reserveWarned) {
      this.logger.warn(
        { reason: 'disk-full', dataDir: this.dataDir, reserveBytes: RESERVE_BYTES, cause: failure },
        'no room for the disk-full reserve; trying again after later writes',
      );
    }
    this.reserveWarned = failure !== undefined;
  }

  /** Returns why the reserve could not be placed, if it could not. */
  private placeReserve(): string | undefined {
    const partial = `${this.reservePath}.partial`;
    // Left by a crash, it would hold space the check below counts as taken.
    rmSync(partial, { force: true });
    // A reserve that leaves no room for the log would only trade the next write for a drop.
    const needed = RESERVE_BYTES + WAL_LIMIT_BYTES;
    const free = this.freeBytes();
    if (free < needed) return `${free} bytes free, ${needed} needed`;
    try {
      writeZeros(partial, RESERVE_BYTES);
      renameSync(partial, this.reservePath);
      this.reserved = true;
      return undefined;
    } catch (err) {
      rmSync(partial, { force: true });
      return (err as Error).message;
    }
  }
}
