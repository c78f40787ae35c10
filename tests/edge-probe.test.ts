import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.js';
import { parseEdgeConfig } from '../edge/index.js';
import { formatProbe, probeDevices } from '../edge/probe.js';
import { formatUplinkProbe, probeUplinks } from '../edge/probe-uplinks.js';
import { MN, PW, startPlatform, tempDir } from './helpers/edge-agent.js';
import { minimalConfig } from './helpers/edge-config.js';
import type { ConfigInput } from './helpers/edge-config.js';
import { flat, startSim } from './helpers/edge-sim.js';
import { cloudPeer, startAedes } from './helpers/edge-broker.js';
import { commandExists, openPtyPair } from './helpers/pty.js';

/**
 * `hj212 edge probe` against the analyzer simulator: one device answering, one silent, one answering
 * exception 2 for a register its map lacks, one whose floats come word-swapped, and (RTU) one garbling
 * its replies. The simulator's built-in analyzers put a float32 reading at 0-1 and the status at 2;
 * 4-9 are unmapped on a TP analyzer.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const device = (id: string, bus: string, unit: number, code: string, address = 0) => ({
  id,
  bus,
  unit,
  status: { address: 2 },
  factors: [{ code, value: { address, type: 'float32' as const } }],
});

/** Rows of a device's table as cells (columns are separated by two spaces or more). */
function tableOf(text: string, id: string): { verdict: string; rows: string[][] } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`device ${id} `));
  expect(start, `a table for ${id}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  const body = lines.slice(start + 1, end).map((l) => l.trim().split(/ {2,}/));
  return { verdict: lines[start]!, rows: body };
}

const HEADER = ['factor', 'register', 'raw', 'value', 'sent (appendix B)', 'status', 'flag', 'error / hint'];
// 48.5 = 0x42420000; 30.5 = 0x41F40000, which a CDAB analyzer sends as 0000 41F4; read ABCD that is
// 0x000041F4, a denormal float: 16884 × 2^-149 = 2.365952e-41 (seven significant digits), sent as 0.000.
const COD_ROW = ['w01018', 'holding 0 float32', '4242 0000', '48.5', '48.5 mg/L', '0', 'N'];
const FLOW_ROW = [
  'w00000',
  'holding 0 float32',
  '0000 41F4',
  '2.365952e-41',
  '0 L/s',
  '0',
  'N',
  'hint: wordOrder: little reads 30.5',
];

const SIGNALS = {
  cod: flat(48.5),
  nh3n: flat(2.25, [{ kind: 'dropout' as const, from: 0 }]),
  'water-flow': flat(30.5),
  tp: flat(0.3),
};
const GARBLED_PH = { ph: flat(7.2, [{ kind: 'garbled' as const, from: 0, mode: 'bad-crc' as const }]) };

describe('hj212 edge probe', () => {
  it("shows the value in the analyzer's unit and what is sent in appendix B's", async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: [{ unit: 4, profile: 'water-flow' }],
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: { 'water-flow': flat(30.5) } },
    });
    cleanups.push(() => sim.close());
    const config: ConfigInput = minimalConfig();
    // The flow meter reports m3/h; appendix B's unit for w00000 is L/s.
    config.station = { ...config.station!, flow: { code: 'w00000', unit: 'm3/h' } };
    config.buses = [{ id: 'gw', kind: 'tcp', host: '127.0.0.1', port: sim.tcp!.port, timeoutMs: 500 }];
    const flowDevice = device('flow', 'gw', 4, 'w00000');
    config.devices = [{ ...flowDevice, factors: [{ ...flowDevice.factors[0]!, decimals: 3 }] }];
    const [probed] = await probeDevices(parseEdgeConfig(config, 'outlet.yaml'));
    // 30.5 m3/h = 30.5 × 1000 L / 3600 s = 8.47222… L/s, sent with 3 decimals: 8.472
    expect(probed!.factors[0]).toMatchObject({
      code: 'w00000',
      value: 30.5,
      readUnit: 'm3/h',
      sent: 8.472,
      unit: 'L/s',
    });
    expect(tableOf(formatProbe([probed!]), 'flow').rows[1]!.slice(3, 5)).toEqual(['30.5 m3/h', '8.472 L/s']);
  });

  it('over Modbus TCP: a table per device with the registers, values, flags and the exact errors', async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: [
        { unit: 1, profile: 'cod' },
        { unit: 2, profile: 'nh3n' },
        { unit: 4, profile: 'water-flow', wordOrder: 'little' },
        { unit: 5, profile: 'tp' },
      ],
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: SIGNALS },
    });
    cleanups.push(() => sim.close());
    const config: ConfigInput = minimalConfig();
    config.buses = [{ id: 'gw', kind: 'tcp', host: '127.0.0.1', port: sim.tcp!.port, timeoutMs: 200 }];
    config.devices = [
      device('cod', 'gw', 1, 'w01018'),
      device('nh3n', 'gw', 2, 'w21003'),
      device('flow', 'gw', 4, 'w00000'),
      device('tp', 'gw', 5, 'w21011', 6),
      // no analyzer at unit 9 behind the gateway
      device('ghost', 'gw', 9, 'w01001'),
    ];
    // a treatment facility whose run state is the COD analyzer's status register (0 here)
    config.facilities = [{ code: 'SB1', bus: 'gw', unit: 1, state: { address: 2 } }];
    const data = await tempDir();
    cleanups.push(data.remove);
    const file = join(data.dir, 'outlet.yaml');
    await writeFile(file, stringify(config));

    let out = '';
    const io = {
      stdin: process.stdin,
      stdout: { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
    };
    // exit 1: not every device answered well
    expect(await runCli(['edge', 'probe', '--config', file], io)).toBe(1);

    expect(tableOf(out, 'cod')).toEqual({ verdict: 'device cod (bus gw, unit 1): ok', rows: [HEADER, COD_ROW] });
    expect(tableOf(out, 'nh3n')).toEqual({
      verdict: 'device nh3n (bus gw, unit 2): FAILED',
      rows: [
        HEADER,
        [
          'w21003',
          'holding 0 float32',
          '-',
          '-',
          '-',
          '-',
          '-',
          // value (0-1) and status (2) are one read
          'no answer from unit 2 within 200 ms (timeout) reading registers 0-2 ' +
            '(holding) of factor w21003, the device status',
        ],
      ],
    });
    expect(tableOf(out, 'flow')).toEqual({
      verdict: 'device flow (bus gw, unit 4): answers; CHECK 1 factor that reads an implausible value',
      rows: [HEADER, FLOW_ROW],
    });
    expect(tableOf(out, 'tp')).toEqual({
      verdict: 'device tp (bus gw, unit 5): FAILED',
      rows: [
        HEADER,
        [
          'w21011',
          'holding 6 float32',
          '-',
          '-',
          '-',
          '-',
          '-',
          // the value alone, read again to name the register at fault
          'unit 5 answered with exception 2 (illegal data address) for registers 6-7 (holding) of factor w21011',
        ],
      ],
    });
    expect(tableOf(out, 'facility-SB1')).toEqual({
      verdict: 'device facility-SB1 (bus gw, unit 1): ok',
      rows: [HEADER, ['SB1', 'holding 2 uint16', '0000', '0', '0', '-', 'N']],
    });
    // the gateway's answer holds for the whole device: no second read per factor
    expect(tableOf(out, 'ghost').rows[1]?.at(-1)).toBe(
      'unit 9 answered with exception 11 (gateway target device failed to respond) for registers 0-2 (holding) of ' +
        'factor w01001, the device status',
    );
  });

  it.skipIf(!commandExists('socat'))(
    'over Modbus RTU on a pty pair, where a garbled reply is a CRC error',
    async () => {
      const pty = await openPtyPair();
      cleanups.push(() => pty.close());
      const sim = await startSim({
        rtu: { path: pty.a, baudRate: 19200 },
        devices: [
          { unit: 1, profile: 'cod' },
          { unit: 2, profile: 'nh3n' },
          { unit: 3, profile: 'ph' },
          { unit: 4, profile: 'water-flow', wordOrder: 'little' },
          { unit: 5, profile: 'tp' },
        ],
        scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: { ...SIGNALS, ...GARBLED_PH } },
      });
      cleanups.push(() => sim.close());
      const config = minimalConfig();
      config.buses = [{ id: 'rs485', kind: 'rtu', path: pty.b, baudRate: 19200, timeoutMs: 200 }];
      config.devices = [
        device('cod', 'rs485', 1, 'w01018'),
        device('nh3n', 'rs485', 2, 'w21003'),
        device('ph', 'rs485', 3, 'w01001'),
        device('flow', 'rs485', 4, 'w00000'),
        device('tp', 'rs485', 5, 'w21011', 6),
      ];
      const results = await probeDevices(parseEdgeConfig(config));
      const out = formatProbe(results);
      expect(tableOf(out, 'cod').rows).toEqual([HEADER, COD_ROW]);
      expect(tableOf(out, 'nh3n').rows[1]?.at(-1)).toBe(
        'no answer from unit 2 within 200 ms (timeout) reading registers 0-2 ' +
          '(holding) of factor w21003, the device status',
      );
      // after the failed read of 0-2, the value alone (0-1) is read again and fails the same way
      expect(tableOf(out, 'ph').rows[1]?.at(-1)).toBe(
        "unit 3's reply failed its CRC check reading registers 0-1 (holding) of factor w01001 (noise, wrong baud " +
          'rate or parity, or two slaves with one id)',
      );
      expect(tableOf(out, 'flow').rows).toEqual([HEADER, FLOW_ROW]);
      expect(tableOf(out, 'tp').rows[1]?.at(-1)).toBe(
        'unit 5 answered with exception 2 (illegal data address) for registers 6-7 (holding) of factor w21011',
      );
      expect(results.find((r) => r.device === 'cod')?.factors[0]).toMatchObject({ value: 48.5, flag: 'N', status: 0 });
    },
  );

  it("names the bus's maxGap when one read across a gap fails but each register answers alone", async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: [{ unit: 1, profile: 'cod' }],
      scenario: { seed: 1, start: '2025-06-01T00:00:00+08:00', signals: { cod: SIGNALS.cod } },
    });
    cleanups.push(() => sim.close());
    const config = minimalConfig();
    // The status at 2 and a float at 12-13 (the COD analyzer's range, 500 = 0x43FA0000) are 9 registers
    // apart (12 - 3): with maxGap 10 the agent reads 2-13 in one request, and 4-9 are not mapped.
    config.buses = [{ id: 'gw', kind: 'tcp', host: '127.0.0.1', port: sim.tcp!.port, timeoutMs: 200, maxGap: 10 }];
    config.devices = [device('cod', 'gw', 1, 'w01018', 12)];
    const [result] = await probeDevices(parseEdgeConfig(config));
    expect(result?.error).toBe(
      'unit 1 answered with exception 2 (illegal data address) for registers 2-13 (holding) of factor w01018, the ' +
        'device status, although each register answers alone: the agent reads them in one request; lower the ' +
        "bus's maxGap below the gap between them",
    );
    expect(result?.factors).toEqual([
      {
        code: 'w01018',
        register: 'holding 12 float32',
        raw: ['43FA', '0000'],
        value: 500,
        sent: 500,
        unit: 'mg/L',
        status: 0,
        flag: 'N',
      },
    ]);
    expect(tableOf(formatProbe([result!]), 'cod').verdict).toBe('device cod (bus gw, unit 1): CHECK the read plan');
  });

  it('a bus that does not open fails each of its devices with the reason', async () => {
    const config = minimalConfig();
    config.buses = [{ id: 'rs485', kind: 'rtu', path: '/dev/hj212-no-such-adapter', timeoutMs: 200 }];
    config.devices = [device('cod', 'rs485', 1, 'w01018'), device('nh3n', 'rs485', 2, 'w21003')];
    const results = await probeDevices(parseEdgeConfig(config));
    expect(results.map((r) => [r.device, r.factors.length])).toEqual([
      ['cod', 0],
      ['nh3n', 0],
    ]);
    expect(results[0]?.error).toMatch(/^cannot open bus rs485 \(\/dev\/hj212-no-such-adapter\): .*No such file/);
    expect(formatProbe(results).split('\n').slice(0, 2)).toEqual([
      'device cod (bus rs485, unit 1): FAILED',
      `  ${results[0]!.error!}`,
    ]);
    // the same through the CLI as JSON, exit 1
    const data = await tempDir();
    cleanups.push(data.remove);
    const file = join(data.dir, 'outlet.yaml');
    await writeFile(file, stringify(config));
    let out = '';
    const io = {
      stdin: process.stdin,
      stdout: { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
    };
    expect(await runCli(['edge', 'probe', '--config', file, '--json'], io)).toBe(1);
    expect(JSON.parse(out)).toEqual({ ok: false, devices: results });
  });

  it('--uplinks over MQTT: the cloud answers on the down topic; a wrong login is the broker refusing it', async () => {
    const broker = await startAedes({ [MN]: 'secret', cloud: 'cloud-secret' });
    cleanups.push(() => broker.close());
    const cloud = await cloudPeer(broker.url, 'cloud', 'cloud-secret');
    cleanups.push(() => cloud.close());
    const config = minimalConfig();
    const mqtt = (id: string, password: string) => ({
      id,
      kind: 'mqtt' as const,
      url: broker.url,
      username: MN,
      password,
      pw: PW,
      timeoutSeconds: 2,
    });
    config.uplinks = [mqtt('cloud', 'secret'), mqtt('typo', 'secrte')];
    const results = await probeUplinks(parseEdgeConfig(config));
    expect(results.map((r) => [r.uplink, r.verdict])).toEqual([
      ['cloud', 'answers'],
      ['typo', 'refuses-pw'],
    ]);
    // the stand-in cloud answers every frame that asks for an answer with 9014
    expect(results[0]?.detail).toBe('9014');
    expect(results[1]?.detail).toMatch(/^the broker refuses the login: .* \(check username and password\)$/);
    expect(cloud.received.map((p) => p.cn)).toEqual(['1013']);
  });

  it('--uplinks: says which platform answers and which refuses the PW or the MN', async () => {
    const platform = await startPlatform();
    cleanups.push(async () => void (await platform.server.close()));
    // An HJ/T 212-2005 platform knows the station by a 14-character MN (HJ/T 212-2005 6.3.2).
    const LEGACY_MN = '88888880000001';
    const legacyPlatform = await startPlatform(0, undefined, { mn: LEGACY_MN, version: '2005' });
    cleanups.push(async () => void (await legacyPlatform.server.close()));
    // a port nothing listens on: bound, then released
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const config = minimalConfig();
    const tcp = (id: string, extra: object) => ({
      id,
      kind: 'hj212-tcp' as const,
      host: '127.0.0.1',
      port: platform.port,
      pw: PW,
      timeoutSeconds: 2,
      ...extra,
    });
    config.uplinks = [
      tcp('province', {}),
      tcp('wrong-pw', { pw: 'zz9999' }),
      tcp('wrong-mn', { mn: '010000A8900016F000169DC1' }),
      tcp('legacy', { version: '2005', mn: LEGACY_MN, port: legacyPlatform.port }),
      tcp('offline', { port: closed }),
    ];
    const results = await probeUplinks(parseEdgeConfig(config));
    expect(results.map((r) => [r.uplink, r.verdict, r.detail])).toEqual([
      ['province', 'answers', '9013'],
      ['wrong-pw', 'refuses-pw', '9011 QnRtn=3 (Wrong password (PW))'],
      ['wrong-mn', 'refuses-mn', '9011 QnRtn=4 (Wrong device id (MN))'],
      // HJ/T 212-2005 has no 1013: the logger time (1011) goes up with the A bit and 9014 answers it
      ['legacy', 'answers', '9014'],
      ['offline', 'unreachable', expect.stringMatching(/ECONNREFUSED/)],
    ]);
    expect(formatUplinkProbe(results)).toContain(
      `uplink wrong-pw (hj212-tcp 127.0.0.1:${platform.port}, MN ${MN}): REFUSES THE PW: ask the platform for the ` +
        'access password it issued to this MN (uplinks[].pw)',
    );
  });
});
