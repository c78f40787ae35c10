import { Aggregator } from './aggregator.js';
import type { DataRecord } from './aggregator.js';
import type { EdgeConfig, HjFlag } from './config.js';
import { HJ_FLAGS } from './config-values.js';
import { ReadingPipeline, dataStation } from './readings.js';

/**
 * What the agent would upload for a list of readings, computed offline (`hj212 stats`): the readings
 * go through the same ReadingPipeline and Aggregator as the running agent's polls, on a clock that
 * is the readings' own times.
 */

export interface CsvReading {
  at: number;
  code: string;
  value: number;
  flag: HjFlag;
}

/** A CSV the command cannot read; the message names the line and the fix. */
export class ReadingsCsvError extends Error {
  override name = 'ReadingsCsvError';
}

// ISO 8601 with a zone (Z or ±hh:mm): a reading without one would be read in the machine's zone.
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses `time,factor,value,flag` (one header line; flag optional, N by default). Every factor must
 * be one a device of `config` measures, since its unit conversion comes from there.
 */
export function parseReadingsCsv(text: string, config: Pick<EdgeConfig, 'devices'>, source = 'readings'): CsvReading[] {
  const measured = new Set(config.devices.flatMap((d) => d.factors.map((f) => f.code)));
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').trim();
  if (header !== 'time,factor,value,flag' && header !== 'time,factor,value')
    throw new ReadingsCsvError(`${source}:1: expected the header time,factor,value,flag (got "${header}")`);
  const out: CsvReading[] = [];
  lines.slice(1).forEach((raw, i) => {
    const line = raw.trim();
    const where = `${source}:${i + 2}`;
    if (line === '') return;
    const [time = '', code = '', value = '', flag = '', ...rest] = line.split(',').map((c) => c.trim());
    if (rest.length > 0) throw new ReadingsCsvError(`${where}: expected 4 columns time,factor,value,flag`);
    const at = Date.parse(time);
    if (!ISO_WITH_ZONE.test(time) || Number.isNaN(at))
      throw new ReadingsCsvError(
        `${where}: "${time}" is not an ISO 8601 time with a zone, such as 2026-12-01T08:00:00+08:00`,
      );
    if (!measured.has(code))
      throw new ReadingsCsvError(`${where}: no device of the configuration measures "${code}"; add it or fix the code`);
    const number = Number(value);
    if (value === '' || !Number.isFinite(number)) throw new ReadingsCsvError(`${where}: "${value}" is not a number`);
    const f = flag === '' ? 'N' : flag;
    if (!(HJ_FLAGS as readonly string[]).includes(f))
      throw new ReadingsCsvError(`${where}: flag "${f}" is not one of ${HJ_FLAGS.join(' ')} (table 8)`);
    out.push({ at, code, value: number, flag: f as HjFlag });
  });
  // Stable: readings of one instant keep their order (the pipeline takes them as one poll).
  return out
    .map((r, i) => [r, i] as const)
    .sort((a, b) => a[0].at - b[0].at || a[1] - b[1])
    .map(([r]) => r);
}

/** The records of every period that ends by the last reading's time, in the order the agent makes them. */
export function offlineRecords(config: EdgeConfig, readings: readonly CsvReading[]): DataRecord[] {
  const first = readings[0];
  const last = readings.at(-1);
  if (!first || !last) return [];
  const settings = { rtdIntervalSeconds: config.rtdIntervalSeconds, minIntervalMinutes: config.minIntervalMinutes };
  // The agent's own aggregator settings (devices: per-factor options of the data sets).
  const aggregatorConfig = { station: dataStation(config.station), devices: config.devices, ...settings };
  const aggregator = new Aggregator(aggregatorConfig, first.at);
  const pipeline = new ReadingPipeline(config);
  const records: DataRecord[] = [];
  for (let i = 0; i < readings.length;) {
    const at = readings[i]!.at;
    const batch: CsvReading[] = [];
    while (i < readings.length && readings[i]!.at === at) batch.push(readings[i++]!);
    records.push(...aggregator.tick(at).records);
    aggregator.add(
      at,
      pipeline.accept(
        at,
        batch.map(({ code, value, flag }) => ({ code, value, flag })),
      ),
    );
  }
  records.push(...aggregator.tick(last.at).records);
  return records;
}
