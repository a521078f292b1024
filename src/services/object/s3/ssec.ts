import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { errors, S3Error } from './errors.js';

/**
 * SSE-C: objects encrypted at rest with a key the client sends on every request and the
 * cloud never keeps. AES-256 in CTR mode, so any byte range decrypts on its own; each
 * stored segment (the whole object, or each part of a multipart upload) has its own random
 * IV. Only a salted HMAC of the key is stored, to tell a wrong key from the right one.
 */
export interface CustomerKey { key: Buffer; keyMd5: string }
export interface StoredSse {
  algorithm: 'AES256';
  salt: string;
  keyHash: string;
  keyMd5: string;
  /** Plaintext length and IV of each encrypted segment, in order. */
  segments: { size: number; iv: string }[];
}

const PREFIX = 'x-amz-server-side-encryption-customer-';
const COPY_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

/** The customer key from the request's headers (or its copy-source headers); null when none given. */
export function customerKey(h: Record<string, string>, copySource = false): CustomerKey | null {
  const p = copySource ? COPY_PREFIX : PREFIX;
  const alg = h[`${p}algorithm`];
  const key = h[`${p}key`];
  const md5 = h[`${p}key-md5`];
  if (alg === undefined && key === undefined && md5 === undefined) return null;
  if (h['x-amz-server-side-encryption'] !== undefined && !copySource) {
    throw errors.invalidArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
  }
  if (alg !== 'AES256') {
    throw errors.invalidArgument(alg === undefined ? 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.' : 'The encryption algorithm specified is not valid.', { ArgumentName: `${p}algorithm`, ArgumentValue: alg ?? '' });
  }
  const raw = Buffer.from(key ?? '', 'base64');
  if (!key || raw.length !== 32) throw errors.invalidArgument('The secret key was invalid for the specified algorithm.', { ArgumentName: `${p}key` });
  const actual = createHash('md5').update(raw).digest('base64');
  if (md5 !== undefined && md5 !== actual) throw errors.invalidArgument('The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${p}key-md5` });
  return { key: raw, keyMd5: actual };
}

const keyHash = (salt: Buffer, key: Buffer) => createHmac('sha256', salt).update(key).digest('hex');

/** What to store for a new encrypted object or part (segments filled by the caller). */
export function sealParams(k: CustomerKey): Omit<StoredSse, 'segments'> {
  const salt = randomBytes(16);
  return { algorithm: 'AES256', salt: salt.toString('base64'), keyHash: keyHash(salt, k.key), keyMd5: k.keyMd5 };
}

/** Checks the key a reader gave against the stored object's: 400 without one, 403 with a wrong one. */
export function checkKey(stored: Omit<StoredSse, 'segments'> | undefined, given: CustomerKey | null): void {
  if (!stored) {
    if (given) throw errors.invalidRequest('The encryption parameters are not applicable to this object.');
    return;
  }
  if (!given) throw errors.invalidRequest('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
  const expected = Buffer.from(stored.keyHash, 'hex');
  const actual = Buffer.from(keyHash(Buffer.from(stored.salt, 'base64'), given.key), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new S3Error('AccessDenied', 403, 'The provided customer key does not match the key the object was encrypted with.');
  }
}

export const newIv = (): Buffer => randomBytes(16);
export const encryptor = (k: CustomerKey, iv: Buffer): Transform => createCipheriv('aes-256-ctr', k.key, iv);

/** The IV advanced by `blocks` 16-byte blocks (CTR's counter is the whole 128-bit IV). */
function ivAt(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = BigInt(blocks);
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(out[i]!) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}

/** Drops the first `n` bytes of a stream. */
class Skip extends Transform {
  constructor(private n: number) { super(); }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    if (this.n >= chunk.length) { this.n -= chunk.length; return done(); }
    const out = chunk.subarray(this.n);
    this.n = 0;
    done(null, out);
  }
}

/**
 * Plaintext of bytes [start, end] of an encrypted object; `open(s, e)` streams the stored
 * (encrypted) bytes s..e. Each segment is decrypted from the 16-byte block holding the
 * first wanted byte.
 */
export function decryptRange(stored: StoredSse, k: CustomerKey, range: { start: number; end: number } | null, total: number, open: (s: number, e: number) => Readable): Readable {
  const start = range?.start ?? 0;
  const end = range?.end ?? total - 1;
  async function* gen() {
    let off = 0;
    for (const seg of stored.segments) {
      const segEnd = off + seg.size - 1;
      if (seg.size > 0 && segEnd >= start && off <= end) {
        const ls = Math.max(start, off) - off;
        const le = Math.min(end, segEnd) - off;
        const aligned = ls - (ls % 16);
        const decipher = createDecipheriv('aes-256-ctr', k.key, ivAt(Buffer.from(seg.iv, 'base64'), aligned / 16));
        const src = open(off + aligned, off + le);
        src.on('error', (e) => decipher.destroy(e));
        const skip = new Skip(ls - aligned);
        decipher.on('error', (e) => skip.destroy(e));
        for await (const chunk of src.pipe(decipher).pipe(skip)) yield chunk as Buffer;
      }
      off += seg.size;
      if (off > end) break;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

export const sseHeaders = (keyMd5: string): Record<string, string> => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key-md5': keyMd5,
});
