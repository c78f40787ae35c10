import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import type { EdgeConfigInput } from '../edge/index.js';
import { handleCommand } from '../edge/commands.js';
import type { CommandContext } from '../edge/commands.js';
import { controlDevice, planWrites, runControl, snText, startSeconds } from '../edge/control.js';
import type { ControlPort, ModbusAction } from '../edge/control.js';
import type { Packet } from '../protocol/index.js';
import type { StandardCheckRecord } from '../edge/aggregator.js';
import { recordPacket } from '../edge/packets.js';
import { bodyOf, fromBody } from '../edge/store/body.js';

/**
 * Analyzer control (HJ 212-2017 table 9, 3011-3019; flows C.30-C.38): the request → Modbus writes
 * and reads → answer mapping, against a scripted analyzer standing behind a recording port.
 */

const MN = '010000A8900016F000169DC0';
const PW = '123456';

type Control = NonNullable<NonNullable<EdgeConfigInput['devices']>[number]['control']>;

function config(control: Control) {
  return parseEdgeConfig({
    station: { mn: MN, st: '32', kind: 'water' },
    dataDir: '/tmp/x',
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1' }],
    devices: [{ id: 'cod', bus: 'line', unit: 1, factors: [{ code: 'w01018', value: { address: 0 } }], control }],
  });
}

const verdict = { address: 9000, values: { '1': 'running', '2': 'success', '3': 'failure', '4': 'busy' } } as const;

/** A port that records each action and answers reads from a script, one entry per read. */
function scripted(reads: number[][]) {
  const actions: ModbusAction[] = [];
  let t = 0;
  const port: ControlPort = {
    run: async (action) => {
      actions.push(action);
      if (action.op !== 'read') return [];
      const next = reads.shift();
      if (!next) throw new Error('no more scripted reads');
      return next;
    },
    sleep: async (ms) => void (t += ms),
    now: () => t,
  };
  return { port, actions };
}

