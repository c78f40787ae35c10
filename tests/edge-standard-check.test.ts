import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { StreamDecoder, dataAnswer, encodeFrame, needsAck } from '../protocol/index.js';
import type { Packet } from '../protocol/index.js';
import { CONTROL_REGISTERS } from '../simulators/analyzer/control.js';
import { PlatformConfigSchema, PlatformServer } from '../simulators/platform/index.js';
import type { ExchangeRecord } from '../simulators/platform/index.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';
import { TOOLS } from './helpers/common.js';
import { requestBytes } from './helpers/fuzz-edge.js';
import { openPtyPair } from './helpers/pty.js';

/**
 * HJ 212-2025's 3022 (instant sample retention) and 3024 (start a standard check, its result uploaded as
 * 2062; docs/protocol-2025.md) end to end: the platform simulator in front of the edge agent, with a 2025
 * station (SM4) and a 2017 station (another MN) on two uplinks, the analyzer simulator behind it over
 * Modbus TCP (and once over RTU on a socat pty pair). The COD analyzer (unit 1) checks a 50 mg/L standard and reads 1.5
 * % high: 50 × 1.015 = 50.75, within its 10 % tolerance; the NH3-N analyzer (unit 2) checks a 2 mg/L standard 12 %
 * low: 2 × 0.88 = 1.76, outside it. The flow meter (unit 4) maps no control.
 */

const KEY = '0123456789ABCDEF0123456789ABCDEF';
const MN_2017 = '010000A8900016F000169DC1';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** What the platform saw, in the order it saw it: uploads and finished exchanges. */
type Event =
  { kind: 'upload'; mn: string; cn: string; cp: Packet['cp'] } | { kind: 'exchange'; record: ExchangeRecord };

async function setup(transport: 'tcp' | 'rtu' = 'tcp') {
  const clock = warpedClock(1);
  const pty = transport === 'rtu' ? await openPtyPair() : undefined;
  if (pty) cleanups.push(() => pty.close());
  const sim = await startSim(
    {
      ...(pty ? { rtu: { path: pty.a, baudRate: 19200 } } : { tcp: { port: 0 } }),
      devices: [
        { unit: 1, profile: 'cod', standardCheck: { seconds: 1, standard: 50, biasPercent: 1.5 } },
        { unit: 2, profile: 'nh3n', standardCheck: { seconds: 1, standard: 2, biasPercent: -12 } },
        { unit: 4, profile: 'water-flow' },
      ],
      scenario: { seed: 1, signals: { cod: flat(48.5), nh3n: flat(1.2), 'water-flow': flat(20) } },
    },
    clock,
  );
  cleanups.push(() => sim.close());
  const platform = new PlatformServer(
    PlatformConfigSchema.parse({
      port: 0,
      stations: [
        { mn: MN, pw: PW, st: '32', version: '2025', sm4Key: KEY },
        { mn: MN_2017, pw: PW, st: '32', version: '2017' },
      ],
      requestTimeout: '20s',
    }),
    { log: pino({ level: 'silent' }), now: clock },
  );
  const events: Event[] = [];
  platform.on('upload', (u: { mn: string; cn: string; cp: Packet['cp'] }) =>
    events.push({ kind: 'upload', mn: u.mn, cn: u.cn, cp: u.cp }),
  );
  platform.on('exchange', (record: ExchangeRecord) => events.push({ kind: 'exchange', record }));
  await platform.listen();
  cleanups.push(async () => void (await platform.close()));

  const data = await tempDir();
  cleanups.push(data.remove);
  const verdict = {
    address: CONTROL_REGISTERS.status,
    values: { '1': 'running', '2': 'success', '3': 'failure' },
    pollSeconds: 0.1,
    timeoutSeconds: 20,
  } as const;
  const device = (id: string, unit: number, code: string) => ({
    id,
    bus: 'line',
    unit,
    pollSeconds: 0.05,
    status: { address: 2 },
    factors: [{ code, value: { address: 0 }, decimals: 2 }],
  });
  const result = {
    standard: { address: CONTROL_REGISTERS.checkStandard },
    measured: { address: CONTROL_REGISTERS.checkMeasured },
    passed: { address: CONTROL_REGISTERS.checkPassed, values: { '1': 'pass', '2': 'fail' } },
  } as const;
  const control = {
    '3022': { trigger: { coil: 5 }, verdict },
    // The action register (9001) instead of the coil: action 7 is the standard check.
    '3024': { trigger: { register: CONTROL_REGISTERS.action, value: 7 }, verdict, result },
  };
  const uplink = (id: string, mn: string, version: '2017' | '2025') => ({
    id,
    kind: 'hj212-tcp' as const,
    host: '127.0.0.1',
    port: platform.port,
    pw: PW,
    mn,
    version,
    ...(version === '2025' && { sm4Key: KEY }),
    timeoutSeconds: 1,
    retries: 2,
    reconnectMinSeconds: 0.1,
    reconnectMaxSeconds: 0.5,
  });
  const config = waterOutlet(data.dir, sim.tcp?.port ?? 0, platform.port, {
    ...(pty && {
      buses: [{ id: 'line', kind: 'rtu', path: pty.b, baudRate: 19200, timeoutMs: 300, backoffMaxSeconds: 0.5 }],
    }),
    devices: [
      { ...device('cod', 1, 'w01018'), control },
      { ...device('nh3n', 2, 'w21003'), control },
      device('flow', 4, 'w00000'),
    ],
    uplinks: [uplink('province', MN, '2025'), uplink('city', MN_2017, '2017')],
  });
  const { logger } = memoryLogger();
  const agent = await startAgent(config, { logger, clock, tickMs: 25 });
  cleanups.push(() => agent.close());
  // Both stations are connected once their 2081 came.
  await until(
    () => [MN, MN_2017].every((mn) => events.some((e) => e.kind === 'upload' && e.mn === mn && e.cn === '2081')),
    'both uplinks to connect',
  );

  /** Sends a request and waits for its exchange to finish; returns it with the events seen meanwhile. */
  const ask = async (mn: string, cn: string, params: Record<string, string>, expectQnRtn?: number) => {
    const from = events.length;
    const record = platform.issue({ mn, cn, params, ...(expectQnRtn !== undefined && { expectQnRtn }) });
    await until(() => record.done, `the answers to ${cn}`, 20_000);
    const seen = events.slice(from);
    return { record, seen };
  };
  const checks = (mn: string) =>
    events.flatMap((e) => (e.kind === 'upload' && e.mn === mn && e.cn === '2062' ? [e.cp] : []));
  return { sim, ask, checks, events };
}

