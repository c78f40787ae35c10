import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { StreamDecoder } from '../protocol/index.js';
import type { UplinkConfig } from './config.js';
import { UplinkBase, backoffMs } from './link.js';
import type { UplinkDeps } from './link.js';

type TcpUplinkConfig = Extract<UplinkConfig, { kind: 'hj212-tcp' }>;

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
    this.socket?.write(frame);
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
    const decoder = new StreamDecoder({ mode: 'lenient', ...this.codec });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.once('connect', () => {
      this.attempt = 0;
      this.setState('connected');
      this.logger.info({ host: this.tcp.host, port: this.tcp.port }, 'connected to the platform');
      this.askTimeCalibration();
      this.sender.start();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const result of decoder.push(chunk)) this.receive(result);
    });
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
