import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_STEP_MS, handleCommand } from '../edge/commands.js';
import type { CommandContext } from '../edge/commands.js';
import { decodeFrame, encodeFrame, request } from '../protocol/index.js';
import type { Packet } from '../protocol/index.js';
import { fuzzSeed, reframe } from './helpers/fuzz-traffic.js';

const MN = '010000A8900016F000169DC0';
const T0 = Date.parse('2025-06-01T10:00:00+08:00');

function ctx(over: Partial<CommandContext> = {}): CommandContext {
  return {
    to: { mn: MN, pw: 'a1B2c3', st: '32', version: '2017' },
    now: T0,
    utcOffsetMinutes: 480,
    rtdIntervalSeconds: 30,
    minIntervalMinutes: 10,
    clockTrusted: false,
    clockPolicy: 'set',
    parameters: (polId) => (polId === 'w01018' ? { i13004: 165.04, i13001: 500 } : undefined),
    historySlot: () => 'free',
    ...over,
  };
}

const ask = (cn: string, params: Record<string, string> = {}, pw = 'a1B2c3', mn = MN): Packet =>
  request({ mn, pw, st: '32' }, cn, params, { qn: '20250601100000000' });
const summary = (packets: Packet[]) => packets.map((p) => [p.cn, p.qn, { ...p.cp.params }]);

/** A request as the lenient decoder takes it from the wire, header values as written (right length and CRC). */
function wire(header: string, cp = '', flag = 'Flag=5;'): Packet {
  const r = decodeFrame(reframe(Buffer.from(`${header};${flag}CP=&&${cp}&&`)), { mode: 'lenient' });
  if (!r.ok) throw new Error(r.error.message);
  return r.frame.packet;
}

