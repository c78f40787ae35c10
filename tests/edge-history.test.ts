import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { EdgeStore } from '../edge/store/index.js';
import { HISTORY_PAGE, streamHistory } from '../edge/history.js';
import type { DataRecord, HistoryCn } from '../edge/aggregator.js';
import type { HistoryPager } from '../edge/history.js';
import { encodeFrame, formatHjTime, historyRequest } from '../protocol/index.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { cloudPeer, startAedes } from './helpers/edge-broker.js';
import { memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { rawPlatform } from './helpers/fuzz-edge.js';

/**
 * History requests (2031/2041/2051/2061, HJ 212-2017 C.20-C.23) over huge ranges are answered from
 * the store a page at a time, never by building every reply at once.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const HOUR = 3_600_000;
/** 2024 is a leap year: 366 days × 24 hours = 8784 hour records. */
const YEAR_START = Date.parse('2024-01-01T00:00:00+08:00');
const HOURS_2024 = 366 * 24;
/** History the agent keeps: 2024 is more than the default 180 days before the simulated 2025-06-01. */
const KEEP_DAYS = 3650;

const hourRecord = (i: number): DataRecord => ({
  cn: '2061',
  at: YEAR_START + i * HOUR,
  stats: { w01018: { min: i % 50, avg: i % 50, max: i % 50, flag: 'N', valid: 60, count: 60 } },
});

/** A store holding every hour of 2024 and the minute records (10 min) of its first day. */
async function yearStore(): Promise<{ dir: string; store: EdgeStore }> {
  const data = await tempDir();
  cleanups.push(data.remove);
  const { logger } = memoryLogger();
  const store = new EdgeStore(data.dir, { logger, utcOffsetMinutes: 480, outboxBytes: new Map() });
  const minutes: DataRecord[] = Array.from({ length: 144 }, (_, i) => ({
    cn: '2051',
    at: YEAR_START + i * 600_000,
    stats: { w01018: { min: 1, avg: 1, max: 1, flag: 'N', valid: 10, count: 10 } },
  }));
  const records = [...Array.from({ length: HOURS_2024 }, (_, i) => hourRecord(i)), ...minutes];
  // The cursor the agent resumes from: the warped clock's start, not 2024 (it would close every minute since).
  const cursor = Date.parse('2025-06-01T00:00:00+08:00');
  store.commitTick(cursor, { minutes: [], state: { cursor, minutes: [], hours: [] }, records }, []);
  return { dir: data.dir, store };
}

/** A pager over the real store that records each page it hands out and whether a send was still pending then. */
function watchedPager(store: EdgeStore) {
  const pages: { limit: number; size: number; whileSending: boolean }[] = [];
  const state = { sending: false };
  const pager: HistoryPager = {
    historyPage: (cn: HistoryCn, from: number, to: number, after: number | undefined, limit: number) => {
      const page = store.historyPage(cn, from, to, after, limit);
      pages.push({ limit, size: page.length, whileSending: state.sending });
      return page;
    },
  };
  return { pager, pages, state };
}

describe('history answers stream from the store in pages', () => {
  it('a request over 8000 years gets every hour of 2024 in order, one page of 100 at a time', async () => {
    const { store } = await yearStore();
    cleanups.push(async () => store.close());
    const { pager, pages, state } = watchedPager(store);
    const got: number[] = [];
    const query = {
      cn: '2061' as const,
      from: Date.parse('0001-01-01T00:00:00Z'),
      to: Date.parse('9999-12-31T00:00:00Z'),
    };
    const result = await streamHistory(query, pager, HISTORY_PAGE, async (records) => {
      state.sending = true;
      got.push(...records.map((r) => r.at));
      // the link takes its time: the next page must wait for this one
      await new Promise((resolve) => setTimeout(resolve, 1));
      state.sending = false;
      return true;
    });
    expect(HISTORY_PAGE).toBe(100);
    expect(result).toEqual({ sent: 8784, complete: true });
    expect(got).toEqual(Array.from({ length: HOURS_2024 }, (_, i) => YEAR_START + i * HOUR));
    // 8784 records in pages of 100: 87 full pages and one of 84, which ends the stream without another read
    expect(pages).toHaveLength(88);
    expect(pages.every((p) => p.limit === 100 && !p.whileSending)).toBe(true);
    expect(pages.at(-1)).toEqual({ limit: 100, size: 84, whileSending: false });
  });

  it('takes BeginTime and EndTime as inclusive, one kind only, and stops when the link goes down', async () => {
    const { store } = await yearStore();
    cleanups.push(async () => store.close());
    const collect = async (cn: HistoryCn, from: number, to: number, stopAfter = Infinity) => {
      const ats: number[] = [];
      let pages = 0;
      const result = await streamHistory({ cn, from, to }, store, 100, async (records) => {
        ats.push(...records.map((r) => r.at));
        return ++pages < stopAfter;
      });
      return { ...result, first: ats[0], last: ats.at(-1) };
    };
    // 2024-03-01 00:00 to 2024-03-01 23:00, both ends included: 24 hours
    const march = Date.parse('2024-03-01T00:00:00+08:00');
    expect(await collect('2061', march, march + 23 * HOUR)).toEqual({
      sent: 24,
      complete: true,
      first: march,
      last: march + 23 * HOUR,
    });
    // the 144 minute records of the first day, none of the hours
    expect(await collect('2051', YEAR_START, YEAR_START + 400 * HOUR)).toMatchObject({ sent: 144, complete: true });
    expect(await collect('2031', YEAR_START, YEAR_START + 400 * HOUR)).toMatchObject({ sent: 0, complete: true });
    // a link that goes down after the third page: 300 sent, not complete (no 9012 follows)
    expect(await collect('2061', YEAR_START, YEAR_START + HOURS_2024 * HOUR, 3)).toMatchObject({
      sent: 300,
      complete: false,
    });
  });

  it(
    'over the TCP uplink: a year of hours in order between one 9011 and ' +
      'one 9012, the same QN sent again not run twice',
    async () => {
      const { dir, store } = await yearStore();
      store.close();
      const clock = warpedClock(60);
      const sim = await startWaterSim(clock);
      cleanups.push(() => sim.close());
      const platform = await rawPlatform();
      cleanups.push(platform.close);
      const { logger, lines } = memoryLogger();
      const agent = await startAgent(
        waterOutlet(dir, sim.tcp!.port, platform.port, { clockTrusted: true, historyDays: KEEP_DAYS }),
        {
          logger,
          clock,
          tickMs: 25,
        },
      );
      cleanups.push(() => agent.close());
      await until(platform.connected, 'the edge to connect');
      const qn = '20250601000000321';
      const year = historyRequest({ mn: MN, pw: PW, st: '32' }, '2061', '20240101000000', '20241231230000', { qn });
      const backwards = historyRequest({ mn: MN, pw: PW, st: '32' }, '2061', '20241231000000', '20240101000000', {
        qn: '20250601000000322',
      });
      // The platform resends before the first answer is through (HJ 212-2017 6.2.1): one write, both copies.
      await platform.write(encodeFrame(year) + encodeFrame(year) + encodeFrame(backwards));
      const mine = () => platform.received.filter((r) => r.packet.qn === qn).map((r) => r.packet);
      await until(() => mine().some((p) => p.cn === '9012'), 'the 9012 ending the year', 60_000);
      const answers = mine();
      const records = answers.filter((p) => p.cn === '2061');
      expect(records).toHaveLength(HOURS_2024);
      expect(records.map((p) => p.cp.params['DataTime'])).toEqual(
        Array.from({ length: HOURS_2024 }, (_, i) => formatHjTime(new Date(YEAR_START + i * HOUR), 480)),
      );
      // hour i of the year holds i mod 50: hour 8783 is 8783 - 175 × 50 = 33
      expect(records.at(-1)!.cp.factors['w01018']).toMatchObject({ Avg: '33.00', Flag: 'N' });
      expect(answers.filter((p) => p.cn === '9011').map((p) => p.cp.params)).toEqual([{ QnRtn: '1' }, { QnRtn: '1' }]);
      expect(answers.filter((p) => p.cn === '9012').map((p) => p.cp.params)).toEqual([{ ExeRtn: '1' }]);
      expect(answers.at(-1)!.cn).toBe('9012');
      expect(lines.filter((l) => l['reason'] === 'duplicate-request')).toHaveLength(1);
      // The backwards range needs no records: 9011 Ready, then ExeRtn 3 (condition error, table 6) at once.
      await until(
        () => platform.received.some((r) => r.packet.qn === '20250601000000322' && r.packet.cn === '9012'),
        'the answer to the backwards range',
      );
      expect(
        platform.received
          .filter((r) => r.packet.qn === '20250601000000322')
          .map((r) => [r.packet.cn, r.packet.cp.params['QnRtn'] ?? r.packet.cp.params['ExeRtn']]),
      ).toEqual([
        ['9011', '1'],
        ['9012', '3'],
      ]);
    },
  );

  it('over MQTT: a year of hours in order on the up topic between one 9011 and one 9012', async () => {
    const { dir, store } = await yearStore();
    store.close();
    const clock = warpedClock(60);
    const sim = await startWaterSim(clock);
    cleanups.push(() => sim.close());
    const broker = await startAedes({ [MN]: 'edge-secret', cloud: 'cloud-secret' });
    cleanups.push(() => broker.close());
    const cloud = await cloudPeer(broker.url, 'cloud', 'cloud-secret');
    cleanups.push(cloud.close);
    const { logger } = memoryLogger();
    const config = waterOutlet(dir, sim.tcp!.port, 1, {
      clockTrusted: true,
      historyDays: KEEP_DAYS,
      uplinks: [
        {
          id: 'cloud',
          kind: 'mqtt',
          url: broker.url,
          username: MN,
          password: 'edge-secret',
          pw: PW,
          timeoutSeconds: 1,
          reconnectMinSeconds: 0.2,
        },
      ],
    });
    const agent = await startAgent(config, { logger, clock, tickMs: 25 });
    cleanups.push(() => agent.close());
    await until(() => cloud.received.length > 0, 'the edge to publish');
    const qn = '20250601000000654';
    await cloud.send(
      MN,
      historyRequest({ mn: MN, pw: PW, st: '32' }, '2061', '20240101000000', '20241231230000', { qn }),
    );
    const mine = () => cloud.received.filter((p) => p.qn === qn);
    await until(() => mine().some((p) => p.cn === '9012'), 'the 9012 ending the year', 60_000);
    const records = mine().filter((p) => p.cn === '2061');
    expect(records.map((p) => p.cp.params['DataTime'])).toEqual(
      Array.from({ length: HOURS_2024 }, (_, i) => formatHjTime(new Date(YEAR_START + i * HOUR), 480)),
    );
    expect(mine().map((p) => p.cn)).toEqual(['9011', ...Array<string>(HOURS_2024).fill('2061'), '9012']);
  });
});
