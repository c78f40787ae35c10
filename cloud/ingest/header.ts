import type { Packet } from '../../protocol/index.js';

/** Header fields of a frame that failed to decode, for addressing the 9011 that says why. */
export function headerOf(raw: string): Pick<Packet, 'qn' | 'mn' | 'pw' | 'version'> {
  const field = (name: string): string | undefined => new RegExp(`(?:^|[;#\\d])${name}=([^;&]*)`).exec(raw)?.[1];
  const out: Pick<Packet, 'qn' | 'mn' | 'pw' | 'version'> = { version: '2017' };
  const qn = field('QN');
  const mn = field('MN');
  const pw = field('PW');
  if (qn !== undefined) out.qn = qn;
  if (mn !== undefined) out.mn = mn;
  if (pw !== undefined) out.pw = pw;
  return out;
}
