import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, validateConfig, withFlags } from '../simulators/hj212-link/config.js';
import { PlatformConfigSchema, PlatformServer, renderReport } from '../simulators/platform/index.js';
import { Lifecycle, lineLog } from '../runtime/lifecycle.js';
import type { CliIo } from './index.js';
import { write } from './io.js';

const HELP = `Usage: hj212 sim platform [--config FILE.yaml] [options]

Runs an HJ 212 platform (上位机) that accepts data loggers, decodes every frame strictly, answers per
the standard, runs the scripted requests of its config, and prints a conformance report per MN at the
end (Ctrl-C or --duration). Exit status 0 only if every station passed.
  --config FILE              YAML config: stations, script, limits (flags below override it)
  --host HOST --port PORT    where to listen (default 127.0.0.1:9212)
  --station MN=PW            a station to accept (repeatable; adds to the config's)
  --max-connections N        connection limit (default 1000)
  --max-frame-bytes N        largest frame accepted (default 1036: a 1024-byte data segment)
  --request-timeout D        wait for 9011 ... 9012 after a request (default 10s)
  --duration D               stop after this long, e.g. 60s (default: until Ctrl-C)
  --json                     print the report as JSON instead of a table
  --lang en|zh               language of the table (default en; zh prints it in Chinese)
  --report FILE              also write the JSON report to FILE
`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      station: { type: 'string', multiple: true },
      'max-connections': { type: 'string' },
      'max-frame-bytes': { type: 'string' },
      'request-timeout': { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean' },
      lang: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const lang = values.lang ?? 'en';
  if (lang !== 'en' && lang !== 'zh') {
    io.stderr.write(`hj212 sim platform: --lang ${lang}: write en or zh\n`);
    return 2;
  }
  try {
    const flagStations = (values.station ?? []).map((spec) => {
      const eq = spec.indexOf('=');
      if (eq < 1) throw new ConfigError(`--station ${spec}: write MN=PW`);
      return { mn: spec.slice(0, eq), pw: spec.slice(eq + 1) };
    });
    const n = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
    const flags: Record<string, unknown> = {
      host: values.host,
      port: n(values.port),
      maxConnections: n(values['max-connections']),
      maxFrameBytes: n(values['max-frame-bytes']),
      requestTimeout: values['request-timeout'],
      duration: values.duration,
    };
    const merged = await withFlags(values.config, flags);
    if (flagStations.length > 0)
      merged['stations'] = [...((merged['stations'] as unknown[] | undefined) ?? []), ...flagStations];
    const config = validateConfig(PlatformConfigSchema, merged, values.config ?? 'flags');
    const platform = new PlatformServer(config);
    await platform.listen();
    const life = new Lifecycle({ log: lineLog('hj212 sim platform', io.stderr) });
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      if (config.duration !== undefined) timer = setTimeout(resolve, config.duration);
    });
    await Promise.race([life.untilSignal(), elapsed]);
    clearTimeout(timer);
    // The report is what closing the platform returns, so it is closed here rather than registered.
    const report = await platform.close();
    await life.close();
    if (values.report !== undefined) await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
    await write(io.stdout, values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, { lang }));
    return report.stations.length > 0 && report.stations.every((s) => s.verdict === 'pass') ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`hj212 sim platform: ${err.message}\n`);
    return 2;
  }
}
