import { describe, expect, it } from 'vitest';
import { handleCommand } from '../edge/index.js';
import type { CommandContext, DataRecord } from '../edge/index.js';
import { request } from '../protocol/index.js';
import type { Packet } from '../protocol/index.js';

const MN = '010000A8900016F000169DC0';
const T0 = Date.parse('2025-06-01T10:00:00+08:00');
const hour: DataRecord = { cn: '2061', at: T0, stats: { w01018: { avg: 40, flag: 'N', valid: 60, count: 60 } } };

function ctx(over: Partial<CommandContext> = {}): CommandContext {
  return {
    to: { mn: MN, pw: 'a1B2c3', st: '32', version: '2017' },
    now: T0,
    utcOffsetMinutes: 480,
    rtdIntervalSeconds: 30,
    minIntervalMinutes: 10,
    clockTrusted: false,
    history: (cn, from, to) => (cn === '2061' && from <= T0 && T0 <= to ? [hour] : []),
    parameters: (polId) => (polId === 'w01018' ? { i13004: 165.04, i13001: 500 } : undefined),
    dataPacket: (record) => ({
      version: '2017',
      cn: record.cn,
      cp: { params: { DataTime: String(record.at) }, factors: {} },
    }),
    ...over,
  };
}

const ask = (cn: string, params: Record<string, string> = {}, pw = 'a1B2c3', mn = MN): Packet =>
  request({ mn, pw, st: '32' }, cn, params, { qn: '20250601100000000' });
const summary = (packets: Packet[]) => packets.map((p) => [p.cn, p.qn, { ...p.cp.params }]);

