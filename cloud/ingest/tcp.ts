import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { qnRtnAnswer, QnRtn, type CodecOptions, type DecodeResult, type Packet } from '../../protocol/index.js';
import { readFrames, writePacket, type FrameReader } from '../../protocol/link.js';
import type { StreamDecoder } from '../../protocol/stream.js';
import { TokenBucket } from '../rate.js';
import { headerOf } from './header.js';
import type { Ingest } from './ingest.js';

export const TcpOptionsSchema = z.strictObject({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(9212),
  /** Largest data segment accepted, bytes (1024 is the 2017 cap; vendors send more). */
  maxSegment: z.number().int().min(64).max(9999).default(4096),
  /** Sustained frames per second per connection, and the burst above it. */
  rate: z.number().positive().default(50),
  burst: z.number().int().min(1).default(200),
  idleTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(10 * 60_000),
  maxConnectionsPerAddress: z.number().int().min(1).default(64),
  /** A frame begun must be complete within this (a sender trickling a byte now and then is cut off). */
  frameDeadlineMs: z.number().int().min(100).default(60_000),
});
export type TcpOptions = z.output<typeof TcpOptionsSchema>;

const HIGH_WATER = 256;

/** Per-station SM4 keys (HJ 212-2025), looked up in the registry in force. */
export type Keys = Pick<CodecOptions, 'sm4Key' | 'sm4DecodeKeys' | 'clearCp'>;

/**
 * Raw HJ 212 over TCP for the installed base of data loggers. Frames of a connection are handled one
 * at a time, in order, so answers go out in the order uploads came in; a connection over its rate is
 * paused (TCP pushes back on the logger) rather than having its data dropped.
 */
export class TcpListener {
  private server: Server | undefined;
  private readonly perAddress = new Map<string, number>();
  private readonly conns = new Set<Conn>();
  private sweep: NodeJS.Timeout | undefined;
  /** The latest connection each MN was seen on, for requests back to the logger. */
  private readonly byMn = new Map<string, Socket>();
  private closing = false;
  private decodeOptions: CodecOptions = {};

  constructor(
    private readonly opts: TcpOptions,
    private readonly ingest: Ingest,
    private readonly log: Logger,
    private readonly codec: Keys = {},
    /** Monotonic ms, for the rate limits. */
    private readonly mono: () => number = () => performance.now(),
  ) {}

  /** Open logger connections. */
  get connections(): number {
    return this.conns.size;
  }

