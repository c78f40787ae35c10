import type { Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import type { CodecOptions, DecodeResult, Packet } from '../../protocol/index.js';
import { readFrames, writePacket } from '../../protocol/link.js';

/**
 * The QN an answer refers to: HJ/T 212-2005 answers carry it in the CP (the codec's answers follow the
 * 2005 appendix), later editions in the header.
 */
export function answeredQn(packet: Packet): string | undefined {
  return packet.qn ?? packet.cp.params['QN'];
}

/** One TCP connection speaking HJ 212: frames out through the codec, decode results in. */
export class FrameLink {
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly codec: Pick<CodecOptions, 'sm4Key' | 'mode' | 'maxSegment'>,
    onResult: (r: DecodeResult) => void,
  ) {
    readFrames(socket, codec, { results: (results) => results.forEach((r) => onResult(r)) });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /** Writes a packet, split into PNUM/PNO parts if need be; the frame(s), or undefined when the socket is gone. */
  send(packet: Packet): string | undefined {
    return this.isOpen ? writePacket(this.socket, packet, this.codec) : undefined;
  }

  write(frame: string): boolean {
    if (!this.isOpen) return false;
    this.socket.write(frame);
    return true;
  }

  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A peer that never closes its side must not keep a run open.
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
}

/** JSON logs to stderr (stdout carries the summary or report); silent unless asked in tests. */
export function makeLog(name: string, level = process.env['HJ212_SIM_LOG'] ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2));
}
