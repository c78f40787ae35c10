import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { RunningAgent } from '../edge/index.js';
import type { Packet } from '../protocol/index.js';
import { CONTROL_REGISTERS } from '../simulators/analyzer/control.js';
import { PlatformConfigSchema, PlatformServer, renderReport } from '../simulators/platform/index.js';
import type { ExchangeRecord, PlatformConfigInput } from '../simulators/platform/index.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

/**
 * Every table-9 request a box must answer, sent by the platform simulator's script to the edge agent
 * (the analyzer simulator behind it over Modbus TCP), once over a 2017 uplink and once over a 2025
 * uplink with SM4. The platform simulator checks each exchange's sequence (HJ 212-2017 §6.6, appendix
 * C); the test asserts the answers in the order the tables of appendix C give them.
 */

const KEY = '0123456789ABCDEF0123456789ABCDEF';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const ready = '9011 QnRtn=1';
const done = '9012 ExeRtn=1';

/**
 * The script, in the order of table 9, each step with the answers appendix C gives it. Settings are
 * set to the values the box already has (NewPW the same PW), so later steps are asked as the first.
 */
interface Step {
  cn: string;
  params?: Record<string, string>;
  answers: string[];
  table: string;
  expectQnRtn?: number;
}
const STEPS: Step[] = [
  { cn: '1000', params: { OverTime: '5', ReCount: '3' }, answers: [ready, done], table: 'C.1' },
  { cn: '1011', answers: [ready, '1011', done], table: 'C.2' },
  { cn: '1011', params: { PolId: 'w01018' }, answers: [ready, '1011', done], table: 'C.2 with PolId' },
  { cn: '1012', answers: [ready, done], table: 'C.3' },
  { cn: '1061', answers: [ready, '1061', done], table: 'C.5' },
  { cn: '1062', params: { RtdInterval: '60' }, answers: [ready, done], table: 'C.6' },
  { cn: '1063', answers: [ready, '1063', done], table: 'C.7' },
  { cn: '1064', params: { MinInterval: '10' }, answers: [ready, done], table: 'C.8' },
  { cn: '1072', params: { NewPW: PW }, answers: [ready, done], table: 'C.9' },
  { cn: '2011', answers: [ready, done], table: 'C.10' },
  { cn: '2012', answers: ['9013'], table: 'C.11' },
  { cn: '2021', answers: [ready, done], table: 'C.12' },
  { cn: '2022', answers: ['9013'], table: 'C.13' },
  { cn: '3011', params: { PolId: 'w01018' }, answers: [ready, done], table: 'C.30' },
  { cn: '3012', params: { PolId: 'w01018' }, answers: [ready, done], table: 'C.31' },
  { cn: '3013', params: { PolId: 'w01018' }, answers: [ready, done], table: 'C.32' },
  { cn: '3014', params: { PolId: 'w01018' }, answers: [ready, done], table: 'C.33' },
  { cn: '3015', answers: [ready, '3015', done], table: 'C.34' },
  {
    cn: '3016',
    params: { PolId: 'w01018', CstartTime: '000000', CTime: '2' },
    answers: [ready, done],
    table: 'C.35',
  },
  { cn: '3017', params: { PolId: 'w01018' }, answers: [ready, '3017', done], table: 'C.36' },
  { cn: '3018', params: { PolId: 'w01018' }, answers: [ready, '3018', done], table: 'C.37' },
  { cn: '3019', params: { PolId: 'w01018' }, answers: [ready, '3019', done], table: 'C.38' },
  { cn: '3020', params: { PolId: 'w01018', InfoId: 'i13001' }, answers: [ready, '3020', done], table: 'C.45' },
  {
    cn: '3021',
    params: { PolId: 'w01018', InfoId: 'i13001', 'i13001-Info': '7' },
    answers: [ready, done],
    table: 'C.46',
  },
  // The flow meter's device maps no control: table 7's QnRtn 2 (请求被拒绝), nothing after it.
  { cn: '3011', params: { PolId: 'w00000' }, answers: ['9011 QnRtn=2'], table: 'unmapped', expectQnRtn: 2 },
  // HJ 212-2025's 1002 (set MN; docs/protocol-2025.md), given the MN the box has, and 3022/3024 (no
  // control mapping for them) go in here, per edition: see stepsFor.
  // History last, once the simulated day (23:40 to 00:00) has closed; the periods' records carry the
  // DataTime of their start (§6.3.3), so 23:50-00:00 holds the minute records 23:50 and 00:00.
  {
    cn: '2051',
    params: { BeginTime: '20250531235000', EndTime: '20250601000000' },
    answers: [ready, '2051', '2051', done],
    table: 'C.20',
  },
  {
    cn: '2061',
    params: { BeginTime: '20250531230000', EndTime: '20250531230000' },
    answers: [ready, '2061', done],
    table: 'C.21',
  },
  {
    cn: '2031',
    params: { BeginTime: '20250531000000', EndTime: '20250531000000' },
    answers: [ready, '2031', done],
    table: 'C.22',
  },
  // No treatment facility is configured, so there is no daily run time: 9012 ExeRtn 100 (没有数据, table 6);
  // C.23's flow with data is covered by tests/edge-facilities.test.ts.
  {
    cn: '2041',
    params: { BeginTime: '20250531000000', EndTime: '20250531000000' },
    answers: [ready, '9012 ExeRtn=100'],
    table: 'C.23 without facilities',
  },
];

