import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Modbus } from '../protocol/crc.js';
import {
  AnalyzerConfigError,
  AnalyzerDevice,
  BUILTIN_PROFILES,
  REGISTER_MAP_BEGIN,
  REGISTER_MAP_END,
  commsAt,
  handlePdu,
  lastCalibrationAt,
  parseAnalyzerConfig,
  parseScenarioYaml,
  planSimulation,
  profileSchema,
  readingAt,
  registerImage,
  renderRegisterMap,
  resolveSignal,
  RtuRequestFramer,
  rtuReply,
  silentIntervalMs,
  scenarioSchema,
  totalBetween,
  warpedClock,
} from '../simulators/analyzer/index.js';
import { durationMs } from '../simulators/shared/duration.js';
import type { AnalyzerProfile, AnalyzerProfileInput, SimClock } from '../simulators/analyzer/index.js';
import { decodeValue, encodeValue } from '../modbus/registers.js';
import type { RegisterEncoding } from '../modbus/registers.js';

const START_ISO = '2025-06-01T00:00:00+08:00'; // midnight, China Standard Time
const START = Date.parse(START_ISO);
const at = (offset: string): number => START + (durationMs(offset, 's') ?? Number.NaN);

function builtin(id: string): AnalyzerProfile {
  const profile = BUILTIN_PROFILES.get(id);
  if (!profile) throw new Error(`no built-in profile ${id}`);
  return profile;
}

function signalFor(spec: Record<string, unknown>, profileId = 'cod', seed = 1) {
  const scenario = scenarioSchema.parse({ seed, start: START_ISO, signals: { [profileId]: spec } });
  return resolveSignal(builtin(profileId), scenario.signals[profileId], { key: '1', seed, start: START });
}

