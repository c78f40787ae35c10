import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeFrame, encodeFrame, formatHjTime } from '../protocol/index.js';
import { DEFAULT_PASSWORD } from '../protocol/wire.js';
import type { Version } from '../protocol/index.js';
import { EdgeConfigError, loadEdgeConfig } from '../edge/index.js';
import { ReadingsCsvError, offlineRecords, parseReadingsCsv } from '../edge/offline.js';
import { recordPacket } from '../edge/packets.js';
import type { DataRecord } from '../edge/aggregator.js';
import { resultJson } from './decode.js';
import type { CliIo } from './index.js';
import { write } from './io.js';

const HELP = `Usage: hj212 stats --config EDGE.yaml [--uplink ID] [--cn LIST] READINGS.csv

Computes offline what the edge agent of EDGE.yaml would upload for a CSV of readings and prints each
record as hj212 decode prints a frame, one JSON object a line, for every period that ends by the last
reading's time. The readings go through the agent's own unit conversion and statistics.
  READINGS.csv   header time,factor,value,flag; ISO 8601 times with a zone (2026-12-01T08:00:00+08:00);
                 values in the analyzer's unit as the configuration states it; flag optional (N)
  --uplink ID    address the packets as this uplink (MN, PW, version, SM4 key); default: the first
  --cn LIST      data sets to print, comma-separated, from 2011 2051 2061 2031 (default 2051,2061,2031)
`;

const DATA_CNS = ['2011', '2051', '2061', '2031'];

function fail(io: CliIo, message: string, code = 2): number {
  io.stderr.write(
    `${message
      .split('\n')
      .map((line) => `hj212 stats: ${line}`)
      .join('\n')}\n`,
  );
  return code;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string; uplink?: string; cn?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        uplink: { type: 'string' },
        cn: { type: 'string', default: '2051,2061,2031' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return fail(io, `${(err as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (values.config === undefined || positionals.length !== 1)
    return fail(io, `name the configuration with --config FILE and one READINGS.csv\n\n${HELP}`);
  const cns = new Set((values.cn ?? '').split(',').map((c) => c.trim()));
  const unknown = [...cns].filter((c) => !DATA_CNS.includes(c));
  if (unknown.length > 0) return fail(io, `--cn ${unknown.join(',')}: use ${DATA_CNS.join(', ')}`);
  const file = positionals[0]!;
  try {
    const config = await loadEdgeConfig(values.config);
    const uplink = values.uplink === undefined ? config.uplinks[0] : config.uplinks.find((u) => u.id === values.uplink);
    if (values.uplink !== undefined && !uplink)
      return fail(
        io,
        `--uplink ${values.uplink}: ${values.config} has ${config.uplinks.map((u) => u.id).join(', ') || 'no uplinks'}`,
      );
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      return fail(io, `${file}: cannot read the readings: ${(err as Error).message}`);
    }
    const records = offlineRecords(config, parseReadingsCsv(text, config, file)).filter((r) => cns.has(r.cn));
    const version: Version = uplink?.version ?? '2017';
    // Without an uplink the packets still need a PW; the field default marks them as not meant for a platform.
    const to = {
      mn: uplink?.mn ?? config.station.mn,
      pw: uplink?.pw ?? DEFAULT_PASSWORD,
      st: config.station.st,
      version,
    };
    const key = uplink?.sm4Key === undefined ? undefined : Buffer.from(uplink.sm4Key, 'hex');
    const codec = key ? { sm4Key: () => key } : {};
    const decimals = new Map(config.devices.flatMap((d) => d.factors.map((f) => [f.code, f.decimals] as const)));
    const utc = config.station.utcOffsetMinutes;
    for (const record of records) {
      // The packet the uplink would send, framed and decoded back: what a platform (and hj212 decode)
      // sees. One line a record: the 1024-byte split into PNUM parts would only cut it in pieces.
      const frame = encodeFrame(recordPacket(record, to, qnOf(record, utc), decimals, utc), codec);
      const result = decodeFrame(frame, { mode: 'lenient', maxSegment: 9999, ...codec });
      await write(io.stdout, `${JSON.stringify(resultJson(result))}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof EdgeConfigError || err instanceof ReadingsCsvError) return fail(io, err.message);
    throw err;
  }
}

/** A QN from the record's DataTime, so two runs over the same readings print the same lines. */
function qnOf(record: DataRecord, utcOffsetMinutes: number): string {
  return `${formatHjTime(new Date(record.at), utcOffsetMinutes)}000`;
}
