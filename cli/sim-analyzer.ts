import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Level } from 'pino';
import {
  AnalyzerConfigError,
  LETTER_ORDERS,
  BUILTIN_PROFILES,
  deviceSchema,
  loadAnalyzerConfig,
  loadScenarioFile,
  parseAnalyzerConfig,
  parseWith,
  renderRegisterMap,
  rtuSchema,
  scenarioSchema,
  startAnalyzerSimulator,
  tcpSchema,
} from '../simulators/analyzer/index.js';
import type { AnalyzerConfig, AnalyzerScenario } from '../simulators/analyzer/index.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import type { CliIo } from './index.js';

const HELP = `Usage: hj212 sim analyzer [--config FILE] [--tcp [HOST:]PORT] [--rtu PATH [--baud N] [--parity P]]
                          [--profile ID:UNIT[:WORDORDER[:BYTEORDER]]]... [--scenario FILE] [--warp N] [--seed N]
                          [--start ISO-TIME] [--log-level LEVEL] [--register-map]

Simulates pollution-source analyzers as Modbus slaves (FC 03/04 read, 06/16 write) until SIGINT or
SIGTERM; several unit ids share one TCP server or one serial line. Logs JSON lines (pino) to stdout.
  --config FILE      YAML: tcp, rtu, devices, profiles, scenario (inline or a path); flags override it
  --tcp [HOST:]PORT  serve Modbus TCP (host defaults to 127.0.0.1; port 0 picks a free one)
  --rtu PATH         serve Modbus RTU on a serial device (--baud, default 9600; --parity, default none)
  --profile ID:UNIT  serve a profile at a unit id, optionally with word and byte order: cod:1, so2:3:little
  --scenario FILE    YAML scenario: daily curves, exceedances, drift, dropouts, calibration windows...
  --warp N           simulated seconds per real second (1440: a day a minute); overrides the scenario
  --seed N           noise seed; overrides the scenario
  --start ISO-TIME   simulated start such as 2025-06-01T00:00:00+08:00; overrides the scenario
  --log-level LEVEL  pino level: debug logs every request (default info)
  --register-map     print the register maps (Markdown) of every known profile and exit

Profiles: ${[...BUILTIN_PROFILES.keys()].join(', ')}
Orders (as in the edge config): big or little; ABCD is big:big, CDAB little (low word first), BADC big:little,
DCBA little:little. See docs/analyzer-simulator.md.
`;

const LOG_LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

type Flags = ReturnType<typeof parseFlags>['values'];

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      tcp: { type: 'string' },
      rtu: { type: 'string' },
      baud: { type: 'string' },
      parity: { type: 'string' },
      profile: { type: 'string', multiple: true, default: [] },
      scenario: { type: 'string' },
      warp: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'register-map': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/** "5020", "0.0.0.0:5020" or "[::1]:5020". */
function tcpFlag(value: string): AnalyzerConfig['tcp'] {
  const colon = value.lastIndexOf(':');
  const host = colon < 0 ? undefined : value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = /^\d+$/.test(value.slice(colon + 1)) ? Number(value.slice(colon + 1)) : Number.NaN;
  return parseWith(tcpSchema, { host, port }, `--tcp ${value}`);
}

function profileFlag(spec: string): AnalyzerConfig['devices'][number] {
  const match = /^([^:]+):(\d+)(?::(\w+))?(?::(\w+))?$/.exec(spec);
  if (!match)
    throw new AnalyzerConfigError(
      `--profile ${spec}: expected ID:UNIT[:WORDORDER[:BYTEORDER]], such as cod:1 or so2:3:little`,
    );
  const [, profile, unit, wordOrder, byteOrder] = match;
  const letters =
    byteOrder === undefined && wordOrder !== undefined ? LETTER_ORDERS[wordOrder.toUpperCase()] : undefined;
  if (letters) {
    throw new AnalyzerConfigError(
      `--profile ${spec}: orders are big or little, as in the edge config; ${wordOrder} is ` +
        `${profile}:${unit}:${letters.wordOrder}:${letters.byteOrder}`,
    );
  }
  return parseWith(deviceSchema, { profile, unit: Number(unit), wordOrder, byteOrder }, `--profile ${spec}`);
}

function rtuFlags(flags: Flags, base: AnalyzerConfig['rtu']): AnalyzerConfig['rtu'] {
  const path = flags.rtu ?? base?.path;
  if (path === undefined) {
    if (flags.baud !== undefined || flags.parity !== undefined) {
      throw new AnalyzerConfigError('--baud/--parity: name the serial device with --rtu PATH');
    }
    return undefined;
  }
  const baudRate = flags.baud === undefined ? base?.baudRate : Number(flags.baud);
  return parseWith(rtuSchema, { ...base, path, baudRate, parity: flags.parity ?? base?.parity }, '--rtu');
}

function scenarioFlags(flags: Flags, scenario: AnalyzerScenario): AnalyzerScenario {
  const { shape } = scenarioSchema;
  return {
    ...scenario,
    ...(flags.warp !== undefined && { warp: parseWith(shape.warp, Number(flags.warp), '--warp') }),
    ...(flags.seed !== undefined && { seed: parseWith(shape.seed, Number(flags.seed), '--seed') }),
    ...(flags.start !== undefined && { start: parseWith(shape.start, flags.start, '--start') }),
  };
}

/** The configuration file, if any, with the flags laid over it. */
async function configFromFlags(flags: Flags): Promise<AnalyzerConfig> {
  const base = flags.config ? await loadAnalyzerConfig(flags.config) : parseAnalyzerConfig({});
  const scenario = flags.scenario
    ? await loadScenarioFile(flags.scenario)
    : (base.scenario ?? scenarioSchema.parse({}));
  return {
    ...base,
    tcp: flags.tcp === undefined ? base.tcp : tcpFlag(flags.tcp),
    rtu: rtuFlags(flags, base.rtu),
    devices: [...base.devices, ...flags.profile.map(profileFlag)],
    scenario: scenarioFlags(flags, scenario),
  };
}

/** `waitForStop` resolves when the simulator should stop; tests pass their own instead of process signals. */
export async function run(argv: string[], io: CliIo, waitForStop?: () => Promise<string>): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv).values;
  } catch (err) {
    io.stderr.write(`hj212 sim analyzer: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const level = flags['log-level'] as Level;
  if (!LOG_LEVELS.includes(level)) {
    io.stderr.write(`hj212 sim analyzer: --log-level ${level}: use one of ${LOG_LEVELS.join(', ')}\n`);
    return 2;
  }
  try {
    const config = await configFromFlags(flags);
    if (flags['register-map']) {
      const profiles = new Map([...BUILTIN_PROFILES, ...config.profiles.map((p) => [p.id, p] as const)]);
      io.stdout.write(`${renderRegisterMap(profiles.values())}\n`);
      return 0;
    }
    const logger = pino({ level, base: { name: 'hj212-sim-analyzer' } }, io.stdout);
    const simulator = await startAnalyzerSimulator(config, { logger });
    const life = new Lifecycle({ log: logger });
    life.add('simulator', () => simulator.close());
    logger.info({ signal: await (waitForStop ?? (() => life.untilSignal()))() }, 'stopping');
    await life.close();
    return 0;
  } catch (err) {
    if (!(err instanceof AnalyzerConfigError)) throw err;
    io.stderr.write(`hj212 sim analyzer: ${err.message.replaceAll('\n', '\nhj212 sim analyzer: ')}\n`);
    return 2;
  }
}
