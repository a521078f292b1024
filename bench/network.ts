/**
 * Network (Neutron v2) benchmark: port create throughput and port listing at 100, 1,000 and
 * 10,000 ports on one network. A page of 100 ports should cost the same whatever the
 * total; listing everything grows with the total. Ratios are to a bare node:http server
 * measured in the same run. `npx tsx bench/network.ts [--write]`.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { runLoad, send, type LoadResult } from './lib/load.js';
import { startBareServer, startStratus } from './lib/procs.js';
import { fmt, machine, reportLoadBench, type CaseRow } from './lib/report.js';

const WRITE = process.argv.includes('--write');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const WARMUP_MS = 300;
const CONCURRENCY = 8;
const SIZES = [100, 1000, 10_000];

const json = (v: unknown) => JSON.stringify(v);

async function main(): Promise<void> {
  const began = Date.now();
  const adminPassword = `bench-${randomBytes(12).toString('base64url')}`;
  const stratus = await startStratus(adminPassword);
  const bare = await startBareServer();
  const rows: CaseRow[] = [];
  const creates: { size: number; perSec: number }[] = [];
  const passes: { size: number; ms: number }[] = [];
  try {
    const o = stratus.origin;
    const v3 = new URL(stratus.authUrl).pathname.replace(/\/$/, '');
    const login = await send(o, { method: 'POST', path: `${v3}/auth/tokens`, headers: { 'content-type': 'application/json' },
      body: json({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }) });
    const token = String(login.headers['x-subject-token']);
    const project = JSON.parse(login.body).token.project.id;
    const h = { 'x-auth-token': token, 'content-type': 'application/json' };
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const call = async (method: string, path: string, body?: unknown, expect = 200) => {
      const r = await send(o, { method, path, headers: h, body: body === undefined ? undefined : json(body) }, agent);
      if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body || '{}');
    };
    await call('PUT', `/network/v2.0/quotas/${project}`, { quota: { port: -1 } });
    const net = (await call('POST', '/network/v2.0/networks', { network: { name: 'bench' } }, 201)).network;
    await call('POST', '/network/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.0.0.0/16' } }, 201);

    const before = await runLoad({ origin: bare.origin, request: () => ({ method: 'GET', path: '/' }), expectStatus: 200, concurrency: 16, durationMs: DURATION_MS, warmupMs: WARMUP_MS, serverPid: bare.pid });
    rows.push({ name: 'bare node:http GET (baseline)', result: before });

    let count = 0;
    for (const size of SIZES) {
      // Grow to `size` ports, CONCURRENCY creates at a time, timing the creates.
      const t = performance.now();
      const grow = size - count;
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < grow) { next++; await call('POST', '/network/v2.0/ports', { port: { network_id: net.id } }, 201); }
      }));
      count = size;
      creates.push({ size, perSec: grow / ((performance.now() - t) / 1000) });
      const page = (name: string, path: string): Promise<LoadResult> => runLoad({
        origin: o, request: () => ({ method: 'GET', path, headers: { 'x-auth-token': token } }), expectStatus: 200,
        concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS, serverPid: stratus.pid,
      }).then((r) => { rows.push({ name, result: r }); return r; });
      await page(`list 100 of ${fmt.int(size)} ports (limit=100)`, `/network/v2.0/ports?network_id=${net.id}&limit=100`);
      await page(`list page after a marker, ${fmt.int(size)} ports`, `/network/v2.0/ports?network_id=${net.id}&limit=100&sort_key=name&sort_dir=asc&marker=${(await call('GET', `/network/v2.0/ports?network_id=${net.id}&limit=1&sort_key=name&sort_dir=asc`)).ports[0].id}`);
      if (size <= 1000) await page(`list all ${fmt.int(size)} ports`, `/network/v2.0/ports?network_id=${net.id}`);
      // One more write, then the agent's next pass reads and compares the whole state.
      await call('PUT', `/network/v2.0/networks/${net.id}`, { network: { description: `at ${size}` } });
      await new Promise((r) => setTimeout(r, 1500));
      const l2 = (await call('GET', '/network/v2.0/agents?agent_type=Linux%20bridge%20agent')).agents[0];
      passes.push({ size, ms: Number(l2.configurations.last_pass_ms) });
    }
    const after = await runLoad({ origin: bare.origin, request: () => ({ method: 'GET', path: '/' }), expectStatus: 200, concurrency: 16, durationMs: DURATION_MS, warmupMs: WARMUP_MS, serverPid: bare.pid });
    rows.push({ name: 'bare node:http GET (baseline, after)', result: after });
    const baseline = Math.max(before.rps, after.rps);
    const pageAt = (n: number) => rows.find((r) => r.name === `list 100 of ${fmt.int(n)} ports (limit=100)`)?.result;
    const summary = [
      `Port create: ${creates.map((c) => `${fmt.int(c.perSec)}/s up to ${fmt.int(c.size)}`).join(', ')} (${CONCURRENCY} at a time; each create allocates the lowest free address by bisection on an index).`,
      `A page of 100 ports at 10,000 ports runs at ${fmt.ratio((pageAt(10_000)?.rps ?? 0) / (pageAt(100)?.rps ?? 1))} × its rate at 100 ports: the page, not the total, sets the cost.`,
      `Network agent pass (read the whole desired state, compare, hand the no-op plane the change): ${passes.map((x) => `${x.ms} ms at ${fmt.int(x.size)} ports`).join(', ')}; passes are at least ${200} ms apart and coalesce the writes in between, so a burst of creates costs a few passes.`,
      `Run ${new Date().toISOString()}, ${machine()}; whole bench ${((Date.now() - began) / 1000).toFixed(0)} s.`,
    ];
    reportLoadBench('network', 'Network (Neutron v2)', `\`npx tsx bench/network.ts --write\`; ${CONCURRENCY} concurrent, ${DURATION_MS / 1000} s per case; "× bare" against a bare node:http server in the same run.`, rows, baseline, summary, WRITE);
    agent.destroy();
  } finally {
    await bare.stop();
    await stratus.stop();
  }
}

await main();
