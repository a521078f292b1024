import { randomUUID } from 'node:crypto';
import { StreamHasher } from './hasher.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLarge, type BlobInfo, type BlobStore, type PutOptions } from './store.js';

/**
 * Blobs as files under one directory. A write goes to a temporary file, is fsynced and
 * then renamed into place, so a crash or a broken upload never leaves a partial blob
 * under its real name. Keys are paths made of safe segments.
 */
const HEAD_BYTES = 512;

export class FsBlobStore implements BlobStore {
  constructor(private root: string) {}

  private path(key: string): string {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
      throw new Error(`invalid blob key ${key}`);
    }
    return join(this.root, key);
  }

  async put(key: string, data: Readable, opts: PutOptions = {}): Promise<BlobInfo> {
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    const tmp = join(dirname(final), `.tmp-${randomUUID()}`);
    const hasher = new StreamHasher();
    let size = 0;
    const heads: Buffer[] = [];
    let headLen = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) return done(new BlobTooLarge(opts.maxBytes));
        const wait = hasher.update(chunk);
        if (headLen < HEAD_BYTES) { heads.push(chunk.subarray(0, HEAD_BYTES - headLen)); headLen += Math.min(chunk.length, HEAD_BYTES - headLen); }
        if (wait) wait.then(() => done(null, chunk), done);
        else done(null, chunk);
      },
    });
    try {
      await pipeline(data, meter, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
      const fh = await open(tmp, 'r+');
      try { await fh.sync(); } finally { await fh.close(); }
      await rename(tmp, final);
    } catch (err) {
      hasher.abort();
      await rm(tmp, { force: true });
      throw err;
    }
    const { md5, sha512 } = await hasher.digest();
    return { size, md5, sha512, head: Buffer.concat(heads) };
  }

  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const p = this.path(key);
    await stat(p);
    return createReadStream(p, { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async size(key: string): Promise<number | null> {
    try { return (await stat(this.path(key))).size; } catch { return null; }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async move(from: string, to: string): Promise<void> {
    const target = this.path(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.path(from), target);
  }
}
