import { z } from 'zod';

/** An HJ 212-2025 SM4 key: 32 hex digits, 16 bytes. */
export const Sm4KeySchema = z.string().regex(/^[0-9A-Fa-f]{32}$/, 'an SM4 key is 32 hex digits (16 bytes)');

/** The codec's per-MN key lookup, built from hex keys by MN. */
export function sm4KeyLookup(keys: ReadonlyMap<string, string>): (mn: string | undefined) => Uint8Array | undefined {
  const bytes = new Map([...keys].map(([mn, hex]) => [mn, Buffer.from(hex, 'hex')]));
  return (mn) => (mn === undefined ? undefined : bytes.get(mn));
}
