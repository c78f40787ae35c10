import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Hj212Error } from './errors.js';

/**
 * HJ 212-2025 encrypts the CP of data commands (2000-2999), key updates (1014) and field info (3020)
 * with SM4-ECB and a 16-byte key per station. The edition adds no padding scheme, so the plain text is
 * zero-filled to the 16-byte block and the cipher text travels as upper-case hex, the reading the
 * published third-party implementations share; a plain CP always holds "=", so it can never be
 * mistaken for cipher text.
 */
export function isEncryptableCn(cn: string): boolean {
  const n = Number(cn);
  return (n >= 2000 && n <= 2999) || n === 1014 || n === 3020;
}

export function looksEncrypted(content: string): boolean {
  return content.length >= 32 && content.length % 32 === 0 && /^[0-9A-Fa-f]+$/.test(content);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 16)
    throw new Hj212Error('bad-input', `SM4 key must be 16 bytes, got ${key.length}`, { field: 'sm4Key' });
}

/**
 * SM4 (GB/T 32907-2016) in ECB mode over whole 16-byte blocks, no padding: the block cipher the CP
 * encryption is built on, apart so it can be checked against the standard's known answers.
 */
export function sm4Ecb(direction: 'encrypt' | 'decrypt', data: Uint8Array, key: Uint8Array): Buffer {
  checkKey(key);
  if (data.length % 16 !== 0)
    throw new Hj212Error('bad-input', `SM4 works on 16-byte blocks, got ${data.length} bytes`, { field: 'CP' });
  const cipher =
    direction === 'encrypt' ? createCipheriv('sm4-ecb', key, null) : createDecipheriv('sm4-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export function encryptCp(content: string, key: Uint8Array): string {
  const plain = Buffer.from(content, 'utf8');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plain.length / 16) * 16));
  plain.copy(padded);
  return sm4Ecb('encrypt', padded, key).toString('hex').toUpperCase();
}

export function decryptCp(hex: string, key: Uint8Array): string {
  const plain = sm4Ecb('decrypt', Buffer.from(hex, 'hex'), key);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  const text = plain.subarray(0, end).toString('utf8');
  // A wrong key yields noise; a CP always has Field=Value pairs, so noise is caught here.
  if (text !== '' && (!text.includes('=') || text.includes('\uFFFD'))) {
    throw new Hj212Error(
      'decrypt-failed',
      'the SM4-encrypted CP did not decrypt to Field=Value pairs; check the station key',
      { field: 'CP' },
    );
  }
  return text;
}
