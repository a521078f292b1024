import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { errors, S3Error } from './errors.js';
import { EMPTY_SHA256, hmac, sha256hex, type Authenticated } from './sigv4.js';

/**
 * Request bodies of uploads: the bytes as sent, or decoded from `aws-chunked` framing
 * (`Content-Encoding: aws-chunked`), with every signature and digest the client put on
 * them checked as they stream past:
 *  - x-amz-content-sha256 as a hex digest: the SHA-256 of the whole payload;
 *  - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: each chunk's signature, chained from
 *    the request's signature, and the trailer's signature;
 *  - STREAMING-UNSIGNED-PAYLOAD-TRAILER: unsigned chunks, then trailing headers;
 *  - x-amz-checksum-{crc32,crc32c,sha1,sha256} in a header or a trailer.
 * A mismatch fails the stream, so the blob store keeps nothing of the upload.
 */
export interface Body { stream: Readable; length: number | null; checksum?: { algorithm: string; value: () => string | undefined } }

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; }
  return t;
})();

interface Digest { update(b: Buffer): void; base64(): string }
function digestFor(algorithm: string): Digest | null {
  const be = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b.toString('base64'); };
  switch (algorithm) {
    case 'crc32': { let c = 0; return { update: (b) => { c = crc32(b, c); }, base64: () => be(c) }; }
    case 'crc32c': {
      let c = 0xffffffff;
      return { update: (b) => { for (const x of b) c = CRC32C_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8); }, base64: () => be(c ^ 0xffffffff) };
    }
    case 'sha1': case 'sha256': { const h: Hash = createHash(algorithm); return { update: (b) => { h.update(b); }, base64: () => h.digest('base64') }; }
    default: return null;
  }
}

export const CHECKSUMS = ['crc32', 'crc32c', 'sha1', 'sha256', 'crc64nvme'];

/** Decodes aws-chunked framing; checks chunk signatures when the payload mode signs them. */
class ChunkDecoder extends Transform {
  private head = Buffer.alloc(0);
  private state: 'size' | 'data' | 'crlf' | 'trailer' | 'final' | 'done' = 'size';
  private left = 0;
  private sig = '';
  private hash: Hash | null = null;
  private prev: string;
  decoded = 0;
  readonly trailers: Record<string, string> = {};
  private trailerText = '';

  constructor(private chain: Authenticated['chain'] | undefined, private trailer: boolean) {
    super();
    this.prev = chain?.seed ?? '';
  }

