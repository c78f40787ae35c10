/**
 * Start-up footprint with a large registry: `hj212 cloud` (SQLite store, no connection) started with
 * N stations in block-style YAML and the same stations in JSON, and an empty Node process as the
 * same-run baseline. Per case: the ingest's RSS once it listens, its peak RSS (VmHWM) during start-up,
 * the time to listening, and whether it starts under a V8 heap cap. Linux only (/proc). One JSON line.
 *   node dist/bench/registry.js [--stations 10000] [--heap-mb 128] [--cli path/to/cli/main.js]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { hashSecret, sha256 } from '../cloud/index.js';

const { values } = parseArgs({
  options: {
    stations: { type: 'string', default: '10000' },
    'heap-mb': { type: 'string', default: '128' },
    cli: { type: 'string', default: join(import.meta.dirname, '..', 'cli', 'main.js') },
  },
});
const N = Number(values.stations);
const FACTORS = ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000', 'w00001', 'w00002', 'w00003'];

async function memory(pid: number): Promise<{ rssMb: number; peakRssMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
}

/** Starts `args`, waits for `ready` on stdout (or exit), measures, stops it. */
async function measure(args: string[], ready: RegExp): Promise<Record<string, number | boolean | string>> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()).slice(-2000));
  const started = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(true);
    });
    child.once('exit', () => resolve(false));
  });
  const startMs = Math.round(performance.now() - t0);
  if (!started) return { started: false, reason: err.split('\n').find((l) => /heap|Error/.test(l)) ?? err.slice(-200) };
  const m = await memory(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { started: true, startMs, ...m };
}

const dir = await mkdtemp(join(tmpdir(), 'hj212-bench-registry-'));
try {
  const hash = await hashSecret('b3nch1', 1024);
  const stations = Array.from({ length: N }, (_, i) => ({
    mn: `0100000000A8900000${String(i).padStart(6, '0')}`,
    enterprise: `E${i}`,
    outlet: `WS-${i}`,
    type: 'water',
    passwordHash: hash,
    mqttSecretHash: hash,
    factors: Object.fromEntries(FACTORS.map((f) => [f, { unit: 'mg/L' }])),
  }));
  await writeFile(join(dir, 'stations.yaml'), stringify({ stations }, { aliasDuplicateObjects: false }));
  await writeFile(join(dir, 'stations.json'), JSON.stringify({ stations }));
  const config = async (registry: string): Promise<string> => {
    const file = join(dir, `cloud-${registry}.yaml`);
    await writeFile(
      file,
      stringify({
        registry,
        state: `state-${registry}.db`,
        store: { type: 'sqlite', path: `data-${registry}.db` },
        tcp: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'bench', sha256: sha256('unused'), role: 'read' }] },
        logLevel: 'info',
      }),
    );
    return file;
  };
  const listening = /HJ 212 TCP listening/;
  const cases: Record<string, unknown>[] = [];
  cases.push({
    case: 'empty node',
    ...(await measure(['-e', 'console.log("up"); setInterval(() => {}, 1000)'], /up/)),
  });
  for (const registry of ['stations.yaml', 'stations.json']) {
    const file = await config(registry);
    cases.push({ case: registry, ...(await measure([values.cli, 'cloud', '--config', file], listening)) });
    cases.push({
      case: `${registry}, --max-old-space-size=${values['heap-mb']}`,
      ...(await measure(
        [`--max-old-space-size=${values['heap-mb']}`, values.cli, 'cloud', '--config', file],
        listening,
      )),
    });
  }
  const rss = (c: string): number => cases.find((x) => x['case'] === c)?.['rssMb'] as number;
  console.log(
    JSON.stringify({
      stations: N,
      node: process.version,
      cases,
      ratios: {
        yamlRssVsEmptyNode: +(rss('stations.yaml') / rss('empty node')).toFixed(2),
        jsonRssVsEmptyNode: +(rss('stations.json') / rss('empty node')).toFixed(2),
      },
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
