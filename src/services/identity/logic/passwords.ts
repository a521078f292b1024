import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords and secrets are hashed with scrypt, a memory-hard KDF from the standard
 * library. The stored form names its parameters so the cost can be raised later
 * without breaking existing hashes: scrypt$N$r$p$salt$hash.
 */
const KEYLEN = 32;

function derive(secret: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashSecret(secret: string, costLog2: number): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** costLog2;
  const key = await derive(secret, salt, N, 8, 1);
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, N, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(secret, Buffer.from(salt, 'base64'), Number(N), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}
