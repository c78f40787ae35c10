import { constants } from 'node:os';

/**
 * How every long-running part of this repository starts and stops: the cloud's boot phases, the edge
 * agent, the demo and each CLI command that runs until a signal. A leaf like `protocol/`: it imports
 * nothing of ours, so `edge/`, `cloud/`, `simulators/`, `cli/` and `demo/` may all use it.
 *
 * Parts are registered as they start and closed in reverse order (what started last depends on what
 * started first: the API on the stores, a listener on the ingest path). A part whose close fails is
 * logged and the others are still closed, so one stuck socket does not leave a database open.
 */

/** What the lifecycle logs with; a pino logger is one. */
export interface LifecycleLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

/** What the lifecycle needs of `process`; tests pass an EventEmitter with an `exit` that records the code. */
export interface ProcessLike {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface LifecycleOptions {
  log: LifecycleLog;
  /** Default `process`. */
  process?: ProcessLike;
  /** The signals that ask for a graceful stop; default SIGINT and SIGTERM. */
  stopSignals?: readonly NodeJS.Signals[];
  /**
   * After the first stop signal, closing may take this long before the process exits without
   * finishing (default 60 s: under systemd's 90 s TimeoutStopSec, so our log says why, not its SIGKILL).
   */
  forceAfterMs?: number;
  /** Timers for the forced exit; tests pass their own. Default the global ones. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

type Closer = { name: string; close: () => unknown };

/** Exit status of a process a signal ended, as a shell reports it (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export class Lifecycle {
  readonly #o: LifecycleOptions;
  readonly #proc: ProcessLike;
  readonly #closers: Closer[] = [];
  readonly #listeners: { signal: NodeJS.Signals; listener: (s: NodeJS.Signals) => void; stop: boolean }[] = [];
  #closing: Promise<void> | undefined;
  #firstSignal: NodeJS.Signals | undefined;
  #forceTimer: unknown;
  #signalled: Promise<NodeJS.Signals> | undefined;

  constructor(options: LifecycleOptions) {
    this.#o = options;
    this.#proc = options.process ?? process;
  }

  /** Registers a started part; closed before every part registered earlier. */
  add(name: string, close: () => unknown): void {
    // A part that finished starting after the stop began would otherwise never be closed.
    if (this.#closing) void this.#closeOne({ name, close });
    else this.#closers.push({ name, close });
  }

  /** Runs `handler` on `signal` (such as SIGUSR2) until closing starts. */
  onSignal(signal: NodeJS.Signals, handler: () => void): void {
    this.#listen(signal, () => handler(), false);
  }

  /**
   * Resolves with the first stop signal. From then on a second stop signal, or closing that takes
   * longer than `forceAfterMs`, exits at once: an operator's second Ctrl-C is not ignored.
   */
  untilSignal(): Promise<NodeJS.Signals> {
    this.#signalled ??= new Promise((resolve) => {
      for (const name of this.#o.stopSignals ?? ['SIGINT', 'SIGTERM']) {
        this.#listen(
          name,
          () => {
            const signal = name;
            if (this.#firstSignal === undefined) {
              this.#firstSignal = signal;
              this.#armForce(signal);
              resolve(signal);
              return;
            }
            this.#o.log.error({ signal, reason: 'second-signal' }, 'second stop signal: exiting without closing');
            this.#proc.exit(signalExitCode(signal));
          },
          true,
        );
      }
    });
    return this.#signalled;
  }

  /** Closes every part, last started first; once (later calls get the same promise). */
  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    // Handlers such as SIGUSR2's would act on parts being closed; the stop signals stay heard until
    // the end, so a second one still forces the exit.
    this.#unlisten(false);
    for (const closer of this.#closers.splice(0).reverse()) await this.#closeOne(closer);
    this.#unlisten(true);
    if (this.#forceTimer !== undefined) (this.#o.clearTimer ?? clearTimeout)(this.#forceTimer as NodeJS.Timeout);
  }

  async #closeOne({ name, close }: Closer): Promise<void> {
    try {
      await close();
    } catch (e) {
      this.#o.log.error({ part: name, reason: (e as Error).message }, `closing ${name} failed`);
    }
  }

  #listen(signal: NodeJS.Signals, listener: (s: NodeJS.Signals) => void, stop: boolean): void {
    this.#listeners.push({ signal, listener, stop });
    this.#proc.on(signal, listener);
  }

  #unlisten(stop: boolean): void {
    for (const l of this.#listeners.filter((x) => x.stop === stop)) {
      this.#proc.off(l.signal, l.listener);
      this.#listeners.splice(this.#listeners.indexOf(l), 1);
    }
  }

  #armForce(signal: NodeJS.Signals): void {
    const ms = this.#o.forceAfterMs ?? 60_000;
    const timer = (this.#o.setTimer ?? setTimeout)(() => {
      this.#o.log.error({ signal, reason: 'stop-timeout', ms }, 'closing took too long: exiting without finishing');
      this.#proc.exit(1);
    }, ms);
    // The timer alone does not keep a process alive that has closed everything.
    (timer as { unref?: () => unknown }).unref?.();
    this.#forceTimer = timer;
  }
}

/** A LifecycleLog for commands that print plain lines instead of JSON logs. */
export function lineLog(prefix: string, stream: NodeJS.WritableStream): LifecycleLog {
  const line = (obj: Record<string, unknown>, msg: string): void => {
    const detail = Object.entries(obj)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    stream.write(`${prefix}: ${msg}${detail ? ` (${detail})` : ''}\n`);
  };
  return { error: line };
}
