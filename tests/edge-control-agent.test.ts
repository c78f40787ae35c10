import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { Packet } from '../protocol/index.js';
import { CONTROL_REGISTERS, STATUS } from '../simulators/analyzer/control.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { rawPlatform, requestBytes } from './helpers/fuzz-edge.js';

/**
 * Analyzer control end to end (HJ 212-2017 C.30-C.38): a platform speaking raw HJ 212 over TCP, the
 * edge agent, and the analyzer simulator's control coils and registers behind it over Modbus TCP.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const verdict = {
  address: CONTROL_REGISTERS.status,
  values: { '1': 'running', '2': 'success', '3': 'failure' },
} as const;

async function setup() {
  // Real time: the simulated calibration takes 3 s, long enough to be seen running.
  const clock = warpedClock(1);
  const sim = await startWaterSim(clock);
  cleanups.push(() => sim.close());
  const platform = await rawPlatform();
  cleanups.push(platform.close);
  const data = await tempDir();
  cleanups.push(data.remove);
  const { logger } = memoryLogger();
  const device = (id: string, unit: number, code: string) => ({
    id,
    bus: 'line',
    unit,
    pollSeconds: 0.05,
    status: { address: 2 },
    factors: [{ code, value: { address: 0 }, decimals: 2 }],
  });
  const config = waterOutlet(data.dir, sim.tcp!.port, platform.port, {
    devices: [
      {
        ...device('cod', 1, 'w01018'),
        control: {
          '3011': { trigger: { coil: 0 }, verdict: { ...verdict, pollSeconds: 0.2, timeoutSeconds: 30 } },
          '3016': {
            startTime: { address: CONTROL_REGISTERS.startTime },
            period: { address: CONTROL_REGISTERS.period },
          },
          '3017': {
            startTime: { address: CONTROL_REGISTERS.startTime },
            period: { address: CONTROL_REGISTERS.period },
          },
          '3015': {
            trigger: { coil: 4 },
            verdict: { ...verdict, pollSeconds: 0.2 },
            vaseNo: { address: CONTROL_REGISTERS.vaseNo },
          },
          '3018': { stime: { address: CONTROL_REGISTERS.stime } },
          '3019': { sn: { address: CONTROL_REGISTERS.sn } },
        },
      },
      device('flow', 4, 'w00000'),
    ],
  });
  const agent = await startAgent(config, { logger, clock, tickMs: 25 });
  cleanups.push(() => agent.close());
  await until(platform.connected, 'the edge to connect');
  let n = 0;
  /** Sends a request and waits for its 9012 (or a refusing 9011); resolves to what came back with its QN. */
  const ask = async (cn: string, cp: string, final: (p: Packet) => boolean = (p) => p.cn === '9012') => {
    const qn = `20250601000000${String(++n).padStart(3, '0')}`;
    await platform.write(requestBytes({ qn, st: '32', cn, pw: PW, mn: MN, flag: '5' }, cp));
    const answers = () => platform.received.filter((r) => r.packet.qn === qn).map((r) => r.packet);
    await until(() => answers().some(final), `the answers to ${cn}`, 20_000);
    return answers();
  };
  return { sim, ask };
}

const summary = (p: Packet) => [p.cn, p.cp.params, p.cp.factors];

