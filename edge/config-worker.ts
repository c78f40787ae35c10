/**
 * The worker `loadEdgeConfigApart` (config-load.ts) starts: loads and validates one configuration file with the zod
 * schema, posts the plain result (or the refusal) and exits, taking zod and the schema's objects with its isolate.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { configWarnings } from './config-check.js';
import { EdgeConfigError, loadEdgeConfig } from './config.js';
import type { ConfigWorkerAnswer } from './config-load.js';

const { file } = workerData as { file: string };
let answer: ConfigWorkerAnswer;
try {
  const config = await loadEdgeConfig(file);
  answer = { config, warnings: configWarnings(config) };
} catch (err) {
  if (!(err instanceof EdgeConfigError)) throw err;
  answer = { refused: err.message };
}
parentPort!.postMessage(answer);
