import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../cli/edge.js';
import { prettyLine } from '../cli/log-pretty.js';
import { parseEdgeConfig, startAgent } from '../edge/index.js';
import { EdgeStore } from '../edge/store/index.js';
import { isoLocal, presentHealth } from '../edge/report.js';
import { recordFrames } from '../edge/sender.js';
import type { AgentHealth } from '../edge/index.js';
import type { DataRecord } from '../edge/aggregator.js';
import { MN, PW, startPlatform, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { minimalConfig } from './helpers/edge-config.js';
import { startWaterSim, until } from './helpers/edge-sim.js';

/** The keys at the top level of one JSON line, in order, repeats included (JSON.parse keeps only the last). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
  }
  return keys;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const MN_2005 = '88888880000001';

async function outlet(version: '2005' | '2017') {
  const clock = warpedClock(600);
  const sim = await startWaterSim(clock);
  cleanups.push(() => sim.close());
  // An HJ/T 212-2005 platform knows the station by a 14-character MN (HJ/T 212-2005 6.3.2).
  const mn = version === '2005' ? MN_2005 : MN;
  const platform = await startPlatform(0, clock, { version, mn });
  cleanups.push(async () => void (await platform.server.close()));
  const data = await tempDir();
  cleanups.push(data.remove);
  const config = waterOutlet(data.dir, sim.tcp!.port, platform.port);
  config.uplinks = config.uplinks.map((u) => ({ ...u, version, ...(version === '2005' && { mn }) }));
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  const agent = await startAgent(config, { logger, clock, tickMs: 25, summaryMs: 300 });
  let closed = false;
  cleanups.push(async () => void (closed || (await agent.close())));
  const lines = () => raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  const close = async () => {
    closed = true;
    await agent.close();
  };
  return { agent, platform, raw, lines, close };
}

describe('edge logs a person can read', () => {
  it('one line per event without repeated keys, and a summary per uplink that shows confirmed uploads', async () => {
    const { raw, lines, close } = await outlet('2017');
    const summaries = () =>
      lines().filter((l) => l['msg'] === 'uplink summary' && l['uplink'] === 'province' && Number(l['confirmed']) > 0);
    await until(() => summaries().length > 0, 'a summary line with confirmed records');
    await close();
    for (const line of raw) {
      const keys = topLevelKeys(line);
      expect(keys, line).toEqual([...new Set(keys)]);
    }
    expect(summaries()[0]).toMatchObject({
      mn: MN,
      reason: 'summary',
      state: 'connected',
      sent: expect.any(Number),
      outboxRecords: expect.any(Number),
      inFlight: expect.any(Number),
    });
    expect(lines().some((l) => l['uplink'] === 'province' && l['msg'] === 'connected to the platform')).toBe(true);
  });

  it('health for people: local ISO times and readings at the decimals they are sent with', () => {
    // 1748707200000 ms is 2025-05-31T16:00:00Z, 00:00 in Beijing (UTC+8)
    const h: AgentHealth = {
      mn: MN,
      now: 1748707200000,
      clock: { trusted: false, offsetMs: 0 },
      uplinks: {
        province: {
          kind: 'hj212-tcp',
          state: 'connected',
          since: 1748707100000,
          outbox: { records: 2, bytes: 410, oldestAt: 1748707140000 },
          inFlight: 2,
          sent: 7,
          confirmed: 5,
          refused: { 'bad-crc': 1 },
        },
      },
      devices: {
        cod: {
          bus: 'line',
          failures: 0,
          lastOkAt: 1748707199500,
          lastReadings: [{ code: 'w01018', value: 39.765621185302734, flag: 'N' }],
        },
        nh3n: { bus: 'line', failures: 3, lastReadings: [{ code: 'w21003', value: Number.NaN, flag: 'B' }] },
      },
      storage: { events: 0, dropped: 0, reserve: true, unsavedRecords: 0 },
    };
    expect(presentHealth(h, 480, new Map([['w01018', 2]]))).toEqual({
      ...h,
      now: '2025-06-01T00:00:00.000+08:00',
      uplinks: {
        province: {
          ...h.uplinks['province'],
          // 1748707100000 is 100 s before the hour; the oldest record waiting is of 23:59:00
          since: '2025-05-31T23:58:20.000+08:00',
          outbox: { records: 2, bytes: 410, oldestUnconfirmed: '2025-05-31T23:59:00.000+08:00' },
        },
      },
      devices: {
        // 39.765621… at 2 decimals is 39.77
        cod: {
          bus: 'line',
          failures: 0,
          lastOkAt: '2025-05-31T23:59:59.500+08:00',
          lastReadings: [{ code: 'w01018', value: 39.77, flag: 'N' }],
        },
        nh3n: { bus: 'line', failures: 3, lastReadings: [{ code: 'w21003', value: null, flag: 'B' }] },
      },
    });
    // west of Greenwich: UTC-3h30 is 12:30 local for 16:00Z
    expect(isoLocal(1748707200000, -210)).toBe('2025-05-31T12:30:00.000-03:30');
  });

  it('--pretty turns a JSON line into time, level, message and key=value', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2025-06-01T00:00:01.250Z',
      pid: 1,
      hostname: 'box',
      name: 'hj212-edge',
      mn: MN,
      device: 'nh3n',
      reason: 'no answer from unit 2 within 1000 ms (timeout)',
      failures: 1,
      msg: 'device lost; its data is B-flagged',
    });
    expect(prettyLine(line)).toBe(
      `2025-06-01T00:00:01.250Z WARN  device lost; its data is B-flagged  mn=${MN} device=nh3n reason="no answer ` +
        'from unit 2 within 1000 ms (timeout)" failures=1',
    );
    expect(prettyLine('not json')).toBe('not json');
  });
});

describe('the oldest unconfirmed record', () => {
  it('is the DataTime of the first record queued for the uplink, gone once the outbox is empty', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const store = new EdgeStore(data.dir, {
      logger: pino({ level: 'silent' }),
      utcOffsetMinutes: 480,
      outboxBytes: new Map(),
    });
    const T0 = Date.parse('2025-06-01T00:00:00+08:00');
    const rec = (i: number): DataRecord => ({
      cn: '2051',
      at: T0 + i * 600_000,
      stats: { w01018: { avg: i, flag: 'N', valid: 1, count: 1 } },
    });
    const state = { cursor: T0, minutes: [], hours: [] };
    store.commitTick(T0, { minutes: [], state, records: [rec(0), rec(1)] }, [{ uplink: 'a', accepts: () => true }]);
    const [first, second] = store.nextBatch('a', 10, new Set());
    expect(store.outboxDepth('a')).toMatchObject({ records: 2, oldestAt: T0 });
    store.confirm('a', first!.qn);
    // the second minute record is of 00:10 (T0 + 600 000 ms)
    expect(store.outboxDepth('a')).toMatchObject({ records: 1, oldestAt: T0 + 600_000 });
    store.confirm('a', second!.qn);
    expect(store.outboxDepth('a')).toEqual({ records: 0, bytes: 0 });
    store.close();
  });
});

describe('hj212 edge --pretty', () => {
  it('runs the agent with plain lines on stdout, JSON times as ISO otherwise', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const file = join(data.dir, 'edge.yaml');
    // Nothing listens on the bus: the agent starts and logs the device lost.
    const config = minimalConfig();
    config.dataDir = join(data.dir, 'state');
    config.buses = [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: 1, timeoutMs: 100 }];
    await writeFile(file, stringify(config));
    for (const pretty of [true, false]) {
      let out = '';
      const io = {
        stdin: process.stdin,
        stdout: { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      };
      let stop = () => {};
      const stopped = new Promise<string>((resolve) => (stop = () => resolve('test')));
      const exit = run(['--config', file, ...(pretty ? ['--pretty'] : [])], io, () => stopped);
      await until(() => out.includes('device lost'), 'the device lost line');
      stop();
      expect(await exit).toBe(0);
      const first = out.split('\n')[0]!;
      if (pretty) {
        expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}/);
        expect(out).toMatch(
          /\n\S+ WARN {2}device lost; its data is B-flagged {2}mn=010000A8900016F000169DC0 bus=line device=cod /,
        );
      } else {
        expect(JSON.parse(first)).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
      }
    }
  });
});

describe('HJ/T 212-2005 uplinks', () => {
  it('say at start which factors have no 2005 code (water temperature w01010 has none in appendix B)', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = minimalConfig();
    config.dataDir = data.dir;
    config.devices[0]!.factors.push({ code: 'w01010', value: { address: 4 } });
    config.uplinks = [
      { id: 'old', kind: 'hj212-tcp', host: '127.0.0.1', port: 1, mn: MN_2005, pw: PW, version: '2005' },
    ];
    const raw: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void raw.push(line) });
    const agent = await startAgent(parseEdgeConfig(config), { logger });
    await agent.close();
    expect(raw.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ uplink: 'old', reason: 'no 2005 code', factors: ['w01010'] }),
    );
  });

  it('go out with 2005 factor codes, are answered with the QN in the CP, and leave the outbox', async () => {
    // One real-time record as a 2005 frame: w01018 (COD) is 011, w00000 (flow) B01 in HJ/T 212-2005 appendix B.
    const [frame] = recordFrames(
      {
        cn: '2011',
        at: 1748707200000,
        stats: { w01018: { avg: 48.5, flag: 'N' }, w00000: { avg: 20, flag: 'N' } },
      } as never,
      '20250601000000000',
      { mn: MN, pw: PW, st: '32', version: '2005' },
      new Map([
        ['w01018', 2],
        ['w00000', 2],
      ]),
      480,
    );
    expect(frame?.frame).toContain(
      'CN=2011;PW=a1B2c3;MN=010000A8900016F000169DC0;Flag=1;CP=&&DataTime=20250601000000;',
    );
    expect(frame?.frame).toContain('011-Rtd=48.50,011-Flag=N;B01-Rtd=20.00,B01-Flag=N');

    const { agent, platform, lines, close } = await outlet('2005');
    await until(
      () =>
        platform.uploads.some((u) => u.cn === '2051') &&
        agent.health().uplinks['province']!.confirmed >= 3 &&
        agent.health().uplinks['province']!.inFlight === 0,
      'minute data confirmed over the 2005 link',
      20_000,
    );
    const confirmed = agent.health().uplinks['province']!.confirmed;
    await close();
    const report = platform.server.conformance().stations.find((s) => s.mn === MN_2005)!;
    expect(report.versions).toEqual(['2005']);
    expect(report.checks['version']).toMatchObject({ failed: 0 });
    // the platform decoded 011 and B01 back to the 2017 codes
    expect(Object.keys(platform.uploads.find((u) => u.cn === '2051')!.cp.factors).sort()).toEqual(['w00000', 'w01018']);
    expect(confirmed).toBeGreaterThanOrEqual(3);
    // HJ/T 212-2005 has no 1013 (time calibration request): the box does not send it
    expect(lines().some((l) => String(l['msg']).includes('(1013)'))).toBe(false);
  });
});
