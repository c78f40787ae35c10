import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  qnRtnAnswer,
  exeRtnAnswer,
  dataAnswer,
  noticeAnswer,
  type DecodedFrame,
  type Packet,
} from '../protocol/index.js';
import { crc16, crcHex } from '../protocol/crc.js';
import { frameSegment } from '../protocol/frame.js';
import { buildSegment } from '../protocol/segment.js';
import { APPENDIX_A_EXAMPLE, APPENDIX_C } from './fixtures/appendix-c.js';

function decoded(frame: string, mode: 'strict' | 'lenient'): DecodedFrame {
  const r = decodeFrame(frame, { mode });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message} in ${frame}`);
  return r.frame;
}

describe('appendix A: the worked CRC example', () => {
  const { segment } = APPENDIX_A_EXAMPLE;

  it('has the printed length and CRC', () => {
    expect(String(Buffer.byteLength(segment)).padStart(4, '0')).toBe(APPENDIX_A_EXAMPLE.length);
    expect(crcHex(crc16(Buffer.from(segment)))).toBe(APPENDIX_A_EXAMPLE.printedCrc);
    expect(frameSegment(segment)).toBe(`##0101${segment}1C80\r\n`);
  });

  it('the prose after the packet says 1C08, a typo of the standard: the packet and the C routine give 1C80', () => {
    expect(APPENDIX_A_EXAMPLE.textCrc).toBe('1C08');
    const r = decodeFrame(`##0101${segment}1C08\r\n`, { mode: 'strict' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('bad-crc');
  });

  it('decodes strictly into the typed packet', () => {
    const f = decoded(`##0101${segment}1C80\r\n`, 'strict');
    expect(f.packet).toEqual({
      version: '2017',
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      pw: '100000',
      mn: '010000A8900016F000169DC0',
      flag: 5,
      cp: { params: { RtdInterval: '30' }, factors: {} },
    });
  });
});

describe('appendix C: every packet example', () => {
  it('holds every table C.1 to C.50', () => {
    const tables = new Set(APPENDIX_C.map((e) => e.table));
    for (let i = 1; i <= 50; i++) expect(tables.has(`C.${i}`), `C.${i}`).toBe(true);
  });

  for (const [i, example] of APPENDIX_C.entries()) {
    const label = `${example.table} #${i} ${example.step}: ${example.segment.slice(0, 60)}`;
    it(`decodes and verifies its CRC: ${label}`, () => {
      const frame = frameSegment(example.segment);
      const f = decoded(frame, 'lenient');
      expect(f.crcDialect).toBe('hj212');
      expect(f.packet.cn).toBe(/CN=(\d{4})/.exec(example.segment)![1]);
      expect(f.packet.mn).toBe('010000A8900016F000169DC0');
      expect(f.packet.version).toBe('2017');
      if (!example.quirks) {
        // A conforming example decodes strictly and re-encodes byte for byte.
        expect(decoded(frame, 'strict').packet).toEqual(f.packet);
        expect(f.relaxations).toEqual([]);
        expect(encodeFrame(f.packet)).toBe(frame);
      } else {
        // The standard's own deviations (spaces, commas, "…"): accepted leniently, and every one reported
        // unless it is a spelling the codec cannot know is wrong (CTime for Ctime, a foreign QN).
        const reportable = example.quirks.some(
          (q) => /space|comma|truncated|missing|no ;|;/i.test(q) && !/CTime|QN=/.test(q),
        );
        if (reportable) {
          expect(f.relaxations.length, example.quirks.join('; ')).toBeGreaterThan(0);
          expect(decodeFrame(frame, { mode: 'strict' }).ok).toBe(false);
        }
        // Whatever was accepted re-encodes faithfully: the same content decodes back.
        expect(decoded(encodeFrame(f.packet), 'lenient').packet).toEqual(f.packet);
      }
    });
  }

  it('answers built by the codec equal the answers printed in appendix C', () => {
    let compared = 0;
    for (const [i, example] of APPENDIX_C.entries()) {
      const cn = /CN=(\d{4})/.exec(example.segment)![1];
      if (!['9011', '9012', '9013', '9014'].includes(cn!) || example.quirks) continue;
      const answered = APPENDIX_C.slice(0, i)
        .reverse()
        .find((e) => e.table === example.table && !/CN=90/.test(e.segment));
      if (!answered) continue;
      const to = decoded(frameSegment(answered.segment), 'lenient').packet;
      const printed = decoded(frameSegment(example.segment), 'strict').packet;
      // An answer echoes the QN of the packet it answers; the standard's tables reuse the request QN.
      const subject: Packet = { ...to, qn: printed.qn! };
      const built =
        cn === '9011'
          ? qnRtnAnswer(subject, Number(printed.cp.params['QnRtn']))
          : cn === '9012'
            ? exeRtnAnswer(subject, Number(printed.cp.params['ExeRtn']))
            : cn === '9013'
              ? noticeAnswer(subject)
              : dataAnswer(subject);
      expect(buildSegment(built), `${example.table} #${i}`).toBe(example.segment);
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });
});
