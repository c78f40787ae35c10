/** Small helpers shared by the benchmarks: medians over repeated, interleaved runs. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs each case `rounds` times, interleaved so drift in machine load hits every case alike. */
export function interleaved(cases: Record<string, () => void>, rounds: number): Record<string, number[]> {
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) for (const [name, fn] of Object.entries(cases)) out[name]!.push(timeMs(fn));
  return out;
}
