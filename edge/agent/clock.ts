/**
 * The agent's one clock, given to every stage. `now` is station time: the injected base (tests pass a
 * warped one so an hour takes seconds) plus the offset a platform's 1012 set. `elapsed` is real time
 * for timeouts and log throttles, which neither a warped clock nor a 1012 may stretch.
 */
export class AgentClock {
  private offsetMs = 0;

  constructor(
    private readonly base: () => number = Date.now,
    readonly elapsed: () => number = () => performance.now(),
  ) {}

  now(): number {
    return this.base() + this.offsetMs;
  }

  /** How far a 1012 has moved station time from the base clock (edge/agent/effects.ts keeps it). */
  get offset(): number {
    return this.offsetMs;
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
}
