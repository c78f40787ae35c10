import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { readFrames } from '../protocol/link.js';
import type { UplinkConfig } from './config.js';
import { UplinkBase, backoffMs } from './link.js';
import type { UplinkDeps } from './link.js';

type TcpUplinkConfig = Extract<UplinkConfig, { kind: 'hj212-tcp' }>;

/**
 * Bytes the platform may leave unread before the link is dropped. History answers wait for the socket
 * to drain, so only a peer that sends requests and never reads its answers gets here; without a bound
 * its answers would pile up in memory.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/**
 * An HJ 212 connection to a platform: the data logger dials out, keeps the link up with
 * reconnects, sends its outbox and answers the platform's commands on the same socket.
 */
export class TcpUplink extends UplinkBase {
  private socket: Socket | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly tcp: TcpUplinkConfig,
    deps: UplinkDeps,
  ) {
    super(tcp, deps);
  }

  start(): void {
    this.stopped = false;
    this.dial();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.sender.halt();
    const socket = this.socket;
    this.socket = undefined;
    this.setState('stopped');
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        // A peer that never closes its side must not hold the agent's shutdown.
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
  }

  protected write(frame: string): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    if (socket.writableLength > MAX_UNREAD_BYTES) {
      this.refuse(
        'peer-not-reading',
        { unreadBytes: socket.writableLength },
        'the platform reads nothing; reconnecting',
      );
      socket.destroy();
      return;
    }
    socket.write(frame);
  }

  /** The records of one refill go out in one write (a writev), not one system call a record. */
  protected override batch(send: () => void): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return send();
    socket.cork();
    try {
      send();
    } finally {
      socket.uncork();
    }
  }

  protected flush(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** The platform stopped answering: start over with a fresh connection. */
  protected reconnect(): void {
    this.socket?.destroy();
  }

  private dial(): void {
    if (this.stopped) return;
    this.setState('connecting');
    const socket = connect({ host: this.tcp.host, port: this.tcp.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.once('connect', () => {
      this.attempt = 0;
      this.setState('connected');
      this.logger.info({ host: this.tcp.host, port: this.tcp.port }, 'connected to the platform');
      this.uploadSerial();
      this.askTimeCalibration();
      this.sender.start();
    });
    readFrames(
      socket,
      { mode: 'lenient', ...this.codec },
      {
        results: (results) => results.forEach((r) => this.receive(r)),
        // The decoder is fuzzed not to throw; if it ever does, the link starts over rather than the agent.
        failed: (err) =>
          this.refuse('decoder-failed', { detail: err.message }, 'platform stream undecodable; reconnecting'),
      },
    );
    socket.on('error', (err) => this.noteError(err.message));
    socket.once('close', () => {
      this.sender.halt();
      if (this.socket === socket) this.socket = undefined;
      if (this.stopped) return;
      const delay = backoffMs(this.attempt++, this.tcp);
      this.setState('waiting');
      this.logger.warn(
        { reason: this.health().lastError ?? 'connection closed', retryInMs: delay },
        'platform link down; the outbox keeps the data',
      );
      this.timer = setTimeout(() => this.dial(), delay);
    });
  }
}
