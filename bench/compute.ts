/**
 * Compute (Nova v2.1) benchmark on the fake hypervisor: 1,000 servers created concurrently
 * (each with a port on a project network), time to ACTIVE and throughput; then server list
 * latency (a page of 100, and the detailed page) at 100, 1,000 and 10,000 servers. Ratios
 * are to a bare node:http server measured in the same run. `npx tsx bench/compute.ts [--write]`.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { runLoad, send } from './lib/load.js';
import { startBareServer, startStratus } from './lib/procs.js';
import { fmt, machine, reportLoadBench, type CaseRow } from './lib/report.js';

const WRITE = process.argv.includes('--write');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const CREATORS = 50;
const BURST = Number(process.env.BENCH_SERVERS ?? 1000);
const SIZES = [100, 1000, 10_000];
const json = (v: unknown) => JSON.stringify(v);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0; };

async function main(): Promise<void> {
  const began = Date.now();
  const adminPassword = `bench-${randomBytes(12).toString('base64url')}`;
  const stratus = await startStratus(adminPassword);
  const bare = await startBareServer();
  const rows: CaseRow[] = [];
  const summary: string[] = [];
  try {
    const o = stratus.origin;
    const v3 = new URL(stratus.authUrl).pathname.replace(/\/$/, '');
    const login = await send(o, { method: 'POST', path: `${v3}/auth/tokens`, headers: { 'content-type': 'application/json' },
      body: json({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }) });
    const token = String(login.headers['x-subject-token']);
    const project = JSON.parse(login.body).token.project.id;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CREATORS });
    const h = { 'x-auth-token': token, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown, expect = 200) => {
      const r = await send(o, { method, path, headers: h, body: body === undefined ? undefined : json(body) }, agent);
      if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body || '{}');
    };
    // A bench project may use everything; a tiny flavor so 10,000 servers fit on the fake hosts.
    await call('PUT', `/compute/v2.1/os-quota-sets/${project}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    await call('PUT', `/network/v2.0/quotas/${project}`, { quota: { port: -1 } });
    const flavor = (await call('POST', '/compute/v2.1/flavors', { flavor: { name: 'bench.tiny', vcpus: 1, ram: 64, disk: 1 } })).flavor.id;
    const image = (await call('POST', '/image/v2/images', { name: 'bench', disk_format: 'raw', container_format: 'bare' }, 201)).id;
    await send(o, { method: 'PUT', path: `/image/v2/images/${image}/file`, headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' }, body: 'x'.repeat(4096) }, agent);
    const net = (await call('POST', '/network/v2.0/networks', { network: { name: 'bench' } }, 201)).network.id;
    await call('POST', '/network/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '10.0.0.0/16' } }, 201);

    // 1,000 servers at once (50 clients), each with a port: 202 latency, then time until all are ACTIVE.
    const created: string[] = [];
    const acceptMs: number[] = [];
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: CREATORS }, async () => {
      while (next < BURST) {
        next++;
        const s = performance.now();
        const r = await call('POST', '/compute/v2.1/servers', { server: { name: `burst-${next}`, imageRef: image, flavorRef: flavor, networks: [{ uuid: net }] } }, 202);
        acceptMs.push(performance.now() - s);
        created.push(r.server.id);
      }
    }));
    const accepted = performance.now() - t0;
    const activeAt = new Map<string, number>();
    while (activeAt.size < created.length) {
      const page = await call('GET', '/compute/v2.1/servers/detail?status=ACTIVE&limit=100000');
      for (const s of page.servers) if (!activeAt.has(s.id)) activeAt.set(s.id, performance.now() - t0);
      const errors = (await call('GET', '/compute/v2.1/servers?status=ERROR')).servers.length;
      if (errors) throw new Error(`${errors} servers went to ERROR`);
      if (performance.now() - t0 > 600_000) throw new Error('servers did not become ACTIVE within 10 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const allActive = Math.max(...activeAt.values());
    summary.push(`${fmt.int(BURST)} servers created by ${CREATORS} concurrent clients: accepted (202) in ${(accepted / 1000).toFixed(1)} s (${fmt.int(BURST / (accepted / 1000))}/s; accept latency p50 ${pct(acceptMs, 50).toFixed(0)} ms, p99 ${pct(acceptMs, 99).toFixed(0)} ms), all ACTIVE after ${(allActive / 1000).toFixed(1)} s (${fmt.int(BURST / (allActive / 1000))} servers/s end to end, each scheduled, given a port and spawned on the fake hypervisor with its default 50 ms per operation).`);

    const before = await runLoad({ origin: bare.origin, request: () => ({ method: 'GET', path: '/' }), expectStatus: 200, concurrency: 8, durationMs: DURATION_MS, warmupMs: 300, serverPid: bare.pid });
    rows.push({ name: 'bare node:http GET (baseline)', result: before });
    let count = BURST;
    for (const size of SIZES) {
      if (size > count) {
        // Grow without networks (networks: none, 2.37) so 10,000 servers do not need 10,000 ports.
        let i = count;
        await Promise.all(Array.from({ length: CREATORS }, async () => {
          while (i < size) {
            i++;
            await send(o, { method: 'POST', path: '/compute/v2.1/servers', headers: { ...h, 'X-OpenStack-Nova-API-Version': '2.37' }, body: json({ server: { name: `grow-${i}`, imageRef: image, flavorRef: flavor, networks: 'none' } }) }, agent);
          }
        }));
        count = size;
      }
      const page = (name: string, path: string) => runLoad({
        origin: o, request: () => ({ method: 'GET', path, headers: { 'x-auth-token': token } }), expectStatus: 200,
        concurrency: 8, durationMs: DURATION_MS, warmupMs: 300, serverPid: stratus.pid,
      }).then((r) => rows.push({ name, result: r }));
      await page(`GET /servers?limit=100 at ${fmt.int(size)} servers`, '/compute/v2.1/servers?limit=100');
      await page(`GET /servers/detail?limit=100 at ${fmt.int(size)} servers`, '/compute/v2.1/servers/detail?limit=100');
    }
    const after = await runLoad({ origin: bare.origin, request: () => ({ method: 'GET', path: '/' }), expectStatus: 200, concurrency: 8, durationMs: DURATION_MS, warmupMs: 300, serverPid: bare.pid });
    rows.push({ name: 'bare node:http GET (baseline, after)', result: after });
    const baseline = Math.max(before.rps, after.rps);
    const rate = (n: number, detail: boolean) => rows.find((r) => r.name === `GET /servers${detail ? '/detail' : ''}?limit=100 at ${fmt.int(n)} servers`)?.result?.rps ?? 0;
    summary.push(`A page of 100 servers at 10,000 servers runs at ${fmt.ratio(rate(10_000, false) / rate(100, false))} × its rate at 100 (detail: ${fmt.ratio(rate(10_000, true) / rate(100, true))} ×).`);
    summary.push(`Run ${new Date().toISOString()}, ${machine()}; whole bench ${((Date.now() - began) / 1000).toFixed(0)} s.`);
    reportLoadBench('compute', 'Compute (Nova v2.1, fake hypervisor)', `\`npx tsx bench/compute.ts --write\`; lists with 8 concurrent clients, ${DURATION_MS / 1000} s per case; "× bare" against a bare node:http server in the same run.`, rows, baseline, summary, WRITE);
    agent.destroy();
  } finally {
    await bare.stop();
    await stratus.stop();
  }
}

await main();
