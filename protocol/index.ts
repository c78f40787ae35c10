/**
 * The HJ 212 codec: HJ/T 212-2005, HJ 212-2017 and HJ 212-2025 frames, packets and code tables.
 * Pure and I/O-free apart from the stream helpers; imports nothing from the other parts.
 */
export * from './types.js';
export * from './errors.js';
export * from './crc.js';
export * from './flag.js';
export { parseCp, buildCp, emptyCp } from './cp.js';
export { parseSegment, buildSegment, flagFor, type ParsedSegment } from './segment.js';
export {
  encodeFrame,
  frameSegment,
  decodeFrame,
  STANDARD_MAX_SEGMENT,
  LENGTH_FIELD_MAX,
  type EncodeOptions,
} from './frame.js';
export { StreamDecoder, createDecodeStream, type StreamStats } from './stream.js';
export { splitPacket, encodeFrames, Reassembler, type ReassemblerOptions, type ReassemblyResult } from './split.js';
export * from './answers.js';
export * from './time.js';
export { isEncryptableCn, encryptCp, decryptCp, sm4Ecb } from './sm4.js';
export { PacketSchema, CpSchema, describeZodError, type PacketInput } from './schema.js';
export * from './codes/index.js';
