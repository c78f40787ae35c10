import type { AnalyzerProfile, AnalyzerStatus } from './profile.js';
import { gaussian } from './random.js';
import { DEFAULT_PEAK_HOUR } from './scenario.js';
import type { GarbleMode, ScenarioEvent, SignalSpec } from './scenario.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const CHINA_UTC_OFFSET_H = 8;

/** Everything needed to compute one device's readings at any simulated time; times are epoch ms. */
export interface Signal {
  /** Distinguishes the noise of devices that share a profile. */
  key: string;
  seed: number;
  start: number;
  mean: number;
  amplitude: number;
  peakHour: number;
  noise: number;
  sampleEvery: number;
  events: readonly ScenarioEvent[];
}

export interface Reading {
  value: number;
  status: AnalyzerStatus;
}

export type Comms = { kind: 'ok' } | { kind: 'dropout' } | { kind: 'garbled'; mode: GarbleMode };

export function resolveSignal(
  profile: AnalyzerProfile,
  spec: SignalSpec | undefined,
  context: { key: string; seed: number; start: number },
): Signal {
  const { nominal } = profile;
  return {
    ...context,
    mean: spec?.mean ?? nominal.mean,
    amplitude: spec?.amplitude ?? nominal.amplitude,
    peakHour: spec?.peakHour ?? DEFAULT_PEAK_HOUR,
    noise: spec?.noise ?? nominal.noise,
    sampleEvery: spec?.sampleEvery ?? nominal.sampleEvery,
    events: spec?.events ?? [],
  };
}

/** Start (ms offset from the scenario start) of the repetition of `event` open at `offset`, if any. */
function openWindowStart(event: ScenarioEvent, offset: number): number | undefined {
  if (offset < event.from) return undefined;
  const length = (event.to ?? Infinity) - event.from;
  const start = event.from + (event.every ? Math.floor((offset - event.from) / event.every) * event.every : 0);
  return offset < start + length ? start : undefined;
}

/** End (ms offset) of the latest repetition of `event` that closed at or before `offset`. */
function lastWindowEnd(event: ScenarioEvent, offset: number): number | undefined {
  if (event.to === undefined || offset < event.to) return undefined;
  return event.every ? event.to + Math.floor((offset - event.to) / event.every) * event.every : event.to;
}

/** The analyzer publishes a new reading once per sample period and holds it in between. */
function sampleIndex(signal: Signal, t: number): number {
  return Math.floor((t - signal.start) / signal.sampleEvery);
}

/**
 * The measurement cycle of the reading on display: its sample was taken at the start of the sample
 * period and the cycle count is how many periods have completed since the scenario start.
 */
export function cycleAt(signal: Signal, t: number): { sampleTime: number; cycle: number } {
  const index = sampleIndex(signal, t);
  return { sampleTime: signal.start + index * signal.sampleEvery, cycle: Math.max(0, index) };
}

function noiseAt(signal: Signal, t: number): number {
  return signal.noise === 0 ? 0 : signal.noise * gaussian(signal.seed, signal.key, sampleIndex(signal, t));
}

/** The undisturbed reading: daily sinusoid (peak at `peakHour` Beijing time) + drift + noise. */
function baseAt(signal: Signal, t: number): number {
  const sampledAt = signal.start + sampleIndex(signal, t) * signal.sampleEvery;
  const hour = (((sampledAt / HOUR_MS + CHINA_UTC_OFFSET_H) % 24) + 24) % 24;
  const curve = signal.mean + signal.amplitude * Math.cos((2 * Math.PI * (hour - signal.peakHour)) / 24);
  const offset = sampledAt - signal.start;
  let drift = 0;
  for (const event of signal.events) {
    if (event.kind !== 'drift') continue;
    const opened = openWindowStart(event, offset);
    if (opened !== undefined) drift += (event.perDay * (offset - opened)) / DAY_MS;
  }
  return curve + drift + noiseAt(signal, t);
}

const DEFAULT_HELD = { maintenance: 'hold', calibration: 'hold', fault: 'hold', stopped: 'zero' } as const;

/**
 * The reading at simulated time `t`. Episodes later in the event list win over earlier ones.
 * "hold" freezes the undisturbed reading at the window's start. Over range is judged against
 * `rangeUpper` (the analyzer's own, possibly rewritten, range parameter) when no window sets a status.
 */
export function readingAt(signal: Signal, t: number, rangeUpper?: number): Reading {
  const offset = t - signal.start;
  let value = baseAt(signal, t);
  let status: AnalyzerStatus | undefined;
  for (const event of signal.events) {
    const opened = openWindowStart(event, offset);
    if (opened === undefined) continue;
    const heldFrom = () => baseAt(signal, signal.start + opened);
    switch (event.kind) {
      case 'exceedance':
        value = event.level + noiseAt(signal, t);
        break;
      case 'stuck':
        value = event.value ?? heldFrom();
        break;
      case 'zero':
        value = 0;
        break;
      case 'negative':
        value = event.value;
        break;
      case 'maintenance':
      case 'calibration':
      case 'fault':
      case 'stopped': {
        status = event.kind;
        const held = event.value ?? DEFAULT_HELD[event.kind];
        value = held === 'hold' ? heldFrom() : held === 'zero' ? 0 : held === 'live' ? value : held;
        break;
      }
      case 'drift':
      case 'dropout':
      case 'garbled':
        break;
    }
  }
  status ??= rangeUpper !== undefined && value > rangeUpper ? 'overRange' : 'normal';
  return { value, status };
}

/** Whether the device answers at `t`, and how. */
export function commsAt(signal: Signal, t: number): Comms {
  let comms: Comms = { kind: 'ok' };
  for (const event of signal.events) {
    if (openWindowStart(event, t - signal.start) === undefined) continue;
    if (event.kind === 'dropout') comms = { kind: 'dropout' };
    if (event.kind === 'garbled') comms = { kind: 'garbled', mode: event.mode };
  }
  return comms;
}

/** End of the latest finished calibration window; before any, the day before the scenario start. */
export function lastCalibrationAt(signal: Signal, t: number): number {
  let latest = signal.start - DAY_MS;
  for (const event of signal.events) {
    const end = event.kind === 'calibration' ? lastWindowEnd(event, t - signal.start) : undefined;
    if (end !== undefined) latest = Math.max(latest, signal.start + end);
  }
  return latest;
}

/**
 * What a totaliser adds between `from` and `to`: each held reading × its duration × `perSecond`.
 * Reverse (negative) flow is not counted, as on a forward totaliser.
 */
export function totalBetween(signal: Signal, from: number, to: number, perSecond: number): number {
  let total = 0;
  for (let t = from; t < to;) {
    const next = Math.min(to, signal.start + (sampleIndex(signal, t) + 1) * signal.sampleEvery);
    total += Math.max(0, readingAt(signal, t).value) * ((next - t) / 1000) * perSecond;
    t = next;
  }
  return total;
}
