import { describe, expect, it } from 'vitest';
import {
  dataAnswer,
  decodeFrame,
  encodeFrame,
  encodeFrames,
  Reassembler,
  StreamDecoder,
  type DecodeResult,
  type Packet,
} from '../protocol/index.js';
import { buildSegment } from '../protocol/segment.js';
import { isCalendarTime } from '../protocol/time.js';

// Corrections found by comparing the codec with independent implementations (issue 21). Every frame
// here is written out by hand; the CRCs come from a transcription of the C function of HJ 212-2017
// appendix A (CRC16_Checkout) run outside this code base, and each length is the segment counted by hand.

function ok(r: DecodeResult | undefined) {
  if (!r) throw new Error('no result');
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frame;
}
function err(r: DecodeResult | undefined) {
  if (!r) throw new Error('no result');
  if (r.ok) throw new Error('expected a rejection');
  return r.error;
}
const codes = (r: DecodeResult): string[] => (r.ok ? r.frame.relaxations.map((x) => x.code) : []);

/** 87 bytes: the appendix A example's fields with Flag=5 moved after the (empty) CP. */
const CP_NOT_LAST =
  '##0087QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;CP=&&&&;Flag=53300\r\n';

/**
 * 140 bytes: QN= 21, ST=32; 6, CN=2011; 8, PW=123456; 10, MN=…; 28, Flag=5; 7, CP=&& 5,
 * DataTime=…; 24, w01018-Rtd=10.0, 16, w01018-Flag=N 13, && 2 → 21+6+8+10+28+7+5+24+16+13+2 = 140.
 */
const GOOD_140 =
  '##0140QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;' +
  'CP=&&DataTime=20160801085857;w01018-Rtd=10.0,w01018-Flag=N&&AD81\r\n';
const WRONG_99 = GOOD_140.replace('##0140', '##0099');
const WRONG_200 = GOOD_140.replace('##0140', '##0200');

describe('a field after CP', () => {
  it('lenient says bad-cp, as strict does, not truncated or bad-length', () => {
    for (const mode of ['strict', 'lenient'] as const) {
      expect(err(decodeFrame(CP_NOT_LAST, { mode }))).toMatchObject({ code: 'bad-cp', field: 'CP' });
    }
  });

  it('a stream reports it as soon as the frame is in, holding nothing back for more bytes', () => {
    const d = new StreamDecoder({ mode: 'lenient' });
    const results = d.push(Buffer.from(CP_NOT_LAST));
    expect(results).toHaveLength(1);
    expect(err(results[0])).toMatchObject({ code: 'bad-cp' });
    expect(d.pending).toBe(0);
  });
});

describe('a length field that disagrees with the segment', () => {
  it('##0099 on 140 bytes: strict says length-mismatch naming both numbers, lenient accepts and lists it', () => {
    const e = err(decodeFrame(WRONG_99, { mode: 'strict' }));
    expect(e).toMatchObject({ code: 'length-mismatch', field: 'length', offset: 2 });
    expect(e.message).toContain('declared length 99 but the data segment is 140 bytes');
    const f = ok(decodeFrame(WRONG_99, { mode: 'lenient' }));
    expect(codes({ ok: true, frame: f })).toEqual(['length-mismatch']);
    expect(f.packet.cp.factors['w01018']).toEqual({ Rtd: '10.0', Flag: 'N' });
  });

  it(
    'in a stream, each such frame is one length-mismatch, never a ' +
      'missing CR LF, and the good frame after it decodes',
    () => {
      const d = new StreamDecoder({ mode: 'strict' });
      const results = [...d.push(Buffer.from(WRONG_99 + WRONG_99 + GOOD_140)), ...d.end()];
      expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['length-mismatch', 'length-mismatch', 'ok']);
      expect(d.stats.reasons).toEqual({ 'length-mismatch': 2 });
    },
  );

  it(
    'a length longer than the frame (##0200 on 140 bytes) is judged at ' +
      'once when the CRC checks out up to && CR LF',
    () => {
      for (const mode of ['strict', 'lenient'] as const) {
        const d = new StreamDecoder({ mode });
        const results = d.push(Buffer.from(WRONG_200));
        expect(results).toHaveLength(1);
        expect(d.pending).toBe(0);
        if (mode === 'strict') expect(err(results[0]).code).toBe('length-mismatch');
        else expect(codes(results[0]!)).toEqual(['length-mismatch']);
      }
    },
  );
});