  private chunkOk(dataHash: string): boolean {
    if (!this.chain) return true;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${this.chain.date}\n${this.chain.scope}\n${this.prev}\n${EMPTY_SHA256}\n${dataHash}`;
    const expected = hmac(this.chain.key, toSign).toString('hex');
    if (expected !== this.sig) return false;
    this.prev = expected;
    return true;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try { this.consume(chunk); done(); } catch (err) { done(err as Error); }
  }

  private consume(input: Buffer): void {
    let buf = this.head.length ? Buffer.concat([this.head, input]) : input;
    this.head = Buffer.alloc(0);
    while (buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length);
        const part = buf.subarray(0, n);
        this.hash?.update(part);
        this.decoded += n;
        this.push(part);
        this.left -= n;
        buf = buf.subarray(n);
        if (this.left === 0) {
          if (this.hash && !this.chunkOk(this.hash.digest('hex'))) throw errors.signatureDoesNotMatch();
          this.state = 'crlf';
        }
        continue;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) {
        if (buf.length > 4096) throw errors.invalidRequest('Invalid chunk framing in aws-chunked payload.');
        this.head = Buffer.from(buf);
        return;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      if (this.state === 'crlf') {
        if (line !== '') throw errors.invalidRequest('Invalid chunk framing in aws-chunked payload.');
        this.state = 'size';
      } else if (this.state === 'size') {
        const [sizeHex, ...ext] = line.split(';');
        if (!/^[0-9a-fA-F]+$/.test(sizeHex ?? '')) throw errors.invalidRequest('Invalid chunk size in aws-chunked payload.');
        this.sig = ext.find((e) => e.startsWith('chunk-signature='))?.slice(16) ?? '';
        if (this.chain && !this.sig) throw errors.signatureDoesNotMatch();
        this.left = parseInt(sizeHex!, 16);
        if (this.left > 0) { this.state = 'data'; this.hash = this.chain ? createHash('sha256') : null; continue; }
        if (this.chain && !this.chunkOk(EMPTY_SHA256)) throw errors.signatureDoesNotMatch();
        this.state = this.trailer ? 'trailer' : 'final';
      } else if (this.state === 'trailer') {
        if (line === '') { this.finishTrailer(); this.state = 'done'; continue; }
        const i = line.indexOf(':');
        if (i < 0) throw errors.invalidRequest('Invalid trailer in aws-chunked payload.');
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === 'x-amz-trailer-signature') { this.trailers[name] = value; continue; }
        this.trailers[name] = value;
        this.trailerText += `${name}:${value}\n`;
      } else {
        // After the last chunk only an empty line may follow.
        if (line !== '') throw errors.invalidRequest('Unexpected data after the final chunk.');
        this.state = 'done';
      }
    }
  }

  private finishTrailer(): void {
    if (!this.chain) return;
    const sig = this.trailers['x-amz-trailer-signature'];
    const toSign = `AWS4-HMAC-SHA256-TRAILER\n${this.chain.date}\n${this.chain.scope}\n${this.prev}\n${sha256hex(this.trailerText)}`;
    if (!sig || hmac(this.chain.key, toSign).toString('hex') !== sig) throw errors.signatureDoesNotMatch();
  }

  override _flush(done: TransformCallback): void {
    if (this.state === 'trailer' && this.head.length === 0) { try { this.finishTrailer(); } catch (e) { return done(e as Error); } this.state = 'done'; }
    // Some clients end the body right after the last chunk's line, without the empty one.
    if (this.state !== 'done' && this.state !== 'final') return done(errors.incompleteBody());
    done();
  }
}

/** Checks the decoded bytes against the payload's SHA-256, the announced length and a checksum. */
class Verifier extends Transform {
  private sha: Hash | null;
  private sum: Digest | null;
  private n = 0;
  computed: string | undefined;
  constructor(private sha256: string | null, private length: number | null, private checksum: { algorithm: string; expected: () => string | undefined } | null) {
    super();
    this.sha = sha256 ? createHash('sha256') : null;
    this.sum = checksum ? digestFor(checksum.algorithm) : null;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.n += chunk.length;
    if (this.length !== null && this.n > this.length) return done(errors.incompleteBody());
    this.sha?.update(chunk);
    this.sum?.update(chunk);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.length !== null && this.n !== this.length) return done(errors.incompleteBody());
    if (this.sha && this.sha.digest('hex') !== this.sha256) return done(errors.sha256Mismatch());
    if (this.sum && this.checksum) {
      this.computed = this.sum.base64();
      const expected = this.checksum.expected();
      if (expected !== undefined && expected !== this.computed) {
        return done(new S3Error('BadDigest', 400, `The ${this.checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`));
      }
    }
    done();
  }
}

export function requestBody(raw: Readable, auth: Authenticated, h: Record<string, string>): Body {
  const payload = auth.payload;
  const streaming = payload.startsWith('STREAMING-');
  if (streaming && !['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'].includes(payload)) {
    throw errors.invalidArgument(`Unsupported x-amz-content-sha256 value ${payload}`);
  }
  let length: number | null = null;
  const lengthHeader = streaming ? h['x-amz-decoded-content-length'] : h['content-length'];
  if (lengthHeader !== undefined) {
    if (!/^\d+$/.test(lengthHeader.trim())) throw errors.invalidArgument('Invalid content length');
    length = Number(lengthHeader);
  } else if (!streaming && !(h['transfer-encoding'] ?? '').includes('chunked')) {
    length = 0;
  }
  let source: Readable = raw;
  let decoder: ChunkDecoder | null = null;
  if (streaming) {
    decoder = new ChunkDecoder(auth.chain, payload.endsWith('-TRAILER'));
    raw.on('error', (e) => decoder!.destroy(e));
    source = raw.pipe(decoder);
  }
  const trailerName = (h['x-amz-trailer'] ?? '').trim().toLowerCase();
  const headerSum = CHECKSUMS.find((a) => h[`x-amz-checksum-${a}`] !== undefined);
  const algorithm = trailerName.startsWith('x-amz-checksum-') ? trailerName.slice(15) : headerSum ?? (h['x-amz-sdk-checksum-algorithm'] ?? '').toLowerCase();
  const checksum = algorithm && CHECKSUMS.includes(algorithm)
    ? { algorithm, expected: () => (trailerName ? decoder?.trailers[trailerName] : h[`x-amz-checksum-${algorithm}`]) }
    : null;
  const sha = /^[0-9a-f]{64}$/i.test(payload) ? payload.toLowerCase() : null;
  const verifier = new Verifier(sha, length, checksum);
  source.on('error', (e) => verifier.destroy(e));
  const stream = source.pipe(verifier);
  // An error before the consumer attaches stays on the stream (it sees it as errored), never uncaught.
  stream.on('error', () => undefined);
  return {
    stream, length,
    ...(checksum ? { checksum: { algorithm, value: () => verifier.computed ?? checksum.expected() } } : {}),
  };
}

/** Reads a small request body (XML documents) whole, checked the same way; at most `max` bytes. */
export async function readSmallBody(raw: Readable, auth: Authenticated, h: Record<string, string>, max = 1 << 20): Promise<Buffer> {
  const { stream } = requestBody(raw, auth, h);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > max) throw errors.invalidRequest('The request body is too large.');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
