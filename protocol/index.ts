/**
 * The HJ 212 codec: HJ/T 212-2005, HJ 212-2017 and HJ 212-2025 frames, packets and code tables.
 * Pure and I/O-free apart from the stream helpers; imports nothing from the other parts.
 *
 * This is what a codec user needs; the building blocks (CRC dialects, CP and data-segment parsers,
 * SM4, the zod packet schema) stay in their module files, where our own parts import them from.
 * Nothing here loads zod.
 */
export * from './types.js';
export { Hj212Error, type Hj212ErrorCode, type Hj212ErrorInfo } from './errors.js';
export { decodeFrame, encodeFrame, STANDARD_MAX_SEGMENT, type EncodeOptions } from './frame.js';
export { StreamDecoder, createDecodeStream, type StreamStats } from './stream.js';
export { splitPacket, encodeFrames, Reassembler, type ReassemblerOptions, type ReassemblyResult } from './split.js';
export {
  answerable,
  qnRtnAnswer,
  exeRtnAnswer,
  noticeAnswer,
  dataAnswer,
  request,
  historyRequest,
  type Answered,
  type Target,
  type RequestOptions,
  type HistoryCn,
} from './answers.js';
export { makeFlag, needsAck } from './flag.js';
export { NEW_KEY_FIELD, decodeKeys, isKeyHex, keyBytes, newKeyHex, switchKey, type KeyState } from './sm4-keys.js';
export { SERIAL_FIELD, NEW_MN_FIELD, serialCp, standardCheckFields, type StandardCheckFields } from './uploads-2025.js';
export { formatHjTime, parseHjTime, makeQn, CHINA_UTC_OFFSET_MINUTES } from './time.js';
export * from './codes/index.js';
