import { EventEmitter } from 'node:events';
import type { Db } from '../db/index.js';
import type { Logger } from '../log.js';
import type { Migration } from 'kysely';
import { now } from '../clock.js';
import { uuid } from '../ids.js';

/**
 * Asynchronous work as rows: an API call writes its desired state and a task in one
 * transaction; the worker loop claims tasks and runs the handler registered for the kind.
 * Handlers must be idempotent: a task interrupted by a crash runs again after restart.
 */
export interface TaskRow {
  id: string;
  kind: string;
  resource_id: string;
  payload: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  last_error: string | null;
  run_after: number;
  created_at: number;
  updated_at: number;
}

export type TaskHandler = (task: { id: string; kind: string; resourceId: string; payload: unknown; attempt: number }) => Promise<void>;

export const taskMigrations: Record<string, Migration> = {
  'platform-0001-task': {
    async up(db) {
      await db.schema.createTable('task')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(128)', (c) => c.notNull())
        .addColumn('resource_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('run_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('task_state_idx').on('task').columns(['state', 'run_after']).execute();
    },
  },
};

export interface EnqueueOptions { delayMs?: number }

export class TaskQueue {
  private handlers = new Map<string, TaskHandler>();
  private wake = new EventEmitter();
  private running = false;
  private loop: Promise<void> | null = null;
  private inFlight = 0;
  /** Resources with a task running: their next task waits, so one resource's tasks run in order. */
  private busy = new Set<string>();

  /**
   * `concurrency` tasks run at once (different resources; a resource's tasks one at a
   * time, oldest first), so a thousand server builds do not queue behind each other.
   */
  constructor(private db: Db, private log: Logger, private maxAttempts = 5, private pollMs = 1000, private concurrency = 16) {
    this.wake.setMaxListeners(concurrency + 4);
  }

  handle(kind: string, handler: TaskHandler): void { this.handlers.set(kind, handler); }

  /** Writes a task row; pass the caller's transaction so the task commits with its state. */
  async enqueue(kind: string, resourceId: string, payload: unknown, trx: Db = this.db, opts: EnqueueOptions = {}): Promise<string> {
    const id = uuid();
    const t = now();
    await trx.insertInto('task').values({
      id, kind, resource_id: resourceId, payload: JSON.stringify(payload ?? null), state: 'pending', attempts: 0,
      last_error: null, run_after: t + (opts.delayMs ?? 0), created_at: t, updated_at: t,
    }).execute();
    setImmediate(() => this.wake.emit('wake'));
    return id;
  }

  /** Starts the loop. Tasks left `running` by a previous process are pending again. */
  async start(): Promise<void> {
    await this.db.updateTable('task').set({ state: 'pending', updated_at: now() }).where('state', '=', 'running').execute();
    this.running = true;
    this.loop = Promise.all(Array.from({ length: this.concurrency }, () => this.run())).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake.emit('wake');
    await this.loop;
  }

  /** Runs every due task now; tests call this instead of waiting for the loop. */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.runOne()) n++;
    return n;
  }

  /** Resolves once no due task is waiting or running (tests, and draining at shutdown). */
  async idle(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      await this.drain();
      const busy = await this.db.selectFrom('task').select('id').where((eb) => eb.or([
        eb('state', '=', 'running'), eb.and([eb('state', '=', 'pending'), eb('run_after', '<=', now())]),
      ])).limit(1).executeTakeFirst();
      if (!busy && this.inFlight === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('tasks still running after timeout');
  }

  private async run(): Promise<void> {
    while (this.running) {
      const didWork = await this.runOne().catch((err) => { this.log.error({ err }, 'task loop'); return false; });
      if (!didWork && this.running) {
        await new Promise<void>((resolve) => {
          const onWake = () => { clearTimeout(timer); resolve(); };
          const timer = setTimeout(() => { this.wake.off('wake', onWake); resolve(); }, this.pollMs);
          this.wake.once('wake', onWake);
        });
      }
    }
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private async runOne(): Promise<boolean> {
    const t = now();
    // The oldest due task of a resource that has none running (a resource's tasks keep their order).
    const candidates = await this.db.selectFrom('task').selectAll().where('state', 'in', ['pending', 'running']).where('run_after', '<=', t)
      .orderBy('created_at').orderBy('id').limit(this.busy.size + this.concurrency + 1).execute() as TaskRow[];
    const blocked = new Set(this.busy);
    let next: TaskRow | undefined;
    for (const c of candidates) {
      if (c.state === 'pending' && !blocked.has(c.resource_id)) { next = c; break; }
      blocked.add(c.resource_id);
    }
    if (!next) return false;
    // Claim: only one worker wins the update from pending to running.
    this.busy.add(next.resource_id);
    const claimed = await this.db.updateTable('task').set({ state: 'running', attempts: next.attempts + 1, updated_at: t })
      .where('id', '=', next.id).where('state', '=', 'pending').executeTakeFirst()
      .catch((err) => { this.busy.delete(next!.resource_id); throw err; });
    if (Number(claimed.numUpdatedRows) !== 1) { this.busy.delete(next.resource_id); return true; }
    const handler = this.handlers.get(next.kind);
    this.inFlight++;
    try {
      if (!handler) throw new Error(`no handler for task kind ${next.kind}`);
      await handler({ id: next.id, kind: next.kind, resourceId: next.resource_id, payload: JSON.parse(next.payload), attempt: next.attempts + 1 });
      await this.db.updateTable('task').set({ state: 'done', updated_at: now(), last_error: null }).where('id', '=', next.id).execute();
    } catch (err) {
      const attempts = next.attempts + 1;
      const failed = attempts >= this.maxAttempts;
      this.log.warn({ err, task: next.id, kind: next.kind, attempts }, failed ? 'task failed' : 'task will retry');
      await this.db.updateTable('task').set({
        state: failed ? 'failed' : 'pending', last_error: String((err as Error).message ?? err), updated_at: now(),
        run_after: now() + Math.min(30_000, 500 * 2 ** attempts),
      }).where('id', '=', next.id).execute();
    } finally {
      this.inFlight--;
      this.busy.delete(next.resource_id);
    }
    return true;
  }
}
