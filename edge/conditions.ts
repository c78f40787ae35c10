import { Aggregator } from './aggregator.js';
import type { DataRecord } from './aggregator.js';
import type { DeviceConfig, EdgeConfig, PowerMeterConfig, ProcessSignalsConfig } from './config.js';
import type { DevicePoll } from './modbus.js';

/** The HJ 212-2025 data sets of power use (用电监控, 分表计电) and production conditions (工况). */
export const POWER_ST = '44';
export const PROCESS_ST = '45';
export type DataSetSt = typeof POWER_ST | typeof PROCESS_ST;

type Quantity = PowerMeterConfig['power'];

function pollDevice(
  id: string,
  g: { bus: string; unit: number; pollSeconds: number },
  quantities: readonly Quantity[],
): DeviceConfig {
  return {
    id,
    bus: g.bus,
    unit: g.unit,
    pollSeconds: g.pollSeconds,
    factors: quantities.map((q) => ({ code: q.code, value: q.register, decimals: q.decimals })),
    parameters: [],
    parametersPollSeconds: 3600,
  };
}

export const powerMeterDevice = (m: PowerMeterConfig): DeviceConfig =>
  pollDevice(`power-${m.id}`, m, [m.power, ...(m.energy ? [m.energy] : []), ...(m.current ? [m.current] : [])]);

export const processSignalsDevice = (g: ProcessSignalsConfig): DeviceConfig =>
  pollDevice(`process-${g.id}`, g, g.signals);

type ChannelConfig = Pick<
  EdgeConfig,
  'station' | 'powerMeters' | 'processSignals' | 'rtdIntervalSeconds' | 'minIntervalMinutes'
>;

/**
 * ST 44 and ST 45 as data sets of their own: their meters and signals are polled like analyzers, and
 * each set has its own aggregator, so their real-time, minute, hour and day records (2011, 2051, 2061,
 * 2031, with Min/Avg/Max by HJ 212-2017 appendix D like any factor) carry the set's ST and never mix
 * with the outlet's pollutants. No Cou and no converted values: they are not concentrations.
 * An energy totaliser's Max is its reading at the period's end; Max - Min the energy used within it.
 */
export class DataSetChannels {
  private readonly owner = new Map<string, DataSetSt>();
  private readonly aggregators = new Map<DataSetSt, Aggregator>();
  private readonly byBus = new Map<string, DeviceConfig[]>();

  constructor(config: ChannelConfig, now: number) {
    // The outlet's flow and reference O2 do not apply: no emission amounts, no O2-converted values.
    const { flow: _flow, referenceO2: _o2, ...station } = config.station;
    const sets: [DataSetSt, DeviceConfig[]][] = [
      [POWER_ST, config.powerMeters.map(powerMeterDevice)],
      [PROCESS_ST, config.processSignals.map(processSignalsDevice)],
    ];
    for (const [st, devices] of sets) {
      if (devices.length === 0) continue;
      for (const d of devices) {
        this.owner.set(d.id, st);
        this.byBus.set(d.bus, [...(this.byBus.get(d.bus) ?? []), d]);
      }
      const intervals = {
        rtdIntervalSeconds: config.rtdIntervalSeconds,
        minIntervalMinutes: config.minIntervalMinutes,
      };
      this.aggregators.set(st, new Aggregator({ station, devices, ...intervals }, now));
    }
  }

  /** The meters and signal controllers polled on one bus. */
  devices(bus: string): DeviceConfig[] {
    return this.byBus.get(bus) ?? [];
  }

  /** A poll of one of the data sets' devices goes to its set (true); anything else is not ours. */
  accept(poll: DevicePoll): boolean {
    const st = this.owner.get(poll.device);
    if (st === undefined) return false;
    this.aggregators.get(st)!.add(poll.at, poll.readings);
    return true;
  }

  /** The records whose periods ended by `now`, each with its data set's ST. */
  tick(now: number): DataRecord[] {
    return [...this.aggregators].flatMap(([st, a]) => a.tick(now).records.map((r) => ({ ...r, st })));
  }

  /** A platform's 1062/1064 apply to every data set alike. */
  setIntervals(rtdIntervalSeconds: number, minIntervalMinutes: number): void {
    for (const a of this.aggregators.values()) a.setIntervals(rtdIntervalSeconds, minIntervalMinutes);
  }
}

/** The meters and signal controllers to poll, on whichever bus each is. */
export const dataSetDevices = (config: Pick<EdgeConfig, 'powerMeters' | 'processSignals'>): DeviceConfig[] => [
  ...config.powerMeters.map(powerMeterDevice),
  ...config.processSignals.map(processSignalsDevice),
];

/** Decimals on the wire of the data sets' codes, for the packets (edge/packets.ts). */
export function dataSetDecimals(config: Pick<EdgeConfig, 'powerMeters' | 'processSignals'>): [string, number][] {
  return [...config.powerMeters.map(powerMeterDevice), ...config.processSignals.map(processSignalsDevice)].flatMap(
    (d) => d.factors.map((f) => [f.code, f.decimals] as [string, number]),
  );
}
