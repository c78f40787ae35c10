import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

/** `hj212 demo` as a child process, as `npm start` runs it, with what it printed so far. */
export interface DemoChild {
  child: ChildProcess;
  output(): string;
  /** The banner's fields, once printed. */
  banner(): { api: string; readToken: string; dir: string } | undefined;
  /** Sends `signal` and resolves to the exit code, or kills it (by pid) and rejects past `ms`. */
  stop(signal: NodeJS.Signals, ms?: number): Promise<number | null>;
}

export function startDemoChild(args: string[]): DemoChild {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [MAIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const field = (name: string) => new RegExp(`^  ${name} +(\\S+)`, 'm').exec(out)?.[1];
  return {
    child,
    output: () => out,
    banner() {
      const [api, readToken, dir] = [field('API'), field('read token'), field('files')];
      return api && readToken && dir ? { api: api.replace(/\/openapi\.json$/, ''), readToken, dir } : undefined;
    },
    async stop(signal, ms = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      if (code === null) throw new Error(`hj212 demo did not exit within ${ms} ms of ${signal}:\n${out}`);
      return code;
    },
  };
}
