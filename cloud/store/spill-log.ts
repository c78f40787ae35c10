import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** Where a segment's bytes are: its number and its open file (appended to, read by position). */
interface Segment {
  seq: number;
  fd: number;
  /** Bytes written (all of them whole lines). */
  size: number;
  /** Bytes known to be on disk: what a 9014 may confirm and what the flusher may send. */
  durable: number;
}

/** A range of durable, unsent bytes in one segment. */
export interface LogRange {
  seq: number;
  offset: number;
  end: number;
}

const SEGMENT = /^(\d{10})\.lp$/;
const segmentName = (seq: number): string => `${String(seq).padStart(10, '0')}.lp`;
/** The sent position, fixed width so that rewriting it in place never leaves it empty or half old, half new. */
const markerText = (seq: number, offset: number): string =>
  `${String(seq).padStart(10, '0')} ${String(offset).padStart(15, '0')}\n`;
const MARKER = 'sent';
/** A segment grows to about this size before writes go to the next; a sent segment is deleted whole. */
export const SEGMENT_BYTES = 8 << 20;

/**
 * The spill: an append-only log of line protocol in numbered segment files under one directory,
 * written once per group commit and fsynced before the writes it holds are confirmed, then sent to
 * InfluxDB as byte ranges and deleted a segment at a time once InfluxDB has acknowledged all of it.
 * The position sent so far is kept in a small file (`sent`), rewritten without an fsync: losing it
 * to a crash only sends again what InfluxDB has, and InfluxDB keeps one point per series and time.
 */
export class SpillLog {
  private readonly segments: Segment[] = [];
  /** The sent position: the first segment's bytes before it are in InfluxDB. */
  private sentOffset = 0;
  private readonly markerFd: number;
  private readonly dirFd: number;
  /** A new segment's directory entry waits for the next sync. */
  private dirDirty = false;

  /**
   * Opens (or creates) the log in `dir`. Segments wholly before the sent position are deleted; a torn
   * last line (a write a crash cut short, never confirmed) is cut off; writes go to a new segment.
   */
  constructor(
    readonly dir: string,
    private readonly opts: {
      segmentBytes?: number;
      /** A segment wholly sent was deleted: whatever points into it is gone. */
      onDrop?: (seq: number) => void;
    } = {},
  ) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      syncDir(dirname(dir));
    }
    this.dirFd = openSync(dir, 'r');
    const { seq: sentSeq, offset } = readMarker(dir);
    for (const seq of segmentSeqs(dir)) {
      if (seq < sentSeq) {
        unlinkSync(join(dir, segmentName(seq)));
        continue;
      }
      const fd = openSync(join(dir, segmentName(seq)), 'a+');
      const size = wholeLines(fd);
      fdatasyncSync(fd);
      this.segments.push({ seq, fd, size, durable: size });
    }
    const first = this.segments[0];
    if (first !== undefined && first.seq === sentSeq && offset <= first.size) this.sentOffset = offset;
    // Not O_APPEND: the marker is rewritten in place.
    this.markerFd = openSync(join(dir, MARKER), existsSync(join(dir, MARKER)) ? 'r+' : 'w+');
    this.open((this.segments.at(-1)?.seq ?? sentSeq) + 1);
    fsyncSync(this.dirFd);
    this.dirDirty = false;
    this.writeMarker();
  }

  /** Appends whole lines (ending in a newline) to the current segment; where they start. Not yet durable. */
  append(text: string): { seq: number; offset: number } {
    let seg = this.active;
    if (seg.size >= (this.opts.segmentBytes ?? SEGMENT_BYTES)) seg = this.open(seg.seq + 1);
    const offset = seg.size;
    try {
      const n = writeSync(seg.fd, text);
      if (n !== Buffer.byteLength(text)) throw new Error(`short write to the spill log (${n} bytes)`);
    } catch (e) {
      // Nothing of a failed write may stay: cut it off, or if that fails too, write on in a new segment
      // (only bytes counted in `size` are ever read, sent or replayed in this run).
      try {
        ftruncateSync(seg.fd, offset);
      } catch {
        this.open(seg.seq + 1);
      }
      throw e;
    }
    seg.size += Buffer.byteLength(text);
    return { seq: seg.seq, offset };
  }

  /**
   * Everything appended on disk now. Blocking, on the event loop, as the SQLite store's COMMIT is: the
   * packets that arrive meanwhile make the next group. (An fsync on libuv's pool measured worse on this
   * shared 2-core machine: each hand-over to and from a pool thread waits for a core, and the 9014s and
   * the flusher's reads waited with it.)
   */
  syncNow(): void {
    for (const seg of this.segments)
      if (seg.durable < seg.size) {
        fdatasyncSync(seg.fd);
        seg.durable = seg.size;
      }
    if (this.dirDirty) fsyncSync(this.dirFd);
    this.dirDirty = false;
  }

  /** The first durable bytes not yet sent, if any; segments wholly sent are deleted on the way. */
  next(): LogRange | undefined {
    for (;;) {
      const seg = this.segments[0]!;
      if (this.sentOffset < seg.durable) return { seq: seg.seq, offset: this.sentOffset, end: seg.durable };
      if (seg === this.active || seg.durable < seg.size) return undefined;
      this.drop();
    }
  }

  /**
   * Reads `length` bytes of segment `seq` from `offset`: a batch to send (just written: from the page
   * cache), or the lines a query must see, read before it asks InfluxDB.
   */
  readNow(seq: number, offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    return buf.subarray(0, readSync(this.segment(seq).fd, buf, 0, length, offset));
  }

  /**
   * InfluxDB has segment `seq` up to `end` (the flusher sends in order, one batch at a time). A wholly
   * sent segment other than the current one is deleted.
   */
  sent(seq: number, end: number): void {
    if (this.segments[0]?.seq !== seq) throw new Error(`spill log: segment ${seq} is not the first unsent one`);
    this.sentOffset = end;
    while (this.segments.length > 1 && this.sentOffset === this.segments[0]!.size) this.drop();
    this.writeMarker();
  }

  /** The unsent lines left by an earlier run, segment by segment (to count them and index them). */
  *unsent(): Generator<{ seq: number; offset: number; bytes: Buffer }> {
    for (const [i, seg] of this.segments.entries()) {
      const offset = i === 0 ? this.sentOffset : 0;
      if (seg.size > offset) yield { seq: seg.seq, offset, bytes: this.readNow(seg.seq, offset, seg.size - offset) };
    }
  }

  close(): void {
    for (const seg of this.segments) closeSync(seg.fd);
    this.segments.length = 0;
    closeSync(this.markerFd);
    closeSync(this.dirFd);
  }

  private get active(): Segment {
    return this.segments.at(-1)!;
  }

  private segment(seq: number): Segment {
    const seg = this.segments.find((s) => s.seq === seq);
    if (seg === undefined) throw new Error(`spill log: no segment ${seq}`);
    return seg;
  }

  /** Starts segment `seq` for the writes from now on; its directory entry is made durable by the next sync. */
  private open(seq: number): Segment {
    const seg = { seq, fd: openSync(join(this.dir, segmentName(seq)), 'a+'), size: 0, durable: 0 };
    this.segments.push(seg);
    this.dirDirty = true;
    return seg;
  }

  /** Deletes the first segment (wholly sent); the sent position moves to the start of the next. */
  private drop(): void {
    const seg = this.segments.shift()!;
    closeSync(seg.fd);
    unlinkSync(join(this.dir, segmentName(seg.seq)));
    this.sentOffset = 0;
    this.opts.onDrop?.(seg.seq);
  }

  private writeMarker(): void {
    writeSync(this.markerFd, markerText(this.segments[0]!.seq, this.sentOffset), 0);
  }
}

