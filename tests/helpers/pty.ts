import { spawn } from 'node:child_process';

/** Re-exported from the shared helper; a test that needs socat asks `TOOLS.socat()` there (strict under CI=true). */
export { commandExists } from './common.js';

export interface PtyPair {
  /** Two pseudo-terminals wired back to back by socat: what is written to one is read from the other. */
  a: string;
  b: string;
  close(): Promise<void>;
}

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and resolves once it relays (or rejects within `timeoutMs`). */
export function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  const close = async () => {
    if (socat.exitCode === null && socat.signalCode === null) socat.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let log = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      void close().then(() => reject(new Error(`socat: ${why}\n${log}`)));
    };
    const timer = setTimeout(() => fail(`no pty pair within ${timeoutMs} ms`), timeoutMs);
    socat.once('error', (err) => fail(err.message));
    const early = (code: number | null) => fail(`exited with ${code} before relaying`);
    socat.once('exit', early);
    socat.stderr.setEncoding('utf8');
    socat.stderr.on('data', (text: string) => {
      log += text;
      const ptys = [...log.matchAll(/PTY is (\S+)/g)].map((m) => m[1] ?? '');
      const [a, b] = ptys;
      if (a && b && log.includes('starting data transfer loop')) {
        clearTimeout(timer);
        socat.off('exit', early);
        resolve({ a, b, close });
      }
    });
  });
}
