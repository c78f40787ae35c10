import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { WATER_MN, rawClient } from './helpers/cloud-fixtures.js';
import { ADMIN, H, READ, T0, apiCloud, hourFrame, type Json } from './helpers/dashboard-api.js';

const OPERATOR = 'duty-token-0123456789abcdef';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/**
 * 2026-11-20 at the water outlet (COD w01018, NH3-N w21003 and pH w01001 assessed; flow w00000 not),
 * hours 00:00 to 03:00 sent, every factor N except NH3-N at 03:00 flagged D; COD carries a Cou of 1 kg.
 */
async function fed() {
  const started = await apiCloud({
    tokens: [
      { name: 'viewer', sha256: sha256(READ), role: 'read' },
      { name: 'duty', sha256: sha256(OPERATOR), role: 'operator' },
      { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
    ],
  });
  cleanup.push(() => started.c.stop());
  const client = await rawClient(started.c.cloud.tcp!.address.port);
  cleanup.push(async () => client.close());
  const frames = [0, 1, 2, 3].map((hour) =>
    hourFrame(hour, {
      w01018: { Avg: '20', Cou: '1', Flag: 'N' },
      w21003: { Avg: '1', Flag: hour === 3 ? 'D' : 'N' },
      w01001: { Avg: '7', Flag: 'N' },
      w00000: { Avg: '10', Cou: '100', Flag: 'N' },
    }),
  );
  client.socket.write(frames.join(''));
  await client.received(frames.length);
  return started;
}

const at = (hour: number): string => new Date(T0 + hour * H).toISOString();

describe('review marks (数据审核/标记)', () => {
  it(
    'an operator marks hours; the records keep their value and flag; rates ' +
      'and report change by the hand-computed amount',
    async () => {
      const { call } = await fed();
      const outlet = async (): Promise<Json> =>
        (await call('GET', `/stations/${WATER_MN}/rates?day=2026-11-20`, { token: READ })).body.outletRates;
      // Before: monitored from 00:00, the day long over: 24 h x 3 assessed factors = 72 expected;
      // 4 h x 3 = 12 received; 11 valid (NH3-N at 03:00 is D). COD's amount: 4 x 1 kg.
      expect(await outlet()).toMatchObject({ expected: 72, received: 12, valid: 11 });
      const report0: Json = (await call('GET', '/report?day=2026-11-20', { token: READ })).body;
      expect(report0.outlets[0].emissions[0]).toMatchObject({ factor: 'w01018', amount: 4, hours: 4 });

      // Who may mark: not a reader; an operator and an admin may.
      const fault = { from: at(1), to: at(3), reason: 'fault', note: '探头污染' };
      const refused = await call('POST', `/stations/${WATER_MN}/marks`, { token: READ, json: fault });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('API_ROLE');
      const m1 = await call('POST', `/stations/${WATER_MN}/marks`, { token: OPERATOR, json: fault });
      expect(m1.status).toBe(201);
      expect(m1.body).toMatchObject({ reason: 'fault', reasonName: '故障', flag: 'D', by: 'duty', factor: null });
      const stop = { factor: 'w01018', from: at(10), to: at(12), reason: 'stopped', note: '停产检修' };
      expect((await call('POST', `/stations/${WATER_MN}/marks`, { token: ADMIN, json: stop })).status).toBe(201);
      const fix = { factor: 'w21003', from: at(3), to: at(4), reason: 'normal', note: '误报故障，已核实' };
      expect((await call('POST', `/stations/${WATER_MN}/marks`, { token: OPERATOR, json: fix })).status).toBe(201);

      // Bodies that name what is wrong.
      const badFactor = await call('POST', `/stations/${WATER_MN}/marks`, {
        token: OPERATOR,
        json: { ...fault, factor: 'a21026' },
      });
      expect(badFactor.status).toBe(400);
      expect(badFactor.body.code).toBe('API_NO_FACTOR');
      const badReason = await call('POST', `/stations/${WATER_MN}/marks`, {
        token: OPERATOR,
        json: { ...fault, reason: 'bored' },
      });
      expect(badReason.status).toBe(400);
      expect(badReason.body.message).toMatch(/body\.reason/);
      const backwards = await call('POST', `/stations/${WATER_MN}/marks`, {
        token: OPERATOR,
        json: { ...fault, from: at(3), to: at(1) },
      });
      expect(backwards.body.message).toMatch(/body\.to: a mark ends after it starts/);

      // After, by hand: COD's 10:00 and 11:00 are 停运 (F, not owed): 72 - 2 = 70 expected. Received
      // stays 12. Valid: 00:00 3; 01:00 and 02:00 marked 故障 (D) 0; 03:00 3 (NH3-N corrected to N) = 6.
      // 传输率 12/70, 有效率 6/12, 传输有效率 6/70. COD's amount drops the two fault hours: 2 kg.
      expect(await outlet()).toMatchObject({
        expected: 70,
        received: 12,
        valid: 6,
        transmissionRate: 12 / 70,
        validityRate: 6 / 12,
        effectivenessRate: 6 / 70,
      });
      const report1: Json = (await call('GET', '/report?day=2026-11-20', { token: READ })).body;
      expect(report1.outlets[0]).toMatchObject({ expected: 70, received: 12, valid: 6 });
      expect(report1.outlets[0].emissions[0]).toMatchObject({ factor: 'w01018', amount: 2, hours: 2 });

      // The records themselves are as sent.
      const raw: Json = (
        await call('GET', `/stations/${WATER_MN}/data?kind=hour&factor=w01018&from=${T0}&to=${T0 + 4 * H}`, {
          token: READ,
        })
      ).body;
      expect(raw.map((p: Json) => p.flag)).toEqual(['N', 'N', 'N', 'N']);
      // History shows the mark and the original flag beside it.
      const history: Json = (
        await call('GET', `/stations/${WATER_MN}/history?kind=hour&from=${T0}&to=${T0 + 4 * H}`, { token: READ })
      ).body;
      const cell = (hour: number, f: string): Json => history.rows.find((r: Json) => r.time === T0 + hour * H).cells[f];
      expect(cell(1, 'w01018')).toMatchObject({
        values: { Avg: 20, Cou: 1 },
        flag: 'D',
        flagName: 'D 故障',
        mark: { reason: 'fault', reasonName: '故障', by: 'duty', note: '探头污染', originalFlag: 'N' },
      });
      expect(cell(3, 'w21003')).toMatchObject({ flag: 'N', mark: { reason: 'normal', originalFlagName: 'D 故障' } });
      expect(cell(0, 'w01018').mark).toBeUndefined();
      const csv: string = (
        await call('GET', `/stations/${WATER_MN}/history.csv?kind=hour&from=${T0}&to=${T0 + 4 * H}`, { token: READ })
      ).body;
      expect(csv).toContain('D 故障 (审核: 故障; 原 N 正常)');

      // Withdrawing the fault mark restores those hours (valid 6 + 6 = 12); the trail keeps all of it.
      const gone = await call('DELETE', `/stations/${WATER_MN}/marks/${m1.body.id}`, { token: OPERATOR });
      expect(gone.status).toBe(200);
      expect(gone.body.revoked.by).toBe('duty');
      expect((await call('DELETE', `/stations/${WATER_MN}/marks/${m1.body.id}`, { token: OPERATOR })).body.code).toBe(
        'API_NO_MARK',
      );
      expect(await outlet()).toMatchObject({ expected: 70, received: 12, valid: 12 });
      const audit: Json = (await call('GET', `/stations/${WATER_MN}/marks/audit`, { token: READ })).body;
      expect(audit.map((a: Json) => [a.action, a.by, a.mark.reasonName, a.mark.note])).toEqual([
        ['mark', 'duty', '故障', '探头污染'],
        ['mark', 'ops', '停运', '停产检修'],
        ['mark', 'duty', '数据正常（更正标记）', '误报故障，已核实'],
        ['revoke', 'duty', '故障', '探头污染'],
      ]);
      const inForce: Json = (await call('GET', `/stations/${WATER_MN}/marks`, { token: READ })).body;
      expect(inForce.map((m: Json) => m.reason)).toEqual(['stopped', 'normal']);
    },
  );
});
