import type { ChildProcess } from 'node:child_process';
import { spawnCli } from './common.js';

/** `hj212 demo` as a child process, as `npm start` runs it, with what it printed so far. */
export interface DemoChild {
  child: ChildProcess;
  output(): string;
  /** The banner's fields, once printed. */
  banner(): { api: string; readToken: string; dir: string } | undefined;
  /**
   * Sends `signal` and resolves to the exit code (null after SIGKILL, which leaves none), or kills it
   * (by pid) and rejects past `ms` (a SIGINT or SIGTERM it did not end on by itself).
   */
  stop(signal: NodeJS.Signals, ms?: number): Promise<number | null>;
}

export function startDemoChild(args: string[]): DemoChild {
  const cli = spawnCli(['demo', ...args]);
  const child = cli.child;
  const field = (name: string) => new RegExp(`^  ${name} +(\\S+)`, 'm').exec(cli.output())?.[1];
  return {
    child,
    output: cli.output,
    banner() {
      const [api, readToken, dir] = [field('API'), field('read token'), field('files')];
      return api && readToken && dir ? { api: api.replace(/\/openapi\.json$/, ''), readToken, dir } : undefined;
    },
    async stop(signal, ms = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const [code, bySignal] = await cli.signal(signal);
      clearTimeout(timer);
      // Ended by a signal (SIGKILL, or one it did not handle) it has no exit code, but it has exited.
      if (code === null && bySignal === signal && signal === 'SIGKILL') return null;
      if (code === null) throw new Error(`hj212 demo did not exit within ${ms} ms of ${signal}:\n${cli.output()}`);
      return code;
    },
  };
}