describe('platform commands (HJ 212-2017 appendix C)', () => {
  it('refuses a wrong password (QnRtn 3) or MN (QnRtn 4) and nothing else happens', () => {
    expect(summary(handleCommand(ask('1062', { RtdInterval: '60' }, '123456'), ctx())!.replies)).toEqual([
      ['9011', '20250601100000000', { QnRtn: '3' }],
    ]);
    expect(handleCommand(ask('1062', { RtdInterval: '60' }, 'a1B2c3', '99999999999999'), ctx())).toEqual({
      reason: 'bad-mn',
      replies: [
        expect.objectContaining({ cn: '9011', mn: MN, cp: expect.objectContaining({ params: { QnRtn: '4' } }) }),
      ],
    });
  });

  it(
    'answers a request with an empty or odd PW, QN or ST with the 9011 of ' +
      'table 7, echoing only what an answer can carry',
    () => {
      const Q = '20250601100000000';
      const cases: [string, string, string, Record<string, string | undefined>][] = [
        // [header, expected QnRtn, reason, header fields of the answer]
        [`QN=${Q};ST=32;CN=1011;PW=;MN=${MN}`, '3', 'no-password', { qn: Q, pw: undefined, mn: MN }],
        [`QN=${Q};ST=32;CN=1011;PW=123456;MN=${MN}`, '3', 'bad-password', { qn: Q, pw: '123456', mn: MN }],
        [`QN=${Q};ST=32;CN=1011;PW=a1B2c3;MN=`, '4', 'bad-mn', { qn: Q, pw: 'a1B2c3', mn: MN }],
        [`QN=;ST=32;CN=1011;PW=a1B2c3;MN=${MN}`, '7', 'bad-qn', { qn: undefined, pw: 'a1B2c3', mn: MN }],
        [`QN=2025;ST=32;CN=2061;PW=a1B2c3;MN=${MN}`, '7', 'bad-qn', { qn: '2025', pw: 'a1B2c3', mn: MN }],
        [`ST=32;CN=1011;PW=a1B2c3;MN=${MN}`, '7', 'bad-qn', { qn: undefined, pw: 'a1B2c3', mn: MN }],
        [`QN=${Q};ST=;CN=1011;PW=a1B2c3;MN=${MN}`, '5', 'bad-st', { qn: Q, pw: 'a1B2c3', mn: MN }],
        [`QN=${Q};CN=1011;PW=a1B2c3;MN=${MN}`, '5', 'bad-st', { qn: Q, pw: 'a1B2c3', mn: MN }],
      ];
      for (const [header, qnRtn, reason, fields] of cases) {
        const outcome = handleCommand(wire(header), ctx())!;
        expect([header, outcome.reason, outcome.replies.length, outcome.effect]).toEqual([
          header,
          reason,
          1,
          undefined,
        ]);
        const answer = outcome.replies[0]!;
        expect([answer.cn, answer.st, answer.cp.params, answer.qn, answer.pw, answer.mn]).toEqual([
          '9011',
          '91',
          { QnRtn: qnRtn },
          fields['qn'],
          fields['pw'],
          fields['mn'],
        ]);
        expect(() => encodeFrame(answer)).not.toThrow();
      }
    },
  );

  it('every answer to any header and CP the lenient decoder takes can be encoded (fast-check)', () => {
    const value = fc.oneof(
      fc.constantFrom('', 'a1B2c3', MN, '32', '91', '20250601100000000', '1', '//x//', '中文'),
      fc.stringMatching(/^[^;,=&\r\n#]{0,30}$/),
    );
    const cn = fc.constantFrom('1011', '1012', '1061', '1062', '1063', '1064', '1072', '2011', '2012', '2021');
    const cns = fc.oneof(cn, fc.constantFrom('2022', '2031', '2041', '2051', '2061', '3011', '3020', '3021', '1234'));
    // HJ 212-2017 (4, 5), HJ/T 212-2005 (0, 1: its answers carry the QN in the CP), 2025 (9), none
    const flags = fc.constantFrom('Flag=5;', 'Flag=4;', 'Flag=0;', 'Flag=1;', 'Flag=9;', '');
    const field = (key: string) =>
      fc.option(
        value.map((v) => `${key}=${v}`),
        { nil: undefined },
      );
    const param = fc.constantFrom('BeginTime', 'EndTime', 'SystemTime', 'RtdInterval', 'MinInterval', 'NewPW', 'PolId');
    const cp = fc
      .array(
        fc.tuple(param, value).map(([k, v]) => `${k}=${v}`),
        { maxLength: 4 },
      )
      .map((ps) => ps.join(';'));
    fc.assert(
      fc.property(
        field('QN'),
        field('ST'),
        cns,
        field('PW'),
        field('MN'),
        cp,
        flags,
        (qn, st, c, pw, mn, params, flag) => {
          const header = [qn, st, `CN=${c}`, pw, mn].filter((f) => f !== undefined).join(';');
          let packet: Packet;
          try {
            packet = wire(header, params, flag);
          } catch {
            return; // refused by the decoder: the uplink logs it and answers nothing
          }
          for (const reply of handleCommand(packet, ctx())?.replies ?? []) encodeFrame(reply);
        },
      ),
      { seed: fuzzSeed('edge command answers'), numRuns: 2000 },
    );
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

  it('1012 sets the clock under clock policy set, whether or not the clock is trusted', () => {
    for (const clockTrusted of [false, true]) {
      const outcome = handleCommand(
        ask('1012', { SystemTime: '20250601100500' }),
        ctx({ clockTrusted, clockPolicy: 'set' }),
      )!;
      // 10:05:00 asked at 10:00:00 is 300 000 ms ahead
      expect(outcome.effect).toEqual({ kind: 'set-time', at: T0 + 300_000 });
      expect(summary(outcome.replies)).toEqual([
        ['9011', '20250601100000000', { QnRtn: '1' }],
        ['9012', '20250601100000000', { ExeRtn: '1' }],
      ]);
    }
  });

  it(
    '1012 under clock policy keep-ntp leaves the clock, answers QnRtn ' + '1 then ExeRtn 1 and reports the difference',
    () => {
      const outcome = handleCommand(
        ask('1012', { SystemTime: '20250601095930' }),
        ctx({ clockTrusted: true, clockPolicy: 'keep-ntp' }),
      )!;
      // 09:59:30 against a box at 10:00:00: the platform is 30 s behind
      expect(outcome.effect).toEqual({ kind: 'clock-kept', differenceMs: -30_000 });
      expect(outcome.reason).toBeUndefined();
      expect(summary(outcome.replies)).toEqual([
        ['9011', '20250601100000000', { QnRtn: '1' }],
        ['9012', '20250601100000000', { ExeRtn: '1' }],
      ]);
      // A time that is no time is still a condition error (table 6)
      const bad = handleCommand(ask('1012', { SystemTime: '20251301000000' }), ctx({ clockPolicy: 'keep-ntp' }))!;
      expect([bad.effect, bad.reason, bad.replies.at(-1)?.cp.params]).toEqual([undefined, 'bad-time', { ExeRtn: '3' }]);
    },
  );

  it('1000 takes OverTime 1-120 s and ReCount 0-10 (C.1); anything else is 9011 QnRtn 1 then 9012 ExeRtn 3', () => {
    const set = (OverTime: string, ReCount: string) => handleCommand(ask('1000', { OverTime, ReCount }), ctx())!;
    const taken: [string, string, number, number][] = [
      ['1', '0', 1, 0],
      ['120', '10', 120, 10],
      ['5', '3', 5, 3],
    ];
    for (const [overTime, reCount, seconds, count] of taken) {
      const outcome = set(overTime, reCount);
      expect([overTime, reCount, outcome.effect, outcome.reason]).toEqual([
        overTime,
        reCount,
        { kind: 'set-timeout-retry', overTimeSeconds: seconds, reCount: count },
        undefined,
      ]);
      expect(summary(outcome.replies)).toEqual([
        ['9011', '20250601100000000', { QnRtn: '1' }],
        ['9012', '20250601100000000', { ExeRtn: '1' }],
      ]);
    }
    for (const [overTime, reCount] of [
      ['0', '3'],
      ['121', '3'],
      ['5', '11'],
      ['5', '-1'],
      ['5.5', '3'],
      ['', '3'],
    ]) {
      const outcome = set(overTime!, reCount!);
      expect([overTime, reCount, outcome.effect, outcome.reason, summary(outcome.replies)]).toEqual([
        overTime,
        reCount,
        undefined,
        'bad-timeout-retry',
        [
          ['9011', '20250601100000000', { QnRtn: '1' }],
          ['9012', '20250601100000000', { ExeRtn: '3' }],
        ],
      ]);
    }
    const onlyOne = handleCommand(ask('1000', { OverTime: '5' }), ctx())!;
    expect([onlyOne.effect, onlyOne.reason]).toEqual([undefined, 'bad-timeout-retry']);
  });

  it('1012 refuses a step of more than a day (ExeRtn 3): 9999 would make the box close every minute until then', () => {
    expect(MAX_CLOCK_STEP_MS).toBe(24 * 3600 * 1000);
    // T0 is 2025-06-01 10:00; a day later is the largest step taken, a second more is refused
    expect(handleCommand(ask('1012', { SystemTime: '20250602100000' }), ctx())!.effect).toEqual({
      kind: 'set-time',
      at: T0 + 86_400_000,
    });
    for (const time of ['20250602100001', '20250531095959', '99991231235959', '00010101000000']) {
      const outcome = handleCommand(ask('1012', { SystemTime: time }), ctx())!;
      expect([time, outcome.effect, outcome.reason, outcome.replies.at(-1)?.cp.params]).toEqual([
        time,
        undefined,
        'clock-step-too-large',
        { ExeRtn: '3' },
      ]);
    }
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

  it(
    'answers history with 9011 and leaves the records and the 9012 to the ' +
      'uplink; 3 for a bad time or an EndTime before the BeginTime',
    () => {
      const found = handleCommand(ask('2061', { BeginTime: '20250601100000', EndTime: '20250601110000' }), ctx())!;
      expect(summary(found.replies)).toEqual([['9011', '20250601100000000', { QnRtn: '1' }]]);
      // 10:00 and 11:00 Beijing time (UTC+8) are 02:00 and 03:00 UTC
      expect(found.history).toMatchObject({
        cn: '2061',
        from: Date.parse('2025-06-01T02:00:00Z'),
        to: Date.parse('2025-06-01T03:00:00Z'),
      });
      expect(summary([found.history!.finish(2), found.history!.finish(0)])).toEqual([
        ['9012', '20250601100000000', { ExeRtn: '1' }],
        ['9012', '20250601100000000', { ExeRtn: '100' }],
      ]);
      const badTime = handleCommand(ask('2051', { BeginTime: '2025-06-01', EndTime: '20250601120000' }), ctx())!;
      expect([summary(badTime.replies), badTime.reason, badTime.history]).toEqual([
        [
          ['9011', '20250601100000000', { QnRtn: '1' }],
          ['9012', '20250601100000000', { ExeRtn: '3' }],
        ],
        'bad-time',
        undefined,
      ]);
      const backwards = handleCommand(ask('2031', { BeginTime: '20250601000000', EndTime: '20250531000000' }), ctx())!;
      expect([summary(backwards.replies).map((r) => r[2]), backwards.reason, backwards.history]).toEqual([
        [{ QnRtn: '1' }, { ExeRtn: '3' }],
        'end-before-begin',
        undefined,
      ]);
    },
  );

  it(
    'does not run a history request twice while its QN is being ' + 'answered, and says busy (ExeRtn 5) past the queue',
    () => {
      const range = { BeginTime: '20240601000000', EndTime: '20250601000000' };
      const again = handleCommand(ask('2051', range), ctx({ historySlot: () => 'running' }))!;
      expect([summary(again.replies), again.reason, again.history]).toEqual([
        [['9011', '20250601100000000', { QnRtn: '1' }]],
        'duplicate-request',
        undefined,
      ]);
      const busy = handleCommand(ask('2051', range), ctx({ historySlot: () => 'busy' }))!;
      expect([summary(busy.replies).map((r) => r[2]), busy.reason, busy.history]).toEqual([
        [{ QnRtn: '1' }, { ExeRtn: '5' }],
        'history-busy',
        undefined,
      ]);
    },
  );

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

  it(
    '3021 answers 9011 at once and leaves the write and its 9012 to ' + 'the agent; a malformed request gets ExeRtn 3',
    () => {
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
    },
  );

  it('leaves answers to the uplink and refuses what a logger cannot do', () => {
    expect(handleCommand({ ...ask('9014'), cn: '9014' }, ctx())).toBeUndefined();
    expect(handleCommand(ask('3011'), ctx())!.replies[0]?.cp.params).toEqual({ QnRtn: '2' });
    expect(handleCommand(ask('1234'), ctx())!.replies[0]?.cp.params).toEqual({ QnRtn: '8' });
  });
});
