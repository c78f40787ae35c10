import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export { DEFAULT_PASSWORD } from '../protocol/wire.js';

// N=2^14 r=8 is node's default cost: ~30 ms per check, which a cache of verified secrets makes rare.
const N = 16384;
const KEYLEN = 32;
const PREFIX = 'scrypt';

function derive(secret: string, salt: Buffer, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$saltHex$keyHex`: the form the registry stores passwords and MQTT secrets in. */
export async function hashSecret(secret: string, n = N): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, n);
  return `${PREFIX}$${n}$${salt.toString('hex')}$${key.toString('hex')}`;
}

export const SECRET_HASH = /^scrypt\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}$/;

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [prefix, n, salt, key] = stored.split('$');
  if (prefix !== PREFIX || n === undefined || salt === undefined || key === undefined) return false;
  const got = await derive(secret, Buffer.from(salt, 'hex'), Number(n));
  const want = Buffer.from(key, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
