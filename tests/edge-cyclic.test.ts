import { afterEach, describe, expect, it } from 'vitest';
import { parseEdgeConfig, startAgent } from '../edge/index.js';
import { Aggregator } from '../edge/aggregator.js';
import { BusPoller } from '../edge/modbus.js';
import { ReadingPipeline, dataStation } from '../edge/readings.js';
import { recordPacket } from '../edge/packets.js';
import type { EdgeConfigInput } from '../edge/index.js';
import type { DataRecord } from '../edge/aggregator.js';
import type { DevicePoll } from '../edge/modbus.js';
import { startPlatform, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const MIN = 60_000;
const HOUR = 3_600_000;

function waterConfig(
  port: number,
  cycle: NonNullable<EdgeConfigInput['devices'][number]['cycle']> = { address: 4, type: 'uint32' },
): EdgeConfigInput {
  return {
    station: { mn: '010000A8900016F000169DC0', st: '32', kind: 'water' },
    dataDir: '/tmp/unused',
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 500 }],
    devices: [
      {
        id: 'cod',
        bus: 'line',
        unit: 1,
        pollSeconds: 0.02,
        status: { address: 2 },
        cycle,
        factors: [{ code: 'w01018', value: { address: 0 }, decimals: 1 }],
      },
    ],
  };
}

describe('cyclic analyzers: a value when a cycle completes, with SampleTime', () => {
  it('passes a reading only when the cycle register changed; the first poll only learns it', () => {
    const config = parseEdgeConfig(waterConfig(502));
    const pipeline = new ReadingPipeline(config);
    const poll = (cycle: number, value: number) =>
      pipeline.accept(SIM_START, [{ code: 'w01018', value, flag: 'N' }], { device: 'cod', cycle });
    expect(poll(1_748_707_200, 40)).toEqual([]);
    expect(poll(1_748_707_200, 40)).toEqual([]);
    // The register holds the sample time in Unix seconds: 1748710800 s = 2025-06-01T01:00:00+08:00.
    expect(poll(1_748_710_800, 60)).toEqual([
      { code: 'w01018', value: 60, flag: 'N', cyclic: true, sampleTime: 1_748_710_800_000 },
    ]);
    // A poll the analyzer did not answer still says so (B), as a cycle value without a sample time.
    const silent = pipeline.accept(SIM_START, [{ code: 'w01018', value: 60, flag: 'B' }], {
      device: 'cod',
      error: 'timeout',
    });
    expect(silent).toEqual([{ code: 'w01018', value: 60, flag: 'B', cyclic: true }]);
  });

  it('a counter register stamps the cycle with the poll time', () => {
    const pipeline = new ReadingPipeline(
      parseEdgeConfig(waterConfig(502, { address: 6, type: 'uint16', holds: 'counter' })),
    );
    pipeline.accept(SIM_START, [{ code: 'w01018', value: 40, flag: 'N' }], { device: 'cod', cycle: 7 });
    const at = SIM_START + 50 * MIN;
    expect(pipeline.accept(at, [{ code: 'w01018', value: 41, flag: 'N' }], { device: 'cod', cycle: 8 })).toEqual([
      { code: 'w01018', value: 41, flag: 'N', cyclic: true, sampleTime: at },
    ]);
  });

  it(
    'over Modbus TCP: an hour is the value of the cycle that completed ' + 'in it, not the time average of the display',
    async () => {
      // The COD analyzer's cycles start at 23:40 (scenario start, Beijing time) and last an hour: the
      // cycle sampled 00:40 reads 120 (window 1h-2h), the one sampled 01:40 reads 30 (2h-3h), else 48.5.
      let now = SIM_START + 10 * MIN;
      const sim = await startSim(
        {
          tcp: { port: 0 },
          devices: [{ unit: 1, profile: 'cod' }],
          scenario: {
            start: '2025-05-31T23:40:00+08:00',
            signals: {
              cod: flat(48.5, [
                { kind: 'exceedance', from: '1h', to: '2h', level: 120 },
                { kind: 'exceedance', from: '2h', to: '3h', level: 30 },
              ]),
            },
          },
        },
        () => now,
      );
      cleanups.push(() => sim.close());
      const config = parseEdgeConfig(waterConfig(sim.tcp!.port));
      const pipeline = new ReadingPipeline(config);
      // As the agent builds it (devices: the per-factor options of the data sets).
      const aggregatorConfig = {
        station: dataStation(config.station),
        devices: config.devices,
        rtdIntervalSeconds: 60,
        minIntervalMinutes: 10,
      };
      const aggregator = new Aggregator(aggregatorConfig, now);
      const polls: DevicePoll[] = [];
      const poller = new BusPoller(config.buses[0]!, config.devices, {
        logger: memoryLogger().logger,
        now: () => now,
        onPoll: (poll) => {
          polls.push(poll);
          // What the agent's onPoll does for an analyzer.
          aggregator.add(poll.at, pipeline.accept(poll.at, poll.readings, poll));
        },
      });
      poller.start();
      cleanups.push(() => poller.stop());
      const records: DataRecord[] = [];
      const pollAt = async (at: number) => {
        records.push(...aggregator.tick(at).records);
        now = at;
        const seen = polls.length;
        await until(() => polls.slice(seen).some((p) => p.at === at && p.error === undefined), `a poll at ${at}`);
      };
      // 00:10 learns the register; 00:50 sees the 00:40 cycle (120); 01:20 the same; 01:50 the 01:40 one (30).
      for (const at of [10, 50, 80, 110, 130].map((m) => SIM_START + m * MIN)) await pollAt(at);
      records.push(...aggregator.tick(SIM_START + 130 * MIN).records);
      // The sample-time register as read over Modbus TCP: 23:40 = 2025-05-31T15:40:00Z = 1748706000 s at
      // 00:10; 00:40 = 1748706000 + 3600 = 1748709600 s at 00:50. The counter (register 6) counts
      // sample periods since the start: at 02:10, 150 min after 23:40, floor(150 / 60) = 2.
      const cycleAt = (m: number) => polls.find((p) => p.at === SIM_START + m * MIN && p.error === undefined)?.cycle;
      expect([cycleAt(10), cycleAt(50), cycleAt(110)]).toEqual([1_748_706_000, 1_748_709_600, 1_748_713_200]);
      expect(sim.devices.get(1)!.read(6, 1)).toEqual([2]);

      const hours = records.filter((r) => r.cn === '2061');
      expect(hours.map((r) => r.at)).toEqual([SIM_START, SIM_START + HOUR]);
      const fields = (r: DataRecord) =>
        recordPacket(
          r,
          { mn: config.station.mn, pw: 'a1B2c3', st: '32', version: '2017' },
          'qn',
          new Map([['w01018', 1]]),
          480,
        ).cp.factors['w01018'];
      // Hour 00: the cycle sampled 00:40 read 120. Hour 01: the cycle sampled 01:40 read 30 — the display
      // showed 120 for 40 minutes and 30 for 20, a time average of (40 × 120 + 20 × 30) / 60 = 90.
      expect(fields(hours[0]!)).toEqual({
        SampleTime: '20250601004000',
        Min: '120.0',
        Avg: '120.0',
        Max: '120.0',
        Flag: 'N',
      });
      expect(fields(hours[1]!)).toEqual({
        SampleTime: '20250601014000',
        Min: '30.0',
        Avg: '30.0',
        Max: '30.0',
        Flag: 'N',
      });
      // Minute data: the cycle appears in the interval it completed in (00:50-01:00, 01:50-02:00) only.
      const intervals = records.filter((r) => r.cn === '2051' && r.stats['w01018']).map((r) => r.at);
      expect(intervals).toEqual([SIM_START + 50 * MIN, SIM_START + 110 * MIN]);
    },
  );
});

