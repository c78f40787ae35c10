import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import { BusPoller } from '../edge/modbus.js';
import type { DevicePoll } from '../edge/modbus.js';
import type { RunningAnalyzerSimulator } from '../simulators/analyzer/index.js';
import { minimalConfig } from './helpers/edge-config.js';
import type { ConfigInput } from './helpers/edge-config.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';
import { TOOLS } from './helpers/common.js';
import { openPtyPair } from './helpers/pty.js';
import type { PtyPair } from './helpers/pty.js';

/**
 * The bus poller against the analyzer simulator over real Modbus TCP (loopback) and RTU (a socat
 * pty pair). Signals are flat, so every value read is exact.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function devices(bus: string): ConfigInput['devices'] {
  const dev = (id: string, unit: number, code: string, extra: object = {}) => ({
    id,
    bus,
    unit,
    pollSeconds: 0.1,
    status: { address: 2 },
    factors: [{ code, value: { address: 0, type: 'float32' as const, ...extra } }],
  });
  return [
    dev('cod', 1, 'w01018'),
    dev('nh3n', 2, 'w21003'),
    {
      ...dev('flow', 4, 'w00000', { wordOrder: 'little' }),
      parameters: [{ info: 'i13001', address: 12, type: 'float32' as const, wordOrder: 'little' as const }],
    },
    dev('ghost', 9, 'w01001'),
  ];
}

function startPoller(config: ConfigInput) {
  const parsed = parseEdgeConfig(config);
  const polls: DevicePoll[] = [];
  const parameters: Record<string, Record<string, number>> = {};
  const { logger, lines } = memoryLogger();
  const poller = new BusPoller(parsed.buses[0]!, parsed.devices, {
    logger,
    now: () => SIM_START,
    onPoll: (p) => polls.push(p),
    onParameters: (device, values) => (parameters[device] = values),
  });
  poller.start();
  cleanups.push(() => poller.stop());
  const of = (device: string) => polls.filter((p) => p.device === device);
  return { poller, polls, of, parameters, lines };
}

const SIGNALS = { cod: flat(48.5), nh3n: flat(2.25, [{ kind: 'dropout', from: 0 }]), 'water-flow': flat(30.5) };
const SIM_DEVICES = [
  { unit: 1, profile: 'cod' },
  { unit: 2, profile: 'nh3n' },
  { unit: 4, profile: 'water-flow', wordOrder: 'little' as const },
];

describe('Modbus TCP', () => {
  it('reads several units, B-flags the silent and the missing ones without stalling the others', async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: SIM_DEVICES,
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: SIGNALS },
    });
    cleanups.push(() => sim.close());
    const config = minimalConfig();
    config.buses = [
      { id: 'line', kind: 'tcp', host: '127.0.0.1', port: sim.tcp!.port, timeoutMs: 250, backoffMaxSeconds: 1 },
    ];
    config.devices = devices('line');
    const { of, parameters, poller, lines } = startPoller(config);

    await until(() => of('cod').length >= 15, '15 COD polls');
    expect(of('cod').every((p) => p.readings[0]?.flag === 'N' && p.readings[0].value === 48.5)).toBe(true);
    // word-swapped (CDAB) float read with wordOrder little
    expect(of('flow').at(-1)?.readings).toEqual([{ code: 'w00000', value: 30.5, flag: 'N' }]);
    expect(parameters['flow']).toEqual({ i13001: 200 });
    // the dropout unit times out; the unsimulated one gets exception 0x0B from the gateway
    expect(of('nh3n').length).toBeGreaterThan(3);
    expect(of('nh3n').every((p) => p.readings[0]?.flag === 'B' && Number.isNaN(p.readings[0].value))).toBe(true);
    // the value (0-1) and the status (2) of each device are one read of registers 0-2
    expect(of('nh3n')[0]?.error).toBe(
      'no answer from unit 2 within 250 ms (timeout) reading registers 0-2 ' +
        '(holding) of factor w21003, the device status',
    );
    expect(of('ghost')[0]?.error).toBe(
      'unit 9 answered with exception 11 (gateway target device failed to respond) for registers 0-2 (holding) of ' +
        'factor w01001, the device status',
    );
    expect(poller.health['nh3n']).toMatchObject({ bus: 'line', failures: expect.any(Number) });
    expect(poller.health['cod']).toMatchObject({ lastOkAt: SIM_START, failures: 0 });
    expect(lines.some((l) => l['device'] === 'nh3n' && l['msg'] === 'device lost; its data is B-flagged')).toBe(true);
  });

  it('reopens the connection when the gateway restarts, holding the last value with B meanwhile', async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: SIM_DEVICES.slice(0, 1),
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: { cod: flat(48.5) } },
    });
    const port = sim.tcp!.port;
    const config = minimalConfig();
    config.buses = [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port, timeoutMs: 250, backoffMaxSeconds: 0.3 }];
    config.devices = devices('line').slice(0, 1);
    const { of } = startPoller(config);
    await until(() => of('cod').length >= 3, 'first polls');
    await sim.close();
    await until(() => of('cod').some((p) => p.readings[0]?.flag === 'B'), 'B-flagged polls while the gateway is down');
    expect(of('cod').find((p) => p.error)?.readings[0]?.value).toBe(48.5);
    const again: RunningAnalyzerSimulator = await startSim({
      tcp: { port },
      devices: SIM_DEVICES.slice(0, 1),
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: { cod: flat(60) } },
    });
    cleanups.push(() => again.close());
    await until(() => of('cod').at(-1)?.readings[0]?.value === 60, 'readings after the gateway came back');
    expect(of('cod').at(-1)?.readings[0]?.flag).toBe('N');
  });
});

describe.skipIf(!TOOLS.socat())('Modbus RTU on a pty pair', () => {
  let pty: PtyPair;

  it(
    'polls units on one serial line; a calibration status becomes C; an ' +
      'absent or garbling slave does not stall the line',
    async () => {
      pty = await openPtyPair();
      cleanups.push(() => pty.close());
      const signals = {
        cod: flat(48.5, [{ kind: 'calibration', from: 0, value: 100 }]),
        'water-flow': flat(30.5),
        tp: flat(0.3, [{ kind: 'garbled', from: 0, mode: 'bad-crc' }]),
      };
      const sim = await startSim({
        rtu: { path: pty.a, baudRate: 19200 },
        devices: [SIM_DEVICES[0]!, SIM_DEVICES[2]!, { unit: 5, profile: 'tp' }],
        scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals },
      });
      cleanups.push(() => sim.close());
      const config = minimalConfig();
      // named through a symlink, as /dev/serial/by-id names an adapter whatever ttyUSB number it got
      const links = await mkdtemp(join(tmpdir(), 'edge-by-id-'));
      cleanups.push(() => rm(links, { recursive: true, force: true }));
      await symlink(pty.b, join(links, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));
      config.buses = [
        {
          id: 'rs485',
          kind: 'rtu',
          path: join(links, 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'),
          baudRate: 19200,
          timeoutMs: 200,
          backoffMaxSeconds: 2,
        },
      ];
      const tp = { ...devices('rs485')[0]!, id: 'tp', unit: 5, factors: [{ code: 'w21011', value: { address: 0 } }] };
      config.devices = [...devices('rs485').filter((d) => d.id !== 'nh3n'), tp];
      const { of } = startPoller(config);
      await until(() => of('flow').length >= 8 && of('ghost').length >= 4 && of('tp').length >= 4, '8 flow polls');
      // replies with a broken CRC are errors that name the cause, never values
      expect(of('tp').every((p) => p.readings[0]?.flag === 'B')).toBe(true);
      expect(of('tp')[0]?.error).toMatch(/CRC/i);
      expect(of('cod').at(-1)?.readings).toEqual([{ code: 'w01018', value: 100, flag: 'C' }]);
      expect(of('flow').every((p) => p.readings[0]?.value === 30.5 && p.readings[0].flag === 'N')).toBe(true);
      expect(of('ghost').every((p) => p.readings[0]?.flag === 'B')).toBe(true);
    },
  );
});
