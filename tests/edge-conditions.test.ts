import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { RunningAgent } from '../edge/index.js';
import { bodyOf, fromBody } from '../edge/store/body.js';
import type { DataRecord } from '../edge/aggregator.js';
import { startPlatform, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

const KEY = '0123456789abcdeffedcba9876543210';

/** The treatment pump's meter: power p01001 (kW, float32 at 0), energy p01002 (kWh, uint32 × 0.1 at 4). */
const meter = {
  id: 'pump',
  bus: 'line',
  unit: 5,
  pollSeconds: 0.02,
  serves: 'treatment' as const,
  facility: 'SB1',
  power: { code: 'p01001', register: { address: 0 } },
  energy: { code: 'p01002', register: { address: 4, type: 'uint32' as const, scale: 0.1 } },
};

describe('ST 44 power meters in the config', () => {
  it('refuses a stray key, an unknown bus and a code measured twice, naming each', () => {
    const base = (over: object) => () => waterOutlet('/tmp/x', 1, 1, { powerMeters: [{ ...meter, ...over }] });
    expect(base({ kw: 1 })).toThrow(/powerMeters\[0\].*kw/s);
    expect(base({ bus: 'other' })).toThrow(/no bus has id other/);
    expect(base({ power: { code: 'w01018', register: { address: 0 } } })).toThrow(/w01018 is measured twice/);
    expect(base({ serves: 'office' })).toThrow(/serves/);
  });

  it('a data-set record keeps its ST through the outbox body', () => {
    const r: DataRecord = {
      cn: '2061',
      at: 1,
      stats: { p01001: { avg: 80, flag: 'N', valid: 60, count: 60 } },
      st: '44',
    };
    expect(fromBody('2061', 1, bodyOf(r))).toEqual(r);
    const plain: DataRecord = { cn: '2061', at: 1, stats: { w01018: { avg: 8, flag: 'N', valid: 1, count: 1 } } };
    expect(fromBody('2061', 1, bodyOf(plain))).toEqual(plain);
  });

  it('defaults: no meters, no signals', () => {
    const c = waterOutlet('/tmp/x', 1, 1);
    expect([c.powerMeters, c.processSignals]).toEqual([[], []]);
  });
});

describe('a power meter polled by the agent (ST 44 on a 2025 uplink)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('sends its real-time and hour data as ST 44, apart from the outlet (ST 32)', async () => {
    // One simulated hour in 10 s. The meter reads a flat 80 kW: its totaliser (50000 kWh at the start)
    // gains 80 kWh an hour (80 kW x 1 h).
    const clock = warpedClock(360);
    const sim = await startSim(
      {
        tcp: { port: 0 },
        devices: [
          { unit: 1, profile: 'cod' },
          { unit: 4, profile: 'water-flow' },
          { unit: 5, profile: 'power-meter' },
        ],
        scenario: { seed: 1, signals: { cod: flat(40), 'water-flow': flat(20), 'power-meter': flat(80) } },
      },
      clock,
    );
    cleanups.push(() => sim.close());
    const platform = await startPlatform(0, clock, { version: '2025', sm4Key: KEY });
    cleanups.push(async () => void (await platform.server.close()));
    const data = await tempDir();
    cleanups.push(data.remove);
    const base = waterOutlet(data.dir, sim.tcp!.port, platform.port);
    const config = waterOutlet(data.dir, sim.tcp!.port, platform.port, {
      powerMeters: [meter],
      uplinks: [{ ...base.uplinks[0]!, version: '2025', sm4Key: KEY }],
    });
    const agent: RunningAgent = await startAgent(config, { logger: memoryLogger().logger, clock, tickMs: 25 });
    cleanups.push(() => agent.close());
    await until(() => platform.uploads.some((u) => u.cn === '2061' && u.st === '44'), 'the ST 44 hour (2061)', 60_000);
    const rtd = platform.uploads.find((u) => u.cn === '2011' && u.st === '44')!;
    expect(rtd.cp.factors['p01001']).toMatchObject({ Rtd: '80.00' });
    const hour = platform.uploads.find((u) => u.cn === '2061' && u.st === '44')!;
    expect(Object.keys(hour.cp.factors).sort()).toEqual(['p01001', 'p01002']);
    // The hour's flag follows the outlet's rules (the minutes before the first poll): only the values here.
    expect(hour.cp.factors['p01001']).toMatchObject({ Min: '80.00', Avg: '80.00', Max: '80.00' });
    // Max of the totaliser is its reading at the hour's end: 50000 + 80 kW x 1 h = 50080.0. A poll is stamped
    // when sent and answered some real milliseconds later, each a third of a simulated second at this warp
    // (0.007 kWh): the reading may run ahead of its stamp, never behind it; a loaded machine allows 1 kWh.
    expect(Number(hour.cp.factors['p01002']!['Max'])).toBeGreaterThanOrEqual(50_079.5);
    expect(Number(hour.cp.factors['p01002']!['Max'])).toBeLessThanOrEqual(50_081);
    // 00:10-00:20: the totaliser goes from 50000 + 80 x 10/60 = 50013.33 to 50000 + 80 x 20/60 = 50026.67.
    const minute = platform.uploads.find(
      (u) => u.cn === '2051' && u.st === '44' && u.cp.params['DataTime'] === '20250601001000',
    )!;
    expect(minute.cp.factors['p01001']).toMatchObject({ Min: '80.00', Avg: '80.00', Max: '80.00' });
    const energy = minute.cp.factors['p01002']!;
    expect(Number(energy['Min'])).toBeGreaterThanOrEqual(50_013.3);
    expect(Number(energy['Min'])).toBeLessThan(50_014.4);
    expect(Number(energy['Max'])).toBeGreaterThan(50_026);
    expect(Number(energy['Max'])).toBeLessThanOrEqual(50_027.7);
    // The outlet's own hour carries its pollutants only, under its own ST.
    const outlet = platform.uploads.find((u) => u.cn === '2061' && u.st === '32')!;
    expect(Object.keys(outlet.cp.factors).sort()).toEqual(['w00000', 'w01018']);
    expect(platform.uploads.filter((u) => u.st === '44').every((u) => !('w01018' in u.cp.factors))).toBe(true);
  }, 90_000);
});
