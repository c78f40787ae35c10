import type { SimClock } from '../shared/clock.js';
import { decodeValue, encodeValue, registerWidth } from '../../modbus/registers.js';
import type { ModbusSlave, WriteOutcome } from './modbus.js';
import { AnalyzerControl } from './control.js';
import type { StandardCheckOptions } from './control.js';
import { ANALYZER_STATUSES, RANGE_UPPER_PARAMETER } from './profile.js';
import type { AnalyzerProfile, AnalyzerStatus, ProfileRegister } from './profile.js';
import { commsAt, cycleAt, lastCalibrationAt, readingAt, totalBetween } from './signal.js';
import type { Comms, Signal } from './signal.js';

/** What one analyzer shows at one instant, before it is laid out in registers. */
export interface DeviceSnapshot {
  value: number;
  status: AnalyzerStatus;
  /** Absent when the profile has no totaliser. */
  total: number | undefined;
  lastCalibration: number;
  /** When the sample of the reading on display was taken (epoch ms), and how many cycles have completed. */
  sampleTime: number;
  cycle: number;
  parameters: ReadonlyMap<string, number>;
}

function sourceValue(reg: ProfileRegister, snapshot: DeviceSnapshot): number {
  switch (reg.source) {
    case 'value':
      return snapshot.value;
    case 'status':
      return ANALYZER_STATUSES[snapshot.status].code;
    case 'total':
      return snapshot.total ?? 0;
    case 'lastCalibration':
      return Math.floor(snapshot.lastCalibration / 1000);
    case 'sampleTime':
      return Math.floor(snapshot.sampleTime / 1000);
    case 'cycle':
      // A 16-bit counter wraps, as the analyzers' own do; the edge only looks for a change.
      return snapshot.cycle % 0x10000;
    case 'param':
      return snapshot.parameters.get(reg.param) ?? 0;
  }
}

/** The register image: address → 16-bit word, for every address the profile maps. */
export function registerImage(profile: AnalyzerProfile, snapshot: DeviceSnapshot): Map<number, number> {
  const image = new Map<number, number>();
  for (const reg of profile.registers) {
    // Integer registers saturate like real analyzers do instead of wrapping around.
    encodeValue(sourceValue(reg, snapshot), reg, 'saturate').forEach((word, i) => image.set(reg.address + i, word));
  }
  return image;
}

/** The profiles' parameter holding the last standard check's reading (registers 14-15, profiles.ts). */
const STANDARD_CHECK_PARAMETER = 'standardCheck';

/** One simulated analyzer: a profile, its scenario signal, and the parameters clients have written. */
export class AnalyzerDevice implements ModbusSlave {
  readonly #clock: SimClock;
  readonly #parameters: Map<string, number>;
  readonly #registerAt = new Map<number, ProfileRegister>();
  #totalAt: number;
  #total: number;
  /** The control coils and registers of 3011-3019 (control.ts). */
  readonly control: AnalyzerControl;

  constructor(
    readonly unit: number,
    readonly profile: AnalyzerProfile,
    readonly signal: Signal,
    clock: SimClock,
    standardCheck: Partial<StandardCheckOptions> = {},
  ) {
    this.#clock = clock;
    this.#parameters = new Map(Object.entries(profile.parameters).map(([name, p]) => [name, p.initial]));
    for (const reg of profile.registers) {
      for (let i = 0; i < registerWidth(reg.type); i++) this.#registerAt.set(reg.address + i, reg);
    }
    this.#totalAt = signal.start;
    this.#total = profile.total?.initial ?? 0;
    this.control = new AnalyzerControl(
      unit,
      () => clock.now(),
      () => this.snapshot().status,
      standardCheck,
      (measured) => {
        if (this.#parameters.has(STANDARD_CHECK_PARAMETER)) this.#parameters.set(STANDARD_CHECK_PARAMETER, measured);
      },
    );
  }

  readCoils(address: number, count: number): boolean[] | undefined {
    return this.control.readCoils(address, count);
  }

  writeCoil(address: number, on: boolean): WriteOutcome {
    return this.control.writeCoil(address, on);
  }

  comms(): Comms {
    return commsAt(this.signal, this.#clock.now());
  }

  snapshot(): DeviceSnapshot {
    // A standard check that ended since the last read updates the profile's standardCheck reading first.
    this.control.settle();
    const t = this.#clock.now();
    const reading = readingAt(this.signal, t, this.#parameters.get(RANGE_UPPER_PARAMETER));
    return {
      ...reading,
      total: this.#totalUntil(t),
      lastCalibration: lastCalibrationAt(this.signal, t),
      ...cycleAt(this.signal, t),
      parameters: new Map(this.#parameters),
    };
  }

  read(address: number, count: number): number[] | undefined {
    if (AnalyzerControl.covers(address)) return this.control.read(address, count);
    const image = registerImage(this.profile, this.snapshot());
    const words: number[] = [];
    for (let a = address; a < address + count; a++) {
      const word = image.get(a);
      if (word === undefined) return undefined;
      words.push(word);
    }
    return words;
  }

  /** Writes only writable parameters, all or nothing; a 32-bit parameter may be written one word at a time. */
  write(address: number, words: readonly number[]): WriteOutcome {
    if (AnalyzerControl.covers(address)) return this.control.write(address, words);
    const pending = new Map<Extract<ProfileRegister, { source: 'param' }>, number[]>();
    for (let i = 0; i < words.length; i++) {
      const reg = this.#registerAt.get(address + i);
      if (reg?.source !== 'param' || !this.profile.parameters[reg.param]?.writable) return 'illegal-address';
      const current = pending.get(reg) ?? encodeValue(this.#parameters.get(reg.param) ?? 0, reg, 'saturate');
      current[address + i - reg.address] = words[i] ?? 0;
      pending.set(reg, current);
    }
    const updates: [string, number][] = [];
    for (const [reg, regWords] of pending) {
      const value = decodeValue(regWords, reg);
      const { min = -Infinity, max = Infinity } = this.profile.parameters[reg.param] ?? {};
      if (!Number.isFinite(value) || value < min || value > max) return 'illegal-value';
      updates.push([reg.param, value]);
    }
    for (const [name, value] of updates) this.#parameters.set(name, value);
    return 'ok';
  }

  /** Totals are integrated incrementally; a clock moved backwards (tests) restarts from the scenario start. */
  #totalUntil(t: number): number | undefined {
    const { total } = this.profile;
    if (!total) return undefined;
    if (t < this.#totalAt) {
      this.#totalAt = this.signal.start;
      this.#total = total.initial;
    }
    this.#total += totalBetween(this.signal, this.#totalAt, t, total.perSecond);
    this.#totalAt = t;
    return this.#total;
  }
}
