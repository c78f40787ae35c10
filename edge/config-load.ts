import { Worker } from 'node:worker_threads';
import type { EdgeConfig } from './config.js';
import { EdgeConfigError } from './config-values.js';

/** What edge/config-worker.ts posts: the configuration and its warnings, or why it was refused. */
export type ConfigWorkerAnswer = { config: EdgeConfig; warnings: string[] } | { refused: string };

/**
 * `loadEdgeConfig` and `configWarnings` run in a worker thread that exits once it has answered, so the agent's own
 * isolate never loads zod and the schema (about 5 MB of RSS on a box that runs for months, bench/README.md,
 * 2026-12-08). The configuration is plain data (no transforms: a structured clone is the same object). Throws
 * EdgeConfigError as `loadEdgeConfig` does. Run from the TypeScript sources (vitest) there is no compiled worker to
 * start, so it loads in this thread instead: the same functions, the same result.
 */
export async function loadEdgeConfigApart(file: string): Promise<{ config: EdgeConfig; warnings: string[] }> {
  const url = new URL('./config-worker.js', import.meta.url);
  if (import.meta.url.endsWith('.ts')) {
    const [{ loadEdgeConfig }, { configWarnings }] = await Promise.all([
      import('./config.js'),
      import('./config-check.js'),
    ]);
    const config = await loadEdgeConfig(file);
    return { config, warnings: configWarnings(config) };
  }
  const worker = new Worker(url, { workerData: { file } });
  const answer = await new Promise<ConfigWorkerAnswer>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the configuration's worker exited (code ${code}) without answering`)),
    );
  });
  // The answer is in; the worker ends on its own (nothing keeps its loop alive), or here if it lingers.
  await worker.terminate();
  if ('refused' in answer) throw new EdgeConfigError(answer.refused);
  return answer;
}
