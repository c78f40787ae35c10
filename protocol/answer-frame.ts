import { crc16, crcHex } from './crc.js';
import { makeFlag, FLAG_ACK } from './flag.js';
import type { Packet } from './types.js';

/** The largest segment the length field states (frame.ts's LENGTH_FIELD_MAX; frame.ts imports this module). */
const LENGTH_FIELD_MAX = 9999;
/** Room for the UTF-8 bytes of any segment of at most LENGTH_FIELD_MAX UTF-16 units (3 bytes each at most). */
const scratch = Buffer.allocUnsafe(LENGTH_FIELD_MAX * 3);

/**
 * The frame of a 2017/2025 answer with an empty CP (9014, 9013), exactly as the generic encoder writes it, or
 * undefined where the generic encoder must decide. Every upload is answered with one, so they are built as one
 * template string and one CRC over a reused buffer, instead of through the header table, checks, split probe and
 * Buffer per frame; anything else (2005's CP echo, a 9011's QnRtn, values the encoder would refuse, a segment over
 * `maxSegment`) goes the generic way, errors included. Used by encodeFrame and encodeFrames.
 */
export function emptyCpFrame(packet: Packet, maxSegment: number): string | undefined {
  const { version, cn, cp, flag } = packet;
  if (version === '2005' || (cn !== '9014' && cn !== '9013')) return undefined;
  if (packet.pnum !== undefined || packet.pno !== undefined || cp.info !== undefined) return undefined;
  for (const _ in cp.params) return undefined;
  for (const _ in cp.factors) return undefined;
  // The encoder takes a flag of the packet's version without the D bit as it is (A bit or not), derives none.
  if (flag === undefined || !Number.isInteger(flag) || (flag & ~FLAG_ACK) !== makeFlag(version)) return undefined;
  const { qn, st, pw, mn } = packet;
  if (!carriable(qn) || !carriable(st) || !carriable(pw) || !carriable(mn)) return undefined;
  // HEADER_ORDER of protocol/segment.ts: QN ST CN PW MN Flag.
  const segment =
    (qn !== undefined ? `QN=${qn};` : '') +
    (st !== undefined ? `ST=${st};` : '') +
    `CN=${cn};` +
    (pw !== undefined ? `PW=${pw};` : '') +
    (mn !== undefined ? `MN=${mn};` : '') +
    `Flag=${flag};CP=&&&&`;
  if (segment.length > maxSegment) return undefined;
  const bytes = scratch.write(segment, 0, 'utf8');
  if (bytes > maxSegment) return undefined;
  return `##${String(bytes).padStart(4, '0')}${segment}${crcHex(crc16(scratch, 0, bytes))}\r\n`;
}

/** A header value the encoder writes as it is (absent, or non-empty without a separator or line break). */
function carriable(v: string | undefined): boolean {
  if (v === undefined) return true;
  if (v === '') return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x3b || c === 0x3d || c === 0x26 || c === 0x0d || c === 0x0a) return false;
  }
  return true;
}