describe('HJ 212-2025 3022 and 3024 through the edge agent', () => {
  it(
    '3024: 9011 QnRtn=1, the 2062 with the analyzer’s result (through ' +
      'the outbox, 9014 answered), then 9012 ExeRtn=1',
    async () => {
      const { ask, checks } = await setup();
      const { record, seen } = await ask(MN, '3024', { PolId: 'w01018' });
      // The 2062 has a QN of its own (an upload of the outbox), so it is not one of the exchange's answers.
      expect(record.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=1']);
      expect(record.ok, record.reason).toBe(true);
      // It arrived before the exchange ended, i.e. before the 9012.
      const order = seen.map((e) => (e.kind === 'upload' ? e.cn : `exchange ${e.record.cn}`));
      // (The platform's own 1012s, answering the box's 1013 at connection, may come in between.)
      expect(order.filter((x) => x === '2062' || x === 'exchange 3024')).toEqual(['2062', 'exchange 3024']);
      const [cp] = checks(MN);
      // 50 × (1 + 1.5 / 100) = 50.75, two decimals as configured for w01018; |1.5 %| ≤ 10 %: passed.
      expect(cp!.factors).toEqual({ w01018: { Check: '50.75', StandardValue: '50.00', Pass: '1', Flag: 'N' } });
      expect(cp!.params['DataTime']).toMatch(/^20250601\d{6}$/);
    },
  );

  it(
    '3024 of an analyzer outside its tolerance: still ExeRtn=1 (the check ' +
      'ran), 2062 with Pass=0; none to the 2017 platform',
    async () => {
      const { ask, checks, sim } = await setup();
      const { record } = await ask(MN, '3024', { PolId: 'w21003' });
      expect(record.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=1']);
      // 2 × (1 − 12 / 100) = 1.76; |−12 %| > 10 %: failed (register 9020 = 2).
      expect(checks(MN).map((cp) => cp.factors)).toEqual([
        { w21003: { Check: '1.76', StandardValue: '2.00', Pass: '0', Flag: 'N' } },
      ]);
      expect(sim.devices.get(2)!.control.read(CONTROL_REGISTERS.checkPassed, 1)).toEqual([2]);
      // 2062 is an HJ 212-2025 upload: the 2017 uplink's outbox never took it, so nothing came on MN_2017.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(checks(MN_2017)).toEqual([]);
    },
  );

  it(
    '3022 retains a sample (the bottle counts up); unmapped and ' + '2017 requests are refused with 9011 QnRtn=2',
    async () => {
      const { ask, sim } = await setup();
      const retained = await ask(MN, '3022', { PolId: 'w01018' });
      expect(retained.record.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=1']);
      expect(retained.record.ok, retained.record.reason).toBe(true);
      // Action 6 (instant retention) ran once and took bottle 1.
      expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.action, 1)).toEqual([6]);
      expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.vaseNo, 1)).toEqual([1]);
      // The flow meter maps no control; on the 2017 link 3022/3024 are reserved codes of table 9.
      for (const [mn, cn, polId] of [
        [MN, '3022', 'w00000'],
        [MN, '3024', 'w00000'],
        [MN_2017, '3022', 'w01018'],
        [MN_2017, '3024', 'w01018'],
      ] as const) {
        const { record } = await ask(mn, cn, { PolId: polId }, 2);
        expect(record.answers, `${mn} ${cn} ${polId}`).toEqual(['9011 QnRtn=2']);
        expect(record.ok).toBe(true);
      }
      // Nothing ran on the analyzer for the refused 3022/3024 of the 2017 link: still one retention, no check.
      expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.completed, 1)).toEqual([1]);
      expect(sim.devices.get(1)!.control.read(CONTROL_REGISTERS.checkPassed, 1)).toEqual([0]);
    },
  );
});

