import type { EdgeConfigInput } from '../../edge/index.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
type DeviceInput = EdgeConfigInput['devices'][number];
export type ConfigInput = Mutable<EdgeConfigInput> & { devices: DeviceInput[]; station: EdgeConfigInput['station'] };

/** The smallest valid configuration: one COD analyzer on one TCP bus; tests change what they test. */
export function minimalConfig(): ConfigInput {
  return {
    station: { mn: '010000A8900016F000169DC0', st: '32', kind: 'water' },
    dataDir: '/tmp/unused',
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: 502 }],
    devices: [
      {
        id: 'cod',
        bus: 'line',
        unit: 1,
        status: { address: 2 },
        factors: [{ code: 'w01018', value: { address: 0, type: 'float32' } }],
      },
    ],
  };
}
