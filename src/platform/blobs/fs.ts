import { randomUUID } from 'node:crypto';
import { StreamHasher } from './hasher.js';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLarge, type BlobInfo, type BlobStore, type PutOptions } from './store.js';

/**
 * Blobs as files under one directory. A write goes to a temporary file, is fsynced and
 * then renamed into place (the directory fsynced too), so a crash or a broken upload never
 * leaves a partial blob under its real name, and an acknowledged one survives a crash.
 * Keys are paths made of safe segments.
 */
const HEAD_BYTES = 512;
/** Bytes an upload may have waiting for the disk and the hashers (memory per upload, with the hasher's ring). */
const WRITE_BUFFER = 4 << 20;
/** Reads of a download: large, so a GiB is a few hundred reads, not thousands. */
const READ_CHUNK = 1 << 20;

/** Makes a rename in `dir` durable (the new name survives a crash). */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try { await d.sync(); } finally { await d.close(); }
}

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
    const dir = dirname(final);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${randomUUID()}`);
    const hasher = new StreamHasher(opts.hashes);
    let size = 0;
    const heads: Buffer[] = [];
    let headLen = 0;
    const fh = await open(tmp, 'w');
    let open_ = true;
    let digests: { md5: string; sha512: string };
    try {
      // One stage, no Transform: each batch of chunks the request delivered goes to the file
      // in one writev while the hashing workers take their copy; the next batch is accepted
      // once both are done, and up to WRITE_BUFFER bytes gather meanwhile.
      const sink = new Writable({
        highWaterMark: WRITE_BUFFER,
        writev(chunks, done) {
          const bufs: Buffer[] = [];
          let wait: Promise<void> | void = undefined;
          for (const { chunk } of chunks) {
            const b = chunk as Buffer;
            size += b.length;
            if (opts.maxBytes !== undefined && size > opts.maxBytes) return done(new BlobTooLarge(opts.maxBytes));
            if (headLen < HEAD_BYTES) { heads.push(b.subarray(0, HEAD_BYTES - headLen)); headLen += Math.min(b.length, HEAD_BYTES - headLen); }
            wait = hasher.update(b) ?? wait;
            bufs.push(b);
          }
          const written = fh.writev(bufs);
          (wait ? Promise.all([written, wait]) : written).then(() => done(), done);
        },
      });
      await pipeline(data, sink);
      // The hashers finish the last batch while the disk flushes.
      digests = (await Promise.all([hasher.digest(), fh.sync()]))[0];
      open_ = false;
      await fh.close();
      await rename(tmp, final);
      await syncDir(dir);
    } catch (err) {
      hasher.abort();
      if (open_) await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    return { size, ...digests, head: Buffer.concat(heads) };
  }

  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const p = this.path(key);
    await stat(p);
    return createReadStream(p, { highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
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