describe('control mapping (edge/control.ts)', () => {
  it('3011: FC05 ON to the coil, polls the verdict while running, success is ExeRtn 1', async () => {
    const c = config({ '3011': { trigger: { coil: 0 }, verdict } }).devices[0]!.control!;
    const { port, actions } = scripted([[1], [1], [2]]);
    expect(await runControl('3011', 'w01018', c, { PolId: 'w01018' }, port)).toEqual({ exeRtn: 1 });
    expect(actions).toEqual([
      { op: 'write-coil', address: 0, on: true },
      { op: 'read', function: 'holding', address: 9000, count: 1 },
      { op: 'read', function: 'holding', address: 9000, count: 1 },
      { op: 'read', function: 'holding', address: 9000, count: 1 },
    ]);
  });

  it('3013 by a register value: the analyzer failing is ExeRtn 2, busy 5, an unlisted status 2', async () => {
    const c = config({ '3013': { trigger: { register: 9001, value: 3 }, verdict } }).devices[0]!.control!;
    const failed = scripted([[3]]);
    expect(await runControl('3013', 'w01018', c, {}, failed.port)).toEqual({ exeRtn: 2, reason: 'analyzer-failure' });
    expect(failed.actions[0]).toEqual({ op: 'write-registers', address: 9001, words: [3] });
    expect((await runControl('3013', 'w01018', c, {}, scripted([[4]]).port)).exeRtn).toBe(5);
    expect(await runControl('3013', 'w01018', c, {}, scripted([[77]]).port)).toEqual({
      exeRtn: 2,
      reason: 'analyzer-status-77',
    });
  });

  it('gives up with ExeRtn 2 when the analyzer is still running after timeoutSeconds', async () => {
    const c = config({ '3012': { trigger: { coil: 1 }, verdict: { ...verdict, pollSeconds: 1, timeoutSeconds: 2 } } })
      .devices[0]!.control!;
    // Reads at t = 0, 1 s and 2 s all say running; at 2 s the 2 s timeout has passed.
    const { port, actions } = scripted([[1], [1], [1]]);
    expect(await runControl('3012', 'w01018', c, {}, port)).toEqual({ exeRtn: 2, reason: 'verdict-timeout' });
    expect(actions).toHaveLength(4);
  });

  it(
    'a Modbus failure is the ExeRtn of table 6: timeout 4, exception ' + '06 busy 5, exception 03 condition error 3',
    async () => {
      const c = config({ '3014': { trigger: { coil: 3 } } }).devices[0]!.control!;
      const failing = (err: object): ControlPort => ({
        run: async () => Promise.reject(err),
        sleep: async () => undefined,
        now: () => 0,
      });
      const run = (err: object) => runControl('3014', 'w01018', c, {}, failing(err));
      expect((await run(Object.assign(new Error('no answer'), { errno: 'ETIMEDOUT' }))).exeRtn).toBe(4);
      expect((await run({ modbusCode: 6, message: 'busy' })).exeRtn).toBe(5);
      expect((await run({ modbusCode: 3, message: 'illegal value' })).exeRtn).toBe(3);
      expect((await run({ modbusCode: 4, message: 'device failure' })).exeRtn).toBe(2);
    },
  );

  it('3016: CstartTime 143000 and CTime 2 go as hhmmss 143000 (uint32: 0x0002, 0x2E98) and 2', () => {
    const c = config({ '3016': { startTime: { address: 9002 }, period: { address: 9004 } } }).devices[0]!.control!;
    expect(planWrites('3016', c, { PolId: 'w01018', CstartTime: '143000', CTime: '2' })).toEqual([
      { op: 'write-registers', address: 9002, words: [2, 0x2e98] },
      { op: 'write-registers', address: 9004, words: [2] },
    ]);
    // Seconds of the day: 14:30:00 is 52200 = 0x0000CBE8.
    const s = config({
      '3016': { startTime: { address: 9002, format: 'secondsOfDay' }, period: { address: 9004 } },
    }).devices[0]!.control!;
    expect(planWrites('3016', s, { CstartTime: '143000', Ctime: '24' })).toEqual([
      { op: 'write-registers', address: 9002, words: [0, 0xcbe8] },
      { op: 'write-registers', address: 9004, words: [24] },
    ]);
  });

  it('3016 outside §6.6.1 (Ctime 0 < n ≤ 24, CstartTime hhmmss) is ExeRtn 3 and writes nothing', () => {
    const c = config({ '3016': { startTime: { address: 9002 }, period: { address: 9004 } } }).devices[0]!.control!;
    expect(planWrites('3016', c, { CstartTime: '000000', CTime: '25' })).toEqual({ exeRtn: 3, reason: 'bad-ctime' });
    expect(planWrites('3016', c, { CstartTime: '000000', CTime: '0' })).toEqual({ exeRtn: 3, reason: 'bad-ctime' });
    expect(planWrites('3016', c, { CstartTime: '246000', CTime: '2' })).toEqual({
      exeRtn: 3,
      reason: 'bad-cstarttime',
    });
    expect(startSeconds('235959')).toBe(86399);
  });

  it('3017, 3018, 3019 read the analyzer and give the upload fields of C.36-C.38', async () => {
    const c = config({
      '3017': { startTime: { address: 9002 }, period: { address: 9004 } },
      '3018': { stime: { address: 9005 } },
      '3019': { sn: { address: 9010 } },
    }).devices[0]!.control!;
    // hhmmss 083000 is the number 83000 = 0x0001_4438.
    expect(await runControl('3017', 'w01018', c, {}, scripted([[0x0001, 0x4438], [2]]).port)).toEqual({
      exeRtn: 1,
      params: { PolId: 'w01018', CstartTime: '083000', CTime: '2' },
    });
    expect(await runControl('3018', 'w01018', c, {}, scripted([[40]]).port)).toEqual({
      exeRtn: 1,
      params: { PolId: 'w01018', Stime: '40' },
    });
    const sn = scripted([[0x0100, 0x00a8, 0x9000, 0x16f0, 0x0016, 0x9dc1]]);
    expect(await runControl('3019', 'w01018', c, {}, sn.port)).toEqual({
      exeRtn: 1,
      params: { PolId: 'w01018' },
      factors: { w01018: { SN: '010000A8900016F000169DC1' } },
    });
    expect(sn.actions).toEqual([{ op: 'read', function: 'holding', address: 9010, count: 6 }]);
    expect(snText([0x4142, 0x4300], 'ascii')).toBe('ABC');
  });

  it('3015 without a PolId (C.34) goes to the one device that maps it, and reads VaseNo after success', async () => {
    const cfg = config({ '3015': { trigger: { coil: 4 }, verdict, vaseNo: { address: 9006 } } });
    expect(controlDevice(cfg.devices, '3015', undefined)?.id).toBe('cod');
    expect(controlDevice(cfg.devices, '3011', 'w01018')).toBeUndefined();
    expect(controlDevice(cfg.devices, '3015', 'w21003')).toBeUndefined();
    const { port } = scripted([[2], [7]]);
    expect(await runControl('3015', 'w01018', cfg.devices[0]!.control!, {}, port)).toEqual({
      exeRtn: 1,
      params: { VaseNo: '7' },
    });
  });

  it(
    '3024: the trigger, the verdict, then the result registers (scale ' + 'applied); Pass only where mapped and listed',
    async () => {
      const result = {
        // float32 0x424B_0000 = 50.75; uint16 5075 × 0.01 = 50.75; 5000 × 0.01 = 50.
        standard: { address: 9016, type: 'uint16', scale: 0.01 },
        measured: { address: 9018 },
        passed: { address: 9020, values: { '1': 'pass', '2': 'fail' } },
      } as const;
      const cfg = config({ '3024': { trigger: { register: 9001, value: 7 }, verdict, result } });
      const c = cfg.devices[0]!.control!;
      // Without a PolId, the one device mapping it (as C.34's 3015).
      expect(controlDevice(cfg.devices, '3024', undefined)?.id).toBe('cod');
      const { port, actions } = scripted([[1], [2], [5000], [0x424b, 0x0000], [1]]);
      expect(await runControl('3024', 'w01018', c, { PolId: 'w01018' }, port)).toEqual({
        exeRtn: 1,
        check: { polId: 'w01018', standard: 50, measured: 50.75, passed: true },
      });
      expect(actions).toEqual([
        { op: 'write-registers', address: 9001, words: [7] },
        { op: 'read', function: 'holding', address: 9000, count: 1 },
        { op: 'read', function: 'holding', address: 9000, count: 1 },
        { op: 'read', function: 'holding', address: 9016, count: 1 },
        { op: 'read', function: 'holding', address: 9018, count: 2 },
        { op: 'read', function: 'holding', address: 9020, count: 1 },
      ]);
      // 2 is fail; 0 (no check yet) is not listed: no Pass.
      const failed = await runControl('3024', 'w01018', c, {}, scripted([[2], [5000], [0x424b, 0], [2]]).port);
      expect(failed.check?.passed).toBe(false);
      const unknown = await runControl('3024', 'w01018', c, {}, scripted([[2], [5000], [0x424b, 0], [0]]).port);
      expect(unknown.check).toEqual({ polId: 'w01018', standard: 50, measured: 50.75 });
      // A check that did not complete: ExeRtn 2, nothing read, no result.
      const broken = scripted([[3]]);
      expect(await runControl('3024', 'w01018', c, {}, broken.port)).toEqual({ exeRtn: 2, reason: 'analyzer-failure' });
      expect(broken.actions).toHaveLength(2);
    },
  );

  it('3022: trigger and verdict as 3011, no upload fields', async () => {
    const c = config({ '3022': { trigger: { coil: 5 }, verdict } }).devices[0]!.control!;
    const { port, actions } = scripted([[1], [2]]);
    expect(await runControl('3022', 'w01018', c, {}, port)).toEqual({ exeRtn: 1 });
    expect(actions[0]).toEqual({ op: 'write-coil', address: 5, on: true });
  });

  it('the control map is strict: a stray key is an error naming it', () => {
    expect(() => config({ '3011': { trigger: { coil: 0 } }, '3099': {} } as unknown as Control)).toThrow(/3099/);
    // 3024's result registers are only fresh once a verdict said success: a 3024 without one is refused.
    const result = { standard: { address: 9016 }, measured: { address: 9018 } };
    expect(() => config({ '3024': { trigger: { coil: 6 }, result } } as unknown as Control)).toThrow(/3024.*verdict/s);
  });
});

