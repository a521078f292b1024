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
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
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

/** GET of an image's data into a file (or, with `out` null, read and discarded), streamed. */
function downloadFile(origin: string, path: string, headers: Record<string, string>, out: string | null, agent: http.Agent): Promise<{ status: number; bytes: number; error?: string }> {
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
      if (out === null) {
        let bytes = 0;
        res.on('data', (c: Buffer) => { bytes += c.length; });
        res.on('end', () => resolve({ status, bytes }));
        res.on('error', reject);
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

/**
 * GET of an image's data into a file by curl, under /usr/bin/time for its CPU: a client
 * whose own cost is small, so the row shows what the server can send into a file.
 */
async function curlDownload(origin: string, path: string, headers: Record<string, string>, out: string): Promise<{ error: string | null; clientCpuMs?: number }> {
  if (new URL(origin).hostname !== '127.0.0.1') throw new Error('loopback (127.0.0.1) only');
  const argv = ['-f', '%U %S', 'curl', '-s', '-S', '-f', '-o', out, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${origin}${path}`];
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('/usr/bin/time', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const times = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr);
  if (r.code !== 0) return { error: `curl exited with ${r.code}: ${short(r.stderr)}` };
  return { error: null, ...(times ? { clientCpuMs: (Number(times[1]) + Number(times[2])) * 1000 } : {}) };
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

/** Runs a command; resolves with its wall time in ms, throws unless it exits 0. */
async function timeRun(cmd: string, argv: string[]): Promise<number> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${cmd} exited with ${code}`);
  return performance.now() - t0;
}

/**
 * A durable copy, `cp src dst && sync dst`, timed together: what a store that fsyncs before
 * it acknowledges could at best do with the same file on the same disk. The copy is removed.
 */
async function timeCpSync(src: string, dst: string): Promise<number> {
  const ms = await timeRun('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', src, dst]);
  rmSync(dst, { force: true });
  return ms;
}

/**
 * coreutils md5sum and sha512sum of the same file, started together (one core each): the
 * hashing an upload must do, with no network and no writes. Each tool's own time and the
 * pair's wall time.
 */
async function timeHashTools(src: string): Promise<{ md5sumMs: number; sha512sumMs: number; bothMs: number }> {
  const t0 = performance.now();
  const [md5sumMs, sha512sumMs] = await Promise.all([timeRun('md5sum', [src]), timeRun('sha512sum', [src])]);
  return { md5sumMs, sha512sumMs, bothMs: performance.now() - t0 };
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
function hashRates(buf: Buffer): { md5: number; sha512: number; both: number; parallel: number } {
  const one = (alg: string) => {
    const t = performance.now();
    createHash(alg).update(buf).digest();
    return rate(buf.length, performance.now() - t);
  };
  one('md5'); // warm
  const md5 = one('md5');
  const sha512 = one('sha512');
  // both: one after the other on one thread; parallel: one thread each (the slower one bounds).
  return { md5, sha512, both: 1 / (1 / md5 + 1 / sha512), parallel: Math.min(md5, sha512) };
}

// ---------------------------------------------------------------------------------------

interface Transfer {
  server: 'stratus' | 'bare';
  /** download: into a file; discard: read by the client and thrown away (the server's own send rate); curl: downloaded into a file by curl (a C client). */
  kind: 'upload' | 'download' | 'discard' | 'curl';
  sizeMiB: number;
  run: number;
  ok: boolean;
  error?: string;
  ms: number;
  /** Uploads: time from the client's last byte to the server's 204 (hashing what is still buffered, fsync, database). */
  tailMs: number;
  mibps: number;
  mem: ReturnType<ReturnType<typeof memoryWatch>['stop']>;
  serverCpuPct: number | null;
  clientCpuPct: number;
  otherCpuPct: number | null;
}

/** One server under test, as far as moving one image through it goes. */
interface Target {
  server: 'stratus' | 'bare';
  proc: ServerProcess;
  headers: Record<string, string>;
  /** Makes a place for one image's data; returns the path of its data. */
  create(name: string): Promise<{ path: string } | { error: string }>;
  remove(path: string): Promise<string | null>;
}

interface StepStats { name: string; p50: number; p99: number; mean: number }
interface SmallResult {
  concurrency: number;
  images: number;
  failed: number;
  failures: string[];
  ms: number;
  steps: StepStats[];
  serverCpuPct: number | null;
  rssBeforeMb: number;
  rssAfterMb: number;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sizeName = (m: number) => (m >= 1024 ? `${m / 1024} GiB` : `${m} MiB`);

/** One timed transfer, with the server's memory and everyone's CPU watched while it runs. */
async function timed(t: Target, kind: Transfer['kind'], sizeMiB: number, run: number, go: () => Promise<{ error: string | null; sentAt?: number; clientCpuMs?: number }>): Promise<Transfer> {
  await new Promise((r) => setTimeout(r, 200)); // let the previous transfer's garbage and writeback settle a little
  const pid = t.proc.pid;
  const mem = memoryWatch(pid);
  const s0 = procCpuMs(pid);
  const b0 = machineBusyMs();
  const c0 = process.cpuUsage();
  const start = performance.now();
  let out: { error: string | null; sentAt?: number; clientCpuMs?: number };
  try { out = await go(); } catch (e) { out = { error: String(e) }; }
  const end = performance.now();
  const ms = end - start;
  const s1 = procCpuMs(pid);
  const b1 = machineBusyMs();
  const c = process.cpuUsage(c0);
  const m = mem.stop();
  const serverCpuPct = s0 !== null && s1 !== null ? ((s1 - s0) / ms) * 100 : null;
  // A transfer made by a child process (curl) reports that process's CPU instead.
  const clientCpuPct = ((out.clientCpuMs ?? (c.user + c.system) / 1000) / ms) * 100;
  return {
    server: t.server, kind, sizeMiB, run, ok: out.error === null, ms, mibps: rate(sizeMiB * MiB, ms), mem: m,
    tailMs: out.sentAt !== undefined && Number.isFinite(out.sentAt) ? end - out.sentAt : NaN,
    serverCpuPct, clientCpuPct,
    otherCpuPct: b0 !== null && b1 !== null && serverCpuPct !== null ? Math.max(0, ((b1 - b0) / ms) * 100 - serverCpuPct - clientCpuPct) : null,
    ...(out.error !== null ? { error: out.error } : {}),
  };
}

/** Creates an image of `sizeMiB` (the start of `src`), uploads it, downloads it into `work`, deletes it. */
async function moveImage(t: Target, src: string, work: string, sizeMiB: number, run: number, agent: http.Agent): Promise<{ transfers: Transfer[]; errors: string[] }> {
  const size = sizeMiB * MiB;
  const errors: string[] = [];
  const transfers: Transfer[] = [];
  const made = await t.create(`bench-${sizeMiB}m-${run}`);
  if ('error' in made) return { transfers, errors: [`${t.server}, ${sizeName(sizeMiB)}: ${made.error}`] };
  const up = await timed(t, 'upload', sizeMiB, run, async () => {
    const r = await uploadFile(t.proc.origin, made.path, t.headers, src, size, agent);
    return { error: r.status === 204 ? null : `PUT ${made.path} answered ${r.status}: ${short(r.body.toString('utf8'))}`, sentAt: r.sentAt };
  });
  transfers.push(up);
  if (up.ok) {
    const out = join(work, 'download.bin');
    transfers.push(await timed(t, 'download', sizeMiB, run, async () => {
      const r = await downloadFile(t.proc.origin, made.path, t.headers, out, agent);
      if (r.status !== 200) return { error: `GET ${made.path} answered ${r.status}: ${r.error}` };
      if (r.bytes !== size) return { error: `GET ${made.path} returned ${r.bytes} bytes, expected ${size}` };
      return { error: sameSample(src, out, size) ? null : 'downloaded bytes differ from the uploaded ones' };
    }));
    rmSync(out, { force: true });
    if (sizeMiB === BIG_MIB) {
      transfers.push(await timed(t, 'discard', sizeMiB, run, async () => {
        const r = await downloadFile(t.proc.origin, made.path, t.headers, null, agent);
        if (r.status !== 200) return { error: `GET ${made.path} answered ${r.status}: ${r.error}` };
        return { error: r.bytes === size ? null : `GET ${made.path} returned ${r.bytes} bytes, expected ${size}` };
      }));
      transfers.push(await timed(t, 'curl', sizeMiB, run, async () => {
        const r = await curlDownload(t.proc.origin, made.path, t.headers, out);
        let error = r.error;
        if (error === null) {
          const got = statSync(out).size;
          error = got !== size ? `curl wrote ${got} bytes, expected ${size}` : sameSample(src, out, size) ? null : 'bytes downloaded by curl differ from the uploaded ones';
        }
        rmSync(out, { force: true });
        return { ...r, error };
      }));
    }
  }
  const gone = await t.remove(made.path);
  if (gone) errors.push(`${t.server}, deleting the ${sizeName(sizeMiB)} image: ${gone}`);
  return { transfers, errors };
}

async function main(): Promise<void> {
  const began = Date.now();
  const adminPassword = `bench-${randomBytes(12).toString('base64url')}`;
  const work = mkdtempSync(join(tmpdir(), 'stratus-bench-image-'));
  const src = join(work, 'source.bin');
  const findings: string[] = [];
  let stratus: StratusProcess | null = null;
  let bare: ServerProcess | null = null;
  try {
    const t0 = performance.now();
    makeSource(src, BIG_MIB);
    const genMs = performance.now() - t0;
    const bigBytes = BIG_MIB * MiB;

    const t1 = performance.now();
    stratus = await startStratus(adminPassword);
    const startupMs = performance.now() - t1;
    const bareDir = join(work, 'bare');
    mkdirSync(bareDir);
    bare = await startBareBlobServer(bareDir);
    const fsData = fsOf(stratus.dataDir);
    const fsWork = fsOf(work);
    const sameFs = fsData.dev === fsWork.dev;
    if (!sameFs) findings.push(`the data dir (${fsData.df}) and the temp dir (${fsWork.df}) are on different filesystems: the cp baseline does not match the server's disk`);

    // cp before the server cases; the hash ceiling while nothing else runs.
    const cpBefore = await timeCp(src, join(work, 'copy.bin'));
    const cpSyncBeforeMs = await timeCpSync(src, join(work, 'copy.bin'));
    const hashTools = await timeHashTools(src);
    const pool = Buffer.alloc(Math.min(bigBytes, 256 * MiB));
    const sfd = openSync(src, 'r');
    try { readSync(sfd, pool, 0, pool.length, 0); } finally { closeSync(sfd); }
    const hashes = hashRates(pool);

    const o = stratus.origin;
    const v3 = new URL(stratus.authUrl).pathname.replace(/\/$/, '');
    const issued = await send(o, { method: 'POST', path: `${v3}/auth/tokens`, body: json({
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } },
    }) });
    if (issued.status !== 201) throw new Error(`admin password auth failed: ${issued.status} ${short(issued.body)}`);
    const auth = { 'x-auth-token': String(issued.headers['x-subject-token']) };
    const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, SMALL_CONCURRENCY) });

    const stratusTarget: Target = {
      server: 'stratus', proc: stratus, headers: auth,
      async create(name) {
        const r = await request(o, 'POST', '/image/v2/images', { ...auth, 'content-type': 'application/json' }, json({ name, disk_format: 'raw', container_format: 'bare' }), agent);
        if (r.status !== 201) return { error: `POST /image/v2/images answered ${r.status}: ${short(r.body.toString('utf8'))}` };
        return { path: `/image/v2/images/${(JSON.parse(r.body.toString('utf8')) as { id: string }).id}/file` };
      },
      async remove(path) {
        const r = await request(o, 'DELETE', path.replace(/\/file$/, ''), auth, undefined, agent);
        return r.status === 204 ? null : `DELETE answered ${r.status}: ${short(r.body.toString('utf8'))}`;
      },
    };
    const bareTarget: Target = {
      server: 'bare', proc: bare, headers: {},
      create: async () => ({ path: '/' }),
      async remove(path) {
        const r = await request(bare!.origin, 'DELETE', path, {}, undefined, agent);
        return r.status === 204 ? null : `DELETE answered ${r.status}`;
      },
    };

    const transfers: Transfer[] = [];
    const move = async (t: Target, sizeMiB: number, run: number, keep = true) => {
      const r = await moveImage(t, src, work, sizeMiB, run, agent);
      if (keep) transfers.push(...r.transfers);
      findings.push(...r.errors);
      for (const x of r.transfers) if (!x.ok && !keep) findings.push(`warm-up ${x.kind} on ${t.server}: ${x.error}`);
    };
    // Warm-up, untimed: first-use costs (code loading, JIT, first buffers) stay off the 64 MiB row.
    await move(stratusTarget, 1, 0, false);
    await move(bareTarget, 1, 0, false);
    const baseline = procStatus(stratus.pid);
    for (const sizeMiB of SIZES_MIB.slice(0, -1)) await move(stratusTarget, sizeMiB, 1);
    // The largest image, alternately through Stratus and the bare server.
    for (let run = 1; run <= BIG_RUNS; run++) {
      await move(stratusTarget, BIG_MIB, run);
      await move(bareTarget, BIG_MIB, run);
    }

    // Many small images.
    const small = Buffer.alloc(SMALL_BYTES);
    pool.copy(small, 0, 0, SMALL_BYTES);
    const smallRuns: SmallResult[] = [];
    for (const [concurrency, count] of [[1, SMALL_SEQUENTIAL], [SMALL_CONCURRENCY, SMALL_COUNT]] as const) {
      if (count > 0) smallRuns.push(await smallImages(stratusTarget, auth, agent, small, concurrency, count));
    }

    // cp after; the faster of the two is the denominator.
    const cpAfter = await timeCp(src, join(work, 'copy.bin'));
    const cpSyncAfterMs = await timeCpSync(src, join(work, 'copy.bin'));
    agent.destroy();
    const finalMem = procStatus(stratus.pid);

    report({
      transfers, smallRuns, findings, hashes, hashTools, sameFs, fsData, fsWork, genMs, startupMs, cpBefore, cpAfter, cpSyncBeforeMs, cpSyncAfterMs, bigBytes,
      baselineRssMb: (baseline?.rssKb ?? NaN) / 1024, finalRssMb: (finalMem?.rssKb ?? NaN) / 1024, totalMs: Date.now() - began,
    });
  } finally {
    await bare?.stop();
    await stratus?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function smallImages(t: Target, auth: Record<string, string>, agent: http.Agent, data: Buffer, concurrency: number, count: number): Promise<SmallResult> {
  const o = t.proc.origin;
  const pid = t.proc.pid;
  const lat: Record<string, number[]> = { create: [], upload: [], download: [], delete: [], 'whole image': [] };
  const failures: string[] = [];
  let failed = 0;
  let next = 0;
  const rssBefore = procStatus(pid)?.rssKb ?? NaN;
  const s0 = procCpuMs(pid);
  const t0 = performance.now();
  const one = async (i: number): Promise<string | null> => {
    const a = performance.now();
    const made = await t.create(`bench-small-${concurrency}-${i}`);
    if ('error' in made) return made.error;
    const b = performance.now();
    const put = await request(o, 'PUT', made.path, { ...auth, 'content-type': 'application/octet-stream' }, data, agent);
    if (put.status !== 204) return `PUT /file answered ${put.status}: ${short(put.body.toString('utf8'))}`;
    const c = performance.now();
    const get = await request(o, 'GET', made.path, auth, undefined, agent);
    if (get.status !== 200 || !get.body.equals(data)) return `GET /file answered ${get.status} with ${get.body.length} bytes`;
    const d = performance.now();
    const gone = await t.remove(made.path);
    if (gone) return gone;
    const e = performance.now();
    lat.create!.push(b - a); lat.upload!.push(c - b); lat.download!.push(d - c); lat.delete!.push(e - d); lat['whole image']!.push(e - a);
    return null;
  };
  const worker = async () => {
    while (next < count && failures.length < 5) {
      const i = next++;
      let err: string | null;
      try { err = await one(i); } catch (e) { err = String(e); }
      if (err) { failed++; failures.push(err); }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  const s1 = procCpuMs(pid);
  const steps = Object.entries(lat).map(([name, v]) => {
    const sorted = v.sort((x, y) => x - y);
    return { name, p50: pct(sorted, 50), p99: pct(sorted, 99), mean: sorted.reduce((x, y) => x + y, 0) / (sorted.length || 1) };
  });
  return {
    concurrency, images: next - failed, failed, failures, ms, steps,
    serverCpuPct: s0 !== null && s1 !== null ? ((s1 - s0) / ms) * 100 : null,
    rssBeforeMb: rssBefore / 1024, rssAfterMb: (procStatus(pid)?.rssKb ?? NaN) / 1024,
  };
}

interface ReportInput {
  transfers: Transfer[];
  smallRuns: SmallResult[];
  findings: string[];
  hashes: { md5: number; sha512: number; both: number; parallel: number };
  hashTools: { md5sumMs: number; sha512sumMs: number; bothMs: number };
  cpSyncBeforeMs: number;
  cpSyncAfterMs: number;
  sameFs: boolean;
  fsData: { df: string };
  fsWork: { df: string };
  genMs: number;
  startupMs: number;
  cpBefore: { ms: number; fsyncMs: number };
  cpAfter: { ms: number; fsyncMs: number };
  bigBytes: number;
  baselineRssMb: number;
  finalRssMb: number;
  totalMs: number;
}

function report(r: ReportInput): void {
  const cpRates = [rate(r.bigBytes, r.cpBefore.ms), rate(r.bigBytes, r.cpAfter.ms)];
  const cpRate = Math.max(...cpRates);
  const cpBest = cpRates[0]! >= cpRates[1]! ? r.cpBefore : r.cpAfter;
  const cpFsyncRate = rate(r.bigBytes, cpBest.ms + cpBest.fsyncMs);
  const cpSyncRates = [rate(r.bigBytes, r.cpSyncBeforeMs), rate(r.bigBytes, r.cpSyncAfterMs)];
  /** The durable baseline: `cp && sync`, the faster of its two runs. */
  const cpSyncRate = Math.max(...cpSyncRates);
  const toolRates = { md5: rate(r.bigBytes, r.hashTools.md5sumMs), sha512: rate(r.bigBytes, r.hashTools.sha512sumMs), both: rate(r.bigBytes, r.hashTools.bothMs) };
  const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');
  const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(0)}` : '–');
  const secs = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '');
  const growth = (t: Transfer) => t.mem.peakMb - t.mem.beforeMb;
  const bigName = sizeName(BIG_MIB);

  const columns = ['case', '× cp', '× cp+sync', 'MiB/s', 'seconds', 'after last byte s', 'RSS before MB', 'peak RSS MB', 'peak growth MB', 'server CPU', 'client CPU', 'other CPU'];
  const cpRow = (name: string, v: number, ms: number) => [name, fmt.ratio(v / cpRate), fmt.ratio(v / cpSyncRate), fmt.int(v), secs(ms), '', '', '', '', '', '', ''];
  const body: string[][] = [
    cpRow('cp, before (baseline)', cpRates[0]!, r.cpBefore.ms),
    cpRow('cp && sync, before (durable baseline)', cpSyncRates[0]!, r.cpSyncBeforeMs),
    cpRow(`md5sum ‖ sha512sum ${bigName} (hash reference)`, toolRates.both, r.hashTools.bothMs),
  ];
  const bigRuns = r.transfers.filter((t) => t.sizeMiB === BIG_MIB).length > 2;
  for (const t of r.transfers) {
    const kindName = t.kind === 'discard' ? 'download, discarded' : t.kind === 'curl' ? 'download by curl' : t.kind;
    const name = `${t.server === 'bare' ? 'bare node:http ' : ''}${kindName} ${sizeName(t.sizeMiB)}${t.sizeMiB === BIG_MIB && bigRuns ? ` (run ${t.run})` : ''}`;
    if (!t.ok) { body.push([name, 'failed', '', '', '', '', '', '', '', '', '', '']); continue; }
    body.push([
      name, fmt.ratio(t.mibps / cpRate), fmt.ratio(t.mibps / cpSyncRate), fmt.int(t.mibps), secs(t.ms), secs(t.tailMs), mb(t.mem.beforeMb), mb(t.mem.peakMb), signed(growth(t)),
      fmt.pct(t.serverCpuPct), fmt.pct(t.clientCpuPct), fmt.pct(t.otherCpuPct),
    ]);
  }
  body.push(cpRow('cp, after (baseline)', cpRates[1]!, r.cpAfter.ms));
  body.push(cpRow('cp && sync, after (durable baseline)', cpSyncRates[1]!, r.cpSyncAfterMs));

  const smallColumns = ['small images (64 KiB)', 'images', 'images/s', 'requests/s', 'create p50/p99 ms', 'upload p50/p99 ms', 'download p50/p99 ms', 'delete p50/p99 ms', 'whole image p50/p99 ms', 'server CPU'];
  const smallBody = r.smallRuns.map((s) => {
    const step = (n: string) => { const x = s.steps.find((y) => y.name === n)!; return `${fmt.ms(x.p50)} / ${fmt.ms(x.p99)}`; };
    const sec = s.ms / 1000;
    return [
      `${s.concurrency} at a time`, `${s.images}${s.failed ? ` (${s.failed} failed)` : ''}`, fmt.int(s.images / sec), fmt.int((s.images * 4) / sec),
      step('create'), step('upload'), step('download'), step('delete'), step('whole image'), fmt.pct(s.serverCpuPct),
    ];
  });

  /** The best run of the largest image, per server and direction. */
  const best = (server: Transfer['server'], kind: Transfer['kind']) =>
    r.transfers.filter((t) => t.server === server && t.kind === kind && t.sizeMiB === BIG_MIB && t.ok).sort((a, b) => b.mibps - a.mibps)[0] ?? null;
  const summary: string[] = [];
  for (const kind of ['upload', 'download'] as const) {
    const t = best('stratus', kind);
    if (!t) { summary.push(`Target (${kind} of ${bigName} ≥ ${TARGET} × cp): not measured, the ${kind} failed.`); continue; }
    const ratio = t.mibps / cpRate;
    const durable = t.mibps / cpSyncRate;
    const worst = r.transfers.filter((x) => x.server === 'stratus' && x.kind === kind && x.sizeMiB === BIG_MIB && x.ok).sort((a, b) => a.mibps - b.mibps)[0]!;
    const b = best('bare', kind);
    summary.push(`Target (${kind} of ${bigName} ≥ ${TARGET} × cp): **${ratio >= TARGET ? 'met' : 'missed'}**, ${fmt.ratio(ratio)} × (${fmt.int(t.mibps)} vs ${fmt.int(cpRate)} MiB/s${BIG_RUNS > 1 ? `, best of ${BIG_RUNS} runs; worst ${fmt.ratio(worst.mibps / cpRate)} ×` : ''}); against the durable baseline, cp && sync (${fmt.int(cpSyncRate)} MiB/s): **${durable >= TARGET ? 'met' : 'missed'}**, ${fmt.ratio(durable)} ×${BIG_RUNS > 1 ? ` (worst ${fmt.ratio(worst.mibps / cpSyncRate)} ×)` : ''}${b ? `; the bare node:http server doing the same work reached ${fmt.ratio(b.mibps / cpRate)} × cp (${fmt.int(b.mibps)} MiB/s), so Stratus runs at ${fmt.ratio(t.mibps / b.mibps)} × bare Node` : ''}.`);
  }
  const dl = best('stratus', 'download');
  const discard = best('stratus', 'discard');
  const bareDiscard = best('bare', 'discard');
  const curlDl = best('stratus', 'curl');
  const bareCurl = best('bare', 'curl');
  if (discard) {
    summary.push(`The server's own send rate (the client reads the ${bigName} and throws it away): ${fmt.int(discard.mibps)} MiB/s = ${fmt.ratio(discard.mibps / cpRate)} × cp${bareDiscard ? ` (bare node:http ${fmt.int(bareDiscard.mibps)} MiB/s)` : ''}, server CPU ${fmt.pct(discard.serverCpuPct)}${dl ? `. Downloading into a file is slower, ${fmt.int(dl.mibps)} MiB/s, with the client at ${fmt.pct(dl.clientCpuPct)} CPU against the server's ${fmt.pct(dl.serverCpuPct)}: the client's own writes are most of that cost` : ''}.`);
  }
  if (curlDl) {
    summary.push(`Downloaded into a file by curl (a client that costs little CPU, where the bench's Node client is most of a download's cost): ${fmt.int(curlDl.mibps)} MiB/s = ${fmt.ratio(curlDl.mibps / cpRate)} × cp, ${fmt.ratio(curlDl.mibps / cpSyncRate)} × cp && sync (best of ${BIG_RUNS}; ${TARGET} × cp: **${curlDl.mibps / cpRate >= TARGET ? 'met' : 'missed'}**, ${TARGET} × cp && sync: **${curlDl.mibps / cpSyncRate >= TARGET ? 'met' : 'missed'}**)${bareCurl ? `; bare node:http ${fmt.int(bareCurl.mibps)} MiB/s` : ''}; server CPU ${fmt.pct(curlDl.serverCpuPct)}, curl ${fmt.pct(curlDl.clientCpuPct)}.`);
  }
  const smallest = SIZES_MIB[0]!;
  const memLines: string[] = [];
  let flat = true;
  let measuredMem = false;
  for (const kind of ['upload', 'download'] as const) {
    const ts = r.transfers.filter((t) => t.server === 'stratus' && t.kind === kind && t.ok);
    const lo = ts.find((t) => t.sizeMiB === smallest);
    const his = ts.filter((t) => t.sizeMiB === BIG_MIB);
    if (!lo || !his.length || smallest === BIG_MIB) continue;
    measuredMem = true;
    const hiGrowth = Math.max(...his.map(growth));
    const allowed = FLAT_FRACTION * (BIG_MIB - smallest) * (MiB / 1e6);
    if (!(hiGrowth - growth(lo) < allowed)) flat = false;
    const bySize = SIZES_MIB.map((m) => ({ m, g: Math.max(...ts.filter((t) => t.sizeMiB === m).map(growth)) }));
    memLines.push(`${kind} ${bySize.map(({ m, g }) => `${signed(g)} MB at ${sizeName(m)}`).join(', ')}`);
  }
  if (measuredMem) {
    summary.push(`Memory stays flat as the image grows (the ${bigName} transfers' peak RSS growth exceeds the ${sizeName(smallest)} one's by less than ${FLAT_FRACTION * 100}% of the size difference): **${flat ? 'yes' : 'no'}**. Peak growth: ${memLines.join('; ')}${BIG_RUNS > 1 ? ` (${bigName}: the larger of ${BIG_RUNS} runs)` : ''}.`);
  } else {
    summary.push('Memory flatness: not measured, a transfer failed.');
  }
  const upBig = best('stratus', 'upload');
  summary.push(`Hashing ceiling: every upload's md5 and sha512 are computed on two worker threads in parallel, one each, beside the event loop (blobs over 8 MiB; src/platform/blobs/hasher.ts). On one core md5 runs at ${fmt.int(r.hashes.md5)} MiB/s and sha512 at ${fmt.int(r.hashes.sha512)} MiB/s here (Node, 256 MiB in memory; coreutils md5sum ${fmt.int(toolRates.md5)} and sha512sum ${fmt.int(toolRates.sha512)} MiB/s on the ${bigName} file, run together, pair ${fmt.int(toolRates.both)} MiB/s = ${fmt.ratio(toolRates.both / cpRate)} × cp, ${fmt.ratio(toolRates.both / cpSyncRate)} × cp && sync). With both cores hashing and nothing else running, an upload cannot beat the slower digest, ${fmt.int(r.hashes.parallel)} MiB/s = ${fmt.ratio(r.hashes.parallel / cpRate)} × cp (on one thread, one after the other: ${fmt.int(r.hashes.both)} MiB/s); the two digests alone cost ${((1 / r.hashes.md5 + 1 / r.hashes.sha512) * mib(r.bigBytes)).toFixed(1)} CPU-seconds per ${bigName}, before the network and the writes${upBig ? `; the best ${bigName} upload ran at ${fmt.ratio(upBig.mibps / r.hashes.parallel)} × that ceiling` : ''}.`);
  summary.push(`Durability: an upload's time includes the server's fsync before its 204 ("after last byte" is the wait from the client's last byte to the 204); plain cp does not sync, and uses copy_file_range (the kernel copies page cache to page cache, no user-space buffers). \`cp && sync\`: ${fmt.int(cpSyncRates[0]!)} MiB/s before, ${fmt.int(cpSyncRates[1]!)} MiB/s after; fsync of the ${bigName} copy right after the faster plain cp took ${(cpBest.fsyncMs / 1000).toFixed(2)} s (cp + fsync: ${fmt.int(cpFsyncRate)} MiB/s)${upBig ? `; the best upload is ${fmt.ratio(upBig.mibps / cpSyncRate)} × the faster cp && sync` : ''}.`);
  for (const s of r.smallRuns) {
    if (s.failures.length) summary.push(`Small images, ${s.concurrency} at a time: ${s.failed} failed, e.g. ${s.failures[0]}.`);
  }
  const last = r.smallRuns[r.smallRuns.length - 1];
  if (last) summary.push(`Small images: ${fmt.int((last.images * 4) / (last.ms / 1000))} requests/s (${fmt.int(last.images / (last.ms / 1000))} images/s) with ${last.concurrency} at a time; server RSS ${mb(last.rssBeforeMb)} → ${mb(last.rssAfterMb)} MB over those ${last.images} images.`);

  const context = [
    `Run ${new Date().toISOString()}, ${machine()}.`,
    `Disk: data dir ${r.fsData.df}, temp dir ${r.fsWork.df}: ${r.sameFs ? 'same filesystem' : '**different filesystems**'}. Page cache not dropped: the source file is hot for cp and for uploads alike, and every write lands in the page cache first.`,
    `cp of ${bigName}: ${fmt.int(cpRates[0]!)} MiB/s before, ${fmt.int(cpRates[1]!)} MiB/s after the server cases; ratios use the faster, ${fmt.int(cpRate)} MiB/s; "× cp+sync" uses the faster \`cp && sync\`, ${fmt.int(cpSyncRate)} MiB/s.`,
    `Generating the ${bigName} source file took ${(r.genMs / 1000).toFixed(1)} s; Stratus start-up (fresh data dir) ${(r.startupMs / 1000).toFixed(1)} s; server RSS ${mb(r.baselineRssMb)} MB before the timed transfers, ${mb(r.finalRssMb)} MB at the end; whole bench ${(r.totalMs / 1000).toFixed(0)} s.`,
    ...(Math.max(...cpRates) / Math.min(...cpRates) > 1.5
      ? [`Noise: the two cp runs differ by ${fmt.ratio(Math.max(...cpRates) / Math.min(...cpRates))} ×; on this machine writing fresh page-cache pages costs very different amounts of kernel time from one minute to the next, so every "× cp" figure carries that uncertainty.`]
      : []),
    ...r.findings.map((f) => `Finding: ${f}.`),
  ];
  const errs = r.transfers.filter((t) => !t.ok).map((t) => `${t.server} ${t.kind} ${sizeName(t.sizeMiB)}: ${t.error}`);
  const hwmNote = r.transfers.some((t) => !t.mem.hwmReset)
    ? 'Peak RSS is the highest VmRSS seen polling /proc/PID/status every 10 ms (VmHWM could not be reset).'
    : 'Peak RSS is the kernel\'s VmHWM, reset (`/proc/PID/clear_refs`) just before each transfer, or the highest VmRSS seen polling every 10 ms if that is higher; "peak growth" is the peak minus VmRSS just before the transfer.';

  process.stdout.write(`\nImage benchmark: ${SIZES_MIB.map(sizeName).join(', ')} images (${bigName} ${BIG_RUNS}×), then ${r.smallRuns.map((s) => `${s.images} small ${s.concurrency} at a time`).join(' and ')}\n\n`);
  process.stdout.write(`${simpleTable(columns, body, false)}\n\n${simpleTable(smallColumns, smallBody, false)}\n\n`);
  process.stdout.write(`${[...summary, ...context].map((l) => `- ${l.replace(/\*\*/g, '')}`).join('\n')}\n`);
  if (errs.length) process.stdout.write(`\nfailures:\n${errs.map((e) => `  ! ${e}`).join('\n')}\n`);

  if (WRITE) {
    const md = [
      '## Image (Glance v2)',
      '',
      `\`npx tsx bench/image.ts --write\`. One client, one transfer at a time: each image (${SIZES_MIB.map(sizeName).join(', ')}; ${bigName} ${BIG_RUNS} times) is created, uploaded from a file (\`PUT /v2/images/{id}/file\`, streamed, with Content-Length), downloaded into a file (\`GET …/file\`, streamed, first, middle and last 64 KiB compared) and deleted; a 1 MiB image goes first, untimed. The source is random-ish data in a temp dir on the same filesystem as the server's data dir. "× cp" is a transfer's rate divided by \`cp\` of the same ${bigName} file within that directory, run once before and once after the server cases (the faster of the two); "× cp+sync" divides by the durable copy, \`cp src dst && sync dst\` timed together, also run before and after (the faster of the two), since an upload is acknowledged only once fsynced and plain cp leaves its copy in the page cache. The *md5sum ‖ sha512sum* row is coreutils hashing the same file, both tools started together. Rates cover the whole request: for uploads until the 204, which the server sends after hashing (md5, sha512), fsync and the database update; for downloads until the last byte is in the client's file. The *download, discarded* rows read the ${bigName} image and throw the bytes away, which measures the server's sending without the client's file writes. The *download by curl* rows download the ${bigName} image into a file with curl instead of the bench's Node client (client CPU is curl's, from /usr/bin/time). The *bare node:http* rows are a reference measured in the same run: a bare Node server that streams the body through md5 and sha512 into a file, fsyncs and answers 204, and streams the file back, with no routing, auth or database. ${hwmNote} "Other CPU" is every other process on the machine, kernel writeback included.`,
      '',
      simpleTable(columns, body, true),
      '',
      `Many small images: each is created, uploaded (64 KiB), downloaded (checked) and deleted, 4 requests; first ${SMALL_SEQUENTIAL} one at a time, then ${SMALL_COUNT} with ${SMALL_CONCURRENCY} clients in parallel, over keep-alive connections.`,
      '',
      simpleTable(smallColumns, smallBody, true),
      '',
      ...summary.map((l) => `- ${l}`),
      ...context.map((l) => `- ${l}`),
      ...(errs.length ? ['', 'Failures:', '', ...errs.map((e) => `- \`${e.replace(/`/g, "'")}\``)] : []),
    ].join('\n');
    const path = writeSection('image', md);
    process.stdout.write(`\nwrote ${path}\n`);
  }
}

await main();
