import { describe, expect, it } from 'vitest';
import { emptyCpFrame } from '../protocol/answer-frame.js';
import { frameSegment, STANDARD_MAX_SEGMENT } from '../protocol/frame.js';
import { dataAnswer, encodeFrames, noticeAnswer, qnRtnAnswer, splitPacket, type Packet } from '../protocol/index.js';
import { buildSegment } from '../protocol/segment.js';

/** The generic encoder without the fast path: split probe, header table and checks, frame. */
const generic = (p: Packet): string =>
  splitPacket(p)
    .map((part) => frameSegment(buildSegment(part), STANDARD_MAX_SEGMENT))
    .join('');
const answerFrame = (p: Packet): string => encodeFrames(p, { split: true }).join('');
const fast = (p: Packet): string | undefined => emptyCpFrame(p, STANDARD_MAX_SEGMENT);
const QN = '20261120103000123';
const MN = '010000A8900016F000169DC0';

describe('answer frames built directly', () => {
  const answered = [
    { version: '2017', qn: QN, mn: MN, pw: '123456' },
    { version: '2025', qn: QN, mn: MN, pw: 'b3nch1' },
    { version: '2017', mn: MN },
    { version: '2017' },
    { version: '2017', qn: QN, mn: MN, pw: '密码口令' },
    { version: '2025', qn: QN, mn: 'M'.repeat(1100), pw: '1' },
    { version: '2017', qn: QN, mn: '密'.repeat(400), pw: '1' },
    { version: '2005', qn: QN, mn: MN, pw: '123456' },
  ] as const;

  it('are the generic encoder’s frames, byte for byte (9014, 9013; 9011 and 2005 the generic way)', () => {
    for (const to of answered)
      for (const p of [dataAnswer(to), dataAnswer({ ...to, cn: '2051' }), noticeAnswer(to), qnRtnAnswer(to, 1)]) {
        let want: string | Error;
        try {
          want = generic(p);
        } catch (e) {
          want = e as Error;
        }
        if (want instanceof Error) expect(() => answerFrame(p)).toThrow(want.message);
        else expect(answerFrame(p)).toBe(want);
      }
  });

  it('build the common answers themselves, leave the rest to the generic encoder', () => {
    expect(fast(dataAnswer(answered[0]))).toBe(generic(dataAnswer(answered[0])));
    expect(fast(dataAnswer(answered[4]))).toBe(generic(dataAnswer(answered[4])));
    expect(fast(qnRtnAnswer(answered[0], 1))).toBeUndefined();
    expect(fast(dataAnswer(answered[5]))).toBeUndefined();
    expect(fast(dataAnswer(answered[7]))).toBeUndefined();
    const bad: Packet = { ...dataAnswer(answered[0]), pw: 'a;b' };
    expect(fast(bad)).toBeUndefined();
    expect(() => answerFrame(bad)).toThrow();
    const acked: Packet = { ...dataAnswer(answered[1]), flag: 9 };
    expect(answerFrame(acked)).toBe(generic(acked));
    const split: Packet = { ...dataAnswer(answered[0]), flag: 6 };
    expect(fast(split)).toBeUndefined();
  });
});
