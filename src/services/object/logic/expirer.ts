import type { ObjectDeps } from './deps.js';
import { expireObject } from './objects.js';

/**
 * Swift's object expirer: objects whose X-Delete-At has passed are removed in the
 * background (reads already answer 404 for them). Safe to run in several processes at once:
 * each removal only deletes the exact row version it read.
 */
export class Expirer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private deps: ObjectDeps, private intervalMs: number) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => { this.running ??= this.pass().then(() => undefined).finally(() => { this.running = null; }); }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One sweep over everything expired by now. */
  async pass(): Promise<number> {
    let n = 0;
    try {
      for (;;) {
        const due = await this.deps.db.selectFrom('object_object').selectAll().where('delete_at', '<=', Date.now()).limit(500).execute();
        for (const o of due) { await expireObject(this.deps, o); n++; }
        if (due.length < 500) return n;
      }
    } catch (err) {
      this.deps.platform.log.warn({ err }, 'object expirer pass failed');
      return n;
    }
  }
}
