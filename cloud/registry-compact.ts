import type { Station } from './registry.js';

/**
 * A parsed registry's stations rebuilt for a small heap, same keys in the same order, same values:
 * - Strings are flat copies, and equal ones one copy. A string the YAML parser cut from a station's text (an MN,
 *   a scrypt hash) is a V8 slice that keeps that whole text alive (~700 bytes a station, for as long as the
 *   registry is in force); a hash shared by many stations is then one string, not one per station.
 * - Each station is a fresh object with its keys added in their order, so stations of the same keys share one
 *   hidden class; the objects the schema's transform spread came out one hidden class (and descriptor array,
 *   ~450 bytes) per station.
 */
export function compactStations(stations: Station[]): Station[] {
  const strings = new Map<string, string>();
  const flat = (s: string): string => {
    let copy = strings.get(s);
    if (copy === undefined) strings.set(s, (copy = Buffer.from(s, 'utf8').toString('utf8')));
    return copy;
  };
  return stations.map((s) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s))
      o[k] =
        typeof v === 'string'
          ? flat(v)
          : k === 'shutdowns'
            ? (v as Station['shutdowns']).map((w) => ({
                ...w,
                from: flat(w.from),
                to: flat(w.to),
                reason: flat(w.reason),
              }))
            : v;
    return o as Station;
  });
}
