import { parseArgs } from 'node:util';
import { ConfigError, validateConfig, withFlags } from '../simulators/hj212-link/config.js';
import { LoggerConfigSchema, runLoggers } from '../simulators/logger/index.js';
import { Lifecycle, lineLog } from '../runtime/lifecycle.js';
import type { CliIo } from './index.js';
import { write } from './io.js';

const HELP = `Usage: hj212 sim logger [--config FILE.yaml] [options]

Simulates N HJ 212 data loggers (one TCP connection each) uploading 2011/2051/2061/2031 data with the
A bit, retrying unanswered uploads and answering platform requests; prints a JSON summary at the end.
  --config FILE              YAML config (flags below override it)
  --host HOST --port PORT    the platform to connect to (host default 127.0.0.1)
  --loggers N                number of loggers (MN = prefix + number)
  --mn-prefix HEX            MN prefix (upper-case hex); the logger number fills it to 24
  --pw PW                    access password; 123456 needs --allow-default-password
  --version 2005|2017|2025   edition spoken (2025 needs --sm4-key)
  --outlet water|gas         which factors are sent
  --sm4-key HEX              SM4 key, 32 hex digits (HJ 212-2025)
  --warp X                   simulated seconds per real second (e.g. 3600: an hour a second)
  --rate R                   load mode: R real-time uploads per second over all loggers
  --duration D               run time, e.g. 30s, 5m (default: until Ctrl-C)
  --ack-timeout D --retries N   wait for 9014 and re-send (default 5s, 3)
  --seed N                   PRNG seed for the values
  --no-time-calibration      do not send 1013 (time calibration request, C.4) on connect
  --heartbeat S              HJ 212-2025: send 9015 after S seconds with nothing sent
`;

const NUMERIC = ['port', 'count', 'warp', 'rate', 'retries', 'seed', 'heartbeat'] as const;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      loggers: { type: 'string' },
      'mn-prefix': { type: 'string' },
      pw: { type: 'string' },
      version: { type: 'string' },
      outlet: { type: 'string' },
      'sm4-key': { type: 'string' },
      warp: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'ack-timeout': { type: 'string' },
      retries: { type: 'string' },
      seed: { type: 'string' },
      'allow-default-password': { type: 'boolean' },
      'no-time-calibration': { type: 'boolean' },
      heartbeat: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  try {
    const flags: Record<string, unknown> = {
      host: values.host,
      port: values.port,
      count: values.loggers,
      mnPrefix: values['mn-prefix'],
      pw: values.pw,
      version: values.version,
      outlet: values.outlet,
      sm4Key: values['sm4-key'],
      warp: values.warp,
      rate: values.rate,
      duration: values.duration,
      ackTimeout: values['ack-timeout'],
      retries: values.retries,
      seed: values.seed,
      allowDefaultPassword: values['allow-default-password'],
      timeCalibration: values['no-time-calibration'] === true ? false : undefined,
      heartbeat: values.heartbeat,
    };
    for (const k of NUMERIC) if (typeof flags[k] === 'string') flags[k] = Number(flags[k]);
    const merged = await withFlags(values.config, flags);
    const config = validateConfig(LoggerConfigSchema, merged, values.config ?? 'flags');
    // The loggers run until --duration or a stop signal; they close themselves when the signal aborts them.
    const stop = new AbortController();
    const life = new Lifecycle({ log: lineLog('hj212 sim logger', io.stderr) });
    void life.untilSignal().then(() => stop.abort());
    try {
      const summary = await runLoggers(config, { signal: stop.signal });
      await write(io.stdout, `${JSON.stringify(summary, null, 2)}\n`);
      return summary.failed === 0 && summary.connected === summary.loggers ? 0 : 1;
    } finally {
      await life.close();
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`hj212 sim logger: ${err.message}\n`);
    return 2;
  }
}
