import { Transform } from 'node:stream';
import { Hj212Error } from './errors.js';
import { checkFrame, locateFrame, maxSegmentOf } from './frame.js';
import type { CodecOptions, DecodeResult } from './types.js';

const HASH = 0x23;
/** Nothing held: one empty buffer for every decoder (never written into), not one per connection's read. */
const EMPTY = Buffer.alloc(0);

export interface StreamStats {
  frames: number;
  rejected: number;
  bytes: number;
  /** Rejections by error code. */
  reasons: Record<string, number>;
}

function isBlank(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = b[k];
    if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x00 && c !== 0x09) return false;
  }
  return true;
}

/**
 * Turns a byte stream (TCP, serial) into decode results. Read boundaries mean nothing: a frame may
 * span reads, several may share one, bytes may be lost. Every `##` is a place to resynchronise, each
 * rejected frame or run of garbage is reported with its reason and stream offset, and the buffer is
 * bounded by the largest acceptable frame.
 */
export class StreamDecoder {
  private buf: Buffer = EMPTY;
  private base = 0;
  readonly stats: StreamStats = { frames: 0, rejected: 0, bytes: 0, reasons: {} };

  constructor(private readonly opts: CodecOptions = {}) {}

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): DecodeResult[] {
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.stats.bytes += c.length;
    this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    return this.drain(false);
  }

  /** No more bytes will come: whatever is held is decoded now or reported as truncated. */
  end(): DecodeResult[] {
    return this.drain(true);
  }

  private reject(results: DecodeResult[], error: Hj212Error, from: number, to: number): void {
    const limit = Math.min(to, from + maxSegmentOf(this.opts) + 16);
    results.push({
      ok: false,
      error: error.toJSON(),
      raw: this.buf.toString('utf8', from, limit),
      offset: this.base + from,
    });
    this.count(error.code);
  }

  private count(code: string): void {
    this.stats.rejected++;
    this.stats.reasons[code] = (this.stats.reasons[code] ?? 0) + 1;
  }

  private garbage(results: DecodeResult[], from: number, to: number): void {
    if (to <= from || isBlank(this.buf, from, to)) return;
    this.reject(
      results,
      new Hj212Error('garbage', `${to - from} bytes outside any frame (no ## before them)`, { offset: 0 }),
      from,
      to,
    );
  }

  private drain(final: boolean): DecodeResult[] {
    const results: DecodeResult[] = [];
    const b = this.buf;
    let pos = 0;
    // Bytes up to here belong to a frame already reported as rejected: not garbage a second time.
    let claimed = 0;
    for (;;) {
      const hdr = b.indexOf('##', pos);
      if (hdr < 0) {
        // A lone trailing '#' may be the first half of the next header.
        const keep = !final && b.length > pos && b[b.length - 1] === HASH ? b.length - 1 : b.length;
        this.garbage(results, Math.max(pos, claimed), keep);
        pos = keep;
        break;
      }
      this.garbage(results, Math.max(pos, claimed), hdr);
      const loc = locateFrame(b, hdr, b.length, this.opts, final);
      if (loc.kind === 'need') {
        pos = hdr;
        break;
      }
      if (loc.kind === 'error') {
        // Resume just past this "##": a real frame may start inside what was taken for this one.
        const next = b.indexOf('##', loc.resume);
        claimed = next < 0 ? b.length : next;
        this.reject(results, loc.error, hdr, claimed);
        pos = loc.resume;
        continue;
      }
      const result = checkFrame(b, hdr, loc, this.opts);
      result.offset = this.base + hdr;
      results.push(result);
      if (result.ok) {
        this.stats.frames++;
        pos = loc.end;
        continue;
      }
      this.count(result.error.code);
      const inner = b.indexOf('##', hdr + 2);
      pos = inner >= 0 && inner < loc.end ? inner : loc.end;
    }
    // Copy the remainder so one pending frame does not pin a large read buffer.
    this.buf = pos >= b.length ? EMPTY : Buffer.from(b.subarray(pos));
    this.base += pos;
    return results;
  }
}

/** A Transform from bytes to DecodeResult objects, for piping a socket or serial port. */
export function createDecodeStream(opts: CodecOptions = {}): Transform & { decoder: StreamDecoder } {
  const decoder = new StreamDecoder(opts);
  const stream = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, done) {
      for (const r of decoder.push(chunk)) this.push(r);
      done();
    },
    flush(done) {
      for (const r of decoder.end()) this.push(r);
      done();
    },
  });
  return Object.assign(stream, { decoder });
}
