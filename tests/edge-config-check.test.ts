import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { run } from '../cli/edge.js';
import { EdgeConfigError, configWarnings, parseEdgeConfig, parseEdgeConfigYaml } from '../edge/index.js';
import { minimalConfig } from './helpers/edge-config.js';

/** A water outlet as an integrator writes it: COD and NH3-N on RS-485, the province platform. */
function outletYaml(patch: (text: string) => string = (t) => t): string {
  return patch(`station:
  mn: "010000A8900016F000169DC0"
  st: "32"
  kind: water
dataDir: /var/lib/hj212
buses:
  - { id: rs485, kind: rtu, path: /dev/ttyUSB0 }
devices:
  - id: cod
    bus: rs485
    unit: 1
    status: { address: 2 }
    factors:
      - { code: w01018, value: { address: 0, type: float32 } }
  - id: nh3n
    bus: rs485
    unit: 2
    factors:
      - { code: w21003, value: { address: 0, type: float32 } }
uplinks:
  - { id: province, kind: hj212-tcp, host: 10.0.0.5, port: 9212, pw: "a1B2c3", version: "2017" }
`);
}

function errorOf(text: string): string {
  try {
    parseEdgeConfigYaml(text, 'outlet.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(EdgeConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an EdgeConfigError');
}

describe('edge --check: the mistakes that fail at the site', () => {
  it('accepts the outlet as written', () => {
    expect(parseEdgeConfigYaml(outletYaml()).devices.map((d) => d.id)).toEqual(['cod', 'nh3n']);
  });

  it('a float32 at 65535 runs past the 16-bit address space (it needs 65535 and 65536)', () => {
    const text = outletYaml((t) => t.replace('w21003, value: { address: 0,', 'w21003, value: { address: 65535,'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: devices[nh3n].factors[w21003].value.address: a float32 at 65535 needs registers 65535-65536, ' +
        "past the last Modbus register 65535; check the address in the analyzer's register map (function: " +
        'holding (FC 03))',
    );
  });

  it('Modicon 40001 is holding register 1: address 0 with function 03', () => {
    const text = outletYaml((t) => t.replace('w21003, value: { address: 0,', 'w21003, value: { address: 40001,'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: devices[nh3n].factors[w21003].value.address: 40001 looks like Modicon numbering (4xxxx is ' +
        'holding register xxxx, counted from 1): write address: 0 with function: holding (FC 03)',
    );
    // 30003 is input register 3, PDU address 2 (30003 - 30001)
    const status = outletYaml((t) =>
      t.replace('status: { address: 2 }', 'status: { address: 30003, function: input }'),
    );
    expect(errorOf(status)).toBe(
      'outlet.yaml: devices[cod].status.address: 30003 looks like Modicon numbering (3xxxx is input register xxxx, ' +
        'counted from 1): write address: 2 with function: input (FC 04)',
    );
  });

  it('a 23-character MN on a 2017 uplink', () => {
    // 010000A8900016F000169DC0 without its last digit: 23 characters
    const text = outletYaml((t) => t.replace('"010000A8900016F000169DC0"', '"010000A8900016F000169DC"'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: station.mn: uplink province speaks HJ 212-2017, whose MN is 24 hex digits 0-9 A-F ' +
        '(EPC-96, HJ 212-2017 6.3.2); 010000A8900016F000169DC has 23 characters: copy the MN the platform ' +
        'registered (or give this uplink its own mn), or set version: "2005" if the platform runs HJ/T 212-2005',
    );
  });

  it('st: "99" is not in table 5', () => {
    const text = outletYaml((t) => t.replace('st: "32"', 'st: "99"'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: station.st: "99" is not a station\'s system code of HJ 212-2017 table 5: use 32 (surface water ' +
        'pollution source) or 31 (air pollution source), or the code the platform registered',
    );
  });

  it('version: 2017 unquoted says to quote it', () => {
    const text = outletYaml((t) => t.replace('version: "2017"', 'version: 2017'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: uplinks[province].version: version: 2017 is a number in YAML, and this is a code: quote it, ' +
        'version: "2017" (quotes also keep leading zeros)',
    );
  });

  it('pw: 123456 unquoted says to quote it', () => {
    const text = outletYaml((t) => t.replace('pw: "a1B2c3"', 'pw: 123456'));
    expect(errorOf(text)).toBe(
      'outlet.yaml: uplinks[province].pw: pw: 123456 is a number in YAML, and this is a code: quote it, pw: "123456" ' +
        '(quotes also keep leading zeros)',
    );
  });

  it('a missing field says required', () => {
    const text = outletYaml((t) => t.replace('    unit: 2\n', ''));
    expect(errorOf(text)).toBe('outlet.yaml: devices[nh3n].unit: required: add unit (a number)');
    const noKind = outletYaml((t) => t.replace('  kind: water\n', ''));
    expect(errorOf(noKind)).toBe('outlet.yaml: station.kind: required: add kind (one of "water", "gas")');
  });

  it('names a device by its id, and by its place only when it has none', () => {
    const config = minimalConfig();
    config.devices[0]!.factors[0]!.value.type = 'float16' as never;
    expect(() => parseEdgeConfig(config, 'x.yaml')).toThrow(
      'x.yaml: devices[cod].factors[w01018].value.type: "float16" is not allowed: use one of "int16", "uint16", ' +
        '"int32", "uint32", "float32", "float64"',
    );
    delete (config.devices[0] as { id?: string }).id;
    expect(() => parseEdgeConfig(config, 'x.yaml')).toThrow('x.yaml: devices[0].id: required: add id (a string)');
  });
});

describe('edge --check warnings', () => {
  it('runs, but says what to settle before leaving the site', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-check-'));
    try {
      const file = join(dir, 'outlet.yaml');
      // 0100000000ABCD: a 14-character MN (the HJ/T 212-2005 form); water temperature w01010 has no 2005 code
      const text = outletYaml((t) =>
        t
          .replace('"010000A8900016F000169DC0"', '"0100000000ABCD"')
          .replace('pw: "a1B2c3"', 'pw: "123456"')
          .replace(
            'w21003, value: { address: 0, type: float32 } }',
            'w21003, value: { address: 0, type: float32 } }\n      - { code: w01010, value: { address: 4 } }',
          )
          .replace(
            '  - { id: province,',
            '  - { id: old, kind: hj212-tcp, host: 10.0.0.6, port: 9212, pw: "x1", version: "2005" }\n  - { id: ' +
              'province,',
          ),
      );
      await writeFile(file, text);
      let out = '';
      const io = {
        stdin: process.stdin,
        stdout: { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      };
      expect(await run(['--config', file, '--check'], io)).toBe(0);
      expect(out.split('\n')).toEqual([
        `${file}: ok (2 devices, 2 uplinks)`,
        `${file}: warning: uplinks[old].version: HJ/T 212-2005 has no code for w01010; they go out under their 2017 ` +
          'code: ask the platform whether it takes them',
        `${file}: warning: uplinks[province].pw: 123456 is the field default password; ask the platform for the ` +
          `station's own`,
        `${file}: warning: uplinks[province]: MN 0100000000ABCD has the 14-character HJ/T 212-2005 form; ` +
          'a strict HJ 212-2017 platform expects 24 hex digits',
        '',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('edge --check: HJ 212-2025 control without a 2025 uplink', () => {
  it('warns that a mapped 3022/3024 is never carried out, and not once a 2025 uplink exists', () => {
    const control = {
      '3022': { trigger: { coil: 5 } },
      '3024': {
        trigger: { coil: 6 },
        verdict: { address: 9000, values: { '2': 'success' } },
        result: {
          standard: { address: 9016 },
          measured: { address: 9018 },
        },
      },
    };
    const text = outletYaml((t) =>
      t.replace(
        '      - { code: w01018, value: { address: 0, type: float32 } }',
        `      - { code: w01018, value: { address: 0, type: float32 } }\n    control: ${JSON.stringify(control)}`,
      ),
    );
    const config = parseEdgeConfigYaml(text, 'outlet.yaml');
    expect(configWarnings(config).filter((w) => w.startsWith('devices['))).toEqual([
      'devices[cod].control.3022: an HJ 212-2025 command, and no uplink has version "2025"; it is never carried out',
      'devices[cod].control.3024: an HJ 212-2025 command, and no uplink has version "2025"; it is never carried out',
    ]);
    const on2025 = parseEdgeConfigYaml(text.replace('version: "2017"', 'version: "2025"'), 'outlet.yaml');
    expect(configWarnings(on2025).filter((w) => w.startsWith('devices['))).toEqual([]);
  });
});

describe('edge --check on any input', () => {
  it('answers every document with a configuration or an EdgeConfigError, never another exception', () => {
    const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([k, v]) => {
            const key = Array.isArray(value) ? Number(k) : k;
            return [[...prefix, key], ...paths(v, [...prefix, key])];
          })
        : [];
    const base = minimalConfig();
    const all = paths(base);
    // A valid configuration with one field replaced by anything (or removed), or a document of anything.
    const mutated = fc
      .tuple(fc.constantFrom(...all), fc.option(fc.jsonValue(), { nil: undefined }))
      .map(([path, v]) => {
        const config = structuredClone(base) as unknown as Record<string | number, unknown>;
        let node: Record<string | number, unknown> = config;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
        const last = path.at(-1)!;
        if (v === undefined) delete node[last];
        else node[last] = v;
        return config;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.anything()), (input) => {
        try {
          parseEdgeConfig(input, 'x.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(EdgeConfigError);
          for (const line of (err as Error).message.split('\n')) expect(line).toMatch(/^x\.yaml: \S/);
        }
      }),
      { numRuns: 500, seed: 15 },
    );
  });
});

describe('edge configuration defaults an integrator relies on', () => {
  it('puts the health endpoint on 8213, clear of the cloud API on 8212', () => {
    const config = minimalConfig();
    config.health = {} as never;
    expect(parseEdgeConfig(config).health).toEqual({ host: '127.0.0.1', port: 8213 });
  });
});