describe('platform commands (HJ 212-2017 appendix C)', () => {
  it('refuses a wrong password (QnRtn 3) or MN (QnRtn 4) and nothing else happens', () => {
    expect(summary(handleCommand(ask('1062', { RtdInterval: '60' }, '123456'), ctx())!.replies)).toEqual([
      ['9011', '20250601100000000', { QnRtn: '3' }],
    ]);
    expect(handleCommand(ask('1062', { RtdInterval: '60' }, 'a1B2c3', '99999999999999'), ctx())).toEqual({
      replies: [
        expect.objectContaining({ cn: '9011', mn: MN, cp: expect.objectContaining({ params: { QnRtn: '4' } }) }),
      ],
    });
  });

  it('1011 returns the box time between 9011 and 9012 with the request QN and ST', () => {
    const { replies } = handleCommand(ask('1011', { PolId: 'w01018' }), ctx())!;
    expect(summary(replies)).toEqual([
      ['9011', '20250601100000000', { QnRtn: '1' }],
      ['1011', '20250601100000000', { PolId: 'w01018', SystemTime: '20250601100000' }],
      ['9012', '20250601100000000', { ExeRtn: '1' }],
    ]);
    expect(replies.map((r) => [r.st, r.flag])).toEqual([
      ['91', 4],
      ['32', 4],
      ['91', 4],
    ]);
  });

  it('1012 sets the clock unless the box keeps its own time', () => {
    expect(handleCommand(ask('1012', { SystemTime: '20250601100500' }), ctx())!.effect).toEqual({
      kind: 'set-time',
      at: T0 + 300_000,
    });
    const trusted = handleCommand(ask('1012', { SystemTime: '20250601100500' }), ctx({ clockTrusted: true }))!;
    expect(trusted.effect).toBeUndefined();
    expect(trusted.replies.at(-1)?.cp.params).toEqual({ ExeRtn: '3' });
  });

  it('validates interval and password settings', () => {
    expect(handleCommand(ask('1062', { RtdInterval: '60' }), ctx())!.effect).toEqual({
      kind: 'set-rtd-interval',
      seconds: 60,
    });
    expect(handleCommand(ask('1062', { RtdInterval: '29' }), ctx())!.replies.at(-1)?.cp.params).toEqual({
      ExeRtn: '3',
    });
    expect(handleCommand(ask('1064', { MinInterval: '7' }), ctx())!.effect).toBeUndefined();
    expect(handleCommand(ask('1064', { MinInterval: '15' }), ctx())!.effect).toEqual({
      kind: 'set-min-interval',
      minutes: 15,
    });
    expect(handleCommand(ask('1072', { NewPW: '654321' }), ctx())!.effect).toEqual({
      kind: 'set-password',
      pw: '654321',
    });
    expect(handleCommand(ask('1072', { NewPW: 'far-too-long' }), ctx())!.effect).toBeUndefined();
    expect(summary(handleCommand(ask('1063'), ctx())!.replies)[1]).toEqual([
      '1063',
      '20250601100000000',
      { MinInterval: '10' },
    ]);
  });

  it('2011 starts and 2012 stops real-time data (9013 answers the notice)', () => {
    expect(handleCommand(ask('2011'), ctx())).toMatchObject({
      effect: { kind: 'realtime', on: true },
      replies: [{ cn: '9011' }, { cn: '9012' }],
    });
    expect(handleCommand(ask('2012'), ctx())).toMatchObject({
      effect: { kind: 'realtime', on: false },
      replies: [{ cn: '9013', qn: '20250601100000000' }],
    });
  });

  it('answers history from local history, 100 when there is none, 3 for a bad time', () => {
    const found = handleCommand(ask('2061', { BeginTime: '20250601100000', EndTime: '20250601100000' }), ctx())!;
    expect(found.replies.map((r) => r.cn)).toEqual(['9011', '2061', '9012']);
    expect(found.replies.at(-1)?.cp.params).toEqual({ ExeRtn: '1' });
    expect(
      handleCommand(ask('2061', { BeginTime: '20250601110000', EndTime: '20250601120000' }), ctx())!.replies.at(-1)?.cp
        .params,
    ).toEqual({ ExeRtn: '100' });
    expect(
      handleCommand(ask('2051', { BeginTime: '2025-06-01', EndTime: '20250601120000' }), ctx())!.replies.at(-1)?.cp
        .params,
    ).toEqual({ ExeRtn: '3' });
  });

  it('3020 reports the analyzer parameters of a PolId (optionally one InfoId)', () => {
    const { replies } = handleCommand(ask('3020', { PolId: 'w01018', InfoId: 'i13004' }), ctx())!;
    expect(replies[1]?.cp).toEqual({
      params: { DataTime: '20250601100000' },
      factors: {},
      info: [{ polId: 'w01018', codes: { i13004: { Info: '165.04' } } }],
    });
    expect(handleCommand(ask('3020', { PolId: 'w21003' }), ctx())!.replies.at(-1)?.cp.params).toEqual({
      ExeRtn: '100',
    });
  });

  it('3021 answers 9011 at once and leaves the write and its 9012 to the agent; a malformed request gets ExeRtn 3', () => {
    const p: Packet = {
      ...ask('3021'),
      cp: {
        params: { InfoId: 'i13004' },
        factors: {},
        info: [{ polId: 'w01018', codes: { i13004: { Info: '168.0' } } }],
      },
    };
    const outcome = handleCommand(p, ctx())!;
    expect(summary(outcome.replies)).toEqual([['9011', '20250601100000000', { QnRtn: '1' }]]);
    expect(outcome.effect).toMatchObject({ kind: 'set-parameters', polId: 'w01018', values: { i13004: 168 } });
    const effect = outcome.effect as Extract<typeof outcome.effect, { kind: 'set-parameters' }>;
    expect(summary([effect.answer(1)])).toEqual([['9012', '20250601100000000', { ExeRtn: '1' }]]);
    const bad: Packet = { ...p, cp: { ...p.cp, info: [{ polId: 'w01018', codes: { i13004: { Info: 'hot' } } }] } };
    expect(summary(handleCommand(bad, ctx())!.replies)).toEqual([
      ['9011', '20250601100000000', { QnRtn: '1' }],
      ['9012', '20250601100000000', { ExeRtn: '3' }],
    ]);
  });

  it('leaves answers to the uplink and refuses what a logger cannot do', () => {
    expect(handleCommand({ ...ask('9014'), cn: '9014' }, ctx())).toBeUndefined();
    expect(handleCommand(ask('3011'), ctx())!.replies[0]?.cp.params).toEqual({ QnRtn: '2' });
    expect(handleCommand(ask('1234'), ctx())!.replies[0]?.cp.params).toEqual({ QnRtn: '8' });
  });
});
