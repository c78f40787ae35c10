import type { EdgeConfig } from './config.js';
import { minuteStats, periodStart, periodStats, realtimeStats, statisticsStation } from './datasets.js';
import type { PeriodStats, Sample, Station } from './datasets.js';
import type { FactorReading } from './registers.js';

export type DataCn = '2011' | '2051' | '2061' | '2031';

/** Analyzer parameters by PolId (the factor an analyzer measures), then i-code (table B.10). */
export type FieldInfo = Record<string, Record<string, number>>;

interface RecordBase {
  /** DataTime: the start of the period; the instant for real-time data, 3020 and 2081. */
  at: number;
  /** Statistics by factor; empty for 3020, 2021, 2041 and 2081. */
  stats: PeriodStats;
  /** An HJ 212-2025 data set of its own (edge/conditions.ts): 44 power use, 45 production conditions. */
  st?: '44' | '45';
}

/** Statistics of a period (2011 real-time, 2051 minute, 2061 hour, 2031 day). */
export type StatsRecord = RecordBase & { cn: DataCn };
/** 3020: analyzer parameters, whose values are in `info`. */
export type InfoRecord = RecordBase & { cn: '3020'; info: FieldInfo };
/** Treatment facilities (SBxxx): run state (2021) or hours run in the day (2041). */
export type FacilityRecord = RecordBase & { cn: '2021' | '2041'; facilities: Record<string, number> };
/** 2081: the logger's boot time (C.24), whose DataTime is also its RestartTime; no statistics. */
export type RestartRecord = RecordBase & { cn: '2081' };
/** One factor's standard check (3024): the standard's value, the reading, and whether it passed where known. */
export interface CheckValues {
  standard: number;
  measured: number;
  passed?: boolean;
}
/** HJ 212-2025 2062 (docs/protocol-2025.md): automatic standard-check data by factor; DataTime is when it ended. */
export type StandardCheckRecord = RecordBase & { cn: '2062'; checks: Record<string, CheckValues> };
/** A record to upload, one shape per CN (HJ 212-2017 table 9), so what a CN carries is checked where it is built. */
export type DataRecord = StatsRecord | InfoRecord | FacilityRecord | RestartRecord | StandardCheckRecord;

/** What a platform may ask for by BeginTime/EndTime. */
export type HistoryCn = DataCn | '2041';

/** What survives a restart so an hour or a day in progress is not lost: closed minutes and hours. */
export interface AggregatorState {
  /** The first minute not closed yet. */
  cursor: number;
  minutes: [number, PeriodStats][];
  hours: [number, PeriodStats][];
}

export interface TickResult {
  records: DataRecord[];
  /** One-minute statistics closed by this tick, for the caller to persist. */
  closedMinutes: [number, PeriodStats][];
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Turns timestamped readings into HJ 212 records as the clock passes period boundaries. It keeps no
 * timers: the caller feeds readings and ticks with its clock, so a test drives an hour in a loop.
 */
export class Aggregator {
  private cursor: number;
  private nextRealtime: number;
  private readonly pending = new Map<number, Map<string, Sample[]>>();
  private readonly latest = new Map<string, Sample>();
  private readonly minutes: Map<number, PeriodStats>;
  private readonly hours: Map<number, PeriodStats>;
  private readonly config: { station: Station } & Pick<EdgeConfig, 'rtdIntervalSeconds' | 'minIntervalMinutes'>;

  /** `devices` gives the per-factor options of the statistics (converted, couUnit). */
  constructor(
    config: Pick<EdgeConfig, 'station' | 'devices' | 'rtdIntervalSeconds' | 'minIntervalMinutes'>,
    now: number,
    restored?: AggregatorState,
  ) {
    this.config = {
      station: statisticsStation(config),
      rtdIntervalSeconds: config.rtdIntervalSeconds,
      minIntervalMinutes: config.minIntervalMinutes,
    };
    this.cursor = restored?.cursor ?? periodStart(now, 'minute', this.offset);
    this.minutes = new Map(restored?.minutes);
    this.hours = new Map(restored?.hours);
    this.nextRealtime = this.realtimeAfter(now);
  }