/** Points a spill log holds and has not sent (read from its files, the ingest alive or not). */
export function unsentLines(dir: string): number {
  const { seq: sentSeq, offset } = readMarker(dir);
  let lines = 0;
  for (const seq of segmentSeqs(dir)) {
    if (seq < sentSeq) continue;
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, segmentName(seq)));
    } catch {
      continue; // deleted while the directory was read: it was sent
    }
    lines += countLines(bytes, seq === sentSeq ? offset : 0);
  }
  return lines;
}

/** The newlines in `bytes` from `from`: one a point. */
export function countLines(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let n = 0;
  for (let i = bytes.indexOf(10, from); i !== -1 && i < to; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** The bytes of the first `max` whole lines of `bytes` (all of its whole lines if fewer), and how many. */
export function firstLines(bytes: Uint8Array, max: number): { bytes: number; lines: number } {
  let end = 0;
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1 && lines < max; i = bytes.indexOf(10, i + 1)) {
    end = i + 1;
    lines++;
  }
  return { bytes: end, lines };
}

function segmentSeqs(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT.exec(f)?.[1])
    .filter((s) => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The sent position; none (everything unsent) if the file is missing or unreadable. */
function readMarker(dir: string): { seq: number; offset: number } {
  try {
    const m = /^(\d{10}) (\d{15})\n/.exec(readFileSync(join(dir, MARKER), 'latin1'));
    if (m) return { seq: Number(m[1]), offset: Number(m[2]) };
  } catch {
    // no marker yet
  }
  return { seq: 0, offset: 0 };
}

/** Cuts a segment back to its last newline (a torn last line was never confirmed); its size then. */
function wholeLines(fd: number): number {
  const size = fstatSync(fd).size;
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - chunk.length);
    const n = readSync(fd, chunk, 0, end - start, start);
    const nl = chunk.subarray(0, n).lastIndexOf(10);
    if (nl !== -1) {
      if (start + nl + 1 < size) ftruncateSync(fd, start + nl + 1);
      return start + nl + 1;
    }
    end = start;
  }
  if (size > 0) ftruncateSync(fd, 0);
  return 0;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
