import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sleep } from './common.js';

/** Sends `bytes` in pieces of the given sizes (cycled), yielding to the event loop between them, then ends. */
export async function sendInPieces(port: number, bytes: Buffer, sizes: number[], gapMs = 0): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.resume();
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    if (!socket.write(bytes.subarray(at, at + n))) await once(socket, 'drain');
    at += n;
    await sleep(gapMs);
  }
  socket.end();
  await once(socket, 'close');
}

/** Polls `read` until it gives the same value twice `quietMs` apart (or `deadlineMs` passes); returns it. */
export async function settled<T>(read: () => T | Promise<T>, quietMs = 300, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last = JSON.stringify(await read());
  for (;;) {
    await sleep(quietMs);
    const now = await read();
    if (JSON.stringify(now) === last || Date.now() > until) return now;
    last = JSON.stringify(now);
  }
}

/** Connects with a tiny receive window, sends the file, never reads, and stays connected until its stdin closes. */
const DEAF_CLIENT = `import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', int(sys.argv[1])))
s.sendall(open(sys.argv[2], 'rb').read())
sys.stdin.read()
`;

/**
 * A logger that writes and never reads what it is answered (a wedged or half-open peer), as its own
 * process: its tiny receive window keeps the kernel from soaking up the answers for it.
 */
export interface DeafSender {
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function deafSender(port: number, bytes: Buffer): Promise<DeafSender> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-deaf-'));
  const file = join(dir, 'frames.bin');
  await writeFile(file, bytes);
  const child = spawn('python3', ['-c', DEAF_CLIENT, String(port), file], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(child, 'exit');
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
