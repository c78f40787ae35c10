import { rawHeader, type Answered } from '../../protocol/answers.js';

/** What an answer copies from what it answers, less any value no answer can carry (one home: protocol/answers). */
export { answerable } from '../../protocol/answers.js';

/** Header fields of a frame that failed to decode, for addressing the 9011 that says why. */
export function headerOf(raw: string): Answered {
  const { cn: _cn, ...header } = rawHeader(raw);
  return header;
}