  private get offset(): number {
    return this.config.station.utcOffsetMinutes;
  }

  /** RtdInterval and MinInterval can change at run time (1062, 1064); the next boundary follows them. */
  setIntervals(rtdIntervalSeconds: number, minIntervalMinutes: number): void {
    Object.assign(this.config, { rtdIntervalSeconds, minIntervalMinutes });
    this.nextRealtime = this.realtimeAfter(this.nextRealtime - 1);
  }

  private realtimeAfter(at: number): number {
    const step = this.config.rtdIntervalSeconds * 1000;
    return (Math.floor(at / step) + 1) * step;
  }

  add(at: number, readings: readonly FactorReading[]): void {
    // A reading stamped before the open minute (a poll that straddled the boundary) joins the open one.
    const minute = Math.max(periodStart(at, 'minute', this.offset), this.cursor);
    const bucket = this.pending.get(minute) ?? new Map<string, Sample[]>();
    this.pending.set(minute, bucket);
    for (const r of readings) {
      const sample: Sample = { at, value: r.value, flag: r.flag };
      if (r.cyclic) Object.assign(sample, { cyclic: true }, r.sampleTime !== undefined && { sampleTime: r.sampleTime });
      bucket.set(r.code, [...(bucket.get(r.code) ?? []), sample]);
      this.latest.set(r.code, sample);
    }
  }

  /** Closes every minute that ended by `now` and returns the records whose periods ended with them. */
  tick(now: number): TickResult {
    const records: DataRecord[] = [];
    const closedMinutes: [number, PeriodStats][] = [];
    if (now >= this.nextRealtime && this.latest.size > 0) {
      records.push({ cn: '2011', at: this.nextRealtime, stats: realtimeStats(this.latest, this.config.station) });
    }
    if (now >= this.nextRealtime) this.nextRealtime = this.realtimeAfter(now);
    while (this.cursor + MINUTE <= now) {
      const start = this.cursor;
      const stats = minuteStats(this.pending.get(start) ?? new Map(), this.config.station);
      this.pending.delete(start);
      this.minutes.set(start, stats);
      closedMinutes.push([start, stats]);
      this.cursor += MINUTE;
      records.push(...this.boundaryRecords(this.cursor));
    }
    return { records, closedMinutes };
  }

  private boundaryRecords(end: number): DataRecord[] {
    const out: DataRecord[] = [];
    const station = this.config.station;
    const interval = this.config.minIntervalMinutes * MINUTE;
    const minutesIn = (from: number, to: number) =>
      [...this.minutes].filter(([t]) => t >= from && t < to).map(([, s]) => s);
    const record = (cn: DataCn, at: number, stats: PeriodStats) => {
      if (Object.keys(stats).length > 0) out.push({ cn, at, stats });
    };
    if (periodStart(end, 'interval', this.offset, this.config.minIntervalMinutes) === end) {
      record(
        '2051',
        end - interval,
        periodStats('minute', minutesIn(end - interval, end), this.config.minIntervalMinutes, station),
      );
    }
    if (periodStart(end, 'hour', this.offset) === end) {
      const hour = periodStats('hour', minutesIn(end - HOUR, end), 60, station);
      this.hours.set(end - HOUR, hour);
      record('2061', end - HOUR, hour);
      for (const t of this.minutes.keys()) if (t < end - HOUR) this.minutes.delete(t);
    }
    if (periodStart(end, 'day', this.offset) === end) {
      const hours = [...this.hours].filter(([t]) => t >= end - DAY && t < end).map(([, s]) => s);
      record('2031', end - DAY, periodStats('day', hours, 24, station));
      for (const t of this.hours.keys()) if (t < end - DAY) this.hours.delete(t);
    }
    return out;
  }

  /** Everything needed to resume after a restart. */
  state(): AggregatorState {
    return { cursor: this.cursor, minutes: [...this.minutes], hours: [...this.hours] };
  }
}
