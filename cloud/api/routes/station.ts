import type { Registry, Station } from '../../registry.js';
import { ApiErrors } from '../errors.js';

/** The station of a route's `:mn`, or the 404 that says where to find the MNs. */
export function stationOf(registry: () => Registry, mn: string): Station {
  const s = registry().get(mn);
  if (!s) throw new ApiErrors.NoStation(mn);
  return s;
}
