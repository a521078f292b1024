/**
 * Block Storage (Cinder v3) benchmark: a 1 GiB volume created from a 1 GiB image, backed up
 * and restored, each timed from the API call until the resource is available, as a ratio to
 * copying the same file with `cp` (and `cp` + `sync`) on the same disk in the same run.
 * `npx tsx bench/volume.ts [--write]`; `--write` rewrites the volume section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startStratus } from './lib/procs.js';
import { fmt, machine, simpleTable, writeSection } from './lib/report.js';

const WRITE = process.argv.includes('--write');
const GiB = 1024 ** 3;
const SIZE_GB = Number(process.env.BENCH_VOLUME_GB ?? 1);
const RUNS = Math.max(1, Number(process.env.BENCH_VOLUME_RUNS ?? 2));

interface Reply { status: number; body: string; headers: http.IncomingHttpHeaders }
function request(origin: string, method: string, path: string, headers: Record<string, string>, body?: string | NodeJS.ReadableStream): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mibs = (ms: number) => `${((SIZE_GB * 1024) / (ms / 1000)).toFixed(0)} MiB/s`;

function timeCommand(cmd: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  const adminPassword = randomBytes(12).toString('hex');
  const s = await startStratus(adminPassword);
  try {
    const o = s.origin;
    const login = await request(o, 'POST', '/identity/v3/auth/tokens', { 'content-type': 'application/json' }, JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } },
    }));
    const token = String(login.headers['x-subject-token']);
    const project = JSON.parse(login.body).token.project.id as string;
    const h = { 'x-auth-token': token, 'content-type': 'application/json' };
    const api = async (method: string, path: string, body?: unknown, want = [200, 202]) => {
      const r = await request(o, method, path, h, body === undefined ? undefined : JSON.stringify(body));
      if (!want.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return r.body ? JSON.parse(r.body) : null;
    };
    const v3 = `/volume/v3/${project}`;
    const waitFor = async (path: string, key: string, want: string) => {
      for (;;) {
        const b = await api('GET', path);
        if (b[key].status === want) return b[key];
        if (/error/.test(b[key].status)) throw new Error(`${path} went ${b[key].status}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // The source: SIZE_GB of random bytes (incompressible, no zero runs to skip) as a file and as an image.
    const src = join(s.dataDir, 'bench-source.raw');
    const fd = openSync(src, 'w');
    const block = randomBytes(64 << 20);
    for (let written = 0; written < SIZE_GB * GiB; written += block.length) writeSync(fd, block.subarray(0, Math.min(block.length, SIZE_GB * GiB - written)));
    closeSync(fd);
    const image = await api('POST', '/image/v2/images', { name: 'bench-volume-source', disk_format: 'raw', container_format: 'bare' }, [201]);
    const up = await request(o, 'PUT', `/image/v2/images/${image.id}/file`, { 'x-auth-token': token, 'content-type': 'application/octet-stream', 'content-length': String(statSync(src).size) }, createReadStream(src));
    if (up.status !== 204) throw new Error(`image upload: ${up.status} ${up.body}`);

    const rows: Array<{ what: string; ms: number[] }> = [
      { what: '`cp` of the file', ms: [] }, { what: '`cp` + `sync`', ms: [] },
      { what: 'volume from image', ms: [] }, { what: 'full backup', ms: [] }, { what: 'restore to a new volume', ms: [] },
    ];
    for (let run = 0; run < RUNS; run++) {
      const dst = join(s.dataDir, `bench-copy-${run}.raw`);
      // Same disk, same page cache state as the server has: the file was just written.
      rows[0]!.ms.push(timeCommand('cp', ['--reflink=never', src, dst]));
      rmSync(dst, { force: true });
      rows[1]!.ms.push(timeCommand('sh', ['-c', `cp --reflink=never '${src}' '${dst}' && sync`]));
      rmSync(dst, { force: true });

      let t = performance.now();
      const vol = (await api('POST', `${v3}/volumes`, { volume: { size: SIZE_GB, imageRef: image.id, name: `bench-${run}` } })).volume;
      await waitFor(`${v3}/volumes/${vol.id}`, 'volume', 'available');
      rows[2]!.ms.push(performance.now() - t);

      t = performance.now();
      const backup = (await api('POST', `${v3}/backups`, { backup: { volume_id: vol.id, name: `bench-${run}` } })).backup;
      await waitFor(`${v3}/backups/${backup.id}`, 'backup', 'available');
      rows[3]!.ms.push(performance.now() - t);

      t = performance.now();
      const restore = (await api('POST', `${v3}/backups/${backup.id}/restore`, { restore: { name: `bench-restored-${run}` } })).restore;
      await waitFor(`${v3}/volumes/${restore.volume_id}`, 'volume', 'available');
      rows[4]!.ms.push(performance.now() - t);

      await api('DELETE', `${v3}/backups/${backup.id}`);
      for (const id of [vol.id, restore.volume_id]) await api('DELETE', `${v3}/volumes/${id}`);
    }
    const best = rows.map((r) => ({ what: r.what, ms: Math.min(...r.ms) }));
    const cp = best[0]!.ms;
    const cpSync = best[1]!.ms;
    const body = best.map((r) => [r.what, seconds(r.ms), mibs(r.ms), fmt.ratio(cp / r.ms), fmt.ratio(cpSync / r.ms)]);
    const columns = ['operation', `time (${SIZE_GB} GiB, best of ${RUNS})`, 'rate', '× cp', '× cp+sync'];
    process.stdout.write(`${simpleTable(columns, body, false)}\n`);
    if (WRITE) {
      const md = [
        '## Block Storage (Cinder v3, file backend)', '',
        `A ${SIZE_GB} GiB volume created from a ${SIZE_GB} GiB raw image of random bytes, backed up (full: 32 MiB chunks, zlib, sha256, into Object Storage) and restored to a new volume, each timed from the API call until the resource is available; the baseline is \`cp\` of the same file on the same disk in the same run (\`npx tsx bench/volume.ts --write\`). ${machine()}`, '',
        simpleTable(columns, body, true),
      ].join('\n');
      process.stdout.write(`\nwrote ${writeSection('volume', md)}\n`);
    }
  } finally {
    await s.stop();
  }
}

await main();
