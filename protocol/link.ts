import type { Socket } from 'node:net';
import type { EncodeOptions } from './frame.js';
import { encodeFrames } from './split.js';
import { StreamDecoder } from './stream.js';
import type { CodecOptions, DecodeResult, Packet } from './types.js';

/** What a TCP end of ours (edge uplink, cloud listener, simulators) is told about the frames it reads. */
export interface FrameReader {
  /** After every read: the decode results it completed, in stream order (none while a frame is still coming). */
  results(results: DecodeResult[]): void;
  /** The decoder threw (it is fuzzed not to): told here, then the socket is destroyed, never the process. */
  failed?(err: Error): void;
}

/**
 * Reads HJ 212 frames off a TCP socket, where read boundaries mean nothing (see StreamDecoder).
 * What the decoder holds when the peer hangs up (an `end`, or a reset's `close` with none) is a truncated
 * frame: reported once, not dropped silently.
 */
export function readFrames(socket: Socket, codec: CodecOptions, reader: FrameReader): StreamDecoder {
  const decoder = new StreamDecoder(codec);
  const take = (read: () => DecodeResult[]): void => {
    let results: DecodeResult[];
    try {
      results = read();
    } catch (err) {
      reader.failed?.(err as Error);
      socket.destroy();
      return;
    }
    if (results.length === 0) return reader.results(results);
    // What the handler writes in answer to one read (a 9014 for each upload it carried) goes out in one
    // write rather than one a frame: uncorked as soon as the handler returns, so nothing waits.
    socket.cork();
    try {
      reader.results(results);
    } finally {
      socket.uncork();
    }
  };
  let ended = false;
  const hangUp = (): void => {
    if (ended) return;
    ended = true;
    take(() => decoder.end());
  };
  socket.on('data', (chunk: Buffer) => take(() => decoder.push(chunk)));
  socket.on('end', hangUp);
  socket.on('close', hangUp);
  return decoder;
}

/**
 * Encodes a packet and writes it, split into PNUM/PNO parts (HJ 212-2017 6.3.2, table C.49) if its data segment
 * would pass the limit; returns the frame(s) written, or undefined when the socket can no longer be written.
 */
export function writePacket(socket: Socket, packet: Packet, codec: EncodeOptions = {}): string | undefined {
  if (socket.destroyed || !socket.writable) return undefined;
  const frame = encodeFrames(packet, { ...codec, split: true }).join('');
  socket.write(frame);
  return frame;
}
