import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { CliIo } from './index.js';

/** The byte source named on the command line: a file, or stdin for "-" or nothing. */
export function openInput(path: string | undefined, io: CliIo): NodeJS.ReadableStream {
  return path === undefined || path === '-' ? io.stdin : createReadStream(path);
}

export async function* lines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  yield* createInterface({ input, crlfDelay: Infinity });
}

/** `--sm4-key HEX` for every station or `--sm4-key MN=HEX` for one; 32 hex digits each. */
export function sm4Keys(specs: string[] | undefined): ((mn: string | undefined) => Uint8Array | undefined) | undefined {
  if (!specs || specs.length === 0) return undefined;
  const byMn = new Map<string, Buffer>();
  let fallback: Buffer | undefined;
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const hex = eq < 0 ? spec : spec.slice(eq + 1);
    if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new Error(`--sm4-key ${spec}: the key must be 32 hex digits (16 bytes)`);
    if (eq < 0) fallback = Buffer.from(hex, 'hex');
    else byMn.set(spec.slice(0, eq), Buffer.from(hex, 'hex'));
  }
  return (mn) => (mn !== undefined ? byMn.get(mn) : undefined) ?? fallback;
}

export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/**
 * A reader that went away (`hj212 decode capture.bin | head`) ends the output, not the process with a
 * stack trace: on EPIPE the command exits at once with the status it has so far, as Unix tools do.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream, exit: (code: number) => never): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}
