import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * md5 + sha512 of a stream, each computed on its own worker thread, in parallel, so the
 * event loop keeps moving bytes to disk while the two digests are computed on the other
 * cores (hashing is the slowest part of an upload: md5 and sha512 each cost about 1.5 s of
 * one core per GiB on the 2-core reference machine, see docs/image.md).
 *
 * Bytes are copied once, into a ring of 1 MiB slots in a SharedArrayBuffer that both workers
 * read; a slot is reused once both have hashed it. When the ring is full, the rest of the
 * chunk waits (by reference, not copied) and update() returns a promise: the producer slows
 * down to the hashing rate, and memory stays bounded (ring + one chunk) whatever the blob's
 * size. Small blobs never leave the main thread: the workers are only fed once a blob passes
 * 8 MiB.
 */
const BATCH = 1 << 20;
/** Slots in a stream's ring: bounds memory per stream (SLOTS × BATCH). */
const SLOTS = 8;
const INLINE_LIMIT = 8 << 20;

const ALGS = ['md5', 'sha512'] as const;
export type HashAlg = (typeof ALGS)[number];
type Alg = HashAlg;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const alg = workerData.alg;
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'data') {
    const s = sessions.get(m.id);
    if (s) s.hash.update(s.ring.subarray(m.off, m.off + m.len));
    parentPort.postMessage({ id: m.id, ack: true });
  } else if (m.type === 'start') {
    sessions.set(m.id, { hash: createHash(alg), ring: Buffer.from(m.ring) });
  } else if (m.type === 'end') {
    const s = sessions.get(m.id);
    sessions.delete(m.id);
    if (s) parentPort.postMessage({ id: m.id, digest: s.hash.digest('hex') });
  } else if (m.type === 'abort') {
    sessions.delete(m.id);
  }
});
`;

interface Session {
  ack(alg: Alg): void;
  digest(alg: Alg, hex: string): void;
  fail(err: Error): void;
}

const workers = new Map<Alg, Worker>();
const sessions = new Map<number, Session>();
let nextId = 0;

function workerFor(alg: Alg): Worker {
  let w = workers.get(alg);
  if (!w) {
    const made = new Worker(WORKER_SOURCE, { eval: true, workerData: { alg } });
    made.unref();
    made.on('message', (m: { id: number; ack?: boolean; digest?: string }) => {
      const s = sessions.get(m.id);
      if (!s) return;
      if (m.ack) s.ack(alg);
      else if (m.digest !== undefined) s.digest(alg, m.digest);
    });
    const gone = (err: Error) => {
      if (workers.get(alg) !== made) return;
      workers.delete(alg);
      // Streams this worker was hashing can never finish: fail them rather than hang.
      for (const s of [...sessions.values()]) s.fail(err);
    };
    made.on('error', gone);
    made.on('exit', (code) => gone(new Error(`${alg} hashing worker exited with code ${code}`)));
    workers.set(alg, made);
    w = made;
  }
  return w;
}

export class StreamHasher {
  /** Digests this stream needs (every one by default; Swift only wants md5). */
  private algs: readonly Alg[];
  private inlineHashes: Partial<Record<Alg, ReturnType<typeof createHash>>> = {};

  constructor(algs: readonly Alg[] = ALGS) {
    this.algs = ALGS.filter((a) => algs.includes(a));
    for (const a of this.algs) this.inlineHashes[a] = createHash(a);
  }

  private inline = true;
  private seen = 0;
  private id = -1;
  /** Bytes hashed inline before handing over, replayed to the workers (they have to see them). */
  private prefix: Buffer[] = [];
  // Worker mode: the ring, and how far each worker got through it.
  private ring: Buffer | null = null;
  private sent = 0;
  private acked: Record<Alg, number> = { md5: 0, sha512: 0 };
  private fill = 0;
  /** Chunks (or their tails) waiting for a free slot. */
  private pending: Buffer[] = [];
  private drained: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private drainWait: Promise<void> | null = null;
  private digests: Partial<Record<Alg, string>> = {};
  private finished: { resolve: (d: { md5: string; sha512: string }) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;

  /** Resolves at once unless the workers are behind, which slows the producer (backpressure). */
  update(chunk: Buffer): Promise<void> | void {
    if (this.failed) return Promise.reject(this.failed);
    this.seen += chunk.length;
    if (this.inline) {
      this.prefix.push(chunk);
      if (this.seen <= INLINE_LIMIT) return;
      this.handOver();
      const earlier = this.prefix;
      this.prefix = [];
      for (const c of earlier) this.push(c);
    } else {
      this.push(chunk);
    }
    if (this.pending.length) return this.whenDrained();
  }

  /** One promise for the producer, however many chunks it handed over meanwhile. */
  private whenDrained(): Promise<void> {
    this.drainWait ??= new Promise<void>((resolve, reject) => { this.drained = { resolve, reject }; });
    return this.drainWait;
  }

  async digest(): Promise<{ md5: string; sha512: string }> {
    if (this.inline) {
      for (const c of this.prefix) for (const a of this.algs) this.inlineHashes[a]!.update(c);
      this.prefix = [];
      return { md5: this.inlineHashes.md5?.digest('hex') ?? '', sha512: this.inlineHashes.sha512?.digest('hex') ?? '' };
    }
    if (this.pending.length) await this.whenDrained();
    if (this.failed) throw this.failed;
    if (this.fill > 0) this.post(this.fill);
    const id = this.id;
    return new Promise((resolve, reject) => {
      this.finished = { resolve, reject };
      for (const alg of this.algs) workerFor(alg).postMessage({ type: 'end', id });
    });
  }

  abort(): void {
    if (this.inline) return;
    sessions.delete(this.id);
    for (const alg of this.algs) workers.get(alg)?.postMessage({ type: 'abort', id: this.id });
    this.pending = [];
    this.ring = null;
  }

  private handOver(): void {
    this.inline = false;
    this.id = nextId++;
    const shared = new SharedArrayBuffer(SLOTS * BATCH);
    this.ring = Buffer.from(shared);
    sessions.set(this.id, {
      ack: (alg) => { this.acked[alg]++; this.refill(); },
      digest: (alg, hex) => {
        this.digests[alg] = hex;
        if (this.algs.every((a) => this.digests[a] !== undefined)) {
          sessions.delete(this.id);
          this.finished?.resolve({ md5: this.digests.md5 ?? '', sha512: this.digests.sha512 ?? '' });
        }
      },
      fail: (err) => {
        this.failed = err;
        sessions.delete(this.id);
        this.drained?.reject(err);
        this.finished?.reject(err);
        this.drained = null;
        this.drainWait = null;
        this.finished = null;
      },
    });
    for (const alg of this.algs) workerFor(alg).postMessage({ type: 'start', id: this.id, ring: shared });
  }

  private push(chunk: Buffer): void {
    if (this.pending.length) { this.pending.push(chunk); return; }
    const rest = this.copyIn(chunk);
    if (rest) this.pending.push(rest);
  }

  /** Copies as much of `chunk` as the free slots take; returns what is left, if anything. */
  private copyIn(chunk: Buffer): Buffer | null {
    let off = 0;
    while (off < chunk.length) {
      if (this.fill === 0 && this.sent - Math.min(...this.algs.map((a) => this.acked[a])) >= SLOTS) return chunk.subarray(off);
      const base = (this.sent % SLOTS) * BATCH;
      const n = chunk.copy(this.ring!, base + this.fill, off, off + Math.min(chunk.length - off, BATCH - this.fill));
      this.fill += n;
      off += n;
      if (this.fill === BATCH) this.post(BATCH);
    }
    return null;
  }

  /** Hands the current slot (its first `len` bytes) to both workers. */
  private post(len: number): void {
    const msg = { type: 'data', id: this.id, off: (this.sent % SLOTS) * BATCH, len };
    for (const alg of this.algs) workerFor(alg).postMessage(msg);
    this.sent++;
    this.fill = 0;
  }

  /** A slot came free: move waiting bytes in, and release the producer once none wait. */
  private refill(): void {
    while (this.pending.length && this.ring) {
      const rest = this.copyIn(this.pending[0]!);
      if (rest) { this.pending[0] = rest; return; }
      this.pending.shift();
    }
    if (this.drained) { const d = this.drained; this.drained = null; this.drainWait = null; d.resolve(); }
  }
}
