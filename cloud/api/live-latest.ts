import type { Latest } from './live.js';

const NUMS = 4; // time, value, judged, which of value and judged are there
const TAGS = 3; // kind, flag, state
const HAS_VALUE = 1;
const HAS_JUDGED = 2;

/**
 * One string per factor code for every station (each packet's codes are fresh strings, 10 a station kept); bounded,
 * so codes nobody registered cannot grow it without end.
 */
const codes = new Map<string, string>();
const intern = (code: string): string => {
  const known = codes.get(code);
  if (known !== undefined) return known;
  if (codes.size < 4096) codes.set(code, code);
  return code;
};

/**
 * The newest value of each factor of one station, in three arrays instead of a Map of one object per factor: the
 * numbers unboxed in one array of doubles, the strings (interned by the code or one letter) in another. 10k
 * stations of 10 factors were ~1.7 KB a station as Map + objects + boxed numbers, ~0.7 KB this way. `get` builds the
 * same `Latest` object that was `set` (a key present only where it was).
 */
export class LatestValues {
  private count = 0;
  private readonly factors: string[];
  private readonly nums: number[];
  private readonly tags: (string | undefined)[];

  /** `size`: the factors expected (the station's); the arrays are made that long, not grown in steps past it. */
  constructor(size = 0) {
    this.factors = new Array<string>(size).fill('');
    this.nums = new Array<number>(size * NUMS).fill(0);
    this.tags = new Array<string | undefined>(size * TAGS).fill(undefined);
  }

  private indexOf(factor: string): number {
    for (let i = 0; i < this.count; i++) if (this.factors[i] === factor) return i;
    return -1;
  }

  /** The time of a factor's newest value; undefined when it has none. */
  timeOf(factor: string): number | undefined {
    const i = this.indexOf(factor);
    return i < 0 ? undefined : this.nums[i * NUMS];
  }

  set(factor: string, l: Latest): void {
    let i = this.indexOf(factor);
    if (i < 0) {
      i = this.count++;
      this.factors[i] = intern(factor);
    }
    const n = i * NUMS;
    this.nums[n] = l.time;
    this.nums[n + 1] = l.value ?? 0;
    this.nums[n + 2] = l.judged ?? 0;
    this.nums[n + 3] = (l.value !== undefined ? HAS_VALUE : 0) | (l.judged !== undefined ? HAS_JUDGED : 0);
    const t = i * TAGS;
    this.tags[t] = l.kind;
    this.tags[t + 1] = l.flag;
    this.tags[t + 2] = l.state;
  }

  private get(i: number): Latest {
    const n = i * NUMS;
    const t = i * TAGS;
    const l: Latest = { kind: this.tags[t] as Latest['kind'], time: this.nums[n]! };
    const has = this.nums[n + 3]!;
    if (has & HAS_VALUE) l.value = this.nums[n + 1]!;
    if (this.tags[t + 1] !== undefined) l.flag = this.tags[t + 1]!;
    if (has & HAS_JUDGED) l.judged = this.nums[n + 2]!;
    if (this.tags[t + 2] !== undefined) l.state = this.tags[t + 2] as Latest['state'];
    return l;
  }

  /** Factor → newest value, in the order the factors first came. */
  entries(): [string, Latest][] {
    const all: [string, Latest][] = [];
    for (let i = 0; i < this.count; i++) all.push([this.factors[i]!, this.get(i)]);
    return all;
  }
}
