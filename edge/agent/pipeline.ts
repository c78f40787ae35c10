import { Aggregator } from '../aggregator.js';
import type { AggregatorState, DataRecord, StandardCheckRecord } from '../aggregator.js';
import type { StandardCheck } from '../control.js';
import { DataSetChannels } from '../conditions.js';
import type { EdgeConfig } from '../config.js';
import { RunTimeTracker, facilityDeviceId } from '../facilities.js';
import type { RunTimeState } from '../facilities.js';
import type { DevicePoll } from '../modbus.js';
import { ReadingPipeline, dataStation } from '../readings.js';
import type { Tick } from '../store/index.js';
import type { AgentClock } from './clock.js';
import type { InputSink } from './inputs.js';

/** Where the pipeline resumes: the store's open hour and day, and the facilities' open day. */
export interface PipelineStart {
  rtdIntervalSeconds: number;
  minIntervalMinutes: number;
  restored: AggregatorState | undefined;
  runTime: RunTimeState | undefined;
}

/**
 * The second stage and the only producer of records: readings through validity and units
 * (edge/readings.ts) into the aggregator (edge/aggregator.ts), facility run states into the run-time
 * tracker (edge/facilities.ts), analyzer parameters into a 3020 when they change, and the 2081 of the
 * start. Records wait here until the committer's next tick takes them (`tick`).
 */
export class RecordPipeline implements InputSink {
  private readonly aggregator: Aggregator;
  private readonly readings: ReadingPipeline;
  private readonly runTime: RunTimeTracker;
  /** HJ 212-2025 ST 44/45: power meters and production signals, aggregated apart (edge/conditions.ts). */
  private readonly dataSets: DataSetChannels;
  private readonly facilityIds: Set<string>;
  private readonly hasFacilities: boolean;
  private readonly factorsOf: Map<string, string[]>;
  private readonly parametersByFactor = new Map<string, Record<string, number>>();
  /** Records produced between ticks (2081, 3020, 2062), in the order they were produced. */
  private queued: DataRecord[] = [];

  constructor(
    config: EdgeConfig,
    private readonly clock: AgentClock,
    start: PipelineStart,
  ) {
    const utc = config.station.utcOffsetMinutes;
    // Readings reach the aggregator in appendix B's units (edge/readings.ts), so does the flow of Cou.
    this.aggregator = new Aggregator(
      {
        station: dataStation(config.station),
        devices: config.devices,
        rtdIntervalSeconds: start.rtdIntervalSeconds,
        minIntervalMinutes: start.minIntervalMinutes,
      },
      clock.now(),
      start.restored,
    );
    this.readings = new ReadingPipeline(config);
    this.runTime = new RunTimeTracker(config.facilities, utc, clock.now(), start.runTime);
    this.dataSets = new DataSetChannels(
      { ...config, rtdIntervalSeconds: start.rtdIntervalSeconds, minIntervalMinutes: start.minIntervalMinutes },
      clock.now(),
    );
    this.facilityIds = new Set(config.facilities.map((f) => facilityDeviceId(f.code)));
    this.hasFacilities = config.facilities.length > 0;
    this.factorsOf = new Map(config.devices.map((d) => [d.id, d.factors.map((f) => f.code)]));
  }

  /**
   * 2081 (HJ 212-2017 C.24): the logger's boot time, DataTime and RestartTime alike, kept like hour data
   * (edge/store/retention.ts). Queued before anything is polled, so it is the first record of this run.
   */
  started(): void {
    this.queued.push({ cn: '2081', at: this.clock.now(), stats: {} });
  }

  /**
   * HJ 212-2025 2062: a standard check's result (3024), DataTime when it was read; returns the record, which
   * the next tick commits to every outbox that takes it.
   */
  standardCheck(check: StandardCheck): StandardCheckRecord {
    const { polId, standard, measured, passed } = check;
    const record: StandardCheckRecord = {
      cn: '2062',
      at: this.clock.now(),
      stats: {},
      checks: { [polId]: { standard, measured, ...(passed !== undefined && { passed }) } },
    };
    this.queued.push(record);
    return record;
  }

  poll(poll: DevicePoll): void {
    if (this.dataSets.accept(poll)) return;
    if (this.facilityIds.has(poll.device)) {
      for (const r of poll.readings) this.runTime.add(poll.at, r);
      return;
    }
    this.aggregator.add(poll.at, this.readings.accept(poll.at, poll.readings, poll));
  }

  parameters(device: string, values: Record<string, number>): void {
    const codes = this.factorsOf.get(device) ?? [];
    const changed = codes.some((code) => JSON.stringify(this.parametersByFactor.get(code)) !== JSON.stringify(values));
    for (const code of codes) this.parametersByFactor.set(code, values);
    // Dynamic control: parameters go up (3020) when they change; the first read after start counts.
    if (changed)
      this.queued.push({
        cn: '3020',
        at: this.clock.now(),
        stats: {},
        info: Object.fromEntries(codes.map((code) => [code, values])),
      });
  }

  /** Latest analyzer parameters of a factor, as i-code → value (3020, 3020 requests). */
  parametersOf(polId: string): Record<string, number> | undefined {
    return this.parametersByFactor.get(polId);
  }

  /** 1061/1063: the intervals real-time and minute data go up at from now on. */
  setIntervals(rtdIntervalSeconds: number, minIntervalMinutes: number): void {
    this.aggregator.setIntervals(rtdIntervalSeconds, minIntervalMinutes);
    this.dataSets.setIntervals(rtdIntervalSeconds, minIntervalMinutes);
  }

  /**
   * Closes what is due at `at` and hands over every record produced since the last tick, with the
   * state that resumes them: the aggregator's, and the facilities' open day so that a crash neither
   * repeats nor loses a 2041.
   */
  tick(at: number): Tick {
    const result = this.aggregator.tick(at);
    const records = [...this.queued, ...result.records, ...this.runTime.tick(at), ...this.dataSets.tick(at)];
    this.queued = [];
    // Facility run states go up with each real-time record, stamped alike.
    const realtime = result.records.find((r) => r.cn === '2011');
    const states = realtime && this.runTime.realtime(realtime.at);
    if (states) records.push(states);
    return {
      minutes: result.closedMinutes,
      records,
      state: this.aggregator.state(),
      ...(this.hasFacilities && { settings: { runTime: this.runTime.snapshot() } }),
    };
  }
}
