import { randomBytes } from 'node:crypto';

/**
 * HJ 212-2025 1014 key change, as assumed here (the 2025 text is not public; docs/protocol-2025.md
 * §1014): the new SM4 key travels as `NewKey=` (32 hex digits) in the CP of a 1014 request from the
 * platform, which is itself SM4-encrypted under the key in force. Both sides switch once the logger's
 * 9012 ExeRtn=1 is out; the key replaced is still accepted on decode for a grace period.
 */
export const NEW_KEY_FIELD = 'NewKey';

/** A 1014 NewKey value: 16 bytes as 32 hex digits. */
export function isKeyHex(value: string | undefined): value is string {
  return value !== undefined && /^[0-9A-Fa-f]{32}$/.test(value);
}

/** A fresh station key: 16 random bytes, upper-case hex as the CP carries it. */
export function newKeyHex(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** A station's keys while changes come and go; times are ms since epoch. */
export interface KeyState {
  /** The key frames are encoded with. */
  key: string;
  /** When `key` came into force. */
  since: number;
  /** The key `key` replaced, still accepted on decode until `previousUntil`. */
  previous?: string;
  previousUntil?: number;
  /** A key issued (1014 sent) and not yet confirmed by the logger's 9012, with the request's QN. */
  pending?: string;
  pendingQn?: string;
}

/** Switches to `next`: it encodes from now on, the key in force is kept for decode for `graceMs`. */
export function switchKey(state: KeyState | undefined, next: string, now: number, graceMs: number): KeyState {
  const out: KeyState = { key: next.toUpperCase(), since: now };
  if (state && state.key.toUpperCase() !== out.key && graceMs > 0) {
    out.previous = state.key;
    out.previousUntil = now + graceMs;
  }
  return out;
}

/** Keys besides the one in force that a frame may be under now: the pending one, then the previous within its grace. */
export function decodeKeys(state: KeyState | undefined, now: number): string[] {
  if (!state) return [];
  const keys: string[] = [];
  if (state.pending !== undefined) keys.push(state.pending);
  if (state.previous !== undefined && state.previousUntil !== undefined && now < state.previousUntil)
    keys.push(state.previous);
  return keys;
}

export const keyBytes = (hex: string): Buffer => Buffer.from(hex, 'hex');
