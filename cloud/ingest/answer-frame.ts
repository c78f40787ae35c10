import { crc16, crcHex } from '../../protocol/crc.js';
import type { EncodeOptions } from '../../protocol/frame.js';
import { makeFlag, FLAG_ACK } from '../../protocol/flag.js';
import { encodeFrames } from '../../protocol/split.js';
import type { Packet } from '../../protocol/types.js';

/** The standard's data segment cap, as the generic encoder applies it to our answers. */
const MAX_SEGMENT = 1024;
/** Room for the UTF-8 bytes of any segment of at most MAX_SEGMENT characters. */
const scratch = Buffer.allocUnsafe(MAX_SEGMENT * 3);

/**
 * The frame of an answer of ours, exactly as `encodeFrames(packet, { split: true })` writes it. Every upload is
 * answered, so the answers with an empty CP (9014, 9013) of HJ 212-2017 and 2025 are built here as one template
 * string and one CRC over a reused buffer, instead of through the generic encoder's header table, checks,
 * split probe and Buffer per frame; anything else (2005's CP echo, a 9011's QnRtn, values the encoder would
 * refuse, an oversize segment) goes the generic way, errors included.
 */
export function answerFrame(packet: Packet, codec: EncodeOptions = {}): string {
  return emptyCpFrame(packet) ?? encodeFrames(packet, { ...codec, split: true }).join('');
}

/** The frame of a 2017/2025 answer with an empty CP; undefined where the generic encoder must decide. */
export function emptyCpFrame(packet: Packet): string | undefined {
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
  if (segment.length > MAX_SEGMENT) return undefined;
  const bytes = scratch.write(segment, 0, 'utf8');
  if (bytes > MAX_SEGMENT) return undefined;
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
