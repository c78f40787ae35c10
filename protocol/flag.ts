import { Hj212Error } from './errors.js';
import type { Version } from './types.js';

/** Flag bits V5..V0 D A (§6.3.2 table 3). */
export const FLAG_ACK = 0b01;
export const FLAG_SPLIT = 0b10;

const VERSION_BITS: Record<Version, number> = { '2005': 0, '2017': 1, '2025': 2 };

export function versionFromFlag(flag: number): Version {
  const bits = flag >> 2;
  const found = (Object.keys(VERSION_BITS) as Version[]).find((v) => VERSION_BITS[v] === bits);
  if (!found) {
    throw new Hj212Error(
      'unknown-version',
      `Flag=${flag} carries version bits ${bits.toString(2).padStart(6, '0')}, which no known HJ 212 edition uses ` +
        '(000000 2005, 000001 2017, 000010 2025)',
      { field: 'Flag' },
    );
  }
  return found;
}

export function makeFlag(version: Version, opts: { ack?: boolean; split?: boolean } = {}): number {
  return (VERSION_BITS[version] << 2) | (opts.split ? FLAG_SPLIT : 0) | (opts.ack ? FLAG_ACK : 0);
}

export const needsAck = (flag: number | undefined): boolean => flag !== undefined && (flag & FLAG_ACK) !== 0;
export const isSplit = (flag: number | undefined): boolean => flag !== undefined && (flag & FLAG_SPLIT) !== 0;
