/**
 * The platform simulator of `bench/edge.ts` in a worker thread, so the replay's edge and its peer each have
 * a thread (on a box the platform is another machine). Posts `{ port }` once listening; on any message it
 * closes and posts `{ activeMs, uploads }`: its thread's event-loop active time (its CPU, near enough) and
 * the uploads it took.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { PlatformConfigSchema, PlatformServer } from '../simulators/platform/index.js';

const { mn, pw } = workerData as { mn: string; pw: string };
const server = new PlatformServer(PlatformConfigSchema.parse({ port: 0, stations: [{ mn, pw, st: '31' }] }), {
  log: pino({ level: 'silent' }),
});
await server.listen();
const elu0 = performance.eventLoopUtilization();
parentPort!.postMessage({ port: server.port });
parentPort!.once('message', () => {
  const activeMs = performance.eventLoopUtilization(elu0).active;
  void server.close().then((report) => parentPort!.postMessage({ activeMs, uploads: report.totals.uploads }));
});