describe('3011-3019 in the command handler (edge/commands.ts)', () => {
  const request = (cn: string, params: Record<string, string>): Packet => ({
    version: '2017',
    qn: '20160801085857223',
    st: '32',
    cn,
    pw: PW,
    mn: MN,
    flag: 5,
    cp: { params, factors: {} },
  });
  const ctx = (controlled: boolean): CommandContext => ({
    to: { version: '2017', st: '32', pw: PW, mn: MN },
    now: Date.parse('2016-08-01T00:58:57Z'),
    utcOffsetMinutes: 480,
    rtdIntervalSeconds: 30,
    minIntervalMinutes: 10,
    clockTrusted: false,
    clockPolicy: 'set',
    parameters: () => undefined,
    historySlot: () => 'free',
    controlled: () => controlled,
  });

  it('unmapped: 9011 QnRtn=2 (request refused, table 7)', () => {
    const out = handleCommand(request('3011', { PolId: 'w01018' }), ctx(false))!;
    expect(out.replies.map((r) => [r.cn, r.cp.params])).toEqual([['9011', { QnRtn: '2' }]]);
    expect(out.effect).toBeUndefined();
  });

  it('mapped: 9011 QnRtn=1 at once; the 9012 and the 3019 upload follow the analyzer (C.38)', () => {
    const out = handleCommand(request('3019', { PolId: 'w01018' }), ctx(true))!;
    expect(out.replies.map((r) => [r.cn, r.cp.params])).toEqual([['9011', { QnRtn: '1' }]]);
    if (out.effect?.kind !== 'control') throw new Error('expected a control effect');
    const answers = out.effect.answer(
      { exeRtn: 1, params: { PolId: 'w01018' }, factors: { w01018: { SN: '010000A8900016F000169DC1' } } },
      Date.parse('2016-08-01T00:58:57Z'),
    );
    expect(answers.map((a) => [a.cn, a.st, a.qn, a.cp.params, a.cp.factors])).toEqual([
      ['3019', '32', '20160801085857223', { PolId: 'w01018' }, { w01018: { SN: '010000A8900016F000169DC1' } }],
      ['9012', '91', '20160801085857223', { ExeRtn: '1' }, {}],
    ]);
  });

  it('3015: the upload carries DataTime (local time, C.34) and VaseNo; a failure sends only the 9012', () => {
    const out = handleCommand(request('3015', {}), ctx(true))!;
    if (out.effect?.kind !== 'control') throw new Error('expected a control effect');
    // 00:58:57 UTC is 08:58:57 in China (UTC+8).
    const ok = out.effect.answer({ exeRtn: 1, params: { VaseNo: '1' } }, Date.parse('2016-08-01T00:58:57Z'));
    expect(ok.map((a) => [a.cn, a.cp.params])).toEqual([
      ['3015', { DataTime: '20160801085857', VaseNo: '1' }],
      ['9012', { ExeRtn: '1' }],
    ]);
    const failed = out.effect.answer({ exeRtn: 2, reason: 'analyzer-failure' }, 0);
    expect(failed.map((a) => [a.cn, a.cp.params])).toEqual([['9012', { ExeRtn: '2' }]]);
  });
  it(
    '3022/3024 (HJ 212-2025): carried out on a 2025 link only; a 3024 ' +
      'answers only the 9012 (its 2062 goes by the outbox)',
    () => {
      const on2025 = (controlled: boolean): CommandContext => ({
        ...ctx(controlled),
        to: { version: '2025', st: '32', pw: PW, mn: MN },
      });
      const request2025 = (cn: string): Packet => ({ ...request(cn, { PolId: 'w01018' }), version: '2025', flag: 9 });
      for (const cn of ['3022', '3024']) {
        // Mapped, but on a 2017 link a reserved code of table 9: QnRtn 2, nothing carried out.
        const old = handleCommand(request(cn, { PolId: 'w01018' }), ctx(true))!;
        expect(old.replies.map((r) => [r.cn, r.cp.params])).toEqual([['9011', { QnRtn: '2' }]]);
        expect(old.effect).toBeUndefined();
        expect(old.reason).toBe('not-supported');
        const unmapped = handleCommand(request2025(cn), on2025(false))!;
        expect(unmapped.replies.map((r) => [r.cn, r.cp.params])).toEqual([['9011', { QnRtn: '2' }]]);
        const out = handleCommand(request2025(cn), on2025(true))!;
        expect(out.replies.map((r) => [r.cn, r.cp.params])).toEqual([['9011', { QnRtn: '1' }]]);
        if (out.effect?.kind !== 'control') throw new Error('expected a control effect');
        const check = { polId: 'w01018', standard: 50, measured: 50.75, passed: true };
        const answers = out.effect.answer({ exeRtn: 1, ...(cn === '3024' && { check }) }, 0);
        expect(answers.map((a) => [a.cn, a.qn, a.cp.params])).toEqual([['9012', '20160801085857223', { ExeRtn: '1' }]]);
      }
    },
  );
});

