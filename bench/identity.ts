/**
 * Identity (Keystone v3) benchmark: token issue by each method, token validation, the cost
 * of authenticating an ordinary request, and how validation and user listing hold up as
 * the user table grows. Every figure is a ratio to a bare node:http server measured in the
 * same run. `npx tsx bench/identity.ts [--write]`; `--write` rewrites the identity section
 * of docs/benchmarks.md.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runLoad, send, waitForQuiet, type LoadResult, type RequestSpec } from './lib/load.js';
import { startBareServer, startStratus, type StratusProcess } from './lib/procs.js';
import { fmt, machine, markdownTable, textTable, writeSection, type CaseRow } from './lib/report.js';

const args = process.argv.slice(2);
const WRITE = args.includes('--write');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const GROWTH_SMALL = 10;
const GROWTH_LARGE = 1000;
const USER_CREATE_BUDGET_MS = 20_000;
/** Validation must reach at least this fraction of the bare server's request rate. */
const VALIDATION_TARGET = 0.5;

/** Extra time the bench may spend, in all, waiting for a quiet machine and re-running disturbed cases. */
const EXTRA_BUDGET_MS = Number(process.env.BENCH_EXTRA_BUDGET_MS ?? 8_000);
const NOISY_PCT = 25;
let extraUsedMs = 0;
let reruns = 0;
const budgetLeft = () => Math.max(0, EXTRA_BUDGET_MS - extraUsedMs);

/**
 * One case: wait briefly for the rest of the machine to go quiet, then load. A case that
 * another process disturbed (see otherCpuPct) is run once more while the budget lasts, and
 * the less disturbed of the two runs is kept.
 */
async function load(origin: string, request: (i: number) => RequestSpec, expectStatus: number, serverPid?: number): Promise<LoadResult> {
  const once = async (): Promise<LoadResult> => {
    const t = performance.now();
    await waitForQuiet(15, Math.min(1500, budgetLeft()));
    extraUsedMs += performance.now() - t - 250; // the first 250 ms sample is part of every case
    return runLoad({ origin, request, expectStatus, serverPid, concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS });
  };
  const first = await once();
  if ((first.otherCpuPct ?? 0) <= NOISY_PCT || budgetLeft() < DURATION_MS + WARMUP_MS) return first;
  reruns++;
  extraUsedMs += DURATION_MS + WARMUP_MS;
  const second = await once();
  return (second.otherCpuPct ?? 0) < (first.otherCpuPct ?? 0) ? second : first;
}

const json = (v: unknown) => JSON.stringify(v);
const adminScope = { project: { name: 'admin', domain: { id: 'default' } } };
const passwordAuth = (password: string) => json({
  auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope: adminScope },
});
const tokenAuth = (token: string) => json({ auth: { identity: { methods: ['token'], token: { id: token } }, scope: adminScope } });
const appCredAuth = (id: string, secret: string) => json({
  auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } },
});

function short(body: string): string {
  return body.replace(/\s+/g, ' ').slice(0, 200);
}

function rssMb(pid: number): number | null {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const began = Date.now();
  const rows: CaseRow[] = [];
  const findings: string[] = [];
  const adminPassword = `bench-${randomBytes(12).toString('base64url')}`;

  // Stratus first (its start-up is CPU-heavy); the bare server is measured while Stratus sits
  // idle, once before and once after the Stratus cases, and the better of the two is the
  // denominator (a dip in the baseline is noise from elsewhere, not the bare server).
  const stratus = await startStratus(adminPassword);
  const startupMs = Date.now() - began;
  const bare = await startBareServer();
  try {
    const measureBare = async () => {
      const r = await load(bare.origin, () => ({ method: 'GET', path: '/' }), 200, bare.pid);
      if (r.rps <= 0) throw new Error(`baseline produced no successful requests: ${json(r.statuses)}`);
      return r;
    };
    const before = await measureBare();
    await identityCases(stratus, rows, findings);
    const after = await measureBare();
    rows.unshift({ name: 'bare node:http GET (baseline, before)', result: before });
    rows.push({ name: 'bare node:http GET (baseline, after)', result: after });
    const baselineRps = Math.max(before.rps, after.rps);

    if (reruns) findings.push(`${reruns} case(s) were disturbed by other processes and run a second time (the less disturbed run is shown)`);
    const noisy = rows.filter((r) => (r.result?.otherCpuPct ?? 0) > NOISY_PCT);
    if (noisy.length) {
      findings.push(`the machine was not quiet even so: other processes used ${noisy.map((r) => `${fmt.pct(r.result!.otherCpuPct)} of a core during "${r.name}"`).join(', ')}; those rows are less reliable`);
    }
    const total = Date.now() - began;
    report(rows, baselineRps, findings, { startupMs, totalMs: total, rssMb: rssMb(stratus.pid), before: before.rps, after: after.rps });
  } finally {
    await bare.stop();
    await stratus.stop();
  }
}

