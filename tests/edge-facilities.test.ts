import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { RunTimeTracker } from '../edge/facilities.js';
import { handleCommand } from '../edge/commands.js';
import { recordPacket } from '../edge/packets.js';
import type { FacilityConfig, RunningAgent } from '../edge/index.js';
import type { CommandContext } from '../edge/commands.js';
import type { DataRecord } from '../edge/aggregator.js';
import { decodeFrame, encodeFrame, request } from '../protocol/index.js';
import { MN, PW, startPlatform, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

const H = 3_600_000;
const blower: FacilityConfig = {
  code: 'SB1',
  bus: 'line',
  unit: 1,
  pollSeconds: 5,
  state: { address: 2, type: 'uint16', byteOrder: 'big', wordOrder: 'big', function: 'holding' },
  states: { '0': 1, '5': 0 },
};
const on = (rs: number) => ({ code: 'SB1', value: rs === 1 ? 0 : 5, flag: 'N' as const });

describe('facility run time (2041) and run state (2021)', () => {
  it('a box without treatment facilities closes its days without a 2041', () => {
    const t = new RunTimeTracker([], 480, SIM_START);
    expect(t.tick(SIM_START + 50 * H)).toEqual([]);
    expect(t.realtime(SIM_START + 50 * H)).toBeUndefined();
  });

  it('counts the time between samples that said running, across the day boundary', () => {
    const t = new RunTimeTracker([blower], 480, SIM_START);
    t.add(SIM_START + 1 * H, on(1));
    t.add(SIM_START + 3 * H, on(0)); // ran 1 h to 3 h
    t.add(SIM_START + 20 * H, on(1)); // runs from 20 h through midnight
    expect(t.realtime(SIM_START + 21 * H)).toEqual({
      cn: '2021',
      at: SIM_START + 21 * H,
      stats: {},
      facilities: { SB1: 1 },
    });
    expect(t.tick(SIM_START + 23 * H)).toEqual([]);
    // A sample from the next day closes the old one before it counts: 2 + 4 hours, and 2 into day 2.
    t.add(SIM_START + 26 * H, on(1));
    expect(t.tick(SIM_START + 26 * H)).toEqual([{ cn: '2041', at: SIM_START, stats: {}, facilities: { SB1: 6 } }]);
    t.add(SIM_START + 30 * H, on(0));
    expect(t.tick(SIM_START + 48 * H)).toEqual([
      { cn: '2041', at: SIM_START + 24 * H, stats: {}, facilities: { SB1: 6 } },
    ]);
  });

  it('counts no run time while the controller does not answer (B), and unknown values as alarm (4)', () => {
    const t = new RunTimeTracker([blower], 480, SIM_START);
    t.add(SIM_START, on(1));
    t.add(SIM_START + 1 * H, { code: 'SB1', value: Number.NaN, flag: 'B' });
    t.add(SIM_START + 5 * H, { code: 'SB1', value: 7, flag: 'N' });
    expect(t.realtime(SIM_START + 5 * H)?.facilities).toEqual({ SB1: 4 });
    expect(t.tick(SIM_START + 24 * H)[0]?.facilities).toEqual({ SB1: 1 });
  });

  it('resumes the open day from its snapshot', () => {
    const t = new RunTimeTracker([blower], 480, SIM_START);
    t.add(SIM_START, on(1));
    t.add(SIM_START + 2 * H, on(1));
    const resumed = new RunTimeTracker([blower], 480, SIM_START + 2 * H, t.snapshot());
    resumed.add(SIM_START + 3 * H, on(0));
    expect(resumed.tick(SIM_START + 24 * H)[0]?.facilities).toEqual({ SB1: 3 });
  });

  it('go up as SBxxx-RS and SBxxx-RT fields (table 4) that decode strictly', () => {
    const to = { mn: MN, pw: PW, st: '32', version: '2017' as const };
    const rs: DataRecord = { cn: '2021', at: SIM_START, stats: {}, facilities: { SB1: 1, SB2: 0 } };
    const rt: DataRecord = { cn: '2041', at: SIM_START, stats: {}, facilities: { SB1: 23.5 } };
    const decode = (r: DataRecord) =>
      decodeFrame(encodeFrame(recordPacket(r, to, '20250601000000000', new Map(), 480)), { mode: 'strict' });
    expect(decode(rs)).toMatchObject({
      ok: true,
      frame: {
        packet: {
          cn: '2021',
          cp: { params: { DataTime: '20250601000000' }, factors: { SB1: { RS: '1' }, SB2: { RS: '0' } } },
        },
      },
    });
    expect(decode(rt)).toMatchObject({
      ok: true,
      frame: { packet: { cn: '2041', cp: { factors: { SB1: { RT: '23.50' } } } } },
    });
  });

  it('2021 starts and 2022 stops run-state uploads; 2041 is answered from local history', () => {
    const day: DataRecord = { cn: '2041', at: SIM_START, stats: {}, facilities: { SB1: 20 } };
    const ctx: CommandContext = {
      to: { mn: MN, pw: PW, st: '32', version: '2017' },
      now: SIM_START + 30 * H,
      utcOffsetMinutes: 480,
      rtdIntervalSeconds: 30,
      minIntervalMinutes: 10,
      clockTrusted: false,
      clockPolicy: 'set',
      parameters: () => undefined,
      historySlot: () => 'free',
    };
    const ask = (cn: string, params: Record<string, string> = {}) =>
      handleCommand(request({ mn: MN, pw: PW, st: '32' }, cn, params, { qn: '20250602060000000' }), ctx)!;
    expect(ask('2021')).toMatchObject({
      replies: [{ cn: '9011' }, { cn: '9012' }],
      effect: { kind: 'run-state', on: true },
    });
    expect(ask('2022')).toMatchObject({ replies: [{ cn: '9013' }], effect: { kind: 'run-state', on: false } });
    // The uplink streams the records of the range from the store (tests/edge-history.test.ts).
    const history = ask('2041', { BeginTime: '20250601000000', EndTime: '20250601000000' });
    expect(history.replies.map((p) => p.cn)).toEqual(['9011']);
    expect(history.history).toMatchObject({ cn: '2041', from: SIM_START, to: SIM_START });
    const packet = recordPacket(
      day,
      { mn: MN, pw: PW, st: '32', version: '2017' },
      '20250602060000000',
      new Map(),
      480,
    );
    expect(packet.cp.factors).toEqual({ SB1: { RT: '20.00' } });
  });
});

describe('a facility polled by the agent', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('reports run states and, at midnight, the hours it ran: stopped 18:00-21:00 is 21 hours', async () => {
    // A day in 30 s (faster blurs the stop's edges by more than the tolerance when CI is loaded); the COD
    // analyzer's status register (0 normal, 5 stopped) stands in for the blower's.
    const clock = warpedClock(2_880);
    const sim = await startSim(
      {
        tcp: { port: 0 },
        devices: [
          { unit: 1, profile: 'cod' },
          { unit: 4, profile: 'water-flow' },
        ],
        scenario: {
          seed: 1,
          signals: { cod: flat(48.5, [{ kind: 'stopped', from: '18h', to: '21h' }]), 'water-flow': flat(20) },
        },
      },
      clock,
    );
    cleanups.push(() => sim.close());
    const platform = await startPlatform(0, clock);
    cleanups.push(async () => void (await platform.server.close()));
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = waterOutlet(data.dir, sim.tcp!.port, platform.port, {
      facilities: [{ ...blower, pollSeconds: 0.02 }],
    });
    const agent: RunningAgent = await startAgent(config, { logger: memoryLogger().logger, clock, tickMs: 25 });
    cleanups.push(() => agent.close());
    await until(() => platform.uploads.some((u) => u.cn === '2041'), 'the day run time (2041)', 60_000);
    const states = platform.uploads.filter((u) => u.cn === '2021').map((u) => u.cp.factors['SB1']?.['RS']);
    expect(states).toContain('1');
    expect(states).toContain('0');
    const hours = Number(platform.uploads.find((u) => u.cn === '2041')!.cp.factors['SB1']!['RT']);
    // Samples are minutes of simulated time apart at this warp (more on a loaded machine): the edges of
    // the stop blur by a sample or two each, far less than the 3 hours it lasted.
    expect(hours).toBeGreaterThan(20.5);
    expect(hours).toBeLessThan(21.5);
  }, 90_000);
});
