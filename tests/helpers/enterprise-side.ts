import { sha256, type StationInput } from '../../cloud/index.js';
import { testStations } from './cloud-fixtures.js';
import { ADMIN, apiCloud, CHEM, CHEM_NAME, READ, WEST } from './dashboard-api.js';

/**
 * The enterprise system of 示例电厂 (the gas outlet's enterprise, operator) and the authority of 城东区
 * (operator).
 */
export const POWER = 'power-token-0123456789abcdef';
export const POWER_NAME = '示例电厂';
export const EAST = 'east-token-0123456789abcdef';

/** A wall clock the test sets; the monotonic one runs (rate limits). */
export interface TestClock {
  wall: number;
}

/**
 * apiCloud on a clock the test moves, with the centre's read and admin tokens, both enterprises' systems
 * (chem-system for 示例化工 in 城东区, power-system for 示例电厂 in 城西区) and both authorities
 * (east-bureau, west-bureau). Stations default to the water outlet in 城东区 and the gas outlet in 城西区.
 */
export async function enterpriseSideCloud(
  clock: TestClock,
  opts: { http?: object; stations?: StationInput[] } = {},
): ReturnType<typeof apiCloud> {
  const [water, gas] = await testStations();
  return apiCloud(
    {
      tokens: [
        { name: 'viewer', sha256: sha256(READ), role: 'read' },
        { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        { name: 'chem-system', sha256: sha256(CHEM), role: 'admin', enterprise: CHEM_NAME },
        { name: 'power-system', sha256: sha256(POWER), role: 'operator', enterprise: POWER_NAME },
        { name: 'east-bureau', sha256: sha256(EAST), role: 'operator', region: '城东区' },
        { name: 'west-bureau', sha256: sha256(WEST), role: 'operator', region: '城西区' },
      ],
      ...opts.http,
    },
    { clock: { wall: () => clock.wall, mono: () => performance.now() } },
    opts.stations ?? [
      { ...water!, region: '城东区' },
      { ...gas!, region: '城西区' },
    ],
  );
}
