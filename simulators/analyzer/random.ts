import { mulberry32 } from '../shared/random.js';

/**
 * Noise is a pure function of (seed, key, sample index) rather than a stream of draws, so a reading
 * does not depend on how often, or in which order, clients poll.
 */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A standard normal deviate (Box-Muller) determined by its arguments. */
export function gaussian(seed: number, key: string, index: number): number {
  const next = mulberry32(hash32(`${seed}/${key}/${index}`));
  const u1 = 1 - next();
  const u2 = next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
