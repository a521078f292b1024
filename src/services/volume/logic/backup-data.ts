import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';
import type { BackupStore } from '../drivers/backup/driver.js';

/**
 * A backup's bytes: the volume cut into fixed-size chunks, each compressed (zlib; kept as it
 * is when it does not compress) and stored as one object with the sha256 of its raw bytes.
 * All-zero chunks are not stored at all. An
 * incremental backup stores only the chunks whose hash differs from its parent's chunk at
 * the same place and points at the parent's objects for the rest. The manifest (the chunk
 * map, plus what a restore puts back on the volume: metadata, image metadata, bootable) is
 * the backup's last object, so its presence means the data is complete. Restores verify
 * every chunk's hash.
 */
export interface ChunkRef {
  /** The object holding the chunk: this backup's own, or an ancestor's for an unchanged chunk. */
  object: string;
  sha256: string;
  /** Raw (uncompressed) length. */
  length: number;
  /** Whether the object is zlib-compressed; data that does not compress is stored as it is. */
  compressed: boolean;
}

/** What a backup remembers about its volume, so a restore gives it back. */
export interface VolumeRecord {
  id: string;
  size: number;
  bootable: boolean;
  metadata: Record<string, string>;
  imageMetadata: Record<string, string>;
}

export interface BackupManifest {
  version: 1;
  backupId: string;
  parentId: string | null;
  chunkSize: number;
  /** Raw bytes backed up (the volume's size in bytes). */
  bytes: number;
  compression: 'zlib';
  /** One entry per chunk, in order; null for a chunk of zeros. */
  chunks: Array<ChunkRef | null>;
  volume: VolumeRecord;
  createdAt: number;
}

export interface ChunkOptions {
  /** Bytes per chunk (32 MiB by default). */
  chunkSize: number;
  /** zlib level: 1 favours throughput; backups are mostly read once, if ever. */
  level: number;
  /** Chunks compressed and written at once (memory: about 2 × chunkSize each). */
  concurrency: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { chunkSize: 32 << 20, level: 1, concurrency: 3 };

export const manifestKey = (backupId: string) => `${backupId}/manifest.json`;
export const chunkKey = (backupId: string, index: number) => `${backupId}/chunk-${String(index).padStart(6, '0')}`;

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);
const ZERO = Buffer.alloc(1 << 20);
/** zlib's output buffer: large, so a 32 MiB chunk is a few trips to the thread pool, not thousands of 16 KiB ones. */
const ZLIB_BUFFER = 4 << 20;
/** Bytes of each of the two samples that decide whether a chunk is worth compressing. */
const SAMPLE = 128 << 10;

