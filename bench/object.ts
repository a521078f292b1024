/**
 * Object storage (Swift API) benchmark: PUT and GET throughput for 1 MiB objects, one
 * 1 GiB object and 10,000 objects of 4 KiB, each as a ratio to writing (write + fsync, as
 * the blob store does) and reading the same data directly with fs in the same run, on the
 * same disk. `npx tsx bench/object.ts [--write]`; `--write` rewrites the object section of
 * docs/benchmarks.md. Sizes and counts can be lowered with BENCH_OBJECT_BIG_MB,
 * BENCH_OBJECT_MEDIUM_COUNT, BENCH_OBJECT_SMALL_COUNT and BENCH_OBJECT_CONCURRENCY.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startStratus } from './lib/procs.js';
import { machine, simpleTable, writeSection } from './lib/report.js';

const WRITE = process.argv.includes('--write');
const MiB = 1 << 20;
const BIG_MB = Number(process.env.BENCH_OBJECT_BIG_MB ?? 1024);
const MEDIUM_COUNT = Number(process.env.BENCH_OBJECT_MEDIUM_COUNT ?? 200);
const SMALL_COUNT = Number(process.env.BENCH_OBJECT_SMALL_COUNT ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_OBJECT_CONCURRENCY ?? 16);

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function req(origin: string, method: string, path: string, headers: Record<string, string | number>, body?: Buffer | string | NodeJS.ReadableStream): Promise<{ status: number; bytes: number; body: Buffer }> {
  const u = new URL(origin);
  if (u.hostname !== '127.0.0.1') throw new Error('loopback only');
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
      let bytes = 0;
      const keep: Buffer[] = [];
      res.on('data', (c: Buffer) => { bytes += c.length; if (keep.length < 4) keep.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: Buffer.concat(keep) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    if (body && typeof (body as NodeJS.ReadableStream).pipe === 'function') pipeline(body as NodeJS.ReadableStream, r).catch(reject);
    else r.end(body as Buffer | string | undefined);
  });
}

/** Runs `n` tasks with at most `k` at a time; returns elapsed ms. */
async function pool(n: number, k: number, task: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(k, n) }, async () => { while (next < n) await task(next++); }));
  return performance.now() - t0;
}

/** What the blob store does for one object, done directly: temp file, write, fsync, rename. */
async function fsPut(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `.tmp-${name}`);
  const fh = await open(tmp, 'w');
  await fh.writeFile(data);
  await fh.sync();
  await fh.close();
  await rename(tmp, join(dir, name));
}

interface Row { name: string; stratus: number; fs: number; unit: string }