  async listen(): Promise<AddressInfo> {
    this.decodeOptions = { ...this.codec, mode: 'lenient', maxSegment: this.opts.maxSegment };
    const server = createServer((s) => this.connection(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  /** Sends a packet to the logger with this MN, if it is connected. */
  send(mn: string, packet: Packet): boolean {
    const s = this.byMn.get(mn);
    if (!s || s.destroyed) return false;
    return writePacket(s, packet, this.codec) !== undefined;
  }

  async close(): Promise<void> {
    // Work loops stop at their next frame: the store is about to close, unanswered frames are sent again.
    this.closing = true;
    this.stopSweeping();
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private connection(socket: Socket): void {
    const addr = socket.remoteAddress ?? 'unknown';
    if (this.ingest.addressLocked(addr)) {
      this.ingest.reject('locked-out', { addr, via: 'tcp' });
      socket.destroy();
      return;
    }
    const count = (this.perAddress.get(addr) ?? 0) + 1;
    if (count > this.opts.maxConnectionsPerAddress) {
      this.ingest.reject('too-many-connections', { addr, limit: this.opts.maxConnectionsPerAddress, via: 'tcp' });
      socket.destroy();
      return;
    }
    this.perAddress.set(addr, count);
    const conn = new Conn(this, socket, addr, new TokenBucket(this.opts.rate, this.opts.burst, this.mono));
    this.conns.add(conn);
    this.sweeping();
    // Registered before the clean-up below, so a truncated frame held at hang-up is queued first.
    conn.decoder = readFrames(socket, this.decodeOptions, conn);
    socket.on('error', (e) => this.log.debug({ addr, reason: e.message }, 'socket error'));
    socket.on('close', () => this.closed(conn));
  }

  private closed(conn: Conn): void {
    conn.deadlineAt = 0;
    this.conns.delete(conn);
    const addr = conn.addr;
    const left = (this.perAddress.get(addr) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, left);
    for (const mn of conn.mns) if (this.byMn.get(mn) === conn.socket) this.byMn.delete(mn);
    if (this.conns.size === 0) this.stopSweeping();
  }

  /**
   * One timer for every connection instead of two per socket: it closes the connections idle for `idleTimeoutMs`
   * (nothing read from them) and those whose frame begun is not complete by its deadline. It runs every tenth of
   * the shorter of the two (within 10 ms-1 s) while connections are open, so each fires at most that late.
   */
  private sweeping(): void {
    if (this.sweep !== undefined) return;
    const every = Math.max(10, Math.min(1000, Math.min(this.opts.idleTimeoutMs, this.opts.frameDeadlineMs) / 10));
    this.sweep = setInterval(() => this.sweepNow(), every).unref();
  }

  private stopSweeping(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
  }

  private sweepNow(): void {
    const now = performance.now();
    const idleBefore = now - this.opts.idleTimeoutMs;
    for (const c of this.conns) {
      if (c.socket.destroyed) continue;
      if (c.deadlineAt !== 0 && c.deadlineAt <= now) {
        const ctx = {
          addr: c.addr,
          pendingBytes: c.decoder?.pending,
          deadlineMs: this.opts.frameDeadlineMs,
          via: 'tcp',
        };
        this.ingest.reject('frame-deadline', ctx);
        c.socket.destroy();
      } else if (c.seen <= idleBefore && !c.working) {
        this.log.info(
          { addr: c.addr, reason: 'idle-timeout', idleMs: this.opts.idleTimeoutMs },
          'closing idle connection',
        );
        c.socket.destroy();
      }
    }
  }

  /** Frames of a connection are handled one at a time, in order. */
  async work(c: Conn): Promise<void> {
    c.working = true;
    const { socket, queue } = c;
    // Frames already received are handled even if the logger has hung up: their data is kept.
    while (queue.length > 0 && !this.closing) {
      const wait = c.bucket.take();
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      const r = queue.shift()!;
      try {
        if ((await this.handle(r, c)) === 'locked-out') {
          // The connection was closed for guessing: what it still queued is refused unchecked, so a lockout that
          // runs out while a long queue drains does not start checking the guesser's passwords again.
          for (const rest of queue.splice(0))
            this.ingest.reject('locked-out', {
              addr: c.addr,
              mn: rest.ok ? rest.frame.packet.mn : undefined,
              via: 'tcp',
            });
          break;
        }
      } catch (e) {
        // A fault of ours (rules, state database) must not take the connection or the process down.
        this.ingest.reject('internal-error', { addr: c.addr, via: 'tcp', detail: (e as Error).message });
      }
      // A logger that does not read its answers must not make us hold them without bound: stop reading it until they
      // drain.
      if (socket.writableNeedDrain && !socket.destroyed) {
        socket.pause();
        await new Promise<void>((resolve) => {
          const done = (): void => (socket.off('drain', done), socket.off('close', done), resolve());
          socket.on('drain', done).on('close', done);
        });
      }
      if (queue.length < HIGH_WATER / 2 && socket.isPaused()) socket.resume();
    }
    c.seen = performance.now();
    c.working = false;
  }

  /** What a connection's reads decoded (FrameReader.results through its Conn). */
  received(c: Conn, results: DecodeResult[]): void {
    c.seen = performance.now();
    const decoder = c.decoder!;
    if (results.length > 0 || decoder.pending === 0) c.deadlineAt = 0;
    if (decoder.pending > 0 && c.deadlineAt === 0) c.deadlineAt = c.seen + this.opts.frameDeadlineMs;
    for (const r of results) c.queue.push(r);
    if (c.queue.length >= HIGH_WATER) c.socket.pause();
    if (!c.working) void this.work(c);
  }

  failed(c: Conn, e: Error): void {
    this.ingest.reject('decoder-failed', { addr: c.addr, via: 'tcp', detail: e.message });
  }

  /** Handles one frame; 'locked-out' when it closed the connection of a locked-out login. */
  private async handle(r: DecodeResult, c: Conn): Promise<'locked-out' | undefined> {
    const { socket, addr } = c;
    if (!r.ok) {
      const header = headerOf(r.raw);
      this.ingest.reject(r.error.code, {
        addr,
        mn: header.mn,
        qn: header.qn,
        detail: r.error.message,
        offset: r.offset,
        via: 'tcp',
      });
      // Table 7 has an answer for a bad CRC only; other damage is not addressed to anyone we can name.
      if (r.error.code === 'bad-crc' && header.mn !== undefined) writePacket(socket, qnRtnAnswer(header, QnRtn.BadCrc));
      return undefined;
    }
    const packet = r.frame.packet;
    const v = await this.ingest.accept(packet, 'tcp', addr);
    // The registry's MN string, not the packet's: that one is a slice of the frame's text and would keep it alive.
    if (v.ok && this.byMn.get(v.station.mn) !== socket) {
      const mn = v.station.mn;
      this.byMn.set(mn, socket);
      if (!c.mns.includes(mn)) c.mns.push(mn);
    }
    if (v.answer) writePacket(socket, v.answer, this.codec);
    if (v.ok) for (const next of v.then ?? []) writePacket(socket, next, this.codec);
    // A guesser locked out gets its answer, then the connection is closed (what it queued is refused unanswered).
    if (!v.ok && v.reason === 'locked-out' && socket.writable) {
      this.log.warn({ addr, mn: packet.mn, reason: 'locked-out' }, 'closing the connection of a locked-out login');
      socket.end();
      return 'locked-out';
    }
    return undefined;
  }
}

/**
 * One logger connection: what it queued, its rate, and what the listener's sweep reads (last read, frame deadline).
 * Its reads come to the listener through it (it is the connection's FrameReader): no closures per connection.
 */
class Conn implements FrameReader {
  readonly queue: DecodeResult[] = [];
  working = false;
  /** performance.now() of the last read or the end of the last frame handled. */
  seen = performance.now();
  /** When the frame begun must be complete (performance.now() ms), 0: none begun. */
  deadlineAt = 0;
  decoder: StreamDecoder | undefined;
  /** The MNs this connection was the latest of (usually one). */
  readonly mns: string[] = [];

  constructor(
    private readonly listener: TcpListener,
    readonly socket: Socket,
    readonly addr: string,
    readonly bucket: TokenBucket,
  ) {}

  results(results: DecodeResult[]): void {
    this.listener.received(this, results);
  }

  failed(e: Error): void {
    this.listener.failed(this, e);
  }
}
