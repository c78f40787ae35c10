import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  EdgeConfigError,
  edgeConfigJsonSchema,
  loadEdgeConfig,
  parseEdgeConfig,
  parseEdgeConfigYaml,
} from '../edge/index.js';
import { clockPolicyOf } from '../edge/config.js';
import { minimalConfig } from './helpers/edge-config.js';

const deploy = (name: string) => new URL(`../deploy/edge/${name}`, import.meta.url).pathname;

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EdgeConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an EdgeConfigError');
}

describe('edge configuration', () => {
  it('loads both example configurations in deploy/edge', async () => {
    const water = await loadEdgeConfig(deploy('water-outlet.yaml'));
    expect(water.station.kind).toBe('water');
    expect(water.devices.map((d) => d.factors[0]?.code)).toEqual(['w01018', 'w21003', 'w01001', 'w01010', 'w00000']);
    expect(water.buses[0]).toMatchObject({ kind: 'rtu', baudRate: 9600, parity: 'none' });
    const cems = await loadEdgeConfig(deploy('cems-outlet.yaml'));
    expect(cems.station).toMatchObject({ kind: 'gas', referenceO2: 6, flow: { code: 'a00000', unit: 'm3/h' } });
    expect(cems.devices.find((d) => d.id === 'flow')?.factors[0]?.value.wordOrder).toBe('little');
  });

  it('fills defaults: flags table, float32 big-endian, scale 1', () => {
    const config = parseEdgeConfig(minimalConfig());
    const device = config.devices[0]!;
    expect(device.status?.flags).toEqual({ 0: 'N', 1: 'M', 2: 'C', 3: 'D', 4: 'T', 5: 'F' });
    expect(device.factors[0]?.value).toMatchObject({
      type: 'float32',
      byteOrder: 'big',
      wordOrder: 'big',
      scale: 1,
      offset: 0,
      function: 'holding',
    });
    expect(config.minIntervalMinutes).toBe(10);
  });

  it('names the file, the field and the fix', () => {
    const bad = minimalConfig();
    bad.devices[0]!.bus = 'rs-486';
    bad.devices[0]!.factors[0]!.value.type = 'float16' as never;
    (bad as Record<string, unknown>)['minIntervalMinutes'] = 7;
    const message = errorOf(() => parseEdgeConfig(bad, 'plant.yaml'));
    expect(message).toContain(
      'plant.yaml: devices[cod].factors[w01018].value.type: "float16" is not allowed: use one of',
    );
    expect(message).toContain('plant.yaml: minIntervalMinutes: expected one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30');
    // Cross-field rules run only once every field is well-formed.
    const unknownBus = minimalConfig();
    unknownBus.devices[0]!.bus = 'rs-486';
    expect(errorOf(() => parseEdgeConfig(unknownBus, 'plant.yaml'))).toBe(
      'plant.yaml: devices[cod].bus: no bus has id rs-486; declare it in buses or use one of line',
    );
  });

  it(
    'clockPolicy: keep-ntp is the default of a trusted clock, set of ' + 'one that is not; keep-ntp needs clockTrusted',
    () => {
      expect(clockPolicyOf(parseEdgeConfig({ ...minimalConfig(), clockTrusted: true }))).toBe('keep-ntp');
      expect(clockPolicyOf(parseEdgeConfig(minimalConfig()))).toBe('set');
      expect(clockPolicyOf(parseEdgeConfig({ ...minimalConfig(), clockTrusted: true, clockPolicy: 'set' }))).toBe(
        'set',
      );
      expect(errorOf(() => parseEdgeConfig({ ...minimalConfig(), clockPolicy: 'keep-ntp' }, 'plant.yaml'))).toBe(
        "plant.yaml: clockPolicy: keep-ntp keeps a clock that follows NTP, and this box's does not: set " +
          'clockTrusted: ' +
          'true (the box runs NTP or GPS) or clockPolicy: set',
      );
    },
  );

  it('rejects unknown keys, duplicate factors and Zs without O2', () => {
    const typo = { ...minimalConfig(), histroyDays: 3 };
    expect(errorOf(() => parseEdgeConfig(typo))).toMatch(
      /\(top level\): Unrecognized key: "histroyDays" \(check the spelling or remove it\)/,
    );
    const twice = minimalConfig();
    twice.devices.push({ ...twice.devices[0]!, id: 'cod2', unit: 2 });
    expect(errorOf(() => parseEdgeConfig(twice))).toContain(
      'devices[cod2].factors[w01018].code: factor w01018 is measured twice',
    );
    const zs = minimalConfig();
    zs.station.referenceO2 = 6;
    expect(errorOf(() => parseEdgeConfig(zs))).toContain('station.referenceO2: converted values need O2 (a19001)');
  });

  it('reports YAML syntax errors with the position', () => {
    expect(errorOf(() => parseEdgeConfigYaml('station: [\n', 'x.yaml'))).toMatch(/^x\.yaml: not valid YAML: .*line 2/s);
  });

  it(
    'deploy/edge/config.schema.json is the schema the code ' + 'generates (regenerate: hj212 edge --json-schema)',
    async () => {
      const file = JSON.parse(await readFile(deploy('config.schema.json'), 'utf8')) as unknown;
      expect(file).toEqual(edgeConfigJsonSchema());
      expect(edgeConfigJsonSchema()).toMatchObject({
        type: 'object',
        required: expect.arrayContaining(['station', 'dataDir', 'buses', 'devices']),
      });
    },
  );
});
