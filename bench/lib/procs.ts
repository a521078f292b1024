import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Servers under test, each in its own process so the load generator has its own event loop. */
export interface ServerProcess {
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`${what} not ready after ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    const onOut = (c: Buffer) => {
      out += c.toString('utf8');
      const m = out.match(pattern);
      if (m) done(null, m);
    };
    const onErr = (c: Buffer) => { err += c.toString('utf8'); };
    const onExit = (code: number | null, signal: string | null) =>
      done(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready\nstdout: ${out}\nstderr: ${err}`));
    function done(e: Error | null, m?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      // Keep draining so the child never blocks on a full pipe; echo stderr for diagnosis.
      child.stdout?.on('data', () => undefined);
      child.stderr?.on('data', (c: Buffer) => process.stderr.write(`[${what}] ${c.toString('utf8')}`));
      if (e) reject(e); else resolve(m!);
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.on('exit', onExit);
  });
}

function stopper(child: ChildProcess, cleanup?: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    cleanup?.();
  };
}

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 72000;
server.listen(0, '127.0.0.1', () => console.log('READY ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/** The baseline: a bare node:http server answering a tiny JSON 200 to anything. */
export async function startBareServer(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /READY (\d+)/, 'bare server', 10_000);
  return { origin: `http://127.0.0.1:${m[1]}`, pid: child.pid!, stop: stopper(child) };
}

const BARE_BLOB_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { pipeline, Transform } = require('node:stream');
const dir = process.argv[1];
const file = dir + '/blob';
const server = http.createServer((req, res) => {
  if (req.method === 'PUT') {
    const md5 = crypto.createHash('md5');
    const sha512 = crypto.createHash('sha512');
    let size = 0;
    const meter = new Transform({ transform(c, _e, done) { size += c.length; md5.update(c); sha512.update(c); done(null, c); } });
    const tmp = file + '.tmp';
    pipeline(req, meter, fs.createWriteStream(tmp, { highWaterMark: 1 << 20 }), (err) => {
      if (err) { res.writeHead(500); res.end(String(err)); return; }
      fs.open(tmp, 'r+', (e1, fd) => {
        if (e1) { res.writeHead(500); res.end(String(e1)); return; }
        fs.fsync(fd, () => fs.close(fd, () => fs.rename(tmp, file, () => {
          md5.digest('hex'); sha512.digest('hex');
          res.writeHead(204); res.end();
        })));
      });
    });
  } else if (req.method === 'GET') {
    req.resume();
    fs.stat(file, (err, st) => {
      if (err) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
      pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), res, () => undefined);
    });
  } else {
    req.resume();
    fs.rm(file, { force: true }, () => { res.writeHead(204); res.end(); });
  }
});
server.keepAliveTimeout = 72000;
server.listen(0, '127.0.0.1', () => console.log('READY ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The baseline for bulk data: a bare node:http server doing what an image upload must do
 * (stream the body through md5 and sha512 into a temporary file, fsync, rename, 204) and what
 * a download does (stream the file to the socket), with nothing else: no routing, auth or
 * database. PUT / stores, GET / returns, DELETE / removes the one blob under `dir`.
 */
export async function startBareBlobServer(dir: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['-e', BARE_BLOB_SERVER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /READY (\d+)/, 'bare blob server', 10_000);
  return { origin: `http://127.0.0.1:${m[1]}`, pid: child.pid!, stop: stopper(child) };
}

export interface StratusProcess extends ServerProcess {
  authUrl: string;
  adminPassword: string;
  dataDir: string;
}

/**
 * Stratus in its own process, as `npx tsx src/cli.ts start` would run it; `node --import tsx`
 * directly, so the pid is the server itself (tsx's CLI would add a relay process).
 */
export async function startStratus(adminPassword: string): Promise<StratusProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], {
    cwd: repoRoot,
    env: { ...process.env, STRATUS_ADMIN_PASSWORD: adminPassword, STRATUS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let m: RegExpMatchArray;
  try {
    m = await waitForLine(child, /Stratus ready at (\S+)/, 'stratus', 60_000);
  } catch (e) {
    await stopper(child)();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const authUrl = m[1]!;
  const origin = new URL(authUrl).origin;
  if (new URL(origin).hostname !== '127.0.0.1') throw new Error(`stratus is at ${origin}, expected 127.0.0.1`);
  return {
    origin, authUrl, adminPassword, dataDir, pid: child.pid!,
    stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })),
  };
}
