import type { Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import {
  StreamDecoder,
  encodeFrames,
  type CodecOptions,
  type DecodeResult,
  type Packet,
} from '../../protocol/index.js';

/**
 * The QN an answer refers to: HJ/T 212-2005 answers carry it in the CP (the codec's answers follow the
 * 2005 appendix), later editions in the header.
 */
export function answeredQn(packet: Packet): string | undefined {
  return packet.qn ?? packet.cp.params['QN'];
}

/** One TCP connection speaking HJ 212: frames out through the codec, decode results in. */
export class FrameLink {
  private readonly decoder: StreamDecoder;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly codec: Pick<CodecOptions, 'sm4Key' | 'mode' | 'maxSegment'>,
    onResult: (r: DecodeResult) => void,
  ) {
    this.decoder = new StreamDecoder(codec);
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.decoder.push(chunk)) onResult(r);
    });
    socket.on('end', () => {
      for (const r of this.decoder.end()) onResult(r);
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /**
   * Encodes and writes a packet, split into PNUM/PNO parts if its data segment would pass the limit
   * (a history answer with many factors, a 2025 CP doubled by hex); returns the frame(s), or undefined
   * when the socket is gone.
   */
  send(packet: Packet): string | undefined {
    const frame = encodeFrames(packet, { ...this.codec, split: true }).join('');
    return this.write(frame) ? frame : undefined;
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
