import type { CycleSpec, EdgeConfig, HjFlag } from './config.js';
import type { Station } from './datasets.js';
import type { FactorReading } from './registers.js';
import { appendixBUnit, conversionFor, readingUnit, toAppendixB } from './units.js';
import type { Conversion } from './units.js';

/**
 * Where an analyzer's reading becomes a value of HJ 212: each reading converted to appendix B's unit
 * and, for a flue gas flow declared actual-wet, to standard dry (HJ 212-2017 D.2.4 eq. 31); the
 * readings of a non-continuous (cyclic) analyzer pass only when a cycle completed, marked as cycle
 * values with their SampleTime. The agent and `hj212 stats` both feed readings through this class
 * into the aggregator.
 */

/** What the poller knows of the poll that produced the readings. */
export interface PollSource {
  device: string;
  /** The device's cycle register this poll (cyclic devices). */
  cycle?: number | undefined;
  /** Set when the device did not answer: its readings are B-flagged held values. */
  error?: string | undefined;
}

const TEMPERATURE = 'a01012';
const PRESSURE = 'a01013';
const HUMIDITY = 'a01014';
const AMBIENT_PRESSURE = 'a01006';
/** Standard conditions of HJ 212-2017 D.2 (and HJ 75-2017): 273 K, 101325 Pa. */
const STANDARD_KELVIN = 273;
const STANDARD_KPA = 101.325;

interface StateValue {
  value: number;
  flag: HjFlag;
}

/**
 * Standard dry flow from actual wet flow, HJ 212-2017 D.2.4 eq. (31):
 * Q_sn = Q_s × 273 / (273 + t_s) × (B_a + P_s) / 101325 × (1 − X_sw), with t_s in ℃, pressures in kPa
 * here (the ratio is the same), X_sw the humidity in %.
 */
export function standardDryFlow(
  actual: number,
  temperatureC: number,
  absoluteKPa: number,
  humidityPct: number,
): number {
  return (
    actual *
    (STANDARD_KELVIN / (STANDARD_KELVIN + temperatureC)) *
    (absoluteKPa / STANDARD_KPA) *
    (1 - humidityPct / 100)
  );
}

/** The station as the data sets see it: the flow already in appendix B's unit (readings were converted). */
export function dataStation(station: Station): Station {
  const unit = station.flow && appendixBUnit(station.flow.code);
  if (!station.flow || (unit !== 'L/s' && unit !== 'm3/s' && unit !== 'm3/h')) return station;
  return { ...station, flow: { ...station.flow, unit } };
}

export class ReadingPipeline {
  private readonly conversions = new Map<string, Conversion>();
  private readonly state = new Map<string, StateValue>();
  private readonly flow: Station['flow'];
  private readonly cycles = new Map<string, CycleSpec>();
  private readonly cyclicCodes = new Set<string>();
  /** The cycle register of each cyclic device at its last answered poll. */
  private readonly markers = new Map<string, number>();

  constructor(config: Pick<EdgeConfig, 'station' | 'devices'>) {
    this.flow = config.station.flow;
    for (const device of config.devices) {
      if (device.cycle) {
        this.cycles.set(device.id, device.cycle);
        for (const f of device.factors) this.cyclicCodes.add(f.code);
      }
      for (const f of device.factors) {
        const unit = readingUnit(f, config.station);
        if (unit === undefined) continue;
        const conversion = conversionFor(f.code, unit, f.molarMass);
        // parseEdgeConfig refused these already; a hand-built config must not pass a wrong value on.
        if (typeof conversion === 'string') throw new Error(`${f.code}: ${conversion}`);
        if (conversion.factor !== 1) this.conversions.set(f.code, conversion);
      }
    }
  }

  /**
   * The readings of one poll at `at`, in appendix B's units. Without `poll` (one instant of a CSV) a
   * reading of a cyclic device's factor is a completed cycle sampled at `at`.
   */
  accept(at: number, readings: readonly FactorReading[], poll?: PollSource): FactorReading[] {
    const taken = poll
      ? this.cycleReadings(at, readings, poll)
      : readings.map((r) => (this.cyclicCodes.has(r.code) ? { ...r, cyclic: true, sampleTime: at } : r));
    const converted = taken.map((r) => {
      const conversion = this.conversions.get(r.code);
      return conversion ? { ...r, value: toAppendixB(r.value, conversion) } : r;
    });
    for (const r of converted) {
      if (r.code === TEMPERATURE || r.code === PRESSURE || r.code === HUMIDITY || r.code === AMBIENT_PRESSURE)
        this.state.set(r.code, { value: r.value, flag: r.flag });
    }
    if (this.flow?.basis !== 'actual-wet') return converted;
    return converted.map((r) => (r.code === this.flow?.code ? this.standardized(r) : r));
  }

  /**
   * A cyclic device's readings pass when its cycle register changed since the last answered poll; the
   * first poll after a start only learns the register (the value on display may have been counted
   * before the restart). A poll the device did not answer passes its B-flagged readings, so an hour
   * without any cycle says why.
   */
  private cycleReadings(at: number, readings: readonly FactorReading[], poll: PollSource): readonly FactorReading[] {
    const spec = this.cycles.get(poll.device);
    if (!spec) return readings;
    if (poll.error !== undefined || poll.cycle === undefined) return readings.map((r) => ({ ...r, cyclic: true }));
    const last = this.markers.get(poll.device);
    this.markers.set(poll.device, poll.cycle);
    if (last === undefined || last === poll.cycle) return [];
    const sampleTime = spec.holds === 'sampleTime' ? poll.cycle * 1000 : at;
    return readings.map((r) => ({ ...r, cyclic: true, sampleTime }));
  }

  /**
   * The flow at standard conditions from the latest temperature, pressure and humidity. It is valid (N)
   * only when they all are; otherwise it takes the first of their flags, and D when one was never read.
   */
  private standardized(reading: FactorReading): FactorReading {
    const flow = this.flow;
    const t = this.state.get(TEMPERATURE);
    const p = this.state.get(PRESSURE);
    const h = this.state.get(HUMIDITY);
    const ambient: StateValue | undefined =
      flow?.pressure === 'absolute'
        ? { value: 0, flag: 'N' }
        : (this.state.get(AMBIENT_PRESSURE) ??
          (flow?.ambientPressureKPa !== undefined ? { value: flow.ambientPressureKPa, flag: 'N' } : undefined));
    if (!t || !p || !h || !ambient) return { ...reading, value: Number.NaN, flag: 'D' };
    const flag = [reading.flag, t.flag, p.flag, h.flag, ambient.flag].find((f) => f !== 'N') ?? 'N';
    return { ...reading, value: standardDryFlow(reading.value, t.value, ambient.value + p.value, h.value), flag };
  }
}
