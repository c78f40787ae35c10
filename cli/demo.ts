import { parseArgs } from 'node:util';
import { BACKLOG_HOURS, COD_LIMIT, LOGGER_MN, startDemo, WATER_MN, type Demo } from '../demo/index.js';
import { Lifecycle, lineLog } from '../runtime/lifecycle.js';
import type { CliIo } from './index.js';

const HELP = `Usage: hj212 demo [--warp N] [--port PORT] [--dir DIR]

The whole chain on this machine, no external services: analyzer simulators (a water outlet and a
CEMS stack) polled over Modbus TCP by two edge agents, which publish over MQTT to the cloud's embedded
broker; a third-party data logger over raw HJ 212 TCP; the cloud's SQLite store, alarm rules, API and
dashboard. Everything listens on 127.0.0.1, with credentials made up for this run.
  --warp N      simulated seconds per real second (default 60: an hour a minute)
  --port PORT   the API and dashboard's port (default 8212; 0 picks a free one)
  --dir DIR     keep databases and the log in DIR (new or empty); a temp dir removed at exit by default
Runs until Ctrl-C (SIGINT) or SIGTERM.
`;

function banner(d: Demo): string {
  const real = (simMinutes: number) => {
    const seconds = Math.round((simMinutes * 60) / d.warp);
    return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  };
  const curl = (path: string) => `curl -s -H 'Authorization: Bearer ${d.readToken}' '${d.api}${path}'`;
  return (
    `hj212 demo: running; simulated time starts ${new Date(d.start).toISOString()} and runs ${d.warp}x

  dashboard    ${d.api}/   (log in as ${d.account.user}, password ${d.account.password}; or ${d.api}/#token=READ_TOKEN)
  API          ${d.api}/openapi.json
  read token   ${d.readToken}
  admin token  ${d.adminToken}
  MQTT broker  ${d.mqtt}    HJ 212 TCP  ${d.tcp}
  files        ${d.dir}${d.logFile !== undefined ? `    log (JSON lines)  ${d.logFile}` : ''}

What to look at (times are simulated, from the start; real time in brackets):
  - three stations with data: two edge boxes over MQTT, one third-party logger over TCP; the logger
    uploads the ${BACKLOG_HOURS} hours before the start from its memory as it connects (补传): ` +
    `a day of hour data at once
      ${curl('/stations')}
  - the water outlet's COD goes to ~180 mg/L (limit ${COD_LIMIT}) from +40 min to +1 h 40 min
    (${real(40)} to ${real(100)}): exceedance alarms open, then close
      ${curl(`/alarms?mn=${WATER_MN}&type=exceedance`)}
  - the third-party logger ${LOGGER_MN} is cut off from +1 h 10 min to +2 h 10 min: offline, and
    hour +1 h missing after the 20-minute grace (${real(140)}); asked back with 2061, it resends
    the hour and the alarms close
      ${curl('/alarms?type=missing-hour')}
Ctrl-C stops everything.
`
  );
}

/** `waitForStop` resolves when the demo should end; tests may pass their own. */
export async function run(argv: string[], io: CliIo, waitForStop?: () => Promise<string>): Promise<number> {
  let values: { warp?: string; port?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        warp: { type: 'string' },
        port: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.stderr.write(`hj212 demo: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const warp = Number(values.warp ?? 60);
  const port = Number(values.port ?? 8212);
  if (!(warp > 0 && warp <= 3600)) {
    io.stderr.write(`hj212 demo: --warp ${values.warp}: give a number of simulated seconds per real second, 1-3600\n`);
    return 2;
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr.write(`hj212 demo: --port ${values.port}: give a TCP port, 0-65535\n`);
    return 2;
  }
  const life = new Lifecycle({ log: lineLog('hj212 demo', io.stderr) });
  // Listening before the parts start: a Ctrl-C during the start still stops them all.
  const stopped = (waitForStop ?? (() => life.untilSignal()))();
  let demo: Demo;
  try {
    demo = await startDemo({ warp, httpPort: port, ...(values.dir !== undefined && { dir: values.dir }) });
  } catch (e) {
    io.stderr.write(`hj212 demo: ${(e as Error).message}\n`);
    await life.close();
    return 1;
  }
  life.add('demo', () => demo.stop());
  io.stdout.write(banner(demo));
  const signal = await stopped;
  io.stdout.write(`hj212 demo: ${signal}, stopping\n`);
  await life.close();
  io.stdout.write('hj212 demo: stopped\n');
  return 0;
}
