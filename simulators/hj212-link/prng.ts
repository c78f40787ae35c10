import { mulberry32 } from '../shared/random.js';

export { mulberry32 };

/** FNV-1a over text: turns (seed, MN, factor, time) into a PRNG seed, so history can be regenerated. */
export function hashSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