async function main() {
  const password = randomBytes(12).toString('hex');
  const s = await startStratus(password);
  const work = mkdtempSync(join(tmpdir(), 'stratus-bench-object-'));
  const rows: Row[] = [];
  try {
    const token = await new Promise<string>((resolve, reject) => {
      // The token is in a response header, which req() does not return.
      const u = new URL(s.origin);
      const r = http.request({ host: u.hostname, port: u.port, method: 'POST', path: '/identity/v3/auth/tokens', headers: { 'content-type': 'application/json' } }, (res) => { res.resume(); resolve(String(res.headers['x-subject-token'])); });
      r.on('error', reject);
      r.end(JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }));
    });
    const projects = await new Promise<string>((resolve, reject) => {
      const u = new URL(s.origin);
      const r = http.request({ host: u.hostname, port: u.port, method: 'GET', path: '/identity/v3/auth/projects', headers: { 'x-auth-token': token } }, (res) => {
        const cs: Buffer[] = []; res.on('data', (c: Buffer) => cs.push(c)); res.on('end', () => resolve(Buffer.concat(cs).toString()));
      });
      r.on('error', reject); r.end();
    });
    const project = (JSON.parse(projects).projects as { id: string; name: string }[]).find((p) => p.name === 'admin')!.id;
    const acct = `/object-store/v1/AUTH_${project}`;
    const h = { 'x-auth-token': token };
    for (const cont of ['medium', 'big', 'small']) await req(s.origin, 'PUT', `${acct}/${cont}`, { ...h, 'content-length': 0 });
    const fsDir = join(work, 'fs');
    mkdirSync(fsDir, { recursive: true });

    // 1 MiB objects, CONCURRENCY at a time.
    const medium = randomBytes(MiB);
    const mPut = await pool(MEDIUM_COUNT, CONCURRENCY, async (i) => {
      const r = await req(s.origin, 'PUT', `${acct}/medium/o${i}`, { ...h, 'content-length': medium.length }, medium);
      if (r.status !== 201) throw new Error(`PUT ${r.status}`);
    });
    const mFsPut = await pool(MEDIUM_COUNT, CONCURRENCY, (i) => fsPut(fsDir, `m${i}`, medium));
    const mGet = await pool(MEDIUM_COUNT, CONCURRENCY, async (i) => {
      const r = await req(s.origin, 'GET', `${acct}/medium/o${i}`, h);
      if (r.status !== 200 || r.bytes !== MiB) throw new Error(`GET ${r.status}`);
    });
    const mFsGet = await pool(MEDIUM_COUNT, CONCURRENCY, async (i) => { await readFile(join(fsDir, `m${i}`)); });
    const mb = (MEDIUM_COUNT * MiB) / MiB;
    rows.push({ name: `PUT ${MEDIUM_COUNT} × 1 MiB`, stratus: mb / (mPut / 1000), fs: mb / (mFsPut / 1000), unit: 'MiB/s' });
    rows.push({ name: `GET ${MEDIUM_COUNT} × 1 MiB`, stratus: mb / (mGet / 1000), fs: mb / (mFsGet / 1000), unit: 'MiB/s' });

    // One big object, streamed from a file both ways.
    const src = join(work, 'big.src');
    const fd = openSync(src, 'w');
    const block = randomBytes(8 * MiB);
    for (let n = 0; n < BIG_MB; n += 8) writeSync(fd, block, 0, Math.min(8, BIG_MB - n) * MiB);
    fsyncSync(fd); closeSync(fd);
    const size = BIG_MB * MiB;
    let t0 = performance.now();
    const put = await req(s.origin, 'PUT', `${acct}/big/one`, { ...h, 'content-length': size }, createReadStream(src, { highWaterMark: MiB }));
    if (put.status !== 201) throw new Error(`big PUT ${put.status} ${put.body}`);
    const bPut = performance.now() - t0;
    t0 = performance.now();
    const dst = join(fsDir, 'big.copy');
    await pipeline(createReadStream(src, { highWaterMark: MiB }), createWriteStream(dst));
    const fh = await open(dst, 'r+'); await fh.sync(); await fh.close();
    const bFsPut = performance.now() - t0;
    t0 = performance.now();
    const got = await req(s.origin, 'GET', `${acct}/big/one`, h);
    if (got.bytes !== size) throw new Error(`big GET ${got.status} ${got.bytes}`);
    const bGet = performance.now() - t0;
    t0 = performance.now();
    for await (const _ of createReadStream(dst, { highWaterMark: MiB })) { /* read and drop */ }
    const bFsGet = performance.now() - t0;
    rows.push({ name: `PUT 1 × ${BIG_MB} MiB`, stratus: BIG_MB / (bPut / 1000), fs: BIG_MB / (bFsPut / 1000), unit: 'MiB/s' });
    rows.push({ name: `GET 1 × ${BIG_MB} MiB`, stratus: BIG_MB / (bGet / 1000), fs: BIG_MB / (bFsGet / 1000), unit: 'MiB/s' });
    rmSync(src, { force: true });

    // Many small objects.
    const small = randomBytes(4096);
    const sPut = await pool(SMALL_COUNT, CONCURRENCY, async (i) => {
      const r = await req(s.origin, 'PUT', `${acct}/small/o${i}`, { ...h, 'content-length': small.length }, small);
      if (r.status !== 201) throw new Error(`PUT ${r.status}`);
    });
    const sFsPut = await pool(SMALL_COUNT, CONCURRENCY, (i) => fsPut(fsDir, `s${i}`, small));
    const sGet = await pool(SMALL_COUNT, CONCURRENCY, async (i) => {
      const r = await req(s.origin, 'GET', `${acct}/small/o${i}`, h);
      if (r.status !== 200) throw new Error(`GET ${r.status}`);
    });
    const sFsGet = await pool(SMALL_COUNT, CONCURRENCY, async (i) => { await readFile(join(fsDir, `s${i}`)); });
    rows.push({ name: `PUT ${SMALL_COUNT} × 4 KiB`, stratus: SMALL_COUNT / (sPut / 1000), fs: SMALL_COUNT / (sFsPut / 1000), unit: 'objects/s' });
    rows.push({ name: `GET ${SMALL_COUNT} × 4 KiB`, stratus: SMALL_COUNT / (sGet / 1000), fs: SMALL_COUNT / (sFsGet / 1000), unit: 'objects/s' });
    const list = await req(s.origin, 'GET', `${acct}/small?limit=10000&format=json`, h);
    if (list.status !== 200) throw new Error(`listing ${list.status}`);
  } finally {
    agent.destroy();
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const columns = ['case', 'Stratus', 'fs directly', 'unit', '× fs'];
  const body = rows.map((r) => [r.name, r.stratus.toFixed(1), r.fs.toFixed(1), r.unit, (r.stratus / r.fs).toFixed(2)]);
  process.stdout.write(`${simpleTable(columns, body, false)}\n`);
  if (WRITE) {
    const md = `## Object storage\n\n${machine()}\n\nSwift API over HTTP (loopback, ${CONCURRENCY} requests at a time for the many-object cases) against the same bytes written (temp file, write, fsync, rename) and read with fs directly in the same run, on the same disk.\n\n${simpleTable(columns, body, true)}\n`;
    process.stdout.write(`wrote ${writeSection('object', md)}\n`);
  }
}

await main();
