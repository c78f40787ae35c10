import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { commandCp, CommandBodySchema } from '../cloud/commands/requests.js';
import { CommandStore, type NewCommand } from '../cloud/commands/store.js';
import { encodeFrame, request, type Packet } from '../protocol/index.js';

const MN = '010000A8900016F000169DC0';
const T = Date.parse('2016-08-01T00:58:57.223Z'); // 08:58:57.223 China time, the QN of appendix C's examples

/** The CP a body becomes on the wire, as appendix C writes it. */
const wire = (body: unknown): string => {
  const b = CommandBodySchema.parse(body);
  const p = request({ mn: MN, pw: '123456', st: '32' }, b.cn, {}, { qn: '20160801085857223' });
  p.cp = commandCp(b);
  return /CP=&&(.*)&&/.exec(encodeFrame(p))![1]!;
};

describe('table-9 request bodies', () => {
  it('encode their CP as appendix C’s examples do', () => {
    expect(wire({ cn: '1000', OverTime: 5, ReCount: 3 })).toBe('OverTime=5;ReCount=3'); // C.1
    expect(wire({ cn: '1011', PolId: 'w01018' })).toBe('PolId=w01018'); // C.2
    expect(wire({ cn: '1062', RtdInterval: 30 })).toBe('RtdInterval=30'); // C.7
    expect(wire({ cn: '1072', NewPW: '654321' })).toBe('NewPW=654321'); // C.10
    expect(wire({ cn: '2061', BeginTime: '20160801085857', EndTime: '20160801085857' })).toBe(
      'BeginTime=20160801085857;EndTime=20160801085857',
    );
    expect(wire({ cn: '3015' })).toBe(''); // C.34
    // C.36's example spells it CTime; table 4, the field list, Ctime.
    expect(wire({ cn: '3016', PolId: 'w01018', CstartTime: '000000', Ctime: 2 })).toBe(
      'PolId=w01018;CstartTime=000000;Ctime=2',
    );
    expect(wire({ cn: '3021', PolId: 'w01018', InfoId: 'i13004', Info: '168.0' })).toBe(
      'PolId=w01018;InfoId=i13004;i13004-Info=168.0',
    ); // C.46
  });

  it('refuse values out of table 4’s ranges, naming the field', () => {
    const issue = (body: unknown): string => {
      const r = CommandBodySchema.safeParse(body);
      expect(r.success).toBe(false);
      const first = r.error!.issues[0]!;
      return `${first.path.join('.')}: ${first.message}`;
    };
    expect(issue({ cn: '1000', OverTime: 100, ReCount: 3 })).toMatch(/^OverTime: Too big/);
    expect(issue({ cn: '1062', RtdInterval: 3601 })).toMatch(/^RtdInterval: Too big/);
    expect(issue({ cn: '3016', PolId: 'w01018', CstartTime: '240000', Ctime: 2 })).toMatch(/^CstartTime: hhmmss/);
    expect(issue({ cn: '3016', PolId: 'w01018', CstartTime: '000000', Ctime: 25 })).toMatch(/^Ctime: Too big/);
    expect(issue({ cn: '3011' })).toMatch(/^PolId: /);
    expect(issue({ cn: '1072', NewPW: 'abc;de' })).toBe('NewPW: up to 6 letters or digits');
    expect(issue({ cn: '3020', InfoId: 'i11001', BeginTime: '20160801000000' })).toBe(
      'EndTime: give BeginTime and EndTime together',
    );
    expect(issue({ cn: '1011', RtdInterval: 30 })).toMatch(/RtdInterval/);
  });
});

const sent = (store: CommandStore, mn: string, at: number, cn = '1011'): ReturnType<CommandStore['add']> => {
  const c: NewCommand = {
    mn,
    cn,
    cp: { params: {}, factors: {} },
    qn: store.nextQn(mn, at),
    sentAt: at,
    by: 'ops',
    via: 'tcp',
    deadline: at + 10_000,
    state: 'sent',
  };
  return store.add(c);
};

const from = (mn: string, qn: string, cn: string, params: Record<string, string>): Packet => ({
  version: '2017',
  qn,
  st: '91',
  cn,
  mn,
  pw: '123456',
  flag: 4,
  cp: { params, factors: {} },
});

describe('the command store', () => {
  it('gives QNs in China time, unique per station, also after a restart', () => {
    const db = new Database(':memory:');
    const a = new CommandStore(db);
    expect(sent(a, MN, T).qn).toBe('20160801085857223');
    expect(sent(a, MN, T).qn).toBe('20160801085857224');
    // A clock stepped back does not reuse a QN.
    expect(sent(a, MN, T - 60_000).qn).toBe('20160801085857225');
    // Another station has its own sequence.
    expect(sent(a, 'OTHER0000000000000', T).qn).toBe('20160801085857223');
    const b = new CommandStore(db);
    expect(b.nextQn(MN, T)).toBe('20160801085857226');
  });

  it('records only the answers to a request: same MN and QN, 9011/9012/9013 or its own CN', () => {
    const store = new CommandStore(new Database(':memory:'));
    const c = sent(store, MN, T, '2061');
    expect(store.answer('OTHER0000000000000', from('OTHER0000000000000', c.qn, '9011', { QnRtn: '1' }), T)).toBe(false);
    expect(store.answer(MN, from(MN, c.qn, '2051', {}), T)).toBe(false);
    expect(store.answer(MN, from(MN, c.qn, '9011', { QnRtn: '1' }), T + 1)).toBe(true);
    expect(store.get(c.id)!.state).toBe('executing');
    expect(store.answer(MN, from(MN, c.qn, '2061', { DataTime: '20160801070000' }), T + 2)).toBe(true);
    expect(store.answer(MN, from(MN, c.qn, '9012', { ExeRtn: '100' }), T + 3)).toBe(true);
    expect(store.get(c.id)).toMatchObject({ state: 'done', result: { code: 100, meaning: 'No data (没有数据)' } });
    expect(store.get(c.id)!.answers.map((x) => [x.cn, x.at])).toEqual([
      ['9011', T + 1],
      ['2061', T + 2],
      ['9012', T + 3],
    ]);
    // Done: a repeat is not recorded.
    expect(store.answer(MN, from(MN, c.qn, '9012', { ExeRtn: '1' }), T + 4)).toBe(false);
  });

  it('times out a request without 9011 by its deadline, also when the answer comes before anyone looks', () => {
    const store = new CommandStore(new Database(':memory:'));
    const c = sent(store, MN, T);
    store.expire(T + 9_999);
    expect(store.get(c.id)!.state).toBe('sent');
    const d = sent(store, MN, T);
    expect(store.answer(MN, from(MN, d.qn, '9011', { QnRtn: '1' }), T + 10_000)).toBe(true);
    expect(store.get(d.id)).toMatchObject({ state: 'timed-out', result: null });
    store.expire(T + 10_000);
    expect(store.list(MN, 10).map((r) => [r.id, r.state])).toEqual([
      [d.id, 'timed-out'],
      [c.id, 'timed-out'],
    ]);
  });
});