describe('analyzer control 3011-3019 through the edge agent', () => {
  it(
    '3011 zero/span calibration: 9011 QnRtn=1, the coil started it, ' + '9012 ExeRtn=1 once the analyzer said success',
    async () => {
      const { sim, ask } = await setup();
      const answers = await ask('3011', 'PolId=w01018');
      expect(answers.map(summary)).toEqual([
        ['9011', { QnRtn: '1' }, {}],
        ['9012', { ExeRtn: '1' }, {}],
      ]);
      // A second 3011 while the analyzer still calibrates is ExeRtn 5 (busy); the first still ends in success.
      const [first, second] = await Promise.all([ask('3011', 'PolId=w01018'), ask('3011', 'PolId=w01018')]);
      expect(first!.map((p) => p.cp.params)).toEqual([{ QnRtn: '1' }, { ExeRtn: '1' }]);
      expect(second!.map((p) => p.cp.params)).toEqual([{ QnRtn: '1' }, { ExeRtn: '5' }]);
      // The simulator ran two calibrations (action 1, coil 0), the last ended in success.
      const control = sim.devices.get(1)!.control;
      expect(control.read(CONTROL_REGISTERS.status, 8)).toEqual([STATUS.success, 1, 0, 0, 2, 40, 0, 2]);
    },
  );

  it('3016 stores the sampling period in the analyzer, 3017 reads it back as the upload of C.36', async () => {
    const { sim, ask } = await setup();
    const set = await ask('3016', 'PolId=w01018;CstartTime=083000;CTime=4');
    expect(set.map(summary)).toEqual([
      ['9011', { QnRtn: '1' }, {}],
      ['9012', { ExeRtn: '1' }, {}],
    ]);
    // 83000 = 0x0001_4438 in the two CstartTime registers, 4 hours in Ctime.
    expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.startTime, 3)).toEqual([1, 0x4438, 4]);
    const got = await ask('3017', 'PolId=w01018');
    expect(got.map(summary)).toEqual([
      ['9011', { QnRtn: '1' }, {}],
      ['3017', { PolId: 'w01018', CstartTime: '083000', CTime: '4' }, {}],
      ['9012', { ExeRtn: '1' }, {}],
    ]);
    // Ctime 25 is outside 0 < n ≤ 24 (§6.6.1): a condition error, the analyzer keeps 4 hours.
    const bad = await ask('3016', 'PolId=w01018;CstartTime=083000;CTime=25');
    expect(bad.map((p) => p.cp.params)).toEqual([{ QnRtn: '1' }, { ExeRtn: '3' }]);
    expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.period, 1)).toEqual([4]);
  });

  it(
    '3019 uploads the analyzer id (C.38), 3018 Stime, 3015 the bottle; a ' +
      'command no device maps is refused with 9011 QnRtn=2',
    async () => {
      const { ask } = await setup();
      const id = await ask('3019', 'PolId=w01018');
      // The simulator's unit 1: C.38's EPC96 with 01 as its last byte.
      expect(id.map(summary)).toEqual([
        ['9011', { QnRtn: '1' }, {}],
        ['3019', { PolId: 'w01018' }, { w01018: { SN: '010000A8900016F000169D01' } }],
        ['9012', { ExeRtn: '1' }, {}],
      ]);
      // 3018: the simulator's Stime of C.37's example, 40 minutes.
      expect((await ask('3018', 'PolId=w01018')).map(summary)).toEqual([
        ['9011', { QnRtn: '1' }, {}],
        ['3018', { PolId: 'w01018', Stime: '40' }, {}],
        ['9012', { ExeRtn: '1' }, {}],
      ]);
      // 3015 without PolId (C.34): the first retained sample goes into bottle 1, uploaded with its time.
      const retained = await ask('3015', '');
      expect(retained.map((p) => p.cn)).toEqual(['9011', '3015', '9012']);
      expect(retained[1]!.cp.params).toEqual({ DataTime: expect.stringMatching(/^20250601\d{6}$/), VaseNo: '1' });
      expect(retained[2]!.cp.params).toEqual({ ExeRtn: '1' });
      // 3013 (cleaning) is not in the control map; 3011 is, but not for the flow meter's w00000.
      for (const [cn, cp] of [
        ['3013', 'PolId=w01018'],
        ['3011', 'PolId=w00000'],
      ] as const) {
        const refused = await ask(cn, cp, (p) => p.cn === '9011');
        expect(refused.map(summary)).toEqual([['9011', { QnRtn: '2' }, {}]]);
      }
    },
  );
});
