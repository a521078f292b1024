import type { Logger } from '../../../platform/log.js';
import type { NetDb } from '../store.js';
import type { NetworkHooks } from '../logic/hooks.js';
import { RESOURCE_KINDS, type Changes, type Dataplane, type DesiredState, type Realised, type ResourceKind } from '../dataplane/driver.js';
import { loadDesiredState } from './state.js';

/**
 * The network agent of one host: a reconcile loop in the manner of a Kubernetes
 * controller. The API only writes desired state and wakes the agent; the agent reads the
 * whole state, compares it with what its data plane last realised, hands over the
 * difference, and writes back the statuses the plane observed. Level-triggered, so a lost
 * wake-up, a crash half-way or a plane error is repaired by the next pass (a periodic
 * resync runs one even when nobody wakes it). Wake-ups during a pass coalesce into one
 * more pass, and passes are at least `intervalMs` apart, so a burst of API writes costs a
 * few passes, not one per write.
 */
export interface AgentOptions { host: string; intervalMs: number; resyncMs: number }

const STATUS_TABLES = { ports: 'port', routers: 'router', floatingIps: 'floating_ip' } as const;

export class NetworkAgent {
  /** What the plane last realised: per kind, id → the resource's JSON. */
  private realised: Map<ResourceKind, Map<string, string>> | null = null;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private resync: NodeJS.Timeout | null = null;
  private dirty = false;
  private stopped = false;
  private lastPass = 0;
  private failures = 0;
  /** Heartbeat and figures the agents API reports. */
  readonly started = Date.now();
  heartbeat: number | null = null;
  counts: Record<ResourceKind, number> = Object.fromEntries(RESOURCE_KINDS.map((k) => [k, 0])) as Record<ResourceKind, number>;
  lastError: string | null = null;
  /** How long the last pass took (read, compare, apply, write back), in ms. */
  lastPassMs = 0;

  constructor(private db: NetDb, private hooks: NetworkHooks, readonly plane: Dataplane, private log: Logger, readonly options: AgentOptions) {}

  start(): void {
    this.wake();
    this.resync = setInterval(() => this.wake(), this.options.resyncMs);
    this.resync.unref();
  }

  /** Something changed (or may have): schedule a pass. Cheap; call after every write. */
  wake(): void {
    this.dirty = true;
    if (this.running || this.timer || this.stopped) return;
    // After failures, back off (up to 30 s) rather than hammer a broken plane.
    const gap = this.failures ? Math.min(30_000, this.options.intervalMs * 2 ** this.failures) : this.options.intervalMs;
    const wait = Math.max(0, this.lastPass + gap - Date.now());
    this.timer = setTimeout(() => { this.timer = null; this.pass(); }, wait);
    this.timer.unref();
  }

  /** Resolves once no pass is running or due (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.resync) clearInterval(this.resync);
    await this.running;
    await this.plane.close?.();
  }

  private pass(): void {
    this.dirty = false;
    this.running = this.reconcile()
      .then(() => { this.failures = 0; this.lastError = null; })
      .catch((err: Error) => {
        this.failures++;
        this.lastError = err.message;
        this.dirty = true;
        this.log.error({ err, plane: this.plane.name }, 'network agent: pass failed; will retry');
      })
      .finally(() => {
        this.lastPass = Date.now();
        this.running = null;
        if (this.dirty && !this.stopped) this.wake();
      });
  }

  private async reconcile(): Promise<void> {
    const began = performance.now();
    const state = await loadDesiredState(this.db, this.hooks, this.options.host);
    const next = new Map<ResourceKind, Map<string, string>>();
    const changes = {} as Changes;
    let changed = this.realised === null;
    for (const kind of RESOURCE_KINDS) {
      const items = state[kind] as Array<{ id: string }>;
      const now = new Map(items.map((i) => [i.id, JSON.stringify(i)]));
      const before = this.realised?.get(kind) ?? new Map<string, string>();
      const upsert = items.filter((i) => before.get(i.id) !== now.get(i.id));
      const remove = [...before.keys()].filter((id) => !now.has(id));
      (changes as Record<ResourceKind, { upsert: unknown[]; remove: string[] }>)[kind] = { upsert, remove };
      if (upsert.length || remove.length) changed = true;
      next.set(kind, now);
      this.counts[kind] = items.length;
    }
    if (changed) {
      const realised = await this.plane.apply(changes, state);
      await this.writeStatus(realised);
      this.realised = next;
    }
    this.heartbeat = Date.now();
    this.lastPassMs = Math.round((performance.now() - began) * 10) / 10;
  }

  private async writeStatus(realised: Realised): Promise<void> {
    for (const [kind, statuses] of Object.entries(realised.status ?? {}) as Array<[keyof typeof STATUS_TABLES, Record<string, string>]>) {
      const byStatus = new Map<string, string[]>();
      for (const [id, s] of Object.entries(statuses)) (byStatus.get(s) ?? byStatus.set(s, []).get(s)!).push(id);
      for (const [status, ids] of byStatus) {
        for (let i = 0; i < ids.length; i += 500) {
          await this.db.updateTable(STATUS_TABLES[kind]).set({ status }).where('id', 'in', ids.slice(i, i + 500)).where('status', '!=', status).execute();
        }
      }
    }
  }
}

export type { DesiredState };