describe('values strict decoding refuses and lenient decoding lists', () => {
  const cases: Array<[string, string, { code: string; field: string }, string]> = [
    [
      'ST=T1, not a system code of table 5',
      '##0140QN=20160801085857223;ST=T1;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;' +
        'CP=&&DataTime=20160801085857;w01018-Rtd=10.0,w01018-Flag=N&&4680\r\n',
      { code: 'bad-field', field: 'ST' },
      'unknown-system-code',
    ],
    [
      'DataTime=20241305100000, month 13',
      '##0140QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;' +
        'CP=&&DataTime=20241305100000;w01018-Rtd=10.0,w01018-Flag=N&&6E80\r\n',
      { code: 'bad-value', field: 'DataTime' },
      'value-format',
    ],
    [
      '";" between two fields of w01018',
      '##0140QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;' +
        'CP=&&DataTime=20160801085857;w01018-Rtd=10.0;w01018-Flag=N&&BA41\r\n',
      { code: 'bad-cp', field: 'w01018-Flag' },
      'factor-separator',
    ],
  ];
  for (const [name, frame, strict, relaxation] of cases) {
    it(`${name}: strict names the field, lenient reports ${relaxation}`, () => {
      expect(err(decodeFrame(frame, { mode: 'strict' }))).toMatchObject(strict);
      const f = ok(decodeFrame(frame, { mode: 'lenient' }));
      expect(f.relaxations).toEqual([expect.objectContaining({ code: relaxation, field: strict.field })]);
      expect(f.packet.cp.factors['w01018']).toEqual({ Rtd: '10.0', Flag: 'N' });
    });
  }

  it('knows the calendar: 29 February only in leap years, no hour 24, no minute 60', () => {
    expect(isCalendarTime('20240229235959')).toBe(true); // 2024 = 4 × 506
    expect(isCalendarTime('20230229000000')).toBe(false);
    expect(isCalendarTime('21000229000000')).toBe(false); // divisible by 100, not by 400
    expect(isCalendarTime('20000229000000')).toBe(true); // divisible by 400
    expect(isCalendarTime('20240431000000')).toBe(false); // April has 30 days
    expect(isCalendarTime('20240101240000')).toBe(false);
    expect(isCalendarTime('20240101006000')).toBe(false);
    expect(isCalendarTime('20240100000000')).toBe(false);
  });

  it('ST 44 (power use) is a 2025 code: accepted in a 2025 frame, listed in a 2017 one', () => {
    const seg = (flag: number): Packet => ({
      version: flag === 9 ? '2025' : '2017',
      qn: '20260301120000000',
      st: '44',
      cn: '9014',
      pw: '123456',
      mn: '010000A8900016F000169DC0',
      flag,
      cp: { params: {}, factors: {} },
    });
    expect(decodeFrame(encodeFrame(seg(9)), { mode: 'strict' }).ok).toBe(true);
    expect(err(decodeFrame(encodeFrame(seg(5)), { mode: 'strict' }))).toMatchObject({ field: 'ST' });
  });
});

