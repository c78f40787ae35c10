/**
 * CRC variants met on HJ 212 links.
 * - `hj212`: appendix A. The register is shifted right by 8 before each byte is folded in, so the
 *   result depends only on one table lookup per byte; it can take only 256 values.
 * - `modbus`: CRC-16/MODBUS (`crc ^= byte`), which some loggers send instead, printed high byte first.
 * - `modbus-swapped`: CRC-16/MODBUS printed low byte first, as Modbus puts it on the wire.
 */
export type CrcDialect = 'hj212' | 'modbus' | 'modbus-swapped';

function reflectedTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let reg = i;
    for (let bit = 0; bit < 8; bit++) reg = reg & 1 ? (reg >>> 1) ^ 0xa001 : reg >>> 1;
    table[i] = reg;
  }
  return table;
}

const TABLE = reflectedTable();

/** The appendix A CRC over `bytes[start, end)`. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let reg = 0xffff;
  for (let i = start; i < end; i++) reg = TABLE[(reg >>> 8) ^ bytes[i]!]!;
  return reg;
}

/** CRC-16/MODBUS over `bytes[start, end)`. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let reg = 0xffff;
  for (let i = start; i < end; i++) reg = (reg >>> 8) ^ TABLE[(reg ^ bytes[i]!) & 0xff]!;
  return reg;
}

/** Four upper-case hex digits, high byte first, as the standard prints a CRC. */
export function crcHex(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** The CRC value of `bytes` as `dialect` would print it, as a number. */
export function crcFor(dialect: CrcDialect, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (dialect === 'hj212') return crc16(bytes, start, end);
  const m = crc16Modbus(bytes, start, end);
  return dialect === 'modbus' ? m : ((m & 0xff) << 8) | (m >>> 8);
}

/**
 * Which dialect produced `printed` for these bytes, trying the standard first; undefined when none.
 * Only the lenient decoder asks, so the cost of the Modbus passes is paid only on mismatches.
 */
export function matchCrcDialect(
  printed: number,
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): CrcDialect | undefined {
  if (crc16(bytes, start, end) === printed) return 'hj212';
  const m = crc16Modbus(bytes, start, end);
  if (m === printed) return 'modbus';
  if ((((m & 0xff) << 8) | (m >>> 8)) === printed) return 'modbus-swapped';
  return undefined;
}
