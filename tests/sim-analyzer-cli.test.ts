import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.js';
import type { CliIo } from '../cli/index.js';
import { run } from '../cli/sim-analyzer.js';
import { loadAnalyzerConfig, planSimulation } from '../simulators/analyzer/index.js';
import { closeModbus, connectModbus } from './helpers/ports.js';
import type { ModbusClient, PortTarget } from './helpers/ports.js';
import { TOOLS } from './helpers/common.js';
import { openPtyPair } from './helpers/pty.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hj212-sim-analyzer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}

/** A stream that keeps what is written and tells waiters about each new line. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    this.emit('line');
    done();
  }

  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Resolves with the first JSON line whose msg is `msg` (the test timeout bounds the wait). */
  waitForMsg(msg: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const check = () => {
        const line = this.lines().find((l) => l.msg === msg);
        if (!line) return;
        this.off('line', check);
        resolve(line);
      };
      this.on('line', check);
      check();
    });
  }
}

function cliIo(): CliIo & { stdout: Capture; stderr: Capture } {
  return { stdin: new PassThrough(), stdout: new Capture(), stderr: new Capture() };
}

describe('hj212 sim analyzer', () => {
  it('prints usage with --help through the CLI dispatcher', async () => {
    const io = cliIo();
    expect(await runCli(['sim', 'analyzer', '--help'], io)).toBe(0);
    expect(io.stdout.text).toContain('Usage: hj212 sim analyzer');
    expect(io.stdout.text).toContain('Profiles: cod, nh3n, tp, tn, ph');
    const top = cliIo();
    await runCli(['--help'], top);
    expect(top.stdout.text).toMatch(/hj212 sim analyzer\s+simulate analyzers/);
  });

  it.each([
    [['--profile', 'cod', '--tcp', '0'], '--profile cod: expected ID:UNIT[:WORDORDER[:BYTEORDER]], such as cod:1'],
    [
      ['--tcp', '0', '--profile', 'so2:3:CDAB'],
      '--profile so2:3:CDAB: orders are big or little, as in the edge config; CDAB is so2:3:little:big',
    ],
    [
      ['--tcp', '0', '--profile', 'so2:3:little:swapped'],
      '--profile so2:3:little:swapped: byteOrder: expected big or little',
    ],
    [['--profile', 'cod:1'], 'nothing to serve on: set tcp and/or rtu'],
    [['--tcp', '0', '--profile', 'cod:300'], '--profile cod:300: unit: Too big'],
    [['--tcp', 'x', '--profile', 'cod:1'], '--tcp x: port: Invalid input: expected number, received NaN'],
    [['--tcp', '0', '--profile', 'cod:1', '--warp', '0'], '--warp: Too small'],
    [
      ['--tcp', '0', '--profile', 'cod:1', '--baud', '19200'],
      '--baud/--parity: name the serial device with --rtu PATH',
    ],
    [['--tcp', '0', '--profile', 'cod:1', '--log-level', 'loud'], '--log-level loud: use one of fatal, error'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('refuses %j, saying what to fix', async (argv, message) => {
    const io = cliIo();
    expect(await run(argv, io)).toBe(2);
    expect(io.stderr.text).toContain(message);
  });

  it('names the scenario file and field in its errors', async () => {
    const scenario = file('broken.yaml', 'signals:\n  cod:\n    events:\n      - { kind: zero, from: 2h, to: 1h }\n');
    const io = cliIo();
    expect(await run(['--tcp', '0', '--profile', 'cod:1', '--scenario', scenario], io)).toBe(2);
    expect(io.stderr.text).toContain(`${scenario}: signals.cod.events[0].to: must be later than from`);
  });

  it('accepts the configuration and scenario examples of the docs', async () => {
    const doc = readFileSync(new URL('../docs/analyzer-simulator.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const [configYaml, scenarioYaml] = blocks;
    expect(configYaml).toContain('scenario: day.yaml');
    file('day.yaml', scenarioYaml ?? '');
    const config = await loadAnalyzerConfig(file('plant.yaml', configYaml ?? ''));
    const plan = planSimulation(config, Date.now());
    expect(plan.devices.map((d) => `${d.profile.id}:${d.unit}`)).toEqual([
      'cod:1',
      'nh3n:2',
      'acme-ph:3',
      'water-flow:4',
    ]);
    expect(plan.warp).toBe(1440);
    const io = cliIo();
    expect(await run(['--config', path.join(dir, 'plant.yaml'), '--register-map'], io)).toBe(0);
    expect(io.stdout.text).toContain('### `acme-ph`: ACME pH meter (w01001)');
  });

  it('serves the profiles given as flags over TCP and RTU until told to stop', async (ctx) => {
    const pty = TOOLS.socat() ? await openPtyPair() : undefined;
    ctx.onTestFinished(async () => pty?.close());
    const flat = (mean: number) => `{ mean: ${mean}, amplitude: 0, noise: 0 }`;
    const scenario = file('flat.yaml', `signals:\n  cod: ${flat(77.25)}\n  nh3n: ${flat(1.5)}\n`);
    const io = cliIo();
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const rtuFlags = pty ? ['--rtu', pty.a, '--baud', '19200'] : [];
    const profiles = ['--profile', 'cod:1', '--profile', 'nh3n:2:little'];
    const argv = ['--tcp', '127.0.0.1:0', ...rtuFlags, ...profiles, '--scenario', scenario, '--warp', '60'];
    const exit = run(argv, io, () => stopped);
    const started = await io.stdout.waitForMsg('analyzer simulator started');
    expect(started).toMatchObject({
      devices: [
        { unit: 1, profile: 'cod', factor: 'w01018' },
        { unit: 2, profile: 'nh3n', factor: 'w21003' },
      ],
      warp: 60,
    });
    const port = Number(String(started.tcp).split(':').pop());
    const readBoth = async (target: PortTarget) => {
      const client: ModbusClient = await connectModbus(target);
      client.setID(1);
      const cod = (await client.readHoldingRegisters(0, 2)).buffer.readFloatBE(0);
      client.setID(2);
      const words = (await client.readHoldingRegisters(0, 2)).buffer;
      await closeModbus(client);
      return { cod, nh3n: Buffer.concat([words.subarray(2), words.subarray(0, 2)]).readFloatBE(0) };
    };
    expect(await readBoth({ tcp: port })).toEqual({ cod: 77.25, nh3n: 1.5 });
    if (pty) {
      expect(started.rtu).toMatchObject({ path: pty.a, baudRate: 19200 });
      expect(await readBoth({ rtu: pty.b, baudRate: 19200 })).toEqual({ cod: 77.25, nh3n: 1.5 });
    } else {
      await ctx.annotate('RTU part skipped: socat is not installed (apt-get install -y socat)');
    }
    stop('SIGTERM');
    expect(await exit).toBe(0);
    expect(io.stdout.lines().map((l) => l.msg)).toContain('analyzer simulator stopped');
  });
});