/** The message of the AnalyzerConfigError `fn` throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AnalyzerConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an AnalyzerConfigError');
}

const FLOAT_ABCD: RegisterEncoding = { type: 'float32', byteOrder: 'big', wordOrder: 'big', scale: 1, offset: 0 };

describe('CRC-16/MODBUS (from the codec)', () => {
  it('gives the CRC of a real RTU request frame', () => {
    // 01 03 00 00 00 02 goes on the wire as ... C4 0B (low byte first)
    expect(crc16Modbus(Buffer.from([1, 3, 0, 0, 0, 2]))).toBe(0x0bc4);
  });
});

const minimalProfile = (over: Partial<AnalyzerProfileInput> = {}): AnalyzerProfileInput => ({
  id: 'acme-cod',
  factor: 'w01018',
  name: 'ACME COD',
  unit: 'mg/L',
  nominal: { mean: 10 },
  registers: [{ address: 0, type: 'float32', source: 'value' }],
  ...over,
});

describe('profile validation', () => {
  const issues = (input: unknown) => configError(() => parseAnalyzerConfig({ profiles: [input] }, 'sim.yaml'));

  it('accepts the built-in profiles, one per factor the task lists', () => {
    const factors = [...BUILTIN_PROFILES.values()].map((p) => p.factor).sort();
    expect(factors).toEqual(
      ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000']
        .concat(['a21026', 'a21002', 'a34013', 'a19001', 'a01012', 'a01013', 'a01011', 'a01014', 'a00000'])
        .concat(['p01001'])
        .sort(),
    );
  });

  it('names overlapping registers', () => {
    const registers = [
      { address: 0, type: 'float32', source: 'value' },
      { address: 1, type: 'uint16', source: 'status' },
    ] as const;
    expect(issues(minimalProfile({ registers: [...registers] }))).toContain(
      'sim.yaml: profiles[0].registers[1].address: address 1 is already used by registers[0]',
    );
  });

  it('keeps profile registers out of the control block 9000-9015 (a float32 at 8999 reaches 9000)', () => {
    const registers = [{ address: 8999, type: 'float32', source: 'value' }] as const;
    expect(issues(minimalProfile({ registers: [...registers] }))).toContain(
      'sim.yaml: profiles[0].registers[0].address: addresses 9000-9015 are the control block',
    );
    expect(() =>
      parseAnalyzerConfig({
        profiles: [minimalProfile({ registers: [{ address: 8998, type: 'float32', source: 'value' }] })],
      }),
    ).not.toThrow();
  });

  it('names an undeclared parameter and lists the declared ones', () => {
    const message = issues(
      minimalProfile({
        parameters: { rangeUpper: { initial: 500, description: 'range' } },
        registers: [{ address: 0, type: 'float32', source: 'param', param: 'rangeUper' }],
      }),
    );
    expect(message).toContain('profiles[0].registers[0].param: unknown parameter "rangeUper"');
    expect(message).toContain('known: rangeUpper');
  });

  it('refuses the letter names of byte and word orders, naming the edge-config spelling', () => {
    const message = issues({
      ...minimalProfile({ wordOrder: 'CDAB' as never }),
      registers: [{ address: 0, type: 'float32', byteOrder: 'DCBA', source: 'value' }],
    });
    expect(message).toContain('profiles[0].wordOrder: CDAB is written byteOrder: big, wordOrder: little');
    expect(message).toContain(
      'profiles[0].registers[0].byteOrder: DCBA is written byteOrder: little, wordOrder: little',
    );
    const device = configError(() =>
      parseAnalyzerConfig({ devices: [{ unit: 1, profile: 'cod', wordOrder: 'abcd' }] }),
    );
    expect(device).toContain('devices[0].wordOrder: abcd is written byteOrder: big, wordOrder: big');
  });

  it('serves a device whose orders override the profile: DCBA floats, byte-swapped int16', () => {
    const plan = planSimulation(
      parseAnalyzerConfig({
        tcp: { port: 0 },
        devices: [{ unit: 1, profile: 'cod', byteOrder: 'little', wordOrder: 'little' }],
      }),
      START,
    );
    const profile = plan.devices[0]?.profile ?? builtin('none');
    const device = new AnalyzerDevice(1, profile, signalFor({ mean: 123.5, amplitude: 0, noise: 0 }), {
      now: () => START,
    });
    // 123.5 = 0x42F70000: A=42 B=F7 C=00 D=00, DCBA on the wire = 00 00 F7 42; int16 1235 = 0x04D3 → D3 04
    expect(device.read(0, 2)).toEqual([0x0000, 0xf742]);
    expect(device.read(3, 1)).toEqual([0xd304]);
  });

  it('rejects word orders on 16-bit registers, float status codes, bad factor codes and typos', () => {
    const message = issues({
      ...minimalProfile({
        factor: 'COD',
        registers: [
          { address: 0, type: 'int16', wordOrder: 'little', source: 'value' },
          { address: 1, type: 'float32', source: 'status' },
        ],
      }),
      registres: [],
    });
    expect(message).toContain('registers[0].wordOrder: int16 is one register and has no word order');
    expect(message).toContain('registers[1].type: status codes are small integers');
    expect(message).toContain('profiles[0].factor: expected a factor code such as w01018');
    expect(message).toMatch(/profiles\[0\]\.registres: not a known key \(a typo\?\)/);
  });

  it('requires a total block for a total register and initial values inside min..max', () => {
    const message = issues(
      minimalProfile({
        parameters: { digestionTemp: { initial: 300, description: 't', min: 80, max: 200 } },
        registers: [{ address: 4, type: 'uint32', source: 'total' }],
      }),
    );
    expect(message).toContain('registers[0].source: source "total" needs a total block');
    expect(message).toContain('parameters.digestionTemp.initial: must lie within min..max (80..200)');
  });
});

describe('scenario files', () => {
  const scenarioIssue = (yaml: string) => configError(() => parseScenarioYaml(yaml, 'day.yaml'));

  it('parses durations and offsets', () => {
    expect(durationMs('1d6h30m', 's')).toBe(86_400_000 + 6.5 * 3_600_000);
    expect(durationMs('90', 's')).toBe(90_000);
    expect(durationMs('2x', 's')).toBeUndefined();
    const scenario = parseScenarioYaml(
      `seed: 3\nstart: ${START_ISO}\nwarp: 1440\nsignals:\n  cod:\n    events:\n      - { kind: zero, from: 2h, to: ` +
        '150m }\n',
      'day.yaml',
    );
    expect(scenario).toMatchObject({ seed: 3, start: START, warp: 1440 });
    expect(scenario.signals.cod?.events[0]).toEqual({ kind: 'zero', from: 7_200_000, to: 9_000_000 });
  });

  it('names the field and the fix', () => {
    expect(scenarioIssue('signals:\n  cod:\n    events:\n      - { kind: zero, from: 2x }\n')).toContain(
      'day.yaml: signals.cod.events[0].from: expected a duration such as 90s',
    );
    expect(scenarioIssue('signals:\n  cod:\n    events:\n      - { kind: zero, from: 2h, to: 1h }\n')).toContain(
      'signals.cod.events[0].to: must be later than from',
    );
    expect(scenarioIssue('signals:\n  cod:\n    events:\n      - { kind: zero, from: 2h, every: 1d }\n')).toContain(
      'signals.cod.events[0].every: a repeating window needs an end: add to',
    );
    expect(scenarioIssue('start: 2025-06-01T00:00:00\n')).toContain('start: expected an ISO 8601 time with an offset');
    expect(scenarioIssue('signals:\n  cod:\n    events:\n      - { kind: flood, from: 0 }\n')).toContain(
      'signals.cod.events[0].kind: Invalid discriminator value',
    );
    expect(scenarioIssue('signals:\n  cod:\n    events:\n      - { kind: negative, from: 0, value: 2 }\n')).toContain(
      'signals.cod.events[0].value: must be below 0',
    );
    expect(scenarioIssue('warp: [1')).toContain('day.yaml: not valid YAML');
  });

  it('refuses signals for devices that are not configured', () => {
    const config = parseAnalyzerConfig({
      tcp: { port: 0 },
      devices: [{ unit: 1, profile: 'cod' }],
      scenario: { signals: { nh3n: {} } },
    });
    expect(configError(() => planSimulation(config, START))).toContain(
      'scenario.signals.nh3n: no device has profile or unit "nh3n"',
    );
  });

  it('refuses duplicate units, unknown profiles and a simulator with nothing to serve', () => {
    const config = parseAnalyzerConfig({
      devices: [
        { unit: 1, profile: 'cod' },
        { unit: 1, profile: 'codd' },
      ],
    });
    const message = configError(() => planSimulation(config, START));
    expect(message).toContain('nothing to serve on: set tcp and/or rtu');
    expect(message).toContain('devices[1].unit: unit 1 is already used by devices[0]');
    expect(message).toContain('devices[1].profile: unknown profile "codd"; use one of cod, nh3n');
  });
});

describe('scenario evaluation', () => {
  it('follows a daily sinusoid peaking at peakHour, Beijing time', () => {
    const signal = signalFor({ mean: 10, amplitude: 5, noise: 0, peakHour: 14, sampleEvery: '1m' });
    expect(readingAt(signal, at('14h')).value).toBeCloseTo(15, 9);
    expect(readingAt(signal, at('1d2h')).value).toBeCloseTo(5, 9);
    expect(readingAt(signal, at('8h')).value).toBeCloseTo(10, 9);
    expect(readingAt(signal, at('14h')).status).toBe('normal');
  });

  it('adds seeded gaussian noise, held for a sample period and reproducible', () => {
    const signal = signalFor({ mean: 0, amplitude: 0, noise: 2, sampleEvery: '10s' });
    const values = Array.from({ length: 4000 }, (_, i) => readingAt(signal, START + i * 10_000).value);
    const mean = values.reduce((a, b) => a + b) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(sd).toBeGreaterThan(1.8);
    expect(sd).toBeLessThan(2.2);
    expect(readingAt(signal, START + 12_000).value).toBe(readingAt(signal, START + 19_999).value);
    expect(readingAt(signal, START + 12_000).value).not.toBe(readingAt(signal, START + 20_000).value);
    const again = signalFor({ mean: 0, amplitude: 0, noise: 2, sampleEvery: '10s' });
    expect(readingAt(again, START + 55_555).value).toBe(readingAt(signal, START + 55_555).value);
    const otherSeed = signalFor({ mean: 0, amplitude: 0, noise: 2, sampleEvery: '10s' }, 'cod', 2);
    expect(readingAt(otherSeed, START + 55_555).value).not.toBe(readingAt(signal, START + 55_555).value);
  });

  const flat = (events: unknown[]) => signalFor({ mean: 40, amplitude: 0, noise: 0, sampleEvery: '1m', events });

  it('raises an exceedance episode to its level for its window only', () => {
    const signal = flat([{ kind: 'exceedance', from: '9h', to: '11h', level: 180 }]);
    expect(readingAt(signal, at('8h59m')).value).toBe(40);
    expect(readingAt(signal, at('9h')).value).toBe(180);
    expect(readingAt(signal, at('10h59m')).value).toBe(180);
    expect(readingAt(signal, at('11h')).value).toBe(40);
  });

  it('judges over range against the (rewritable) range upper limit', () => {
    const signal = flat([{ kind: 'exceedance', from: '9h', to: '11h', level: 600 }]);
    expect(readingAt(signal, at('10h'), 500)).toEqual({ value: 600, status: 'overRange' });
    expect(readingAt(signal, at('10h'), 1000)).toEqual({ value: 600, status: 'normal' });
  });

  it('drifts slowly and resets with each repetition', () => {
    const signal = flat([{ kind: 'drift', from: '1d', to: '3d', every: '2d', perDay: 2 }]);
    expect(readingAt(signal, at('1d')).value).toBe(40);
    expect(readingAt(signal, at('1d12h')).value).toBeCloseTo(41, 9);
    expect(readingAt(signal, at('2d18h')).value).toBeCloseTo(43.5, 9);
    expect(readingAt(signal, at('3d6h')).value).toBeCloseTo(40.5, 9);
  });

  it('sticks, zeroes and goes negative', () => {
    const wavy = signalFor({
      mean: 40,
      amplitude: 10,
      noise: 3,
      sampleEvery: '1m',
      events: [
        { kind: 'stuck', from: '2h', to: '5h' },
        { kind: 'zero', from: '6h', to: '7h' },
        { kind: 'negative', from: '8h', to: '9h', value: -1.5 },
      ],
    });
    const stuck = readingAt(wavy, at('2h')).value;
    expect(readingAt(wavy, at('3h17m')).value).toBe(stuck);
    expect(readingAt(wavy, at('4h59m')).value).toBe(stuck);
    expect(readingAt(wavy, at('5h')).value).not.toBe(stuck);
    expect(readingAt(wavy, at('6h30m'))).toEqual({ value: 0, status: 'normal' });
    expect(readingAt(wavy, at('8h30m'))).toEqual({ value: -1.5, status: 'normal' });
  });

  it('sets the status of maintenance, calibration, fault and stopped windows', () => {
    const signal = flat([
      { kind: 'maintenance', from: '1h', to: '2h' },
      { kind: 'calibration', from: '2h', to: '2h30m', every: '1d', value: 100 },
      { kind: 'fault', from: '4h', to: '5h', value: 'live' },
      { kind: 'stopped', from: '6h', to: '7h' },
    ]);
    expect(readingAt(signal, at('1h30m'))).toEqual({ value: 40, status: 'maintenance' });
    expect(readingAt(signal, at('2h10m'))).toEqual({ value: 100, status: 'calibration' });
    expect(readingAt(signal, at('1d2h10m'))).toEqual({ value: 100, status: 'calibration' });
    expect(readingAt(signal, at('4h30m'))).toEqual({ value: 40, status: 'fault' });
    expect(readingAt(signal, at('6h30m'))).toEqual({ value: 0, status: 'stopped' });
    expect(readingAt(signal, at('3h'))).toEqual({ value: 40, status: 'normal' });
  });

  it('lets a later status window win over range', () => {
    const signal = flat([
      { kind: 'exceedance', from: '1h', to: '3h', level: 900 },
      { kind: 'maintenance', from: '2h', to: '3h', value: 'live' },
    ]);
    expect(readingAt(signal, at('1h30m'), 500).status).toBe('overRange');
    expect(readingAt(signal, at('2h30m'), 500)).toEqual({ value: 900, status: 'maintenance' });
  });

  it('remembers when the last calibration ended', () => {
    const signal = flat([{ kind: 'calibration', from: '2h', to: '2h30m', every: '1d' }]);
    expect(lastCalibrationAt(signal, at('1h'))).toBe(START - 86_400_000);
    expect(lastCalibrationAt(signal, at('2h10m'))).toBe(START - 86_400_000);
    expect(lastCalibrationAt(signal, at('2h30m'))).toBe(at('2h30m'));
    expect(lastCalibrationAt(signal, at('1d5h'))).toBe(at('1d2h30m'));
  });

  it('schedules dropouts and garbled replies', () => {
    const signal = flat([
      { kind: 'dropout', from: '1h', to: '2h' },
      { kind: 'garbled', from: '3h', to: '4h', mode: 'truncated' },
    ]);
    expect(commsAt(signal, at('30m'))).toEqual({ kind: 'ok' });
    expect(commsAt(signal, at('1h30m'))).toEqual({ kind: 'dropout' });
    expect(commsAt(signal, at('3h30m'))).toEqual({ kind: 'garbled', mode: 'truncated' });
  });

  it('totalises flow: 36 L/s for an hour is 129.6 m3, nothing while stopped', () => {
    const flow = signalFor(
      { mean: 36, amplitude: 0, noise: 0, events: [{ kind: 'stopped', from: '2h', to: '3h' }] },
      'water-flow',
    );
    expect(totalBetween(flow, at('0s'), at('1h'), 0.001)).toBeCloseTo(129.6, 9);
    expect(totalBetween(flow, at('2h'), at('3h'), 0.001)).toBe(0);
  });
});

describe('time warp', () => {
  it('advances the simulated clock warp times faster than real time', () => {
    let real = 1_000_000;
    const clock = warpedClock(START, 1440, () => real);
    expect(clock.now()).toBe(START);
    real += 60_000; // one real minute is one simulated day
    expect(clock.now()).toBe(at('1d'));
  });
});

describe('analyzer device registers', () => {
  const deviceAt = (time: string, events: unknown[] = []) => {
    const clock: SimClock = { now: () => at(time) };
    return new AnalyzerDevice(1, builtin('cod'), flat(events), clock);
  };
  const flat = (events: unknown[]) => signalFor({ mean: 123.5, amplitude: 0, noise: 0, events });

  it('lays out value, status, scaled copy and parameters as documented', () => {
    const device = deviceAt('3h', [{ kind: 'maintenance', from: '2h', to: '4h' }]);
    expect(device.read(0, 4)).toEqual([0x42f7, 0x0000, 1, 1235]);
    const image = registerImage(device.profile, device.snapshot());
    expect(decodeValue([image.get(12) ?? 0, image.get(13) ?? 0], FLOAT_ABCD)).toBe(500);
    expect(image.get(20)).toBe(1650); // digestion temperature 165.0 °C, scale 0.1: 165.0 / 0.1 = 1650
    // A wet-chemistry analyzer: 4-5 sample time of the reading on display, 6 cycles completed. At 3h the
    // cycle sampled at 03:00 is on display: START + 3 × 3600 = 1748707200 + 10800 = 1748718000 s
    // = 26683 × 65536 + 20912; three one-hour cycles have completed.
    expect(device.read(4, 3)).toEqual([26683, 20912, 3]);
    expect(device.read(7, 2)).toBeUndefined(); // unmapped
  });

  it('writes parameters one word at a time, refusing read-only registers and values out of bounds', () => {
    const device = deviceAt('3h', [{ kind: 'exceedance', from: '2h', to: '4h', level: 300 }]);
    const [high = 0, low = 0] = encodeValue(250, FLOAT_ABCD);
    expect(device.write(12, [high])).toBe('ok');
    expect(device.write(13, [low])).toBe('ok');
    expect(device.snapshot().parameters.get('rangeUpper')).toBe(250);
    expect(device.snapshot().status).toBe('overRange');
    expect(device.write(0, [0])).toBe('illegal-address');
    expect(device.write(14, [0, 0])).toBe('illegal-address'); // standard-check reading is read-only
    expect(device.write(20, [2500])).toBe('illegal-value'); // 250 °C is above the 200 °C maximum
    expect(device.write(20, [1700, 20])).toBe('ok');
    expect(device.read(20, 2)).toEqual([1700, 20]);
  });

  it('runs a standard check (3024, coil 6) for its configured time; its result reads at 9016-9020', () => {
    let now = at('1h');
    const clock: SimClock = { now: () => now };
    const device = new AnalyzerDevice(1, builtin('cod'), flat([]), clock, {
      seconds: 4,
      standard: 100,
      biasPercent: 0.5,
    });
    // Before any check: no result (zeros, 9020 = 0 none yet); register 14 the profile's initial reading 100.6.
    expect(device.control.read(9016, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(device.writeCoil(6, true)).toBe('ok');
    now += 3999;
    expect(device.control.read(9000, 2)).toEqual([1, 7]); // running, action 7
    now += 1;
    // 100 × (1 + 0.5 / 100) = 100.5: float32 0x42C9_0000; 100 is 0x42C8_0000; |0.5 %| ≤ 10 %: passed (1).
    expect(device.control.read(9000, 2)).toEqual([2, 7]);
    expect(device.control.read(9016, 5)).toEqual([0x42c8, 0, 0x42c9, 0, 1]);
    expect(decodeValue(device.read(14, 2)!, FLOAT_ABCD)).toBe(100.5);
    // 3022's instant retention (coil 5, action 6) takes the next bottle, as 3015 does.
    expect(device.writeCoil(5, true)).toBe('ok');
    now += 2000;
    expect(device.control.read(9000, 2)).toEqual([2, 6]);
    expect(device.control.read(9006, 1)).toEqual([1]);
    // Outside the tolerance: 100 × (1 − 15 / 100) = 85, 0x42AA_0000, failed (2).
    const low = new AnalyzerDevice(2, builtin('cod'), flat([]), clock, { seconds: 1, standard: 100, biasPercent: -15 });
    expect(low.write(9001, [7])).toBe('ok');
    now += 1000;
    expect(low.control.read(9016, 5)).toEqual([0x42c8, 0, 0x42aa, 0, 2]);
  });

  it('answers Modbus PDUs with data or the right exception', () => {
    const device = deviceAt('1h');
    expect(handlePdu(device, Buffer.from('0300000002', 'hex')).toString('hex')).toBe('030442f70000');
    expect(handlePdu(device, Buffer.from('0400030001', 'hex')).toString('hex')).toBe('040204d3');
    expect(handlePdu(device, Buffer.from('0300070002', 'hex')).toString('hex')).toBe('8302');
    expect(handlePdu(device, Buffer.from('0300000000', 'hex')).toString('hex')).toBe('8303');
    expect(handlePdu(device, Buffer.from('030000007e', 'hex')).toString('hex')).toBe('8303');
    expect(handlePdu(device, Buffer.from('0200000001', 'hex')).toString('hex')).toBe('8201');
    // Control coils 0-6 (3011-3015, 3022, 3024): all off, FC05 ON (0xFF00) starts calibration, a second start is
    // busy (06), coil 7 does not exist (02).
    expect(handlePdu(device, Buffer.from('0100000005', 'hex')).toString('hex')).toBe('010100');
    expect(handlePdu(device, Buffer.from('050000ff00', 'hex')).toString('hex')).toBe('050000ff00');
    expect(handlePdu(device, Buffer.from('0100000005', 'hex')).toString('hex')).toBe('010101');
    expect(handlePdu(device, Buffer.from('050001ff00', 'hex')).toString('hex')).toBe('8506');
    expect(handlePdu(device, Buffer.from('0500011234', 'hex')).toString('hex')).toBe('8503');
    expect(handlePdu(device, Buffer.from('050006ff00', 'hex')).toString('hex')).toBe('8506');
    expect(handlePdu(device, Buffer.from('050007ff00', 'hex')).toString('hex')).toBe('8502');
    // Status 1 (running), action 1 (calibration), then the id's first word 0x0100 at 9010 = 0x2332.
    expect(handlePdu(device, Buffer.from('0323280002', 'hex')).toString('hex')).toBe('030400010001');
    expect(handlePdu(device, Buffer.from('0323320001', 'hex')).toString('hex')).toBe('03020100');
    expect(handlePdu(device, Buffer.from('0600150010', 'hex')).toString('hex')).toBe('0600150010');
    expect(handlePdu(device, Buffer.from('06000000ff', 'hex')).toString('hex')).toBe('8602');
    expect(handlePdu(device, Buffer.from('100014000204066800', 'hex')).toString('hex')).toBe('9003');
    expect(handlePdu(device, Buffer.from('10001400020406680014', 'hex')).toString('hex')).toBe('1000140002');
  });
});

describe('RTU framing', () => {
  const withCrc = (hex: string): Buffer => {
    const body = Buffer.from(hex, 'hex');
    const crc = crc16Modbus(body);
    return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
  };
  const read = withCrc('010300000002');
  const write = withCrc('02100014000204066800aa');
  const reportId = withCrc('0111'); // a function we do not serve: 4 bytes, found by its CRC
  const requests = [
    { unit: 1, pdu: Buffer.from('0300000002', 'hex') },
    { unit: 2, pdu: Buffer.from('100014000204066800aa', 'hex') },
    { unit: 1, pdu: Buffer.from('11', 'hex') },
  ];

  it('reassembles a request that arrives a byte at a time', () => {
    const framer = new RtuRequestFramer();
    const found = [...read].flatMap((byte) => framer.push(Buffer.from([byte])));
    expect(found).toEqual([requests[0]]);
    expect(framer.pending).toBe(false);
  });

  it('finds every request however the reads cut the stream, skipping noise and corrupted frames', () => {
    const corrupted = Buffer.from(read);
    corrupted[4] = 0x7f;
    const stream = Buffer.concat([Buffer.from('ff00ab', 'hex'), read, corrupted, write, reportId]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 8 }), (cuts) => {
        const framer = new RtuRequestFramer();
        const bounds = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const found = bounds.slice(1).flatMap((end, i) => framer.push(stream.subarray(bounds[i], end)));
        expect(found).toEqual(requests);
      }),
    );
  });

  it('drops a partial frame after the silent interval', () => {
    const framer = new RtuRequestFramer();
    framer.push(read.subarray(0, 5));
    framer.reset();
    expect(framer.push(read)).toEqual([requests[0]]);
    expect(silentIntervalMs(9600)).toBe(20);
    expect(silentIntervalMs(1200)).toBeCloseTo(32.08, 2);
  });

  it('builds replies, garbled on request', () => {
    const pdu = Buffer.from('030442f70000', 'hex');
    const good = rtuReply(1, pdu);
    expect(good.subarray(0, -2).toString('hex')).toBe('01030442f70000');
    expect(good.readUInt16LE(good.length - 2)).toBe(crc16Modbus(good.subarray(0, -2)));
    const bad = rtuReply(1, pdu, 'bad-crc');
    expect(bad.readUInt16LE(bad.length - 2)).toBe(crc16Modbus(bad.subarray(0, -2)) ^ 0xffff);
    expect(rtuReply(1, pdu, 'truncated')).toEqual(good.subarray(0, -3));
  });
});

describe('docs/analyzer-simulator.md', () => {
  it('carries the register map generated from the profile data', () => {
    const doc = readFileSync(new URL('../docs/analyzer-simulator.md', import.meta.url), 'utf8');
    const begin = doc.indexOf(REGISTER_MAP_BEGIN);
    const end = doc.indexOf(REGISTER_MAP_END);
    expect(begin, 'register-map markers missing').toBeGreaterThanOrEqual(0);
    const section = doc.slice(begin + REGISTER_MAP_BEGIN.length, end).trim();
    expect(section, 'regenerate with: hj212 sim analyzer --register-map').toBe(
      renderRegisterMap(BUILTIN_PROFILES.values()).trim(),
    );
  });

  it('documents profiles as data: a custom profile renders through the same schema', () => {
    const custom = profileSchema.parse(minimalProfile({ wordOrder: 'little' }));
    expect(renderRegisterMap([custom])).toContain(
      '| 0-1 | 1 | float32, wordOrder little |  | R | w01018 reading | mg/L |',
    );
  });
});
