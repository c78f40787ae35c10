import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { rawClient, startTestCloud, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { HOUR_MS, hourFrame, refusals, storedHours, T0 } from './helpers/security.js';

// Attack 4: an upload dated 9999 got 9014, was stored and pinned the station's "latest" value until a
// restart; an upload with an impossible DataTime got no answer at all, so the logger resent it forever.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const TOKEN = 'data-token-0123456789abcdef';

async function cloud(futureData: 'refuse' | 'store'): Promise<{ c: TestCloud; latest: () => Promise<unknown> }> {
  const c = await startTestCloud({
    ingest: { maxFutureSeconds: 900, futureData },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'ops', role: 'read', sha256: sha256(TOKEN) }] },
  });
  cleanup.push(() => c.stop());
  const latest = async (): Promise<unknown> => {
    const r = await fetch(`http://127.0.0.1:${c.cloud.http!.address.port}/stations`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = (await r.json()) as { mn: string; latest: Record<string, { time: number; value: number }> }[];
    return body.find((s) => s.mn === WATER_MN)!.latest;
  };
  return { c, latest };
}

/** DataTime of an hour this many hours from now (UTC+8), as the logger writes it. */
const fromNow = (ms: number): string =>
  new Date(Math.floor((Date.now() + ms) / HOUR_MS) * HOUR_MS + 8 * HOUR_MS)
    .toISOString()
    .replace(/[-T:]/g, '')
    .slice(0, 14);

describe('data times against the receiver’s clock', () => {
  it(
    'refuses DataTime 9999 and one 2 h ahead with 9011 QnRtn 2, answers an impossible DataTime ' +
      'likewise; none is stored or becomes latest; honest hours around them are',
    async () => {
      const { c, latest } = await cloud('refuse');
      const logger = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => logger.close());
      logger.socket.write(
        [
          hourFrame(WATER_MN, WATER_PW, { hours: 0, avg: '10' }),
          hourFrame(WATER_MN, WATER_PW, { dataTime: '99991231230000', avg: '666' }),
          hourFrame(WATER_MN, WATER_PW, { dataTime: fromNow(2 * HOUR_MS), avg: '667' }),
          hourFrame(WATER_MN, WATER_PW, { dataTime: '20261340250000', avg: '668' }),
          hourFrame(WATER_MN, WATER_PW, { hours: 1, avg: '11' }),
        ].join(''),
      );
      const answers = await logger.received(5);
      expect(answers.map((a) => [a.cn, a.cp.params['QnRtn']])).toEqual([
        ['9014', undefined],
        ['9011', '2'],
        ['9011', '2'],
        ['9011', '2'],
        ['9014', undefined],
      ]);
      expect(refusals(c)).toEqual([
        ['future-data', WATER_MN, '127.0.0.1'],
        ['future-data', WATER_MN, '127.0.0.1'],
        ['bad-data', WATER_MN, '127.0.0.1'],
      ]);
      expect(c.lines.filter((l) => l['reason'] === 'future-data').map((l) => l['dataTime'])).toEqual([
        '99991231230000',
        fromNow(2 * HOUR_MS),
      ]);
      expect(await storedHours(c, WATER_MN, 2)).toHaveLength(2);
      expect(
        await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: Date.parse('9999-12-31T23:59:59Z') }),
      ).toHaveLength(2);
      // Latest is the honest hour 1 (11), not 666.
      expect(await latest()).toEqual({
        w01018: { kind: 'hour', time: T0 + HOUR_MS, value: 11, flag: 'N', judged: 11, state: 'normal' },
      });
    },
  );

  it('with futureData: store, stores and answers it but keeps it out of the latest values', async () => {
    const { c, latest } = await cloud('store');
    const logger = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => logger.close());
    logger.socket.write(
      hourFrame(WATER_MN, WATER_PW, { hours: 0, avg: '10' }) +
        hourFrame(WATER_MN, WATER_PW, { dataTime: '99991231230000', avg: '666' }),
    );
    expect((await logger.received(2)).map((a) => a.cn)).toEqual(['9014', '9014']);
    expect(refusals(c)).toEqual([['future-data', WATER_MN, '127.0.0.1']]);
    const far = Date.parse('9999-12-31T15:00:00Z'); // 9999-12-31 23:00 UTC+8
    expect(await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: far, to: far + 1 })).toHaveLength(1);
    expect(await latest()).toEqual({
      w01018: { kind: 'hour', time: T0, value: 10, flag: 'N', judged: 10, state: 'normal' },
    });
  });
});
