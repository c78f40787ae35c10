import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { StandardCheckOptions } from './control.js';
import { orderSchema, profileSchema } from './profile.js';
import type { AnalyzerProfile } from './profile.js';
import { BUILTIN_PROFILES } from './profiles.js';
import { parseScenarioYaml, scenarioSchema } from './scenario.js';
import type { AnalyzerScenario } from './scenario.js';
import { resolveSignal } from './signal.js';
import type { Signal } from './signal.js';
import { AnalyzerConfigError, parseWith, parseYamlWith } from './validation.js';

export const tcpSchema = z.strictObject({
  /** Loopback by default: exposing a simulator to the plant network is a deliberate choice. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
});

export const rtuSchema = z.strictObject({
  path: z.string().min(1, 'name the serial device, such as /dev/ttyUSB0'),
  baudRate: z.number().int().positive().default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
});

export const deviceSchema = z.strictObject({
  /** 1..247: the addresses a Modbus RTU slave may have. */
  unit: z.number().int().min(1).max(247),
  profile: z.string().min(1),
  /** Override the profile's orders for every register of this device (a word order matters only to 32/64-bit ones). */
  byteOrder: orderSchema.optional(),
  wordOrder: orderSchema.optional(),
  /** The standard check (标样核查) this device runs on 3024 (control.ts, docs/analyzer-simulator.md). */
  standardCheck: z
    .strictObject({
      seconds: z.number().positive().max(3600).optional(),
      standard: z.number().optional(),
      biasPercent: z.number().min(-100).max(100).optional(),
      tolerancePercent: z.number().min(0).max(100).optional(),
    })
    .optional(),
});

const configFields = {
  tcp: tcpSchema.optional(),
  rtu: rtuSchema.optional(),
  /** Extra profiles; one with a built-in id replaces the built-in. */
  profiles: z.array(profileSchema).default([]),
  devices: z.array(deviceSchema).default([]),
};

/** The simulator's configuration with the scenario inline. */
export const analyzerConfigSchema = z.strictObject({ ...configFields, scenario: scenarioSchema.optional() });
export type AnalyzerConfig = z.output<typeof analyzerConfigSchema>;
export type AnalyzerConfigInput = z.input<typeof analyzerConfigSchema>;

/** In a file, the scenario may also be a path relative to that file. */
const fileConfigSchema = z.strictObject({
  ...configFields,
  scenario: z.union([z.string(), scenarioSchema]).optional(),
});

export function parseAnalyzerConfig(input: unknown, source = 'analyzer simulator config'): AnalyzerConfig {
  return parseWith(analyzerConfigSchema, input, source);
}

export async function loadScenarioFile(file: string): Promise<AnalyzerScenario> {
  return parseScenarioYaml(await readText(file), file);
}

export async function loadAnalyzerConfig(file: string): Promise<AnalyzerConfig> {
  const { scenario, ...rest } = parseYamlWith(fileConfigSchema, await readText(file), file);
  if (typeof scenario !== 'string') return { ...rest, scenario };
  return { ...rest, scenario: await loadScenarioFile(path.resolve(path.dirname(file), scenario)) };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new AnalyzerConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

export interface PlannedDevice {
  unit: number;
  profile: AnalyzerProfile;
  signal: Signal;
  standardCheck?: Partial<StandardCheckOptions>;
}

/** What to run, with every cross-field rule checked. */
export interface SimulationPlan {
  tcp: AnalyzerConfig['tcp'];
  rtu: AnalyzerConfig['rtu'];
  start: number;
  warp: number;
  devices: PlannedDevice[];
}

const stripUndefined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

function withOrders(profile: AnalyzerProfile, device: AnalyzerConfig['devices'][number]): AnalyzerProfile {
  const orders = {
    ...(device.byteOrder && { byteOrder: device.byteOrder }),
    ...(device.wordOrder && { wordOrder: device.wordOrder }),
  };
  if (Object.keys(orders).length === 0) return profile;
  return { ...profile, ...orders, registers: profile.registers.map((reg) => ({ ...reg, ...orders })) };
}

/** Resolves profile ids and scenario signals; `now` is the start when the scenario names none. */
export function planSimulation(config: AnalyzerConfig, now: number): SimulationPlan {
  const problems: string[] = [];
  const profiles = new Map([...BUILTIN_PROFILES, ...config.profiles.map((p) => [p.id, p] as const)]);
  const scenario = config.scenario ?? scenarioSchema.parse({});
  const start = scenario.start ?? now;
  if (!config.tcp && !config.rtu)
    problems.push('nothing to serve on: set tcp and/or rtu (flags --tcp PORT, --rtu PATH)');
  if (config.devices.length === 0) {
    problems.push(`devices: none configured; add one such as { unit: 1, profile: cod } (flag --profile cod:1)`);
  }
  const units = new Map<number, number>();
  const devices: PlannedDevice[] = [];
  config.devices.forEach((device, i) => {
    const other = units.get(device.unit);
    if (other !== undefined) {
      problems.push(
        `devices[${i}].unit: unit ${device.unit} is already used by devices[${other}]; ` +
          'give each device its own unit id',
      );
    }
    units.set(device.unit, i);
    const profile = profiles.get(device.profile);
    if (!profile) {
      problems.push(
        `devices[${i}].profile: unknown profile "${device.profile}"; ` +
          `use one of ${[...profiles.keys()].join(', ')} or define it under profiles`,
      );
      return;
    }
    const spec = scenario.signals[String(device.unit)] ?? scenario.signals[device.profile];
    const signal = resolveSignal(profile, spec, { key: String(device.unit), seed: scenario.seed, start });
    devices.push({
      unit: device.unit,
      profile: withOrders(profile, device),
      signal,
      ...(device.standardCheck && { standardCheck: stripUndefined(device.standardCheck) }),
    });
  });
  for (const key of Object.keys(scenario.signals)) {
    if (!config.devices.some((d) => d.profile === key || String(d.unit) === key)) {
      problems.push(`scenario.signals.${key}: no device has profile or unit "${key}"; rename it or add the device`);
    }
  }
  if (problems.length > 0) throw new AnalyzerConfigError(problems.join('\n'));
  return { tcp: config.tcp, rtu: config.rtu, start, warp: scenario.warp, devices };
}
