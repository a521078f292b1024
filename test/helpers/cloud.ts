import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCloud, type Cloud } from '../../src/cloud.js';
import type { Config } from '../../src/platform/config.js';

/**
 * A cloud on an ephemeral port with a temporary data directory. With
 * STRATUS_TEST_DATABASE=postgres://... each cloud gets a fresh PostgreSQL database.
 */
export interface TestCloud extends Cloud {
  dataDir: string;
  api(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  login(user: string, password: string, project?: string | null): Promise<string>;
  adminToken: string;
  restart(): Promise<TestCloud>;
  destroy(): Promise<void>;
}

export interface ApiResponse { status: number; headers: Headers; body: any; text: string }

async function freshDatabase(): Promise<string> {
  const base = process.env.STRATUS_TEST_DATABASE;
  if (!base || base === 'sqlite') return 'sqlite';
  const name = `stratus_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function testCloud(overrides: Partial<Config> = {}, reuse?: { dataDir: string; database: string }): Promise<TestCloud> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'stratus-test-'));
  const database = reuse?.database ?? await freshDatabase();
  process.env.STRATUS_ADMIN_PASSWORD = 'admin-secret';
  process.env.STRATUS_DEMO_PASSWORD = 'demo-secret';
  const defaults = (await import('../../src/platform/config.js')).defaultConfig({ dataDir });
  const cloud = await startCloud({
    dataDir, port: 0, host: '127.0.0.1', database, logLevel: 'silent',
    // Cheap hashing keeps the suite fast; the KDF itself is tested at full cost.
    identity: { ...defaults.identity, passwordHashCost: 10, ...overrides.identity },
    ...Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'identity')),
  });
  const api: TestCloud['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['x-auth-token'] = opts.token;
    if (opts.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(`${cloud.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) });
    const text = await res.text();
    let body: unknown = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = null; }
    return { status: res.status, headers: res.headers, body, text };
  };
  const login = async (user: string, password: string, project: string | null = user) => {
    const r = await api('POST', '/identity/v3/auth/tokens', { body: passwordAuth(user, password, project) });
    if (r.status !== 201) throw new Error(`login ${user} failed: ${r.status} ${r.text}`);
    return r.headers.get('x-subject-token')!;
  };
  const t: TestCloud = Object.assign(cloud, {
    dataDir, api, login, adminToken: '',
    async restart() { await cloud.close(); return testCloud(overrides, { dataDir, database }); },
    async destroy() { await cloud.close(); rmSync(dataDir, { recursive: true, force: true }); },
  });
  t.adminToken = await login('admin', 'admin-secret', 'admin');
  return t;
}

export function passwordAuth(user: string, password: string, project: string | null, extra: Record<string, unknown> = {}) {
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } }, ...extra },
      ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
    },
  };
}
