import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * md5 + sha512 of a stream, computed on a worker thread so the event loop keeps moving
 * bytes to disk while the digests are computed on the other core (hashing is the slowest
 * part of an upload: about 2.8 s per GiB on one core). Chunks are copied into 1 MiB
 * batches whose memory is transferred, not copied again, to the worker. Small blobs never
 * leave the main thread: the worker is only fed once a blob passes 8 MiB.
 */
const BATCH = 1 << 20;
const INLINE_LIMIT = 8 << 20;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'start') sessions.set(m.id, { md5: createHash('md5'), sha512: createHash('sha512') });
  else if (m.type === 'data') { const s = sessions.get(m.id); const b = Buffer.from(m.buf); s.md5.update(b); s.sha512.update(b); parentPort.postMessage({ id: m.id, ack: true }); }
  else if (m.type === 'end') { const s = sessions.get(m.id); sessions.delete(m.id); parentPort.postMessage({ id: m.id, md5: s.md5.digest('hex'), sha512: s.sha512.digest('hex') }); }
  else if (m.type === 'abort') sessions.delete(m.id);
});
`;

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, (d: { md5: string; sha512: string }) => void>();
const acks = new Map<number, () => void>();
/** Batches a stream may have waiting at the worker: bounds memory whatever the blob's size. */
const MAX_IN_FLIGHT = 8;

function sharedWorker(): Worker {
  if (!worker) {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (m: { id: number; md5: string; sha512: string; ack?: boolean }) => {
      if (m.ack) { acks.get(m.id)?.(); return; }
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    });
    worker.on('error', () => { worker = null; });
  }
  return worker;
}

export class StreamHasher {
  private md5 = createHash('md5');
  private sha512 = createHash('sha512');
  private inline = true;
  private seen = 0;
  private id = -1;
  private batch: Buffer | null = null;
  private fill = 0;
  /** Bytes hashed inline before handing over, replayed to the worker (it has to see them). */
  private prefix: Buffer[] = [];
  private inFlight = 0;
  private drained: (() => void) | null = null;

  /** Resolves at once unless the worker is behind, which slows the producer (backpressure). */
  update(chunk: Buffer): Promise<void> | void {
    this.seen += chunk.length;
    if (this.inline) {
      this.prefix.push(chunk);
      if (this.seen <= INLINE_LIMIT) return;
      this.inline = false;
      this.id = nextId++;
      acks.set(this.id, () => {
        this.inFlight--;
        if (this.drained && this.inFlight < MAX_IN_FLIGHT) { const d = this.drained; this.drained = null; d(); }
      });
      sharedWorker().postMessage({ type: 'start', id: this.id });
      const earlier = this.prefix;
      this.prefix = [];
      for (const c of earlier) this.push(c);
    } else {
      this.push(chunk);
    }
    if (this.inFlight >= MAX_IN_FLIGHT) return new Promise((resolve) => { this.drained = resolve; });
  }

  async digest(): Promise<{ md5: string; sha512: string }> {
    if (this.inline) {
      for (const c of this.prefix) { this.md5.update(c); this.sha512.update(c); }
      this.prefix = [];
      return { md5: this.md5.digest('hex'), sha512: this.sha512.digest('hex') };
    }
    this.flush();
    const w = sharedWorker();
    const id = this.id;
    return new Promise((resolve) => { waiting.set(id, (d) => { acks.delete(id); resolve(d); }); w.postMessage({ type: 'end', id }); });
  }

  abort(): void {
    if (!this.inline) {
      acks.delete(this.id);
      sharedWorker().postMessage({ type: 'abort', id: this.id });
    }
  }

  private push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.batch) { this.batch = Buffer.allocUnsafeSlow(BATCH); this.fill = 0; }
      const n = chunk.copy(this.batch, this.fill, off);
      this.fill += n;
      off += n;
      if (this.fill === BATCH) this.flush();
    }
  }

  private flush(): void {
    if (!this.batch || this.fill === 0) return;
    // A full batch owns its whole ArrayBuffer and moves as is; only the last, partial one is copied.
    const whole = this.fill === BATCH && this.batch.byteOffset === 0 && this.batch.buffer.byteLength === BATCH;
    const ab = (whole ? this.batch.buffer : this.batch.buffer.slice(this.batch.byteOffset, this.batch.byteOffset + this.fill)) as ArrayBuffer;
    this.batch = null;
    this.fill = 0;
    this.inFlight++;
    sharedWorker().postMessage({ type: 'data', id: this.id, buf: ab }, [ab]);
  }
}
