/**
 * Image (Glance v2) benchmark: upload and download throughput of large images as a ratio to
 * `cp` of the same file on the same disk in the same run, the server's peak memory while
 * images of 64 MiB, 256 MiB and 1 GiB stream through it (it should not grow with the
 * image), and the rate of many small images (create, upload, download, delete).
 * `npx tsx bench/image.ts [--write]`; `--write` rewrites the image section of
 * docs/benchmarks.md.
 */
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { machineBusyMs, procCpuMs, send } from './lib/load.js';
import { startBareBlobServer, startStratus, type ServerProcess, type StratusProcess } from './lib/procs.js';
import { fmt, machine, simpleTable, writeSection } from './lib/report.js';

const args = process.argv.slice(2);
const WRITE = args.includes('--write');
const MiB = 1 << 20;
/** Image sizes for the throughput and memory cases, in MiB; the largest is the throughput figure. */
const SIZES_MIB = (process.env.BENCH_IMAGE_SIZES_MB ?? '64,256,1024').split(',').map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const BIG_MIB = SIZES_MIB[SIZES_MIB.length - 1]!;
const SMALL_COUNT = Number(process.env.BENCH_IMAGE_SMALL_COUNT ?? 200);
const SMALL_BYTES = 64 * 1024;
const SMALL_CONCURRENCY = Number(process.env.BENCH_IMAGE_SMALL_CONCURRENCY ?? 8);
const SMALL_SEQUENTIAL = Number(process.env.BENCH_IMAGE_SMALL_SEQUENTIAL ?? 50);
/** The largest image is moved this many times through each server; the best run counts (the disk's page cache is noisy). */
const BIG_RUNS = Math.max(1, Number(process.env.BENCH_IMAGE_BIG_RUNS ?? 2));
/** Upload and download must each reach at least this fraction of cp's rate. */
const TARGET = 0.8;
/**
 * Memory is "flat" when the largest transfer's peak RSS growth exceeds the smallest one's by
 * less than this fraction of the difference in image size (5% of 960 MiB = 48 MiB).
 */
const FLAT_FRACTION = 0.05;

const json = (v: unknown) => JSON.stringify(v);
const short = (body: string) => body.replace(/\s+/g, ' ').slice(0, 200);
const mib = (bytes: number) => bytes / MiB;
const rate = (bytes: number, ms: number) => mib(bytes) / (ms / 1000);

// ---------------------------------------------------------------------------------------
// The server's memory, from /proc/PID/status.

function procStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = s.match(/VmRSS:\s+(\d+) kB/);
    const hwm = s.match(/VmHWM:\s+(\d+) kB/);
    return rss && hwm ? { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) } : null;
  } catch {
    return null;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: write 5 to clear_refs). False when not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Watches a process's memory during one transfer: RSS just before, and the peak during it,
 * both as VmHWM (the kernel's exact high-water mark, reset at the start) and as the highest
 * RSS seen by polling every 10 ms (a check on the first, and the fallback if it cannot be
 * reset).
 */
function memoryWatch(pid: number) {
  const hwmReset = resetPeak(pid);
  const first = procStatus(pid);
  const beforeKb = first?.rssKb ?? NaN;
  let sampledKb = beforeKb;
  const tick = () => {
    const s = procStatus(pid);
    if (s && s.rssKb > sampledKb) sampledKb = s.rssKb;
  };
  const timer = setInterval(tick, 10);
  return {
    stop() {
      clearInterval(timer);
      tick();
      const last = procStatus(pid);
      const hwmKb = hwmReset && last ? last.hwmKb : NaN;
      const peakKb = Number.isFinite(hwmKb) ? Math.max(hwmKb, sampledKb) : sampledKb;
      return { beforeMb: beforeKb / 1024, peakMb: peakKb / 1024, sampledMb: sampledKb / 1024, hwmMb: hwmKb / 1024, hwmReset };
    },
  };
}

// ---------------------------------------------------------------------------------------
// HTTP with streamed or binary bodies (lib/load.ts's send() is for small JSON).

interface Reply { status: number; body: Buffer; headers: http.IncomingHttpHeaders }

function request(origin: string, method: string, path: string, headers: Record<string, string | number>, body: Buffer | string | undefined, agent: http.Agent): Promise<Reply> {
  const u = new URL(origin);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing to send traffic to ${u.hostname}: loopback (127.0.0.1) only`);
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { accept: 'application/json', ...headers };
    if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: h, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * PUT of the first `size` bytes of `file`, streamed; resolves with the answer once it is
 * complete, and `sentAt` (performance.now()) when the last byte had been handed to the socket.
 */
function uploadFile(origin: string, path: string, headers: Record<string, string>, file: string, size: number, agent: http.Agent): Promise<Reply & { sentAt: number }> {
  const u = new URL(origin);
  let sentAt = NaN;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, method: 'PUT', path, agent,
      headers: { 'content-type': 'application/octet-stream', 'content-length': size, accept: 'application/json', ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, sentAt }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // An early error answer (quota, 415) ends the request while the body is still going: the
    // answer, or the request's own error, settles the promise, not the pipeline.
    pipeline(createReadStream(file, { start: 0, end: size - 1, highWaterMark: MiB }), req).then(() => { sentAt = performance.now(); }, () => undefined);
  });
}

/** GET of an image's data into a file, streamed. */
function downloadFile(origin: string, path: string, headers: Record<string, string>, out: string, agent: http.Agent): Promise<{ status: number; bytes: number; error?: string }> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'GET', path, agent, headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status, bytes: 0, error: short(Buffer.concat(chunks).toString('utf8')) }));
        return;
      }
      pipeline(res, createWriteStream(out, { highWaterMark: MiB }))
        .then(() => resolve({ status, bytes: statSync(out).size }))
        .catch(reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------
// Files.

/**
 * Writes `sizeMiB` MiB of random-ish data: 1 MiB windows at varying offsets into a 64 MiB
 * random pool, each stamped with its index, so no two MiB are alike (nothing in the path
 * compresses or deduplicates, but an all-zero file would be suspicious).
 */
function makeSource(path: string, sizeMiB: number): void {
  const poolSize = 64 * MiB;
  const pool = randomBytes(poolSize);
  const chunk = Buffer.alloc(MiB);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < sizeMiB; i++) {
      const off = ((i * 7919) % (poolSize / 64 - MiB / 64)) * 64;
      pool.copy(chunk, 0, off, off + MiB);
      chunk.writeBigUInt64LE(BigInt(i), 0);
      writeSync(fd, chunk);
    }
    // Written back now, so its writeback does not land on the first cp.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `cp src dst` timed, then fsync of the copy timed separately. The copy is removed. */
async function timeCp(src: string, dst: string): Promise<{ ms: number; fsyncMs: number }> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('cp', [src, dst], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`cp exited with ${code}`);
  const t1 = performance.now();
  const fd = openSync(dst, 'r+');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  const fsyncMs = performance.now() - t1;
  rmSync(dst, { force: true });
  return { ms, fsyncMs };
}

/** Compares a few 64 KiB windows of two files (start, middle, end of `size` bytes). */
function sameSample(a: string, b: string, size: number): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const n = Math.min(64 * 1024, size);
    const ba = Buffer.alloc(n);
    const bb = Buffer.alloc(n);
    for (const at of [0, Math.floor(size / 2), size - n]) {
      readSync(fa, ba, 0, n, at);
      readSync(fb, bb, 0, n, at);
      if (!ba.equals(bb)) return false;
    }
    return true;
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Filesystem (device, mount) of a path, from `df -P`, and its device number. */
function fsOf(path: string): { dev: number; df: string } {
  const out = spawnSync('df', ['-P', path], { encoding: 'utf8' }).stdout.trim().split('\n').pop() ?? '';
  const f = out.split(/\s+/);
  return { dev: statSync(path).dev, df: f.length >= 6 ? `${f[0]} on ${f[5]}` : '?' };
}

/** md5 and sha512 (what the server computes on every upload) of one buffer, one thread. */
function hashRates(buf: Buffer): { md5: number; sha512: number; both: number } {
  const one = (alg: string) => {
    const t = performance.now();
    createHash(alg).update(buf).digest();
    return rate(buf.length, performance.now() - t);
  };
  one('md5'); // warm
  const md5 = one('md5');
  const sha512 = one('sha512');
  return { md5, sha512, both: 1 / (1 / md5 + 1 / sha512) };
}

// ---------------------------------------------------------------------------------------