describe('the 2062 record (HJ 212-2025 standard-check data)', () => {
  const record: StandardCheckRecord = {
    cn: '2062',
    at: Date.parse('2025-06-01T00:30:00Z'),
    stats: {},
    checks: { w01018: { standard: 50, measured: 50.125, passed: false }, w21003: { standard: 2, measured: 2.03 } },
  };
  const decimals = new Map([
    ['w01018', 2],
    ['w21003', 3],
  ]);

  it('is stored and read back as it was (outbox and history body)', () => {
    expect(fromBody('2062', record.at, bodyOf(record))).toEqual(record);
  });

  it('goes up as Check, StandardValue, Pass (where known) and Flag=N per factor, the A bit set', () => {
    const to = { version: '2025', st: '32', pw: PW, mn: MN } as const;
    const p = recordPacket(record, to, '20250601083000000', decimals, 480);
    expect([p.cn, p.st, p.flag, p.cp.params]).toEqual(['2062', '32', 9, { DataTime: '20250601083000' }]);
    // 50.125 to 2 decimals, half to even (2025): 50.12; 2.03 to 3 decimals: 2.030; no passed register: no Pass.
    expect(p.cp.factors).toEqual({
      w01018: { Check: '50.12', StandardValue: '50.00', Pass: '0', Flag: 'N' },
      w21003: { Check: '2.030', StandardValue: '2.000', Flag: 'N' },
    });
  });
});
