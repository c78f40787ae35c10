import pino from 'pino';
import { sha256, type StationInput } from '../../cloud/index.js';
import { LoggerConfigSchema, startLoggers, type LoggerFleet } from '../../simulators/logger/index.js';
import { startTestCloud, testHash, type TestCloud } from './cloud-fixtures.js';
import { until } from './common.js';

export const READ = 'dashboard-read-token-0123456789';
export const ADMIN = 'dashboard-admin-token-0123456789';
/** An operator of 示例化工有限公司's own (an enterprise user): it submits, the centre reviews. */
export const CHEM = 'dashboard-chem-token-0123456789';
export const H = 3_600_000;

/** Fed by the simulator: COD limit 30 mg/L under what it sends (≈ 35-49), so every COD value exceeds. */
export const FED_MN = '0100000000A89000000000A1';
/** Fed by the simulator, within all its limits. */
export const CLEAN_MN = '0100000000A89000000000C3';
export const SILENT_MN = '0100000000A89000000000A2';
export const GAS_MN = '0100000000A89000000000B2';
const PW = new Map([
  [FED_MN, 'a1b2c3'],
  [CLEAN_MN, 'c3d4e5'],
]);

/** Local (UTC+8) midnight of yesterday: the scene's hours are on a finished day. */
export function yesterdayStart(now = Date.now()): number {
  const DAY = 24 * H;
  return Math.floor((now + 8 * H) / DAY) * DAY - 8 * H - DAY;
}

export async function sceneStations(day0: number): Promise<StationInput[]> {
  // The plant stopped at 08:00 for the rest of the day: only hours 00-07 are expected.
  const shutdowns = [
    { from: new Date(day0 + 8 * H).toISOString(), to: new Date(day0 + 24 * H).toISOString(), reason: '停产检修' },
  ];
  const monitoredSince = new Date(day0).toISOString();
  const water = { w01018: { upper: 30 }, w21003: { upper: 5 }, w01001: { lower: 6, upper: 9 }, w00000: {} };
  return [
    {
      mn: FED_MN,
      region: '城东区',
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      type: 'water',
      passwordHash: await testHash(PW.get(FED_MN)!),
      factors: water,
      shutdowns,
      monitoredSince,
    },
    {
      mn: SILENT_MN,
      region: '城东区',
      enterprise: '示例化工有限公司',
      outlet: 'WS-02',
      type: 'water',
      passwordHash: await testHash('s1s2s3'),
      factors: water,
    },
    {
      mn: GAS_MN,
      region: '城西区',
      enterprise: '示例电厂',
      outlet: 'DA-01',
      type: 'gas',
      passwordHash: await testHash('x9y8z7'),
      o2Ref: 6,
      factors: { a21026: { upper: 35 }, a21002: { upper: 50 }, a19001: {} },
    },
    {
      mn: CLEAN_MN,
      region: '城西区',
      enterprise: '示例水务有限公司',
      outlet: 'WS-03',
      type: 'water',
      passwordHash: await testHash(PW.get(CLEAN_MN)!),
      // 预警 from 80 % of the limit: a 预警 line at 80 mg/L on its chart (above what the simulator sends).
      factors: { ...water, w01018: { upper: 100, warnAt: 0.8 } },
      shutdowns,
      monitoredSince,
    },
  ];
}

export interface Scene {
  cloud: TestCloud;
  base: string;
  day0: number;
  /** The simulated loggers' clock, moved by hand. */
  clock: { now: number };
  fleet: LoggerFleet;
  stop(): Promise<void>;
}

/**
 * A cloud ingest (TCP + HTTP on loopback) fed over TCP by two simulated data loggers on a hand-driven
 * clock: hours 00-02 of yesterday, then the loggers go away for an hour (hour 03 is missing and the
 * real missing-hour rule opens its alarms), then come back and send hours 04-07.
 */
export async function startScene(): Promise<Scene> {
  const day0 = yesterdayStart();
  const cloud = await startTestCloud(
    {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
          { name: 'chem-system', sha256: sha256(CHEM), role: 'operator', enterprise: '示例化工有限公司' },
        ],
      },
      rules: { graceMinutes: 0, lookbackHours: 48 },
    },
    await sceneStations(day0),
  );
  const clock = { now: day0 + 1000 };
  const config = LoggerConfigSchema.parse({
    port: cloud.cloud.tcp!.address.port,
    stations: [...PW].map(([mn, pw]) => ({ mn, pw })),
    intervals: { rtd: 30, minute: 10, hour: true, day: false },
    tick: 10,
    // The scene's loggers stand on day0, the cloud on the real clock: a 1013 would move them to today.
    timeCalibration: false,
  });
  const run = () => startLoggers(config, { clock: { now: () => clock.now }, log: pino({ level: 'silent' }) });
  const hourStored = (hour: number) =>
    until(async () => {
      const from = day0 + hour * H;
      const got = await Promise.all(
        [FED_MN, CLEAN_MN].map((mn) => cloud.cloud.store.query({ mn, kind: 'hour', from, to: from + 1 })),
      );
      return got.every((points) => points.length === 4);
    }, `hour ${hour} stored`);
  const hours = async (fleet: LoggerFleet, first: number, last: number) => {
    for (let hour = first; hour <= last; hour++) {
      clock.now = day0 + (hour + 1) * H + 1000;
      await hourStored(hour);
    }
    return fleet;
  };
  await (await hours(await run(), 0, 2)).stop();
  clock.now = day0 + 4 * H + 1000;
  await cloud.cloud.rules.checkMissing(clock.now);
  const fleet = await hours(await run(), 4, 7);
  const base = `http://127.0.0.1:${cloud.cloud.http!.address.port}`;
  return {
    cloud,
    base,
    day0,
    clock,
    fleet,
    async stop() {
      await fleet.stop();
      await cloud.stop();
    },
  };
}
