/**
 * Spends one token per frame or request; refills at `rate` per second up to `burst`. It runs on a
 * monotonic clock (ms): on the wall clock a step back would leave it owing tokens for the whole step,
 * refusing everything (429, unanswered frames) until the clock caught up.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Milliseconds to wait before a token is available (0: taken now). */
  take(): number {
    const now = this.now();
    // Never negative: a clock that went back (it should not) refills nothing rather than owing.
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens--;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
