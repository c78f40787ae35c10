import { afterAll, beforeAll } from 'vitest';
import { influxAdmin, type InfluxQuery } from './cloud-procs.js';
import { startInfluxd, type Proc } from './common.js';

/**
 * One influxd for a test file, with its admin user: started before the file's tests, stopped after.
 * `proc` may be replaced by a test that restarts the server (on its dir and port).
 */
export function useInfluxd(user: { name: string; password: string }): { proc: Proc; query: InfluxQuery } {
  const held = {} as { proc: Proc; query: InfluxQuery };
  beforeAll(async () => {
    held.proc = await startInfluxd();
    held.query = await influxAdmin(held.proc, user);
  });
  afterAll(async () => held.proc?.stop());
  return held;
}
