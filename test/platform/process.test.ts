import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { passwordAuth } from '../helpers/cloud.js';

/** The `stratus start` process as an operator runs it: crash safety and a clean stop. */
const dir = mkdtempSync(join(tmpdir(), 'stratus-process-'));
const env = { ...process.env, STRATUS_ADMIN_PASSWORD: 'admin-secret', STRATUS_LOG_LEVEL: 'warn' };

async function start(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--data-dir', dir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Stratus ready at (\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)); });
  });
  return { child, url };
}

const post = (url: string, path: string, body: unknown, token?: string) => fetch(`${url}${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) }, body: JSON.stringify(body),
});
const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

describe('stratus start', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged write when killed, and stops cleanly on SIGTERM', async () => {
    const first = await start();
    const login = await post(first.url, '/auth/tokens', passwordAuth('admin', 'admin-secret', 'admin'));
    const token = login.headers.get('x-subject-token')!;
    const created = await post(first.url, '/users', { user: { name: 'survivor', password: 'still-here' } }, token);
    expect(created.status).toBe(201);
    const gone = exited(first.child);
    first.child.kill('SIGKILL');
    await gone;
    expect(existsSync(join(dir, 'stratus.pid'))).toBe(true); // the stale lock a crash leaves

    const second = await start();
    const r = await post(second.url, '/auth/tokens', passwordAuth('survivor', 'still-here', null));
    expect(r.status).toBe(201);
    const code = exited(second.child);
    second.child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(existsSync(join(dir, 'stratus.pid'))).toBe(false);
  });
});