async function identityCases(s: StratusProcess, rows: CaseRow[], findings: string[]): Promise<void> {
  const o = s.origin;
  const v3 = new URL(s.authUrl).pathname.replace(/\/$/, ''); // /identity/v3
  const pid = s.pid;

  /** Checks one request first; a case whose route is missing or broken is skipped with the reason. */
  const measure = async (name: string, request: (i: number) => RequestSpec, expect: number, note?: string): Promise<LoadResult | null> => {
    const pre = await send(o, request(0));
    if (pre.status !== expect) {
      rows.push({ name, result: null, note: `${request(0).method} ${request(0).path} answered ${pre.status}, expected ${expect}: ${short(pre.body)}` });
      return null;
    }
    const result = await load(o, request, expect, pid);
    rows.push({ name, result, note });
    return result;
  };

  // An admin token, and who admin is.
  const issued = await send(o, { method: 'POST', path: `${v3}/auth/tokens`, body: passwordAuth(s.adminPassword) });
  if (issued.status !== 201) throw new Error(`admin password auth failed: ${issued.status} ${short(issued.body)}`);
  const adminToken = String(issued.headers['x-subject-token']);
  const userId = (JSON.parse(issued.body) as { token: { user: { id: string } } }).token.user.id;
  const auth = { 'x-auth-token': adminToken };

  // A small pool of distinct subject tokens, so validation is not one cache key.
  const pool: string[] = [];
  for (let i = 0; i < 16; i++) {
    const r = await send(o, { method: 'POST', path: `${v3}/auth/tokens`, body: tokenAuth(adminToken) });
    if (r.status !== 201) throw new Error(`token-method auth failed: ${r.status} ${short(r.body)}`);
    pool.push(String(r.headers['x-subject-token']));
  }
  const validate = (i: number): RequestSpec => ({ method: 'GET', path: `${v3}/auth/tokens`, headers: { ...auth, 'x-subject-token': pool[i % pool.length]! } });

  await measure('GET /identity/v3 (version, no auth)', () => ({ method: 'GET', path: v3 }), 200,
    'framework floor: routing, request id, JSON; no token');
  await measure('GET /v3/auth/projects (authenticated)', () => ({ method: 'GET', path: `${v3}/auth/projects`, headers: auth }), 200,
    'cheap authenticated read: cached token check, then a few small queries');
  await measure('validate token (GET /v3/auth/tokens)', validate, 200,
    `${pool.length} distinct subject tokens (issued, never used as X-Auth-Token, as a service validating its users' tokens sees them), each validated repeatedly: the first validation reads the database, later ones hit the token cache; full body with catalog`);
  await measure("validate token, subject = caller's own token", (): RequestSpec => ({ method: 'GET', path: `${v3}/auth/tokens`, headers: { ...auth, 'x-subject-token': adminToken } }), 200,
    'same request, but the subject token is already in the token cache because it authenticated the caller');
  await measure('issue token: token method', () => ({ method: 'POST', path: `${v3}/auth/tokens`, body: tokenAuth(adminToken) }), 201,
    'rescope an existing token; with catalog. Each new token is opened and checked once: decryption plus the (user, scope) subject cache, no database read when nothing changed');

  // Application credential: the route may not exist yet.
  const ac = await send(o, { method: 'POST', path: `${v3}/users/${userId}/application_credentials`, headers: auth, body: json({ application_credential: { name: 'bench' } }) });
  if (ac.status === 201) {
    const cred = (JSON.parse(ac.body) as { application_credential: { id: string; secret: string } }).application_credential;
    await measure('issue token: application credential', () => ({ method: 'POST', path: `${v3}/auth/tokens`, body: appCredAuth(cred.id, cred.secret) }), 201,
      'secret is checked against its scrypt hash, like a password');
  } else {
    rows.push({ name: 'issue token: application credential', result: null,
      note: `POST /v3/users/{id}/application_credentials answered ${ac.status} (${short(ac.body)}); route not available yet, rerun when it lands` });
  }

  await measure('issue token: password', () => ({ method: 'POST', path: `${v3}/auth/tokens`, body: passwordAuth(s.adminPassword) }), 201,
    'scrypt (memory-hard) on every issue, slow by design');

  await growth(s, v3, auth, validate, rows, findings);
}

