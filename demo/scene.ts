import type { StationInput } from '../cloud/index.js';
import type { EdgeConfigInput } from '../edge/index.js';
import type { AnalyzerConfigInput } from '../simulators/analyzer/index.js';

/** The demo's outlets: the MNs of the example configs in deploy/edge/, and one third-party logger. */
export const WATER_MN = '010000A8900016F000169DC0';
export const CEMS_MN = '370104201800010000A8C2F1';
export const LOGGER_MN = '0100000000A89000000000A1';

const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** The COD limit of the water outlet (GB 8978 grade 1), and the scripted episode above it. */
export const COD_LIMIT = 100;
const COD_EPISODE = { kind: 'exceedance' as const, from: '40m', to: '1h40m', level: 180 };

/**
 * The third-party logger loses its line for one simulated hour (10 past hour 1 to 10 past hour 2), so
 * hour 1 never arrives on time: the centre's missing-hour rule opens its alarms, asks the logger for
 * the hour with 2061 once it is back, and closes them when the logger resends it.
 */
export const LOGGER_AWAY = { from: 70 * MINUTE, to: 130 * MINUTE };

export interface Credentials {
  /** HJ 212 access passwords (PW), per MN. */
  pw: Record<string, string>;
  /** MQTT secrets of the edge boxes, per MN. */
  mqtt: Record<string, string>;
  /** Scrypt hashes of the above, as the registry stores them. */
  hashes: Record<string, { pw: string; mqtt?: string }>;
}

/** The registry: limits chosen so that only the scripted COD episode exceeds one. */
export function demoStations(c: Credentials, monitoredSince: number): StationInput[] {
  const since = new Date(monitoredSince).toISOString();
  const water = { w01018: { upper: COD_LIMIT }, w21003: { upper: 15 }, w01001: { lower: 6, upper: 9 }, w00000: {} };
  const station = (mn: string) => ({
    mn,
    passwordHash: c.hashes[mn]!.pw,
    ...(c.hashes[mn]!.mqtt !== undefined && { mqttSecretHash: c.hashes[mn]!.mqtt }),
    monitoredSince: since,
  });
  return [
    {
      ...station(WATER_MN),
      region: '城东区',
      enterprise: '示例化工有限公司',
      outlet: 'WS-01 总排口',
      type: 'water',
      factors: water,
    },
    {
      ...station(CEMS_MN),
      region: '城西区',
      enterprise: '示例热电有限公司',
      outlet: 'DA-01 锅炉烟囱',
      type: 'gas',
      o2Ref: 6,
      factors: { a21026: { upper: 50 }, a21002: { upper: 100 }, a34013: { upper: 20 }, a19001: {}, a00000: {} },
    },
    {
      ...station(LOGGER_MN),
      region: '城东区',
      enterprise: '示例印染有限公司',
      outlet: 'WS-02 总排口（第三方数采仪）',
      type: 'water',
      factors: water,
    },
  ];
}

/** One analyzer simulator per outlet on a loopback port, on the demo's shared clock. */
export function waterAnalyzers(port: number): AnalyzerConfigInput {
  return {
    tcp: { host: '127.0.0.1', port },
    devices: [
      { unit: 1, profile: 'cod' },
      { unit: 2, profile: 'nh3n' },
      { unit: 3, profile: 'ph' },
      { unit: 4, profile: 'water-flow' },
    ],
    // A COD cycle every 10 minutes instead of the profile's hour, so the episode shows within minutes.
    scenario: { seed: 212, signals: { cod: { sampleEvery: '10m', events: [COD_EPISODE] } } },
  };
}

export function cemsAnalyzers(port: number): AnalyzerConfigInput {
  return {
    tcp: { host: '127.0.0.1', port },
    devices: ['so2', 'nox', 'particulate', 'o2', 'flue-flow'].map((profile, i) => ({ unit: i + 1, profile })),
    scenario: { seed: 213 },
  };
}

interface EdgeSetup {
  dataDir: string;
  analyzerPort: number;
  mqttUrl: string;
  credentials: Credentials;
  /** Real seconds between polls: a few readings per simulated minute at any warp. */
  pollSeconds: number;
}

const reading = (code: string, decimals: number) => [
  { code, value: { address: 0, type: 'float32' as const }, decimals },
];

function edgeConfig(
  mn: string,
  s: EdgeSetup,
  station: EdgeConfigInput['station'],
  devices: [string, string, number][],
): EdgeConfigInput {
  return {
    station,
    rtdIntervalSeconds: 30,
    minIntervalMinutes: 10,
    dataDir: s.dataDir,
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: s.analyzerPort }],
    devices: devices.map(([id, code, decimals], i) => ({
      id,
      bus: 'line',
      unit: i + 1,
      pollSeconds: s.pollSeconds,
      status: { address: 2 },
      factors: reading(code, decimals),
    })),
    uplinks: [
      {
        id: 'cloud',
        kind: 'mqtt',
        url: s.mqttUrl,
        username: mn,
        password: s.credentials.mqtt[mn]!,
        pw: s.credentials.pw[mn]!,
        realtime: true,
      },
    ],
  };
}

/**
 * The outlet of deploy/edge/water-outlet.yaml (COD, NH3-N, pH, flow) on one simulated Modbus TCP line, uplinked to the
 * demo's cloud.
 */
export function waterEdge(s: EdgeSetup): EdgeConfigInput {
  const station = { mn: WATER_MN, st: '32', kind: 'water' as const, flow: { code: 'w00000', unit: 'L/s' as const } };
  return edgeConfig(WATER_MN, s, station, [
    ['cod', 'w01018', 1],
    ['nh3n', 'w21003', 3],
    ['ph', 'w01001', 2],
    ['flow', 'w00000', 2],
  ]);
}

/** The stack of deploy/edge/cems-outlet.yaml (SO2, NOx, particulate, O2, flue-gas flow), likewise. */
export function cemsEdge(s: EdgeSetup): EdgeConfigInput {
  const station = {
    mn: CEMS_MN,
    st: '31',
    kind: 'gas' as const,
    flow: { code: 'a00000', unit: 'm3/h' as const },
    referenceO2: 6,
  };
  return edgeConfig(CEMS_MN, s, station, [
    ['so2', 'a21026', 1],
    ['nox', 'a21002', 1],
    ['dust', 'a34013', 2],
    ['o2', 'a19001', 2],
    ['flow', 'a00000', 2],
  ]);
}