/**
 * The steps for an edition: 1002 is a 2025 command (QnRtn 8, no command of table 9, before it); 3022 and 3024
 * are carried out on a 2025 link only.
 */
function stepsFor(version: '2017' | '2025'): Step[] {
  const at = STEPS.findIndex((s) => s.cn === '2051');
  const extra: Step[] =
    version === '2025'
      ? [
          { cn: '1002', params: { NewMN: MN }, answers: [ready, done], table: '2025 set MN' },
          // docs/protocol-2025.md: the analyzer's verdict as ExeRtn; 3024's 2062 goes up (own QN) before the 9012.
          { cn: '3022', params: { PolId: 'w01018' }, answers: [ready, done], table: '2025 instant retention' },
          { cn: '3024', params: { PolId: 'w01018' }, answers: [ready, done], table: '2025 standard check' },
          // The flow meter maps neither: not supported (QnRtn 2).
          { cn: '3022', params: { PolId: 'w00000' }, answers: ['9011 QnRtn=2'], table: 'unmapped', expectQnRtn: 2 },
          { cn: '3024', params: { PolId: 'w00000' }, answers: ['9011 QnRtn=2'], table: 'unmapped', expectQnRtn: 2 },
        ]
      : [
          { cn: '1002', params: { NewMN: MN }, answers: ['9011 QnRtn=8'], table: 'reserved in 2017', expectQnRtn: 8 },
          // Mapped, yet reserved codes of HJ 212-2017's table 9: refused as not supported, nothing runs.
          {
            cn: '3022',
            params: { PolId: 'w01018' },
            answers: ['9011 QnRtn=2'],
            table: '2017 reserved',
            expectQnRtn: 2,
          },
          {
            cn: '3024',
            params: { PolId: 'w01018' },
            answers: ['9011 QnRtn=2'],
            table: '2017 reserved',
            expectQnRtn: 2,
          },
        ];
  return [...STEPS.slice(0, at), ...extra, ...STEPS.slice(at)];
}

/** The sequence the report gives each exchange, and why it failed where it did. */
const summary = (e: ExchangeRecord) => ({ cn: e.cn, answers: e.answers, ok: e.ok });

