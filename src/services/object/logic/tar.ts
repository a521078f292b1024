import { Readable } from 'node:stream';

/**
 * A streaming reader of tar archives (ustar, GNU long names, pax `path`), for archive
 * extraction: each entry's bytes are handed on as a stream while the archive is still
 * arriving, so an archive is never held in memory. (No tar library is a dependency of
 * the project; this covers what Swift's bulk middleware reads.)
 */
export interface TarEntry { name: string; type: 'file' | 'directory' | 'other'; size: number; data: Readable }

class ByteReader {
  private buf = Buffer.alloc(0);
  private done = false;
  constructor(private it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buf.length < n && !this.done) {
      const next = await this.it.next();
      if (next.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : Buffer.from(next.value);
    }
  }

  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Up to n bytes, whatever is at hand (at least one unless the input ended). */
  async some(n: number): Promise<Buffer> {
    if (this.buf.length === 0) await this.fill(1);
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}

const str = (b: Buffer) => { const z = b.indexOf(0); return (z < 0 ? b : b.subarray(0, z)).toString('utf8'); };

function num(b: Buffer): number {
  if (b[0]! & 0x80) { let v = 0; for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!; return v; }
  const s = str(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function pax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(body.subarray(at, sp).toString());
    if (!len) break;
    const rec = body.subarray(sp + 1, at + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    at += len;
  }
  return out;
}

export class TarError extends Error {}

export async function* readTar(input: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(input[Symbol.asyncIterator]());
  let longName: string | null = null;
  let paxPath: string | null = null;
  for (;;) {
    const header = await r.read(512);
    if (header.length === 0) return;
    if (header.length < 512) throw new TarError('Invalid Tar File: truncated header');
    if (header.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    if (sum !== num(header.subarray(148, 156))) throw new TarError('Invalid Tar File: bad header checksum');
    const size = num(header.subarray(124, 136));
    const flag = String.fromCharCode(header[156] || 48);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === 'L' || flag === 'x' || flag === 'g') {
      const body = await r.read(padded);
      if (flag === 'L') longName = str(body.subarray(0, size));
      else if (flag === 'x') paxPath = pax(body.subarray(0, size)).path ?? null;
      continue;
    }
    const ustar = header.subarray(257, 262).toString() === 'ustar';
    const base = str(header.subarray(0, 100));
    const prefix = ustar ? str(header.subarray(345, 500)) : '';
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${base}` : base);
    paxPath = null; longName = null;
    let left = size;
    const data = Readable.from((async function* () {
      while (left > 0) {
        const chunk = await r.some(Math.min(left, 1 << 20));
        if (chunk.length === 0) throw new TarError('Invalid Tar File: truncated entry');
        left -= chunk.length;
        yield chunk;
      }
    })());
    const type = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : 'other';
    yield { name, type, size, data };
    // Whatever the consumer did not read is skipped, then the padding.
    while (left > 0) {
      const chunk = await r.some(Math.min(left, 1 << 20));
      if (chunk.length === 0) throw new TarError('Invalid Tar File: truncated entry');
      left -= chunk.length;
    }
    if (padded > size) await r.read(padded - size);
  }
}