async function countUsers(o: string, v3: string, auth: Record<string, string>): Promise<number | { status: number; body: string }> {
  const r = await send(o, { method: 'GET', path: `${v3}/users`, headers: auth });
  if (r.status !== 200) return { status: r.status, body: r.body };
  return (JSON.parse(r.body) as { users: unknown[] }).users.length;
}

/** Creates users named bench-user-N until the listing holds `target`, within a time budget. */
async function createUsers(o: string, v3: string, auth: Record<string, string>, from: number, target: number): Promise<{ made: number; failures: string[]; ms: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const t0 = Date.now();
  let next = from;
  let made = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < target && Date.now() - t0 < USER_CREATE_BUDGET_MS && failures.length < 5) {
      const n = next++;
      const r = await send(o, { method: 'POST', path: `${v3}/users`, headers: auth, body: json({ user: { name: `bench-user-${n}`, domain_id: 'default' } }) }, agent);
      if (r.status === 201) made++;
      else failures.push(`${r.status}: ${short(r.body)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return { made, failures, ms: Date.now() - t0 };
}

async function growth(s: StratusProcess, v3: string, auth: Record<string, string>, validate: (i: number) => RequestSpec, rows: CaseRow[], findings: string[]): Promise<void> {
  const o = s.origin;
  const skip = (why: string) => {
    for (const n of [GROWTH_SMALL, GROWTH_LARGE]) {
      rows.push({ name: `validate token, ${n} users`, result: null, note: why });
      rows.push({ name: `GET /v3/users, ${n} users`, result: null, note: why });
    }
  };
  const have = await countUsers(o, v3, auth);
  if (typeof have !== 'number') {
    skip(`GET /v3/users answered ${have.status} (${short(have.body)}); route not available yet, rerun when it lands`);
    return;
  }
  const probe = await send(o, { method: 'POST', path: `${v3}/users`, headers: auth, body: json({ user: { name: 'bench-probe', domain_id: 'default' } }) });
  if (probe.status !== 201) {
    skip(`POST /v3/users answered ${probe.status} (${short(probe.body)}); route not available yet, rerun when it lands`);
    return;
  }

  let users = have + 1;
  for (const target of [GROWTH_SMALL, GROWTH_LARGE]) {
    if (users < target) {
      const made = await createUsers(o, v3, auth, users, target);
      if (made.failures.length) findings.push(`creating users: ${made.failures.length} failed, e.g. ${made.failures[0]}`);
      findings.push(`created ${made.made} users in ${(made.ms / 1000).toFixed(1)} s (${fmt.int(made.made / (made.ms / 1000))}/s at concurrency ${CONCURRENCY})`);
      const now = await countUsers(o, v3, auth);
      users = typeof now === 'number' ? now : users + made.made;
    }
    const short = users === target ? '' : ` (only ${users} users could be created)`;
    const v = await load(o, validate, 200, s.pid);
    rows.push({ name: `validate token, ${target} users`, result: v, ...(short ? { note: short.trim() } : {}) });
    const list = (): RequestSpec => ({ method: 'GET', path: `${v3}/users`, headers: auth });
    const bytes = (await send(o, list())).body.length;
    const l = await load(o, list, 200, s.pid);
    rows.push({ name: `GET /v3/users, ${target} users`, result: l, note: `one response listing all ${users} users, ${fmt.int(bytes / 1024)} KiB${short}` });
  }
}

function report(rows: CaseRow[], baselineRps: number, findings: string[], meta: { startupMs: number; totalMs: number; rssMb: number | null; before: number; after: number }): void {
  const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))?.result ?? null;
  const validation = byName('validate token (GET');
  const summary: string[] = [];
  if (validation) {
    const ratio = validation.rps / baselineRps;
    summary.push(`Target (validation ≥ ${VALIDATION_TARGET} × bare server): **${ratio >= VALIDATION_TARGET ? 'met' : 'missed'}**, ${fmt.ratio(ratio)} × (${fmt.int(validation.rps)} vs ${fmt.int(baselineRps)} req/s).`);
  } else {
    summary.push('Target (validation ≥ 0.5 × bare server): not measured, validation failed its preflight.');
  }
  const cached = byName("validate token, subject = caller's");
  if (validation && cached) summary.push(`Validating the caller's own token runs at ${fmt.ratio(cached.rps / baselineRps)} × bare (${fmt.ratio(cached.rps / validation.rps)} × the pool-of-16 rate): both are served from the token cache after the first request.`);
  const v10 = byName(`validate token, ${GROWTH_SMALL} `);
  const v1k = byName(`validate token, ${GROWTH_LARGE} `);
  const l10 = byName(`GET /v3/users, ${GROWTH_SMALL} `);
  const l1k = byName(`GET /v3/users, ${GROWTH_LARGE} `);
  if (v10 && v1k) summary.push(`Growth: validation at ${GROWTH_LARGE} users runs at ${fmt.ratio(v1k.rps / v10.rps)} × its rate at ${GROWTH_SMALL} users.`);
  if (l10 && l1k) summary.push(`Growth: \`GET /v3/users\` p50 goes from ${fmt.ms(l10.p50Ms)} ms (${GROWTH_SMALL} users) to ${fmt.ms(l1k.p50Ms)} ms (${GROWTH_LARGE} users), ${fmt.ratio(l1k.p50Ms / l10.p50Ms)} ×.`);
  const pw = byName('issue token: password');
  if (pw) summary.push(`Password issue is ${fmt.ratio(pw.rps / baselineRps)} × bare (p50 ${fmt.ms(pw.p50Ms)} ms): scrypt is memory-hard on purpose, and runs on libuv's 4-thread pool.`);
  const context = [
    `Run ${new Date().toISOString()}, ${machine()}.`,
    `Bare server: ${fmt.int(meta.before)} req/s before, ${fmt.int(meta.after)} after the Stratus cases; ratios use ${fmt.int(baselineRps)}. Stratus start-up (fresh data dir) ${(meta.startupMs / 1000).toFixed(1)} s; server RSS after the run ${meta.rssMb ?? '–'} MB; whole bench ${(meta.totalMs / 1000).toFixed(0)} s.`,
    ...findings.map((f) => `Setup: ${f}.`),
  ];

  process.stdout.write(`\nIdentity benchmark, ${CONCURRENCY} concurrent, ${DURATION_MS / 1000} s per case\n\n`);
  process.stdout.write(`${textTable(rows, baselineRps)}\n\n${summary.map((l) => `- ${l.replace(/\*\*/g, '')}`).join('\n')}\n${context.map((l) => `- ${l}`).join('\n')}\n`);

  if (WRITE) {
    const notes = rows.filter((r) => r.note).map((r) => `- *${r.name}*: ${r.note}`);
    const errs = rows.flatMap((r) => (r.result?.errorSamples ?? []).map((e) => `- *${r.name}*: \`${e.replace(/`/g, "'")}\``));
    const md = [
      '## Identity (Keystone v3)',
      '',
      `\`npx tsx bench/identity.ts --write\`; ${CONCURRENCY} concurrent, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s per case. "× bare" is the case's successful requests/s divided by the bare server's in this run.`,
      '',
      markdownTable(rows, baselineRps),
      '',
      ...summary.map((l) => `- ${l}`),
      ...context.map((l) => `- ${l}`),
      '',
      'Notes:',
      '',
      ...notes,
      ...(errs.length ? ['', 'Unexpected responses (first few per case):', '', ...errs] : []),
    ].join('\n');
    const path = writeSection('identity', md);
    process.stdout.write(`\nwrote ${path}\n`);
  }
}

await main();
