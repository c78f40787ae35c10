import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../cli/demo.js';
import { BACKLOG_HOURS, CEMS_MN, LOGGER_MN, WATER_MN } from '../demo/index.js';
import { startDemoChild, type DemoChild } from './helpers/demo-run.js';

interface Alarm {
  type: string;
  mn: string;
  factor?: string;
  kind?: string;
}
interface StationView {
  mn: string;
  online: boolean;
  latest?: Record<string, unknown>;
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

describe('hj212 demo', () => {
  let demo: DemoChild | undefined;
  afterAll(async () => {
    await demo?.stop('SIGKILL');
  });

  // At 120x a simulated minute is 0.5 s: an event loop held up by fsyncs on a busy disk (CI) for longer
  // than a minute leaves a water minute without a sample, B, and its hour unjudged (seen at 240x). The
  // scripted hour outage is over-plus-grace 70 s after the start.
  it(
    'shows stations with data, an exceedance and a missing hour in the API, and stops cleanly on SIGINT',
    { timeout: 300_000 },
    async () => {
      demo = startDemoChild(['--warp', '120', '--port', '0']);
      // Bounds the start and the backlog (the rest is bounded on the demo's clock, below).
      const deadline = Date.now() + 150_000;
      let banner = demo.banner();
      while (!banner) {
        if (Date.now() > deadline || demo.child.exitCode !== null) throw new Error(`no banner:\n${demo.output()}`);
        await new Promise((r) => setTimeout(r, 100));
        banner = demo.banner();
      }
      const { api, readToken, dir } = banner;
      const get = async <T>(path: string): Promise<T> => {
        const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${readToken}` } });
        expect(res.status, path).toBe(200);
        return (await res.json()) as T;
      };
      // The third-party logger uploads the day before the simulated start as it connects: 24 hours of
      // hour data (each with its factors) are there long before the clock could have made them.
      const start = Date.parse(/simulated time starts (\S+)/.exec(demo.output())![1]!);
      // The edge outlets have the same day, uploaded before their boxes start.
      const hours = async (mn: string) => {
        const points = await get<{ time: number }[]>(
          `/stations/${mn}/data?kind=hour&from=${start - BACKLOG_HOURS * 3_600_000}&to=${start - 1}&limit=100000`,
        );
        return new Set(points.map((p) => p.time)).size;
      };
      for (const mn of [LOGGER_MN, WATER_MN, CEMS_MN]) {
        let backlog = await hours(mn);
        while (backlog < BACKLOG_HOURS) {
          if (Date.now() > deadline) throw new Error(`${mn}: ${backlog} backlog hours only\n${demo.output()}`);
          await new Promise((r) => setTimeout(r, 500));
          backlog = await hours(mn);
        }
        expect(backlog, mn).toBe(BACKLOG_HOURS);
      }

      let alarms: Alarm[] = [];
      let stations: StationView[] = [];
      const seen = () => ({
        exceedance: alarms.some((a) => a.type === 'exceedance' && a.mn === WATER_MN && a.factor === 'w01018'),
        missing: alarms.some((a) => a.type === 'missing-hour' && a.mn === LOGGER_MN),
        data: [WATER_MN, CEMS_MN, LOGGER_MN].every(
          (mn) => Object.keys(stations.find((s) => s.mn === mn)?.latest ?? {}).length > 0,
        ),
      });
      // Waited for on the demo's own clock, not the wall's: the COD episode runs from 40 min to 1 h 40 min
      // of simulated time, the logger’s missing hour is due at 2 h 20 min; by 4 h both must be there
      // however slowly this machine runs the demo (simulated time starts once every part is up).
      let simulated = start;
      while (!Object.values(seen()).every(Boolean)) {
        if (simulated > start + 4 * 3_600_000) {
          // What the rules judged the episode on: the water outlet's COD hours and 10-minute periods.
          const periods: string[] = [];
          for (const kind of ['hour', 'minute'])
            for (const p of await get<{ time: number; value?: number; flag?: string }[]>(
              `/stations/${WATER_MN}/data?factor=w01018&kind=${kind}&from=${start}&to=${simulated}`,
            ))
              periods.push(`${kind} +${(p.time - start) / 60_000}m ${p.value} ${p.flag}`);
          throw new Error(
            `not seen by 4 simulated hours: ${JSON.stringify(seen())}\n${periods.join('\n')}\n${demo.output()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 1000));
        [alarms, stations] = await Promise.all([get<Alarm[]>('/alarms?limit=1000'), get<StationView[]>('/stations')]);
        simulated = (await get<{ now: number }>('/overview')).now;
      }
      // The edge stations report all along: online on the demo's (warped) clock, as an operator would see them.
      expect(stations.filter((s) => s.mn === WATER_MN || s.mn === CEMS_MN).map((s) => s.online)).toEqual([true, true]);
      // Only the scripted episodes: no other station or factor is over its limit.
      expect(
        alarms.filter((a) => a.type === 'exceedance').every((a) => a.mn === WATER_MN && a.factor === 'w01018'),
      ).toBe(true);
      expect(alarms.filter((a) => a.type === 'missing-hour').every((a) => a.mn === LOGGER_MN)).toBe(true);

      // The dashboard's page, on the same port the banner names.
      const page = await fetch(`${api}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');

      const port = Number(new URL(api).port);
      expect(await demo.stop('SIGINT')).toBe(0);
      expect(demo.output()).toContain('hj212 demo: stopped');
      expect(await refused(port)).toBe(true);
      expect(existsSync(dir)).toBe(false);
    },
  );
});

describe('hj212 demo arguments', () => {
  const io = () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    return { io: { stdin: new PassThrough(), stdout, stderr }, err: () => err };
  };
  const never = () => new Promise<string>(() => undefined);

  it('refuses a bad warp or port, naming the option', async () => {
    const a = io();
    expect(await run(['--warp', '0'], a.io, never)).toBe(2);
    expect(a.err()).toContain('--warp 0');
    const b = io();
    expect(await run(['--port', '70000'], b.io, never)).toBe(2);
    expect(b.err()).toContain('--port 70000');
  });

  it('refuses a --dir that holds files (a previous run would resume on another clock)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hj212-demo-test-'));
    try {
      await writeFile(join(dir, 'edge.db'), '');
      const a = io();
      expect(await run(['--dir', dir, '--port', '0'], a.io, never)).toBe(1);
      expect(a.err()).toContain('not empty');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
