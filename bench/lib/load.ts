import http from 'node:http';
import { readFileSync } from 'node:fs';

/**
 * A bounded closed-loop load generator in plain Node: `concurrency` workers, each sending
 * one request at a time over a keep-alive agent, for a fixed warm-up and a fixed measured
 * window. Only requests that start inside the window and finish before it closes count.
 * Loopback only: the target must be 127.0.0.1.
 */
export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** Origin, e.g. http://127.0.0.1:5000 */
  origin: string;
  /** Builds the i-th request (i counts from 0 over the whole run, warm-up included). */
  request: (i: number) => RequestSpec;
  expectStatus: number;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Server process to sample CPU time from (/proc/PID/stat), if known. */
  serverPid?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** status → count, for every status seen in the window (0 = network error). */
  statuses: Record<string, number>;
  /** First few unexpected responses, for the report. */
  errorSamples: string[];
  durationMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** CPU used in the window, as a % of one core. */
  clientCpuPct: number;
  serverCpuPct: number | null;
  /** CPU used by every other process on the machine in the window (% of one core): noise. */
  otherCpuPct: number | null;
}

export interface SendResult { status: number; body: string; headers: http.IncomingHttpHeaders }

function assertLoopback(origin: string): URL {
  const u = new URL(origin);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing to send traffic to ${u.hostname}: loopback (127.0.0.1) only`);
  return u;
}

/** One request, full body read. For setup and preflight checks. */
export function send(origin: string, spec: RequestSpec, agent?: http.Agent): Promise<SendResult> {
  const u = assertLoopback(origin);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json', ...spec.headers };
    if (spec.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = Buffer.byteLength(spec.body);
    }
    const req = http.request({ host: u.hostname, port: u.port, method: spec.method, path: spec.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

const CLK_TCK = 100; // Linux USER_HZ; /proc times are reported in these units.

/** CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat. */
export function procCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU time the whole machine spent busy (all cores), from /proc/stat. */
export function machineBusyMs(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal; guest is already in user
    const idle = f[3]! + f[4]!;
    return ((total - idle) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/**
 * Waits until the rest of the machine is quiet (less than `maxOtherPct` of a core busy over
 * 250 ms, not counting this process), at most `maxWaitMs`. Returns whether it got quiet.
 */
export async function waitForQuiet(maxOtherPct = 15, maxWaitMs = 3000): Promise<boolean> {
  const until = performance.now() + maxWaitMs;
  for (;;) {
    const b0 = machineBusyMs();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 250));
    const b1 = machineBusyMs();
    const c = process.cpuUsage(c0);
    if (b0 === null || b1 === null) return true;
    const other = ((b1 - b0 - (c.user + c.system) / 1000) / (performance.now() - t0)) * 100;
    if (other < maxOtherPct) return true;
    if (performance.now() >= until) return false;
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const u = assertLoopback(opts.origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency });
  const start = performance.now();
  const windowStart = start + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;

  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let seq = 0;

  let cpuClient0 = process.cpuUsage();
  let cpuServer0: number | null = null;
  let busy0: number | null = null;
  let cpuClient1: NodeJS.CpuUsage | null = null;
  let cpuServer1: number | null = null;
  let busy1: number | null = null;
  const t0 = setTimeout(() => {
    cpuClient0 = process.cpuUsage();
    cpuServer0 = opts.serverPid ? procCpuMs(opts.serverPid) : null;
    busy0 = machineBusyMs();
  }, opts.warmupMs);
  // The window's closing sample; awaited below, so it is taken even when the last response
  // lands just before the timer would have fired.
  let t1: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    t1 = setTimeout(() => {
      cpuClient1 = process.cpuUsage(cpuClient0);
      cpuServer1 = opts.serverPid ? procCpuMs(opts.serverPid) : null;
      busy1 = machineBusyMs();
      resolve();
    }, Math.max(0, windowEnd - performance.now()));
  });

  const record = (began: number, ended: number, status: number, sample: string | null) => {
    if (began < windowStart || ended > windowEnd) return;
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ended - began;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status !== opts.expectStatus) {
      errors++;
      if (sample !== null && errorSamples.length < 3) errorSamples.push(`${status}: ${sample.slice(0, 300)}`);
    }
  };

  const one = (): Promise<void> => new Promise((resolve) => {
    const spec = opts.request(seq++);
    const headers: Record<string, string | number> = { accept: 'application/json', ...spec.headers };
    if (spec.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = Buffer.byteLength(spec.body);
    }
    const began = performance.now();
    const req = http.request({ host: u.hostname, port: u.port, method: spec.method, path: spec.path, headers, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === opts.expectStatus) {
        res.resume();
        res.on('end', () => { record(began, performance.now(), status, null); resolve(); });
      } else {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { record(began, performance.now(), status, Buffer.concat(chunks).toString('utf8')); resolve(); });
      }
      res.on('error', (e) => { record(began, performance.now(), 0, String(e)); resolve(); });
    });
    req.on('error', (e) => { record(began, performance.now(), 0, String(e)); resolve(); });
    req.end(spec.body);
  });

  const worker = async () => {
    while (performance.now() < windowEnd) await one();
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  await closed;
  clearTimeout(t0);
  clearTimeout(t1);
  agent.destroy();

  const clientUsed = cpuClient1 ?? process.cpuUsage(cpuClient0);
  const clientCpuPct = ((clientUsed.user + clientUsed.system) / 1000 / opts.durationMs) * 100;
  const serverCpuPct = cpuServer0 !== null && cpuServer1 !== null ? ((cpuServer1 - cpuServer0) / opts.durationMs) * 100 : null;
  const b0 = busy0 as number | null;
  const b1 = busy1 as number | null;
  const otherCpuPct = b0 !== null && b1 !== null && serverCpuPct !== null
    ? Math.max(0, ((b1 - b0) / opts.durationMs) * 100 - serverCpuPct - clientCpuPct)
    : null;

  const sorted = latencies.slice(0, count).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    requests: count,
    errors,
    statuses,
    errorSamples,
    durationMs: opts.durationMs,
    rps: (count - errors) / (opts.durationMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: count ? sum / count : NaN,
    maxMs: count ? sorted[count - 1]! : NaN,
    clientCpuPct,
    serverCpuPct,
    otherCpuPct,
  };
}