/**
 * A 2025 platform (clear CP: the uplink has no SM4 key) that answers 9014 to every upload but a 2062 while
 * `hold` is set, recording every packet with the connection it came on.
 */
async function withholdingPlatform() {
  const received: { packet: Packet; connection: number }[] = [];
  const sockets: Socket[] = [];
  const state = { hold: true };
  const server = createServer((socket) => {
    const connection = sockets.push(socket);
    socket.on('error', () => undefined);
    const decoder = new StreamDecoder({ mode: 'lenient' });
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (!r.ok) continue;
        const packet = r.frame.packet;
        received.push({ packet, connection });
        if (packet.cn === '2062' && state.hold) continue;
        if (needsAck(packet.flag) && !socket.destroyed) socket.write(encodeFrame(dataAnswer(packet)));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    state,
    connected: () => sockets.some((s) => !s.destroyed),
    write: (bytes: Buffer) =>
      sockets
        .filter((s) => !s.destroyed)
        .at(-1)
        ?.write(bytes),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe.skipIf(!TOOLS.socat())('3024 over Modbus RTU (a socat pty pair)', () => {
  it('the same exchange and 2062 with the analyzer behind a serial line', async () => {
    const { ask, checks } = await setup('rtu');
    const { record } = await ask(MN, '3024', { PolId: 'w01018' });
    expect(record.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=1']);
    expect(record.ok, record.reason).toBe(true);
    expect(checks(MN).map((cp) => cp.factors)).toEqual([
      { w01018: { Check: '50.75', StandardValue: '50.00', Pass: '1', Flag: 'N' } },
    ]);
  });
});

describe('the 2062 goes through the durable outbox', () => {
  it(
    'unanswered: resent, the 9012 after timeout × (retries + 1); still in the ' +
      'outbox after a restart, sent with its QN until its 9014',
    async () => {
      const clock = warpedClock(1);
      const sim = await startSim(
        {
          tcp: { port: 0 },
          devices: [
            { unit: 1, profile: 'cod', standardCheck: { seconds: 0.5, standard: 50, biasPercent: 1.5 } },
            { unit: 4, profile: 'water-flow' },
          ],
          scenario: { seed: 1, signals: { cod: flat(48.5), 'water-flow': flat(20) } },
        },
        clock,
      );
      cleanups.push(() => sim.close());
      const platform = await withholdingPlatform();
      cleanups.push(platform.close);
      const data = await tempDir();
      cleanups.push(data.remove);
      const device = (id: string, unit: number, code: string) => ({
        id,
        bus: 'line',
        unit,
        pollSeconds: 0.05,
        status: { address: 2 },
        factors: [{ code, value: { address: 0 }, decimals: 2 }],
      });
      const verdict = {
        address: CONTROL_REGISTERS.status,
        values: { '1': 'running', '2': 'success' },
        pollSeconds: 0.1,
      } as const;
      const config = waterOutlet(data.dir, sim.tcp!.port, platform.port, {
        devices: [
          {
            ...device('cod', 1, 'w01018'),
            control: {
              '3024': {
                trigger: { coil: 6 },
                verdict,
                result: {
                  standard: { address: CONTROL_REGISTERS.checkStandard },
                  measured: { address: CONTROL_REGISTERS.checkMeasured },
                },
              },
            },
          },
          device('flow', 4, 'w00000'),
        ],
        uplinks: [
          {
            id: 'province',
            kind: 'hj212-tcp',
            host: '127.0.0.1',
            port: platform.port,
            pw: PW,
            version: '2025',
            // One resend a second apart: 2 s from the 2062's first transmission to the 9012.
            timeoutSeconds: 1,
            retries: 1,
            reconnectMinSeconds: 0.1,
            reconnectMaxSeconds: 0.2,
          },
        ],
      });
      const { logger, lines } = memoryLogger();
      let agent = await startAgent(config, { logger, clock, tickMs: 25 });
      cleanups.push(() => agent.close());
      await until(platform.connected, 'the edge to connect');
      const qn = '20250601000000001';
      platform.write(requestBytes({ qn, st: '32', cn: '3024', pw: PW, mn: MN, flag: '9' }, 'PolId=w01018'));
      const of = (p: Packet) => p.qn === qn || p.cn === '2062';
      await until(
        () => platform.received.some((r) => r.packet.cn === '9012' && r.packet.qn === qn),
        'the 9012',
        15_000,
      ).catch((e: Error) => {
        // What the platform got and what the edge logged, to tell a slow machine from a lost answer.
        const got = platform.received.map((r) => `${r.packet.cn} ${r.packet.qn}`).join(', ');
        throw new Error(
          `${e.message}\nreceived: ${got}\n${lines
            .slice(-30)
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        );
      });
      const seen = platform.received.filter((r) => of(r.packet)).map((r) => r.packet);
      const checkQn = seen.find((p) => p.cn === '2062')!.qn!;
      // 9011, the 2062 sent and resent once (same QN, no 9014), then the 9012 once the record was given up on.
      expect(seen.map((p) => [p.cn, p.cn === '2062' ? p.qn === checkQn : p.cp.params])).toEqual([
        ['9011', { QnRtn: '1' }],
        ['2062', true],
        ['2062', true],
        ['9012', { ExeRtn: '1' }],
      ]);
      expect(seen[1]!.cp.factors).toEqual({ w01018: { Check: '50.75', StandardValue: '50.00', Flag: 'N' } });
      expect(
        lines.some(
          (l) => l['msg'] === 'standard-check data not confirmed yet; 9012 sent, the 2062 stays in the outbox',
        ),
      ).toBe(true);
      // Restarted on the same data, the record is still there: it goes again with its QN; answered, it stops.
      await agent.close();
      // What the first run wrote last has been read before counting.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = platform.received.length;
      platform.state.hold = false;
      agent = await startAgent(config, { logger, clock, tickMs: 25 });
      await until(
        () => platform.received.slice(before).some((r) => r.packet.cn === '2062' && r.packet.qn === checkQn),
        'the 2062 after the restart',
        15_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = platform.received.slice(before).filter((r) => r.packet.cn === '2062');
      // Sent once after the restart (answered at once: no resend); the analyzer ran no second check.
      expect(after.map((r) => r.packet.qn)).toEqual([checkQn]);
      expect(after[0]!.packet.cp.factors).toEqual(seen[1]!.cp.factors);
    },
  );
});
