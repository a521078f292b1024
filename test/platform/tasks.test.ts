import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/index.js';
import { TaskQueue, taskMigrations } from '../../src/platform/tasks/queue.js';
import { createLogger } from '../../src/platform/log.js';

describe('tasks', () => {
  it('runs each task once, retries failures, and recovers tasks a crash left running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-tasks-'));
    const url = process.env.STRATUS_TEST_DATABASE && process.env.STRATUS_TEST_DATABASE !== 'sqlite' ? process.env.STRATUS_TEST_DATABASE : 'sqlite';
    const { db, close } = await openDatabase(url, dir, taskMigrations);
    await db.deleteFrom('task').execute();
    const log = createLogger('silent');
    const q = new TaskQueue(db, log, 3, 50);
    const seen: string[] = [];
    let flaky = 0;
    q.handle('ok', async (t) => { seen.push(t.resourceId); });
    q.handle('flaky', async () => { if (++flaky < 2) throw new Error('transient'); });
    await q.enqueue('ok', 'r1', { a: 1 });
    await q.enqueue('flaky', 'r2', null);
    expect(await q.drain()).toBe(2);
    expect(seen).toEqual(['r1']);
    const retried = await db.selectFrom('task').selectAll().where('kind', '=', 'flaky').executeTakeFirstOrThrow();
    expect(retried.state).toBe('pending');
    expect(retried.last_error).toBe('transient');
    await db.updateTable('task').set({ run_after: 0 }).execute();
    await q.drain();
    expect((await db.selectFrom('task').select('state').where('kind', '=', 'flaky').executeTakeFirstOrThrow()).state).toBe('done');

    // A task left `running` by a killed process runs again after start().
    await q.enqueue('ok', 'r3', null);
    await db.updateTable('task').set({ state: 'running' }).where('resource_id', '=', 'r3').execute();
    const q2 = new TaskQueue(db, log, 3, 20);
    q2.handle('ok', async (t) => { seen.push(t.resourceId); });
    await q2.start();
    for (let i = 0; i < 100 && !seen.includes('r3'); i++) await new Promise((r) => setTimeout(r, 10));
    await q2.stop();
    expect(seen).toEqual(['r1', 'r3']);
    await close();
  });
});
