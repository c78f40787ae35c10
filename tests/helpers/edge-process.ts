import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Compiles the agent's child entry (and what it imports: edge, protocol) to JavaScript in a temp
 * dir, so a test can run the agent as a separate process it may `kill -9`.
 */
export async function compileChild(): Promise<{ entry: string; remove: () => Promise<void> }> {
  const out = await mkdtemp(join(tmpdir(), 'hj212-edge-build-'));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [
    '--outDir',
    out,
    '--rootDir',
    ROOT,
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--skipLibCheck',
    '--esModuleInterop',
    '--verbatimModuleSyntax',
    '--noCheck',
    join(ROOT, 'tests/helpers/edge-child.ts'),
  ];
  const result = spawnSync(process.execPath, [tsc, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  return { entry: join(out, 'tests/helpers/edge-child.js'), remove: () => rm(out, { recursive: true, force: true }) };
}

export interface AgentProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
}

/** Starts the compiled agent on a JSON configuration with the test's clock. */
export async function spawnAgent(
  entry: string,
  config: object,
  dir: string,
  clock: { warp: number; realStart: number; simStart: number },
): Promise<AgentProcess> {
  const file = join(dir, 'config.json');
  await writeFile(file, JSON.stringify(config));
  const env = {
    ...process.env,
    HJ212_EDGE_WARP: String(clock.warp),
    HJ212_EDGE_REAL_START: String(clock.realStart),
    HJ212_EDGE_SIM_START: String(clock.simStart),
  };
  const child = spawn(process.execPath, [entry, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, output: () => text, exited: once(child, 'exit') };
}
