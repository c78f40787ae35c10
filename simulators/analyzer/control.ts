import type { AnalyzerStatus } from './profile.js';
import type { WriteOutcome } from './modbus.js';

/**
 * The control block every simulated analyzer serves, for the HJ 212-2017 analyzer control commands
 * 3011-3019 and HJ 212-2025's 3022/3024 a data logger passes on (docs/analyzer-simulator.md, "Control registers").
 * Addresses sit far above the profiles' measurement registers so the two never overlap.
 */
export const CONTROL_BASE = 9000;
export const CONTROL_REGISTERS = {
  /** 0 idle, 1 running, 2 success, 3 failure: the verdict on the last action. */
  status: 9000,
  /** Write 1-7 to start an action (as the coils do); reads the action running or last run. */
  action: 9001,
  /** CstartTime as the decimal number hhmmss, uint32 over two registers, high word first. */
  startTime: 9002,
  /** Ctime, hours between samples (1-24). */
  period: 9004,
  /** Stime, sample-out time in minutes (1-120). */
  stime: 9005,
  /** The bottle of the last retained sample (3015); 0 before any. */
  vaseNo: 9006,
  /** Actions completed since start, for whoever checks an action ran. */
  completed: 9007,
  /** Analyzer id, EPC96 as 6 registers (24 hex digits, C.38). */
  sn: 9010,
  /** HJ 212-2025 standard check (3024): the standard's value, float32 over two registers, high word first. */
  checkStandard: 9016,
  /** The analyzer's reading of the standard, float32 over two registers, high word first. */
  checkMeasured: 9018,
  /** Whether the last standard check passed: 0 none yet, 1 passed, 2 failed (outside the tolerance). */
  checkPassed: 9020,
} as const;
const SN_REGISTERS = 6;
const LAST_REGISTER = CONTROL_REGISTERS.checkPassed;

/**
 * Coils 0-6 and action codes 1-7: zero/span calibration, immediate sampling, cleaning, comparison sampling, retained
 * sample (3011-3015), and HJ 212-2025's instant sample retention (3022) and standard check (3024).
 */
export const CONTROL_ACTIONS = [
  'calibration',
  'sampling',
  'cleaning',
  'comparison',
  'retainedSample',
  'instantRetain',
  'standardCheck',
] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/** How long each action runs, simulated seconds: long enough for a data logger to see it running. */
export const ACTION_SECONDS: Record<ControlAction, number> = {
  calibration: 3,
  sampling: 2,
  cleaning: 2,
  comparison: 2,
  retainedSample: 2,
  instantRetain: 2,
  // The device's standardCheck.seconds replaces it (StandardCheckOptions).
  standardCheck: 3,
};

/**
 * The standard check (标样核查) a device runs on 3024: it takes `seconds`, then reads the standard as
 * `standard × (1 + biasPercent / 100)` and passes when |biasPercent| ≤ tolerancePercent.
 */
export interface StandardCheckOptions {
  seconds: number;
  standard: number;
  biasPercent: number;
  tolerancePercent: number;
}
export const DEFAULT_STANDARD_CHECK: StandardCheckOptions = {
  seconds: ACTION_SECONDS.standardCheck,
  standard: 50,
  biasPercent: 2,
  tolerancePercent: 10,
};

/** What a standard check reads (StandardCheckOptions); the logger simulator's 2062 uploads read the same. */
export function standardCheckReading(o: Pick<StandardCheckOptions, 'standard' | 'biasPercent' | 'tolerancePercent'>): {
  standard: number;
  measured: number;
  passed: boolean;
} {
  return {
    standard: o.standard,
    measured: o.standard * (1 + o.biasPercent / 100),
    passed: Math.abs(o.biasPercent) <= o.tolerancePercent,
  };
}

