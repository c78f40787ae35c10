import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { startTestCloud, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

/**
 * Our edge agent into our cloud ingest, over both paths at once: MQTT through the embedded broker
 * (device credentials, topic ACL) and raw HJ 212 over TCP. Both deliver the same records, which the
 * idempotent store keeps once; each path empties its own outbox only on the cloud's 9014.
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('edge agent → cloud ingest', () => {
  it('stores what the analyzers measured, once, and confirms every record on both uplinks', async () => {
    // A water hour with a minute that never came is not N (notes to HJ 212-2017 C.17): the clock starts
    // ten simulated minutes before the hour checked, so start-up falls outside it, and runs at a warp
    // (a simulated minute in 200 ms) that leaves several polls in every minute on a busy machine.
    const clock = warpedClock(300, SIM_START - 10 * 60_000);
    const c = await startTestCloud({ mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 } });
    cleanups.push(() => c.stop());
    const sim = await startSim(
      {
        tcp: { port: 0 },
        devices: [
          { unit: 1, profile: 'cod' },
          { unit: 4, profile: 'water-flow' },
        ],
        scenario: {
          seed: 1,
          start: '2025-05-31T23:50:00+08:00',
          signals: { cod: flat(48.5), 'water-flow': flat(20) },
        },
      },
      clock,
    );
    cleanups.push(() => sim.close());
    const data = await tempDir();
    cleanups.push(data.remove);
    const base = waterOutlet(data.dir, sim.tcp!.port, 1);
    const common = { pw: WATER_PW, timeoutSeconds: 1, retries: 2, reconnectMinSeconds: 0.1, reconnectMaxSeconds: 0.5 };
    const config = {
      ...base,
      station: { ...base.station, mn: WATER_MN },
      uplinks: [
        {
          ...base.uplinks[0]!,
          ...common,
          id: 'cloud-mqtt',
          kind: 'mqtt' as const,
          url: `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`,
          username: WATER_MN,
          password: 'water-secret',
        },
        {
          ...base.uplinks[0]!,
          ...common,
          id: 'cloud-tcp',
          kind: 'hj212-tcp' as const,
          host: '127.0.0.1',
          port: c.cloud.tcp!.address!.port,
        },
      ],
    };
    const agent = await startAgent(config, { logger: memoryLogger().logger, clock, tickMs: 25 });
    cleanups.push(() => agent.close());

    const hourStart = SIM_START;
    await until(() => clock() > SIM_START + 3_600_000 + 120_000, 'the first hour to close', 40_000);
    const stored = async () => c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: hourStart, to: hourStart + 1 });
    await until(
      () =>
        agent.health().uplinks['cloud-mqtt']!.outbox.records <= 4 &&
        agent.health().uplinks['cloud-tcp']!.outbox.records <= 4,
      'both outboxes to drain',
      15_000,
    );
    const hours = await stored();
    expect(hours.map((p) => [p.factor, p.values['Avg'], p.flag]).sort()).toEqual([
      ['w00000', 20, 'N'],
      ['w01018', 48.5, 'N'],
    ]);
    // Six 10-minute records in the hour, each stored once although both uplinks sent it.
    const minutes = await c.cloud.store.query({
      mn: WATER_MN,
      factor: 'w01018',
      kind: 'minute',
      from: hourStart,
      to: hourStart + 3_600_000,
    });
    expect(minutes.map((p) => p.time)).toEqual(Array.from({ length: 6 }, (_, i) => hourStart + i * 600_000));
    expect(c.cloud.ingest.stats.rejected).toEqual({});
    expect(agent.health().uplinks['cloud-mqtt']).toMatchObject({ kind: 'mqtt', state: 'connected' });
    expect(agent.health().uplinks['cloud-tcp']).toMatchObject({ kind: 'hj212-tcp', state: 'connected' });
  }, 60_000);
});
