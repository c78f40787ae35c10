import type { FacilityRecord } from './aggregator.js';
import type { DeviceConfig, FacilityConfig } from './config.js';
import { periodStart } from './datasets.js';
import type { FactorReading } from './registers.js';

/** Table 4: SBxxx-RS is 0 off, 1 running, 2 calibrating, 3 maintenance, 4 alarm, 5 blowback. */
export const RUNNING = 1;
const ALARM = 4;
const DAY = 86_400_000;

/** Per facility, the run state last read and the milliseconds run in the open day. */
export interface RunTimeState {
  day: number;
  runMs: Record<string, number>;
  last: Record<string, { at: number; rs: number }>;
}

/**
 * A facility is polled like an analyzer with one register, its run-state register; the poller's
 * back-off and B flag then apply to it unchanged.
 */
export function facilityDevice(f: FacilityConfig): DeviceConfig {
  return {
    id: facilityDeviceId(f.code),
    bus: f.bus,
    unit: f.unit,
    pollSeconds: f.pollSeconds,
    factors: [{ code: f.code, value: { ...f.state, scale: 1, offset: 0 }, decimals: 0 }],
    parameters: [],
    parametersPollSeconds: 3600,
  };
}

export const facilityDeviceId = (code: string): string => `facility-${code}`;

/**
 * Run state (2021) and daily run time (2041) of treatment facilities from polled run-state samples:
 * the time between two samples counts as run when the earlier one said running; a facility that did
 * not answer (B) counts as not running, since nothing says it ran.
 */
export class RunTimeTracker {
  private state: RunTimeState;
  private readonly states: Map<string, Record<string, number>>;
  /** Days closed by a sample from the next day, returned by the next tick. */
  private closed: FacilityRecord[] = [];

  constructor(
    facilities: readonly FacilityConfig[],
    private readonly utcOffsetMinutes: number,
    now: number,
    restored?: RunTimeState,
  ) {
    this.states = new Map(facilities.map((f) => [f.code, f.states]));
    this.state = restored ?? { day: periodStart(now, 'day', utcOffsetMinutes), runMs: {}, last: {} };
  }

  /** A poll of a facility's run-state register; undefined RS when it did not answer. */
  add(at: number, reading: FactorReading): void {
    const map = this.states.get(reading.code);
    if (!map) return;
    // A register value the configuration does not list is reported as an alarm, never as running.
    const rs = reading.flag === 'B' || Number.isNaN(reading.value) ? undefined : (map[String(reading.value)] ?? ALARM);
    this.roll(at);
    this.accumulate(reading.code, at);
    if (rs === undefined) delete this.state.last[reading.code];
    else this.state.last[reading.code] = { at, rs };
  }

  private accumulate(code: string, until: number): void {
    const last = this.state.last[code];
    if (!last || last.rs !== RUNNING || until <= last.at) return;
    const from = Math.max(last.at, this.state.day);
    const to = Math.min(until, this.state.day + DAY);
    if (to > from) this.state.runMs[code] = (this.state.runMs[code] ?? 0) + (to - from);
    this.state.last[code] = { at: until, rs: last.rs };
  }

  /** The current run states, as a 2021 record stamped `at`; undefined when none is known. */
  realtime(at: number): FacilityRecord | undefined {
    const facilities = Object.fromEntries(Object.entries(this.state.last).map(([code, s]) => [code, s.rs]));
    return Object.keys(facilities).length > 0 ? { cn: '2021', at, stats: {}, facilities } : undefined;
  }

  /** Closes every day that ended by `now`, each as a 2041 record of hours run per facility. */
  tick(now: number): FacilityRecord[] {
    this.roll(now);
    const out = this.closed;
    this.closed = [];
    return out;
  }

  private roll(now: number): void {
    while (this.state.day + DAY <= now) {
      const end = this.state.day + DAY;
      for (const code of this.states.keys()) this.accumulate(code, end);
      const facilities = Object.fromEntries(
        [...this.states.keys()].map((code) => [code, Math.min(24, (this.state.runMs[code] ?? 0) / 3_600_000)]),
      );
      // A box without treatment facilities has no run time to report: a 2041 of C.19 with no SBxxx-RT is no record.
      if (this.states.size > 0) this.closed.push({ cn: '2041', at: this.state.day, stats: {}, facilities });
      this.state = { day: end, runMs: {}, last: this.state.last };
    }
  }

  snapshot(): RunTimeState {
    return structuredClone(this.state);
  }
}