function isZero(b: Buffer): boolean {
  for (let off = 0; off < b.length; off += ZERO.length) {
    const part = b.subarray(off, Math.min(b.length, off + ZERO.length));
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

export async function readManifest(store: BackupStore, backupId: string): Promise<BackupManifest> {
  return JSON.parse((await store.get(manifestKey(backupId))).toString('utf8')) as BackupManifest;
}

/**
 * Reads `source` to its end and stores it as backup `backupId`, incrementally against
 * `parent` when given. Returns the manifest (already stored) and how many chunk objects
 * this backup wrote.
 */
export async function writeBackupData(
  store: BackupStore, backupId: string, source: AsyncIterable<Buffer | string>, parent: BackupManifest | null, volume: VolumeRecord,
  opts: ChunkOptions = DEFAULT_CHUNK_OPTIONS,
): Promise<{ manifest: BackupManifest; stored: number }> {
  const { chunkSize } = opts;
  const chunks: Array<ChunkRef | null> = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let stored = 0;
  let bytes = 0;

  // Chunk buffers are reused: a fresh 32 MiB buffer per chunk costs more in page faults
  // than the copy into it.
  const spare: Buffer[] = [];
  let buf: Buffer = Buffer.allocUnsafe(chunkSize);
  let fill = 0;
  let zero = true;
  // Hashed as the bytes arrive (1 MiB at a time, on this thread: faster than any hand-off),
  // from the first byte that is not zero; a chunk of zeros is never hashed.
  let hash: Hash | null = null;

  // A full chunk: zeros are only noted; otherwise compression (in the thread pool) and the
  // write run while the next chunk is read, `concurrency` chunks at a time.
  const finish = async () => {
    const index = chunks.length;
    chunks.push(null);
    const length = fill;
    fill = 0;
    if (zero) return;
    zero = true;
    const sha256 = hash!.digest('hex');
    hash = null;
    const owned = buf;
    const data = buf.subarray(0, length);
    while (inFlight.size >= opts.concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
    buf = spare.pop() ?? Buffer.allocUnsafe(chunkSize);
    const job: Promise<void> = (async () => {
      const before = parent?.chunks[index];
      if (before && before.sha256 === sha256 && before.length === length) { chunks[index] = before; return; }
      const object = chunkKey(backupId, index);
      const packed = await compress(data, opts.level);
      await store.put(object, packed ?? data);
      chunks[index] = { object, sha256, length, compressed: packed !== null };
      stored++;
    })().catch((err: unknown) => { failure ??= err; }).finally(() => { inFlight.delete(job); spare.push(owned); });
    inFlight.add(job);
  };

  try {
    for await (const raw of source) {
      const piece = typeof raw === 'string' ? Buffer.from(raw) : raw;
      bytes += piece.length;
      let off = 0;
      while (off < piece.length) {
        const n = Math.min(chunkSize - fill, piece.length - off);
        const part = piece.subarray(off, off + n);
        part.copy(buf, fill);
        if (zero && !isZero(part)) {
          zero = false;
          hash = createHash('sha256').update(buf.subarray(0, fill));
        }
        if (hash) hash.update(part);
        fill += n;
        off += n;
        if (fill === chunkSize) await finish();
      }
      if (failure) throw failure;
    }
    if (fill > 0) await finish();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  const manifest: BackupManifest = {
    version: 1, backupId, parentId: parent?.backupId ?? null, chunkSize, bytes, compression: 'zlib', chunks, volume, createdAt: Date.now(),
  };
  await store.put(manifestKey(backupId), Buffer.from(JSON.stringify(manifest)));
  return { manifest, stored };
}

/**
 * The chunk deflated, or null when it does not compress (random or already compressed
 * data): a sample decides first, since deflating incompressible data costs the most CPU
 * for nothing.
 */
async function compress(data: Buffer, level: number): Promise<Buffer | null> {
  if (data.length > 4 * SAMPLE) {
    const mid = data.length >> 1;
    const sample = Buffer.concat([data.subarray(0, SAMPLE), data.subarray(mid, mid + SAMPLE)]);
    const packed = await deflateAsync(sample, { level });
    if (packed.length > sample.length * 0.9) return null;
  }
  const packed = await deflateAsync(data, { level, chunkSize: ZLIB_BUFFER });
  return packed.length < data.length ? packed : null;
}

/** sha256 of a large buffer, a few MiB at a time so other requests get a turn in between. */
async function sha256Of(data: Buffer): Promise<string> {
  const h = createHash('sha256');
  for (let off = 0; off < data.length; off += 4 << 20) {
    h.update(data.subarray(off, Math.min(data.length, off + (4 << 20))));
    await new Promise<void>((r) => setImmediate(r));
  }
  return h.digest('hex');
}

/** One chunk's raw bytes, checked against its hash. */
async function readChunk(store: BackupStore, ref: ChunkRef, index: number): Promise<Buffer> {
  const stored = await store.get(ref.object);
  const raw = ref.compressed ? await inflateAsync(stored, { chunkSize: ZLIB_BUFFER }) : stored;
  const sha256 = await sha256Of(raw);
  if (sha256 !== ref.sha256 || raw.length !== ref.length) throw new Error(`backup chunk ${index} (${ref.object}) is corrupt: checksum mismatch`);
  return raw;
}

/**
 * The backup's raw bytes as a stream, chunk by chunk, with the next few chunks read and
 * inflated ahead; zero chunks come from one shared zero buffer.
 */
export function readBackupData(store: BackupStore, manifest: BackupManifest, readAhead = 2): Readable {
  const { chunks, chunkSize, bytes } = manifest;
  async function* gen(): AsyncGenerator<Buffer> {
    const pending = new Map<number, Promise<Buffer>>();
    const want = (i: number) => {
      const ref = chunks[i];
      if (ref && !pending.has(i)) {
        const p = readChunk(store, ref, i);
        p.catch(() => undefined); // awaited below; keep an early failure from going unhandled
        pending.set(i, p);
      }
    };
    for (let i = 0; i < chunks.length; i++) {
      for (let j = i; j < Math.min(chunks.length, i + 1 + readAhead); j++) want(j);
      const ref = chunks[i];
      if (ref) {
        const data = await pending.get(i)!;
        pending.delete(i);
        yield data;
      } else {
        let left = Math.min(chunkSize, bytes - i * chunkSize);
        while (left > 0) {
          const n = Math.min(left, ZERO.length);
          yield ZERO.subarray(0, n);
          left -= n;
        }
      }
    }
  }
  return Readable.from(gen(), { objectMode: false, highWaterMark: 1 });
}

/**
 * Makes `toId` a standalone copy of `fromId`'s data (import of an exported record): every
 * chunk, its own or an ancestor's, is copied under `toId`, so neither depends on the other.
 */
export async function copyBackupData(store: BackupStore, fromId: string, toId: string): Promise<{ manifest: BackupManifest; stored: number }> {
  const src = await readManifest(store, fromId);
  const chunks: Array<ChunkRef | null> = [];
  let stored = 0;
  for (let i = 0; i < src.chunks.length; i++) {
    const ref = src.chunks[i];
    if (!ref) { chunks.push(null); continue; }
    const object = chunkKey(toId, i);
    await store.copy(ref.object, object);
    chunks.push({ ...ref, object });
    stored++;
  }
  const manifest: BackupManifest = { ...src, backupId: toId, parentId: null, chunks };
  await store.put(manifestKey(toId), Buffer.from(JSON.stringify(manifest)));
  return { manifest, stored };
}