describe('the agent: units and cycles on the way from Modbus to the platform', () => {
  it('sends a flow read in m3/h in L/s, and COD once a cycle with its SampleTime', async () => {
    const clock = warpedClock(1200);
    const sim = await startSim(
      {
        tcp: { port: 0 },
        devices: [
          { unit: 1, profile: 'cod' },
          { unit: 4, profile: 'water-flow' },
        ],
        // Cycles start at half past (a warped poll is stamped up to ~30 simulated seconds before its
        // read, so no cycle may complete near an hour boundary): the one sampled 00:30 reads 120 mg/L.
        scenario: {
          seed: 1,
          start: '2025-05-31T23:30:00+08:00',
          signals: {
            cod: flat(48.5, [{ kind: 'exceedance', from: '1h', to: '2h', level: 120 }]),
            'water-flow': flat(20),
          },
        },
      },
      clock,
    );
    cleanups.push(() => sim.close());
    const platform = await startPlatform(0, clock);
    cleanups.push(async () => void (await platform.server.close()));
    const data = await tempDir();
    cleanups.push(data.remove);
    const base = waterOutlet(data.dir, sim.tcp!.port, platform.port);
    const config = parseEdgeConfig({
      ...base,
      // The flow meter is declared to read m3/h; the COD analyzer cyclic (sample time at 4-5).
      station: { ...base.station, flow: { code: 'w00000', unit: 'm3/h' } },
      devices: base.devices.map((d) => (d.id === 'cod' ? { ...d, cycle: { address: 4, type: 'uint32' } } : d)),
    });
    const agent = await startAgent(config, { logger: memoryLogger().logger, clock, tickMs: 25 });
    cleanups.push(() => agent.close());
    const hourAt = (time: string) => platform.uploads.find((u) => u.cn === '2061' && u.cp.params['DataTime'] === time);
    await until(() => hourAt('20250601010000') !== undefined, 'the 01:00 hour record', 20_000);
    // 20 m3/h = 20 / 3.6 L/s = 5.5556 L/s → 5.56 with two decimals.
    // (Avg only: the flag of a water hour with a minute a busy machine missed is not N.)
    expect(hourAt('20250601010000')!.cp.factors['w00000']).toMatchObject({ Avg: '5.56' });
    // The first poll (00:00) only learned the register of the cycle sampled 23:30; hour 00 is the cycle
    // sampled 00:30 (120), hour 01 the one sampled 01:30 (48.5).
    expect(hourAt('20250601000000')!.cp.factors['w01018']).toMatchObject({
      SampleTime: '20250601003000',
      Avg: '120.00',
      Flag: 'N',
    });
    expect(hourAt('20250601010000')!.cp.factors['w01018']).toMatchObject({
      SampleTime: '20250601013000',
      Avg: '48.50',
      Flag: 'N',
    });
    const realtime = platform.uploads.filter((u) => u.cn === '2011');
    expect(realtime.some((u) => u.cp.factors['w00000']?.['Rtd'] === '5.56')).toBe(true);
  });
});
