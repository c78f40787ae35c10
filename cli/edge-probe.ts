import { parseArgs } from 'node:util';
import { EdgeConfigError, loadEdgeConfig } from '../edge/index.js';
import { formatProbe, probeDevices, probeOk } from '../edge/probe.js';
import { formatUplinkProbe, probeUplinks } from '../edge/probe-uplinks.js';
import type { CliIo } from './index.js';

const HELP = `Usage: hj212 edge probe --config FILE [--uplinks] [--json]

Polls every device of the configuration once, live, the way the agent reads it, and prints a table per
device: per factor the registers as read, the decoded value, what the agent would send (in the unit of
HJ 212-2017 appendix B), the status register and flag, or the exact error (timeout, Modbus exception
with the register, CRC). The first command to run at an outlet; the agent need not be stopped on a
Modbus TCP gateway, but a serial port is held by one program at a time.
  --config FILE   the agent's YAML configuration
  --uplinks       also connect to each platform: does it answer, does it take the MN and PW?
  --json          print the results as one JSON object instead of tables
Exit status: 0 when every device and uplink answered well, 1 when one did not, 2 for a bad configuration.
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string; uplinks?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        uplinks: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`hj212 edge probe: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.config === undefined) {
    io.stderr.write(`hj212 edge probe: name the configuration with --config FILE\n\n${HELP}`);
    return 2;
  }
  let config;
  try {
    config = await loadEdgeConfig(values.config);
  } catch (err) {
    if (!(err instanceof EdgeConfigError)) throw err;
    io.stderr.write(`${err.message.replace(/^/gm, 'hj212 edge probe: ')}\n`);
    return 2;
  }
  const devices = await probeDevices(config);
  const uplinks = values.uplinks ? await probeUplinks(config) : [];
  const ok = probeOk(devices) && uplinks.every((u) => u.verdict === 'answers');
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ok, devices, ...(values.uplinks && { uplinks }) })}\n`);
  } else {
    io.stdout.write(formatProbe(devices));
    if (values.uplinks) io.stdout.write(`\n${formatUplinkProbe(uplinks)}`);
  }
  return ok ? 0 : 1;
}
