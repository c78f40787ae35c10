import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Level } from 'pino';
// Not '../edge/index.js': that loads the zod schema, which only the configuration's worker needs (edge/config-load.ts).
import { startAgent } from '../edge/agent/index.js';
import { loadEdgeConfigApart } from '../edge/config-load.js';
import { EdgeConfigError } from '../edge/config-values.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import type { CliIo } from './index.js';
import { prettyDestination } from './log-pretty.js';

const HELP = `Usage: hj212 edge --config FILE [--check] [--log-level LEVEL] [--pretty]
       hj212 edge --json-schema
       hj212 edge probe --config FILE [--uplinks]   (poll every device once: hj212 edge probe --help)

The edge agent: polls analyzers over Modbus RTU/TCP, derives HJ 212 real-time, minute, hour and day
data, keeps local history and delivers it through durable outboxes to HJ 212 platforms and MQTT.
  --config FILE   YAML configuration (deploy/edge/*.yaml are examples; docs/edge.md explains it)
  --check         validate the configuration and exit
  --log-level L   pino level (default info); logs are JSON lines on stdout, times in ISO 8601 UTC
  --pretty        logs as plain lines for people (time, level, message, key=value) instead of JSON
Runs until SIGINT or SIGTERM. docs/edge.md describes the configuration, the health endpoint and
deploy/edge/hj212-edge.service.
  --json-schema   print the configuration's JSON Schema (deploy/edge/config.schema.json)
`;

/** `waitForStop` resolves when the agent should stop; tests pass their own instead of process signals. */
export async function run(argv: string[], io: CliIo, waitForStop?: () => Promise<string>): Promise<number> {
  let values: {
    config?: string;
    check?: boolean;
    'json-schema'?: boolean;
    help?: boolean;
    'log-level'?: string;
    pretty?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        check: { type: 'boolean' },
        'json-schema': { type: 'boolean' },
        'log-level': { type: 'string', default: 'info' },
        pretty: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`hj212 edge: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values['json-schema']) {
    const { edgeConfigJsonSchema } = await import('../edge/config.js');
    io.stdout.write(`${JSON.stringify(edgeConfigJsonSchema(), null, 2)}\n`);
    return 0;
  }
  const level = values['log-level'] as Level;
  if (!(level in pino.levels.values)) {
    io.stderr.write(`hj212 edge: --log-level ${level}: use one of ${Object.keys(pino.levels.values).join(', ')}\n`);
    return 2;
  }
  if (values.config === undefined) {
    io.stderr.write(`hj212 edge: name the configuration with --config FILE\n\n${HELP}`);
    return 2;
  }
  try {
    const { config, warnings } = await loadEdgeConfigApart(values.config);
    if (values.check) {
      io.stdout.write(`${values.config}: ok (${config.devices.length} devices, ${config.uplinks.length} uplinks)\n`);
      for (const warning of warnings) io.stdout.write(`${values.config}: warning: ${warning}\n`);
      return 0;
    }
    const logger = pino(
      { level, base: { name: 'hj212-edge' }, timestamp: pino.stdTimeFunctions.isoTime },
      values.pretty ? prettyDestination(io.stdout) : io.stdout,
    );
    const agent = await startAgent(config, { logger });
    const life = new Lifecycle({ log: logger });
    life.add('agent', () => agent.close());
    logger.info({ signal: await (waitForStop ?? (() => life.untilSignal()))() }, 'stopping');
    await life.close();
    return 0;
  } catch (err) {
    if (!(err instanceof EdgeConfigError)) throw err;
    io.stderr.write(
      `${err.message
        .split('\n')
        .map((line) => `hj212 edge: ${line}`)
        .join('\n')}\n`,
    );
    return 2;
  }
}
