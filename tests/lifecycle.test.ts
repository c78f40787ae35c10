import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Lifecycle, signalExitCode, type ProcessLike } from '../runtime/lifecycle.js';

/** A process stand-in: signals are emitted by hand, `exit` records its code instead of exiting. */
function fakeProcess(): ProcessLike & { emitter: EventEmitter; exits: number[]; send(s: NodeJS.Signals): void } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    emitter,
    exits,
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    exit: (code) => void exits.push(code),
    send: (s) => void emitter.emit(s, s),
  };
}

function recordingLog(): { error(obj: Record<string, unknown>, msg: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, error: (obj, msg) => void lines.push(`${msg} ${JSON.stringify(obj)}`) };
}

/** Timers run by hand: `fire()` runs what was set. */
function handTimers() {
  const set: { fn: () => void; ms: number; cleared: boolean }[] = [];
  return {
    set,
    setTimer: (fn: () => void, ms: number) => {
      const t = { fn, ms, cleared: false };
      set.push(t);
      return t;
    },
    clearTimer: (t: unknown) => void ((t as { cleared: boolean }).cleared = true),
  };
}

describe('Lifecycle', () => {
  it('closes parts last started first, once however often close is called', async () => {
    const closed: string[] = [];
    const life = new Lifecycle({ log: recordingLog(), process: fakeProcess() });
    for (const name of ['stores', 'transports', 'rules', 'api']) life.add(name, () => void closed.push(name));
    await Promise.all([life.close(), life.close()]);
    await life.close();
    expect(closed).toEqual(['api', 'rules', 'transports', 'stores']);
  });

  it('waits for each part before closing the one started before it', async () => {
    const events: string[] = [];
    const life = new Lifecycle({ log: recordingLog(), process: fakeProcess() });
    life.add('db', () => void events.push('db'));
    life.add('listener', async () => {
      await new Promise((r) => setImmediate(r));
      events.push('listener');
    });
    await life.close();
    expect(events).toEqual(['listener', 'db']);
  });

  it('logs a part whose close fails, names it, and still closes the others', async () => {
    const closed: string[] = [];
    const log = recordingLog();
    const life = new Lifecycle({ log, process: fakeProcess() });
    life.add('store', () => void closed.push('store'));
    life.add('mqtt', () => Promise.reject(new Error('broker gone')));
    life.add('tcp', () => {
      throw new Error('socket stuck');
    });
    life.add('api', () => void closed.push('api'));
    await expect(life.close()).resolves.toBeUndefined();
    expect(closed).toEqual(['api', 'store']);
    expect(log.lines).toEqual([
      'closing tcp failed {"part":"tcp","reason":"socket stuck"}',
      'closing mqtt failed {"part":"mqtt","reason":"broker gone"}',
    ]);
  });

  it('closes at once a part added after closing began', async () => {
    const closed: string[] = [];
    const life = new Lifecycle({ log: recordingLog(), process: fakeProcess() });
    await life.close();
    life.add('late', () => void closed.push('late'));
    await new Promise((r) => setImmediate(r));
    expect(closed).toEqual(['late']);
  });

  it('resolves with the first stop signal, and a second one exits at once with the shell status', async () => {
    const proc = fakeProcess();
    const log = recordingLog();
    const life = new Lifecycle({ log, process: proc, ...handTimers() });
    let release = (): void => undefined;
    life.add('agent', () => new Promise<void>((r) => (release = r)));
    const first = life.untilSignal();
    proc.send('SIGTERM');
    expect(await first).toBe('SIGTERM');
    const closing = life.close();
    expect(proc.exits).toEqual([]);
    proc.send('SIGINT');
    // 128 + SIGINT's number (2), as a shell reports a process Ctrl-C ended.
    expect(proc.exits).toEqual([130]);
    expect(signalExitCode('SIGTERM')).toBe(143);
    expect(log.lines[0]).toMatch(/^second stop signal: exiting without closing .*"signal":"SIGINT"/);
    release();
    await closing;
    // Closed: the stop signals are no longer ours (the default disposition ends the process again).
    expect(proc.emitter.listenerCount('SIGINT') + proc.emitter.listenerCount('SIGTERM')).toBe(0);
  });

  it('exits with 1 when closing outlasts forceAfterMs, and cancels that once closed in time', async () => {
    const proc = fakeProcess();
    const timers = handTimers();
    const log = recordingLog();
    const stuck = new Lifecycle({ log, process: proc, forceAfterMs: 5000, ...timers });
    stuck.add('store', () => new Promise<void>(() => undefined));
    const first = stuck.untilSignal();
    proc.send('SIGINT');
    await first;
    void stuck.close();
    expect(timers.set.map((t) => t.ms)).toEqual([5000]);
    timers.set[0]!.fn();
    expect(proc.exits).toEqual([1]);
    expect(log.lines[0]).toMatch(/^closing took too long/);

    const proc2 = fakeProcess();
    const timers2 = handTimers();
    const quick = new Lifecycle({ log: recordingLog(), process: proc2, ...timers2 });
    const got = quick.untilSignal();
    proc2.send('SIGTERM');
    await got;
    await quick.close();
    expect(timers2.set.map((t) => [t.ms, t.cleared])).toEqual([[60_000, true]]);
    expect(proc2.exits).toEqual([]);
  });

  it('runs other signal handlers (SIGUSR2) until closing starts, and arms nothing for them', async () => {
    const proc = fakeProcess();
    const timers = handTimers();
    const life = new Lifecycle({ log: recordingLog(), process: proc, ...timers });
    let checks = 0;
    life.onSignal('SIGUSR2', () => checks++);
    let seenDuringClose = -1;
    life.add('rules', () => {
      seenDuringClose = proc.emitter.listenerCount('SIGUSR2');
    });
    proc.send('SIGUSR2');
    proc.send('SIGUSR2');
    expect(checks).toBe(2);
    expect(timers.set).toEqual([]);
    await life.close();
    expect(seenDuringClose).toBe(0);
    expect(proc.emitter.listenerCount('SIGUSR2')).toBe(0);
  });
});