/** A number as float32, high word first (the edge's default register layout). */
function float32Words(value: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(value);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

export const STATUS = { idle: 0, running: 1, success: 2, failure: 3 } as const;

/** Retained-sample bottles of a typical sampler; the next after the last wraps to 1. */
const BOTTLES = 24;

export type ControlWrite = WriteOutcome | 'busy';

/** The control state of one analyzer; time comes from the simulator's clock. */
export class AnalyzerControl {
  #running: { action: ControlAction; until: number } | undefined;
  #last: ControlAction | undefined;
  #status: number = STATUS.idle;
  #completed = 0;
  #vaseNo = 0;
  // C.35 and C.37's examples: every 2 hours from 00:00:00, 40 minutes to sample out.
  #startTime = 0;
  #period = 2;
  #stime = 40;
  readonly #sn: number[];
  /** The last standard check's result (3024); undefined before any completed. */
  #check: { standard: number; measured: number; passed: boolean } | undefined;
  readonly #checkOptions: StandardCheckOptions;

  constructor(
    unit: number,
    private readonly now: () => number,
    private readonly analyzerStatus: () => AnalyzerStatus,
    standardCheck: Partial<StandardCheckOptions> = {},
    /** Told each completed standard check's reading (the profile's `standardCheck` parameter follows it). */
    private readonly onCheck: (measured: number) => void = () => undefined,
  ) {
    this.#checkOptions = { ...DEFAULT_STANDARD_CHECK, ...standardCheck };
    // EPC96 of C.38's example with the unit id as its last byte, so each unit has its own.
    const hex = `010000A8900016F000169D${unit.toString(16).toUpperCase().padStart(2, '0')}`;
    this.#sn = Array.from({ length: SN_REGISTERS }, (_, i) => parseInt(hex.slice(i * 4, i * 4 + 4), 16));
  }

  static covers(address: number): boolean {
    return address >= CONTROL_BASE && address <= LAST_REGISTER;
  }

  /** Ends an action whose time is up: it fails when the analyzer is in fault or stopped by then. */
  settle(): void {
    this.#settle();
  }

  #settle(): void {
    const run = this.#running;
    if (!run || this.now() < run.until) return;
    this.#running = undefined;
    const broken = ['fault', 'stopped'].includes(this.analyzerStatus());
    this.#status = broken ? STATUS.failure : STATUS.success;
    this.#completed += 1;
    if (broken) return;
    if (run.action === 'retainedSample' || run.action === 'instantRetain') this.#vaseNo = (this.#vaseNo % BOTTLES) + 1;
    if (run.action === 'standardCheck') {
      this.#check = standardCheckReading(this.#checkOptions);
      this.onCheck(this.#check.measured);
    }
  }

  /** How long an action runs, simulated ms. */
  #duration(action: ControlAction): number {
    return (action === 'standardCheck' ? this.#checkOptions.seconds : ACTION_SECONDS[action]) * 1000;
  }

  start(action: ControlAction): ControlWrite {
    this.#settle();
    if (this.#running) return 'busy';
    this.#running = { action, until: this.now() + this.#duration(action) };
    this.#last = action;
    this.#status = STATUS.running;
    return 'ok';
  }

  readCoils(address: number, count: number): boolean[] | undefined {
    this.#settle();
    if (address + count > CONTROL_ACTIONS.length) return undefined;
    return Array.from({ length: count }, (_, i) => this.#running?.action === CONTROL_ACTIONS[address + i]);
  }

  /** FC05: ON starts the coil's action; OFF is accepted and does nothing (an action is not cancelled). */
  writeCoil(address: number, on: boolean): ControlWrite {
    const action = CONTROL_ACTIONS[address];
    if (!action) return 'illegal-address';
    return on ? this.start(action) : 'ok';
  }

  #image(): Map<number, number> {
    this.#settle();
    const r = CONTROL_REGISTERS;
    const action = this.#running?.action ?? this.#last;
    const start = this.#startHhmmss();
    const image = new Map<number, number>([
      [r.status, this.#status],
      [r.action, action === undefined ? 0 : CONTROL_ACTIONS.indexOf(action) + 1],
      [r.startTime, Math.floor(start / 0x10000)],
      [r.startTime + 1, start % 0x10000],
      [r.period, this.#period],
      [r.stime, this.#stime],
      [r.vaseNo, this.#vaseNo],
      [r.completed, this.#completed % 0x10000],
    ]);
    this.#sn.forEach((word, i) => image.set(r.sn + i, word));
    const check = this.#check;
    const [s1, s2] = float32Words(check?.standard ?? 0);
    const [m1, m2] = float32Words(check?.measured ?? 0);
    image.set(r.checkStandard, s1).set(r.checkStandard + 1, s2);
    image.set(r.checkMeasured, m1).set(r.checkMeasured + 1, m2);
    image.set(r.checkPassed, check === undefined ? 0 : check.passed ? 1 : 2);
    return image;
  }

  #startHhmmss(): number {
    const s = this.#startTime;
    return Math.floor(s / 3600) * 10000 + (Math.floor(s / 60) % 60) * 100 + (s % 60);
  }

  read(address: number, count: number): number[] | undefined {
    const image = this.#image();
    const words: number[] = [];
    for (let a = address; a < address + count; a++) {
      const word = image.get(a);
      if (word === undefined) return undefined;
      words.push(word);
    }
    return words;
  }

  /** Writable: the action register, CstartTime, Ctime and Stime; a value out of §6.6.1's range is refused whole. */
  write(address: number, words: readonly number[]): ControlWrite {
    const r = CONTROL_REGISTERS;
    const image = this.#image();
    const next = new Map(image);
    for (let i = 0; i < words.length; i++) {
      const a = address + i;
      if (a !== r.action && a !== r.startTime && a !== r.startTime + 1 && a !== r.period && a !== r.stime)
        return 'illegal-address';
      next.set(a, words[i] ?? 0);
    }
    const hhmmss = (next.get(r.startTime) ?? 0) * 0x10000 + (next.get(r.startTime + 1) ?? 0);
    const [h, m, s] = [Math.floor(hhmmss / 10000), Math.floor(hhmmss / 100) % 100, hhmmss % 100];
    const period = next.get(r.period) ?? 0;
    const stime = next.get(r.stime) ?? 0;
    if (h > 23 || m > 59 || s > 59 || period < 1 || period > 24 || stime < 1 || stime > 120) return 'illegal-value';
    const actionWritten = address <= r.action && r.action < address + words.length;
    const action = CONTROL_ACTIONS[(next.get(r.action) ?? 0) - 1];
    if (actionWritten && !action) return 'illegal-value';
    if (actionWritten && action) {
      const started = this.start(action);
      if (started !== 'ok') return started;
    }
    this.#startTime = h * 3600 + m * 60 + s;
    this.#period = period;
    this.#stime = stime;
    return 'ok';
  }
}