async function walkThrough(version: '2017' | '2025') {
  // The box's day ends 20 simulated minutes in: 1 s real is 10 simulated minutes.
  const start = SIM_START - 20 * 60_000;
  const clock = warpedClock(600, start);
  const sim = await startSim(
    {
      tcp: { port: 0 },
      devices: [
        { unit: 1, profile: 'cod' },
        { unit: 4, profile: 'water-flow' },
      ],
      scenario: { seed: 1, start: new Date(start).toISOString(), signals: { cod: flat(48.5), 'water-flow': flat(20) } },
    },
    clock,
  );
  cleanups.push(() => sim.close());
  const station = { mn: MN, pw: PW, version, st: '32', ...(version === '2025' && { sm4Key: KEY }) };
  const steps = stepsFor(version);
  const history = steps.findIndex((s) => s.cn === '2051');
  const config: PlatformConfigInput = {
    port: 0,
    stations: [station],
    requestTimeout: '20s',
    sequential: true,
    script: steps.map((s, i) => ({
      // The first history request waits 4 s (40 simulated minutes, so past 00:20) for the simulated
      // midnight (2 s in) and the 00:00 minute record (closed at 00:10) to be in the box's history.
      after: i === history ? '4s' : 0,
      mn: MN,
      cn: s.cn,
      params: s.params ?? {},
      ...(s.expectQnRtn !== undefined && { expectQnRtn: s.expectQnRtn }),
    })),
  };
  const platform = new PlatformServer(PlatformConfigSchema.parse(config), {
    log: pino({ level: 'silent' }),
    now: clock,
  });
  const exchanges: ExchangeRecord[] = [];
  const uploads: { cn: string; cp: Packet['cp'] }[] = [];
  platform.on('exchange', (e) => exchanges.push(e));
  platform.on('upload', (u) => uploads.push(u));
  await platform.listen();
  let closed = false;
  const closePlatform = async () => {
    closed = true;
    return platform.close();
  };
  cleanups.push(async () => void (closed || (await closePlatform())));

  const data = await tempDir();
  cleanups.push(data.remove);
  const verdict = {
    address: CONTROL_REGISTERS.status,
    values: { '1': 'running', '2': 'success', '3': 'failure' },
    pollSeconds: 0.02,
  } as const;
  const device = (id: string, unit: number, code: string) => ({
    id,
    bus: 'line',
    unit,
    pollSeconds: 0.02,
    status: { address: 2 },
    factors: [{ code, value: { address: 0 }, decimals: 2 }],
  });
  const trigger = (coil: number) => ({ trigger: { coil }, verdict });
  const period = { startTime: { address: CONTROL_REGISTERS.startTime }, period: { address: CONTROL_REGISTERS.period } };
  const uplink = {
    id: 'province',
    kind: 'hj212-tcp' as const,
    host: '127.0.0.1',
    port: platform.port,
    pw: PW,
    version,
    ...(version === '2025' && { sm4Key: KEY }),
    timeoutSeconds: 1,
    retries: 2,
    reconnectMinSeconds: 0.1,
    reconnectMaxSeconds: 0.5,
  };
  const edgeConfig = waterOutlet(data.dir, sim.tcp!.port, platform.port, {
    clockTrusted: true,
    devices: [
      {
        ...device('cod', 1, 'w01018'),
        parameters: [{ info: 'i13001', address: 12 }],
        parametersPollSeconds: 0.2,
        // Coils 0-4 and the registers of the analyzer simulator's control block (docs/analyzer-simulator.md).
        control: {
          '3011': trigger(0),
          '3012': trigger(1),
          '3013': trigger(2),
          '3014': trigger(3),
          '3015': { ...trigger(4), vaseNo: { address: CONTROL_REGISTERS.vaseNo } },
          '3016': period,
          '3017': period,
          '3018': { stime: { address: CONTROL_REGISTERS.stime } },
          '3019': { sn: { address: CONTROL_REGISTERS.sn } },
          // HJ 212-2025: coil 5 and 6 (docs/analyzer-simulator.md), and the standard check's result registers.
          '3022': trigger(5),
          '3024': {
            ...trigger(6),
            result: {
              standard: { address: CONTROL_REGISTERS.checkStandard },
              measured: { address: CONTROL_REGISTERS.checkMeasured },
              passed: { address: CONTROL_REGISTERS.checkPassed, values: { '1': 'pass', '2': 'fail' } },
            },
          },
        },
      },
      device('flow', 4, 'w00000'),
    ],
    uplinks: [uplink],
  });
  const { logger } = memoryLogger();
  let agent: RunningAgent | undefined = await startAgent(edgeConfig, { logger, clock, tickMs: 25 });
  cleanups.push(async () => void (await agent?.close()));
  await until(() => exchanges.length === steps.length, `the ${steps.length} scripted exchanges`, 60_000);
  // A second start on the same data: its own 2081 (C.24), the script having run once per station.
  await agent.close();
  agent = await startAgent(edgeConfig, { logger, clock, tickMs: 25 });
  const boots = () => uploads.filter((u) => u.cn === '2081');
  await until(() => boots().length >= 2, "the second start's 2081");
  await agent.close();
  agent = undefined;
  const report = await closePlatform();
  return { exchanges, uploads, report };
}

describe.each(['2017', '2025'] as const)('every table-9 command, edge agent ↔ platform simulator (%s)', (version) => {
  it('answers each request as appendix C gives it; the report passes; one 2081 per start', async () => {
    const { exchanges, uploads, report } = await walkThrough(version);
    const text = renderReport(report);
    // Sequential: the exchanges finish in the script's order.
    const reasons = exchanges.flatMap((e) => (e.reason ? [`${e.cn}: ${e.reason}`] : [])).join('\n');
    expect(exchanges.map(summary), `${reasons}\n${text}`).toEqual(
      stepsFor(version).map((s) => ({ cn: s.cn, answers: s.answers, ok: true })),
    );
    const station = report.stations.find((s) => s.mn === MN)!;
    expect(station.versions).toEqual([version]);
    // For 2025 the pass also says every frame's CP was SM4 cipher text: the platform refuses a clear CP
    // from a station it holds a key for (unencrypted-cp).
    expect(station.verdict, text).toBe('pass');
    // 2081 (C.24) once per start, each with the start's RestartTime; no 2041 upload: the box has no facility.
    const boots = uploads.filter((u) => u.cn === '2081');
    expect(boots).toHaveLength(2);
    for (const b of boots) expect(b.cp.params['RestartTime']).toMatch(/^2025(0531|0601)\d{6}$/);
    expect(uploads.filter((u) => u.cn === '2041')).toEqual([]);
    // 3024 on the 2025 link: one 2062 with the simulator's default check, a 50 standard read 2 % high:
    // 50 × 1.02 = 51, two decimals as w01018 is configured; within the 10 % tolerance. None on 2017.
    const checks = uploads.filter((u) => u.cn === '2062').map((u) => u.cp.factors);
    expect(checks).toEqual(
      version === '2025' ? [{ w01018: { Check: '51.00', StandardValue: '50.00', Pass: '1', Flag: 'N' } }] : [],
    );
  });
});
