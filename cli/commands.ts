import type { CliIo } from './index.js';

export interface CliCommand {
  summary: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Every subcommand, by name; a command module is loaded only when it runs. */
export const commands: Record<string, CliCommand> = {
  decode: {
    summary: 'decode HJ 212 frames from a file or stdin into JSON lines',
    run: async (argv, io) => (await import('./decode.js')).run(argv, io),
  },
  encode: {
    summary: 'encode JSON lines into HJ 212 frames with length and CRC',
    run: async (argv, io) => (await import('./encode.js')).run(argv, io),
  },
  edge: {
    summary: 'run the edge agent: analyzers over Modbus in, HJ 212 data sets out to platforms and MQTT',
    run: async (argv, io) => (await import('./edge.js')).run(argv, io),
  },
  stats: {
    summary: 'compute offline what the edge would upload for a CSV of readings (JSON lines as decode prints)',
    run: async (argv, io) => (await import('./stats.js')).run(argv, io),
  },
  'edge probe': {
    summary: 'poll every device of an edge configuration once and print what each register reads; --uplinks',
    run: async (argv, io) => (await import('./edge-probe.js')).run(argv, io),
  },
  cloud: {
    summary:
      'run the cloud ingest (HJ 212 over TCP, MQTT, HTTP into SQLite/InfluxDB, alarms, API); hash, token, import-csv',
    run: async (argv, io) => (await import('./cloud.js')).run(argv, io),
  },
  demo: {
    summary:
      'run the whole chain on loopback: simulators, two edge agents, a third-party logger, the cloud and its API',
    run: async (argv, io) => (await import('./demo.js')).run(argv, io),
  },
  'sim analyzer': {
    summary: 'simulate analyzers as Modbus RTU/TCP slaves with scripted scenarios',
    run: async (argv, io) => (await import('./sim-analyzer.js')).run(argv, io),
  },
  'sim logger': {
    summary: 'simulate HJ 212 data loggers (and load) against a platform, print a JSON summary',
    run: async (argv, io) => (await import('./sim-logger.js')).run(argv, io),
  },
  'sim platform': {
    summary: 'run an HJ 212 platform that checks loggers and prints a conformance report',
    run: async (argv, io) => (await import('./sim-platform.js')).run(argv, io),
  },
};