describe('encodeFrame keeps to 1024 bytes', () => {
  // 60 factors of "w10000-Rtd=10.0,w10000-Flag=N" (29 bytes + ";") put the CP alone at 60 × 30 = 1800 bytes.
  const factors = Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`w${String(10000 + i)}`, { Rtd: '10.0', Flag: 'N' }]),
  );
  const big: Packet = {
    version: '2017',
    qn: '20160801085857223',
    st: '32',
    cn: '2011',
    pw: '123456',
    mn: '010000A8900016F000169DC0',
    flag: 5,
    cp: { params: { DataTime: '20160801085857' }, factors },
  };

  it('refuses an oversize segment by default, naming the limit', () => {
    expect(() => encodeFrame(big)).toThrow(/over the limit of 1024/);
    expect(encodeFrame(big, { maxSegment: 4096 }).startsWith('##')).toBe(true);
  });

  it('splits where asked: every part fits and they reassemble into the packet', () => {
    const frames = encodeFrames(big, { split: true });
    // Each part's header and named fields with the widest PNUM/PNO: QN= 21, ST= 6, CN= 8, PW= 10, MN= 28,
    // Flag=7; 7, PNUM=9999; 10, PNO=9999; 9, CP=&& 5, DataTime=…; 24, && 2 = 130 bytes, leaving 894: n factors
    // take 30n - 1 bytes, so 29 a part, and 60 factors make 29 + 29 + 2, three parts.
    expect(frames.length).toBe(3);
    for (const f of frames) expect(Buffer.byteLength(f) - 12).toBeLessThanOrEqual(1024);
    const r = new Reassembler();
    const whole = frames.map((f) => r.push(ok(decodeFrame(f, { mode: 'strict' })).packet).packet).at(-1);
    expect(whole?.cp.factors).toEqual(factors);
    expect(() => encodeFrames(big)).toThrow(/over the limit of 1024/);
  });
});

describe('HJ/T 212-2005 data segments', () => {
  const part: Packet = {
    version: '2005',
    qn: '20040516010101001',
    st: '32',
    cn: '2051',
    pw: '123456',
    mn: '88888880000001',
    flag: 3,
    pnum: 2,
    pno: 1,
    cp: { params: { DataTime: '20040516021000' }, factors: { w21011: { Cou: '2.5' } } },
  };

  it('a split packet carries PNUM and PNO right after QN (HJ/T 212-2005 6.3.2)', () => {
    expect(buildSegment(part)).toBe(
      'QN=20040516010101001;PNUM=2;PNO=1;ST=32;CN=2051;PW=123456;MN=88888880000001;Flag=3;' +
        'CP=&&DataTime=20040516021000;101-Cou=2.5&&',
    );
    const frame =
      '##0125QN=20040516010101001;PNUM=2;PNO=1;ST=32;CN=2051;PW=123456;MN=88888880000001;Flag=3;' +
      'CP=&&DataTime=20040516021000;101-Cou=2.5&&4400\r\n';
    expect(encodeFrame(part)).toBe(frame);
    expect(ok(decodeFrame(frame, { mode: 'strict' })).packet).toEqual(part);
  });

  it('the 9014 to a 2005 split part echoes QN, CN, PNO and PNUM in the CP, as the 2005 examples of 2051 do', () => {
    expect(buildSegment(dataAnswer(part))).toBe(
      'ST=91;CN=9014;PW=123456;MN=88888880000001;Flag=0;CP=&&QN=20040516010101001;CN=2051;PNO=1;PNUM=2&&',
    );
    const whole: Packet = { ...part, flag: 1 };
    delete whole.pnum;
    delete whole.pno;
    expect(buildSegment(dataAnswer(whole))).toBe(
      'ST=91;CN=9014;PW=123456;MN=88888880000001;Flag=0;CP=&&QN=20040516010101001;CN=2051&&',
    );
  });

  it('the 2017 place of PNUM/PNO (after Flag) is a field-order dialect in a 2005 frame', () => {
    const frame =
      '##0125QN=20040516010101001;ST=32;CN=2051;PW=123456;MN=88888880000001;Flag=3;PNUM=2;PNO=1;' +
      'CP=&&DataTime=20040516021000;101-Cou=2.5&&5000\r\n';
    expect(err(decodeFrame(frame, { mode: 'strict' }))).toMatchObject({ code: 'bad-field' });
    expect(codes(decodeFrame(frame))).toEqual(['field-order']);
  });

  it('MN is 14 characters in 2005: 13 is refused strictly, listed leniently', () => {
    const frame =
      '##0094ST=32;CN=2011;PW=123456;MN=8888888000001;CP=&&DataTime=20040516020111;101-Rtd=1.1,101-Flag=N&&8341\r\n';
    const e = err(decodeFrame(frame, { mode: 'strict' }));
    expect(e).toMatchObject({ code: 'bad-field', field: 'MN' });
    expect(e.message).toContain('14 letters or digits');
    const f = ok(decodeFrame(frame));
    expect(f.relaxations).toContainEqual(expect.objectContaining({ code: 'value-format', field: 'MN' }));
  });
});
