import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { systemClock, type Clock } from '../cloud/clock.js';
import { GAS_MN, GAS_PW, rawClient, startTestCloud, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { hourFrame, storedHours } from './helpers/security.js';
import { untilValue } from './helpers/common.js';

// Attack 3: with the token buckets on Date.now(), setting the clock back 600 s left every TCP
// connection unanswered and the API at 429 until the clock caught up, and SIGTERM no longer stopped
// the process. Every limiter and timeout now runs on the monotonic clock; the step is logged.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The system clock whose wall time can be stepped (the monotonic one is never stepped, as on a real host). */
function steppingClock(): Clock & { step(ms: number): void } {
  let offset = 0;
  return { wall: () => systemClock.wall() + offset, mono: systemClock.mono, step: (ms) => (offset += ms) };
}

const TOKEN = 'clock-token-0123456789abcdef';

describe('a wall clock stepped back 600 s', () => {
  it(
    'is logged; TCP uploads are still answered and stored, the API ' + 'still answers 200, and the service stops',
    async () => {
      const clock = steppingClock();
      const c = await startTestCloud(
        {
          // 5 frames/s with a burst of 5 and 5 requests/s: the buckets are in use, not bypassed.
          tcp: { host: '127.0.0.1', port: 0, rate: 5, burst: 5 },
          http: {
            host: '127.0.0.1',
            port: 0,
            rate: 5,
            burst: 5,
            tokens: [{ name: 'ops', role: 'read', sha256: sha256(TOKEN) }],
          },
        },
        undefined,
        { clock },
      );
      let stopped = false;
      cleanup.push(async () => stopped || c.stop());
      const api = (): Promise<number> =>
        fetch(`http://127.0.0.1:${c.cloud.http!.address.port}/stations`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        }).then((r) => r.status);

      const logger = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => logger.close());
      logger.socket.write(hourFrame(WATER_MN, WATER_PW, { hours: 0 }) + hourFrame(GAS_MN, GAS_PW, { hours: 0 }));
      await logger.received(2);
      expect(await api()).toBe(200);

      clock.step(-600_000);
      // The watcher compares the clocks once a second.
      const steps = await untilValue(
        () => c.lines.filter((l) => l['reason'] === 'clock-step').map((l) => l['stepMs']),
        (v) => v.length > 0,
      );
      expect(steps).toHaveLength(1);
      // -600 000 ms, give or take the milliseconds between two checks.
      expect(Math.round((steps[0] as number) / 1000)).toBe(-600);

      // 8 more frames: over the burst, so the bucket must refill, which it does on the monotonic clock.
      logger.socket.write(
        Array.from(
          { length: 4 },
          (_, i) => hourFrame(WATER_MN, WATER_PW, { hours: i + 1 }) + hourFrame(GAS_MN, GAS_PW, { hours: i + 1 }),
        ).join(''),
      );
      expect((await logger.received(10)).map((p) => p.cn)).toEqual(Array(10).fill('9014'));
      expect(await api()).toBe(200);
      expect(await storedHours(c, WATER_MN, 5)).toHaveLength(5);
      expect(await storedHours(c, GAS_MN, 5)).toHaveLength(5);
      await c.stop();
      stopped = true;
    },
  );
});
