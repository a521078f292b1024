import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { outsider, readerOf } from '../../helpers/compute.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';
import { volumeClient } from '../../helpers/volume.js';
import { volumeDb } from '../../../src/services/volume/store.js';

const MiB = 1 << 20;
const CHUNK = 32 * MiB;

describe('volume backups', () => {
  let c: TestCloud;
  let demo: string;
  let reader: string;
  let other: string;
  let pid: string;
  const { cinder, ok, waitFor } = volumeClient(() => c);
  const db = () => volumeDb(c.platform.db);

  const newVolume = async (size = 1, extra: Record<string, unknown> = {}) => {
    const v = (await ok('POST', `/${pid}/volumes`, demo, { volume: { size, name: 'vol', ...extra } }, 202)).volume;
    return waitFor(`/${pid}/volumes/${v.id}`, 'volume', demo, ['available']);
  };
  /** Writes bytes into a volume's file at the given offsets, as a guest would. */
  const write = async (volumeId: string, parts: Array<[offset: number, data: Buffer]>) => {
    const f = await open(c.volume.locate(volumeId), 'r+');
    try { for (const [off, data] of parts) await f.write(data, 0, data.length, off); } finally { await f.close(); }
  };
  const digest = async (volumeId: string) => {
    const h = createHash('sha256');
    for await (const b of createReadStream(c.volume.locate(volumeId), { highWaterMark: 4 * MiB })) h.update(b as Buffer);
    return h.digest('hex');
  };
  const backup = async (body: Record<string, unknown>, token = demo, version?: string) => {
    const r = await cinder('POST', `/${pid}/backups`, token, { backup: body }, version);
    expect(r.status, r.text).toBe(202);
    return waitFor(`/${pid}/backups/${r.body.backup.id}`, 'backup', token, ['available', 'error']);
  };
  const restore = async (backupId: string, body: Record<string, unknown> | null = null) => {
    const r = await cinder('POST', `/${pid}/backups/${backupId}/restore`, demo, { restore: body });
    expect(r.status, r.text).toBe(202);
    const vol = await waitFor(`/${pid}/volumes/${r.body.restore.volume_id}`, 'volume', demo, ['available', 'error_restoring']);
    await waitFor(`/${pid}/backups/${backupId}`, 'backup', demo, ['available']);
    return { restore: r, vol };
  };
  const setQuota = async (resource: string, limit: number) => {
    await db().deleteFrom('volume_quota').where('project_id', '=', pid).where('resource', '=', resource).execute();
    await db().insertInto('volume_quota').values({ project_id: pid, resource, hard_limit: limit }).execute();
  };
  const dropQuota = (resource: string) => db().deleteFrom('volume_quota').where('project_id', '=', pid).where('resource', '=', resource).execute();
  const objectsOf = (backupId: string) => {
    const dir = join(c.dataDir, 'backups', backupId);
    return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('chunk-')) : [];
  };

  beforeAll(async () => {
    // The file store, so the tests can look at (and corrupt) the chunk files themselves.
    c = await testCloud({ volume: { backupStore: 'fs' } });
    demo = await c.login('demo', 'demo-secret');
    const t = c.adminToken;
    pid = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0].id;
    reader = await readerOf(c, 'demo');
    other = await outsider(c);
  });
  afterAll(async () => { await c.destroy(); });

  describe('full and incremental backups of one volume', () => {
    let vol: { id: string };
    let original: string;
    let full: Record<string, any>;
    let incr: Record<string, any>;
    let changed: string;

    beforeAll(async () => {
      vol = await newVolume(1, { metadata: { 'vol-meta1': 'value1', 'vol-meta2': 'value2' } });
      // Three chunks hold data (the first, the sixth, the last); the other 29 are zeros.
      await write(vol.id, [[0, Buffer.from('stratus backup test\n')], [4096, randomBytes(MiB)], [5 * CHUNK + 100, randomBytes(4 * MiB)], [32 * CHUNK - MiB, randomBytes(MiB)]]);
      original = await digest(vol.id);
    });

    it('backs up only the chunks that hold data, compressed, and returns the volume to available', async () => {
      const created = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id, name: 'full', description: 'all of it', container: 'container' } });
      expect(created.status).toBe(202);
      expect(Object.keys(created.body.backup).sort()).toEqual(['id', 'links', 'name']);
      full = await waitFor(`/${pid}/backups/${created.body.backup.id}`, 'backup', demo, ['available', 'error']);
      expect(full).toMatchObject({ status: 'available', name: 'full', description: 'all of it', container: 'container', size: 1, object_count: 3,
        is_incremental: false, has_dependent_backups: false, volume_id: vol.id, snapshot_id: null, fail_reason: null });
      expect(objectsOf(full.id).sort()).toEqual(['chunk-000000', 'chunk-000005', 'chunk-000031']);
      expect((await ok('GET', `/${pid}/volumes/${vol.id}`, demo)).volume.status).toBe('available');
      const list = await cinder('GET', `/${pid}/backups`, demo);
      const detail = await cinder('GET', `/${pid}/backups/detail`, demo);
      expect(list.body.backups.map((b: { id: string }) => b.id)).toContain(full.id);
      expect(tempestErrors([
        ['backups', 'create_backup', created.status, created.body],
        ['backups', 'show_backup', 200, { backup: full }],
        ['backups', 'list_backups_no_detail', list.status, list.body],
        ['backups', 'list_backups_with_detail', detail.status, detail.body],
      ], 'volume')).toEqual([]);
    });

    it('restores to a new volume byte for byte, with the volume metadata', async () => {
      const { restore: r, vol: restored } = await restore(full.id);
      expect(r.body.restore).toEqual({ backup_id: full.id, volume_id: restored.id, volume_name: `restore_backup_${full.id}` });
      expect(tempestErrors([['backups', 'restore_backup', r.status, r.body]], 'volume')).toEqual([]);
      expect(restored.status).toBe('available');
      expect(restored.size).toBe(1);
      expect(restored.metadata).toMatchObject({ 'vol-meta1': 'value1', 'vol-meta2': 'value2' });
      expect(await digest(restored.id)).toBe(original);
    });

    it('restores over an existing volume that was overwritten since', async () => {
      await write(vol.id, [[0, randomBytes(MiB)], [20 * CHUNK, randomBytes(MiB)]]);
      expect(await digest(vol.id)).not.toBe(original);
      const { restore: r, vol: back } = await restore(full.id, { volume_id: vol.id });
      expect(r.body.restore.volume_id).toBe(vol.id);
      expect(back.status).toBe('available');
      expect(await digest(vol.id)).toBe(original);
    });

    it('stores only changed chunks in an incremental backup, which restores through its parent', async () => {
      await write(vol.id, [[5 * CHUNK + 100, randomBytes(MiB)]]);
      changed = await digest(vol.id);
      incr = await backup({ volume_id: vol.id, incremental: true, name: 'incr' });
      expect(incr).toMatchObject({ status: 'available', is_incremental: true, object_count: 1 });
      expect(objectsOf(incr.id)).toEqual(['chunk-000005']);
      expect((await ok('GET', `/${pid}/backups/${full.id}`, demo)).backup.has_dependent_backups).toBe(true);
      const { vol: fromIncr } = await restore(incr.id);
      expect(await digest(fromIncr.id)).toBe(changed);
      const { vol: fromFull } = await restore(full.id);
      expect(await digest(fromFull.id)).toBe(original);
    });

    it('will not delete a backup an incremental one depends on', async () => {
      const refused = await cinder('DELETE', `/${pid}/backups/${full.id}`, demo);
      expect(refused.status).toBe(400);
      expect(refused.body.badRequest.message).toMatch(/Incremental backups exist/);
    });

    it('verifies every chunk on restore: a corrupted object fails the restore, not silently', async () => {
      writeFileSync(join(c.dataDir, 'backups', incr.id, 'chunk-000005'), Buffer.from('not what was stored'));
      const { vol: broken } = await restore(incr.id);
      expect(broken.status).toBe('error_restoring');
      expect((await ok('GET', `/${pid}/backups/${incr.id}`, demo)).backup.status).toBe('available');
    });

    it('deletes the incremental backup, then the full one, and their objects with them', async () => {
      expect((await cinder('DELETE', `/${pid}/backups/${incr.id}`, demo)).status).toBe(202);
      await waitFor(`/${pid}/backups/${incr.id}`, 'backup', demo, ['deleted']);
      expect(existsSync(join(c.dataDir, 'backups', incr.id))).toBe(false);
      const del = await cinder('DELETE', `/${pid}/backups/${full.id}`, demo);
      expect(del.status).toBe(202);
      expect(tempestErrors([['backups', 'delete_backup', del.status, null]], 'volume')).toEqual([]);
      await waitFor(`/${pid}/backups/${full.id}`, 'backup', demo, ['deleted']);
      expect(existsSync(join(c.dataDir, 'backups', full.id))).toBe(false);
    });
  });

  it('refuses an incremental backup without an available full one, and a backup of a busy volume', async () => {
    const vol = await newVolume();
    const r = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id, incremental: true } });
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toMatch(/No backups available to do an incremental backup/);
    await db().updateTable('volume').set({ status: 'extending' }).where('id', '=', vol.id).execute();
    expect((await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id } })).status).toBe(400);
    await db().updateTable('volume').set({ status: 'available' }).where('id', '=', vol.id).execute();
  });

  it('backs up an in-use volume only with force, and gives it back in-use', async () => {
    const vol = await newVolume();
    await write(vol.id, [[MiB, randomBytes(MiB)]]);
    const before = await digest(vol.id);
    await db().updateTable('volume').set({ status: 'in-use' }).where('id', '=', vol.id).execute();
    const refused = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id } });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toMatch(/force/);
    const b = await backup({ volume_id: vol.id, force: true });
    expect(b.status).toBe('available');
    expect((await ok('GET', `/${pid}/volumes/${vol.id}`, demo)).volume.status).toBe('in-use');
    expect(readdirSync(join(c.dataDir, 'volumes', 'volumes')).filter((n) => n.startsWith('backup-'))).toEqual([]); // the temporary clone is gone
    const { vol: restored } = await restore(b.id);
    expect(await digest(restored.id)).toBe(before);
    await db().updateTable('volume').set({ status: 'available' }).where('id', '=', vol.id).execute();
  });

  it('backs up a snapshot: the bytes of its moment, not the volume’s now', async () => {
    const vol = await newVolume();
    await write(vol.id, [[0, randomBytes(2 * MiB)]]);
    const then = await digest(vol.id);
    const snap = (await ok('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } }, 202)).snapshot;
    await waitFor(`/${pid}/snapshots/${snap.id}`, 'snapshot', demo, ['available']);
    await write(vol.id, [[0, randomBytes(2 * MiB)]]);
    const b = await backup({ volume_id: vol.id, snapshot_id: snap.id });
    expect(b).toMatchObject({ status: 'available', snapshot_id: snap.id, volume_id: vol.id });
    expect((await ok('GET', `/${pid}/snapshots/${snap.id}`, demo)).snapshot.status).toBe('available');
    const { vol: restored } = await restore(b.id);
    expect(await digest(restored.id)).toBe(then);
    const otherVol = await newVolume();
    const mismatch = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: otherVol.id, snapshot_id: snap.id } });
    expect(mismatch.status).toBe(400);
  });

  it('restores a backup of a deleted volume; refuses too small or busy targets', async () => {
    const vol = await newVolume(2);
    await write(vol.id, [[3 * CHUNK, randomBytes(MiB)]]);
    const before = await digest(vol.id);
    const b = await backup({ volume_id: vol.id });
    const small = await newVolume(1);
    const tooSmall = await cinder('POST', `/${pid}/backups/${b.id}/restore`, demo, { restore: { volume_id: small.id } });
    expect(tooSmall.status).toBe(400);
    await db().updateTable('volume').set({ status: 'in-use' }).where('id', '=', small.id).execute();
    expect((await cinder('POST', `/${pid}/backups/${b.id}/restore`, demo, { restore: { volume_id: small.id } })).status).toBe(400);
    await db().updateTable('volume').set({ status: 'available' }).where('id', '=', small.id).execute();
    expect((await cinder('POST', `/${pid}/backups/${b.id}/restore`, demo, { restore: { volume_id: 'nope' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/backups/${b.id}/restore`, demo, {})).status).toBe(400);

    expect((await cinder('DELETE', `/${pid}/volumes/${vol.id}`, demo)).status).toBe(202);
    await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['deleted']);
    const { vol: restored } = await restore(b.id, { name: 'phoenix' });
    expect(restored.name).toBe('phoenix');
    expect(restored.size).toBe(2);
    expect(await digest(restored.id)).toBe(before);
  });

  it('validates the create body', async () => {
    const vol = await newVolume();
    const bad = async (body: unknown, version?: string) => (await cinder('POST', `/${pid}/backups`, demo, body, version)).status;
    expect(await bad({ backup: {} })).toBe(400);
    expect(await bad({ backup: { volume_id: 'not-a-uuid' } })).toBe(400);
    expect(await bad({ backup: { volume_id: vol.id, bogus: true } })).toBe(400);
    expect(await bad({ backup: { volume_id: vol.id, incremental: 'sometimes' } })).toBe(400);
    expect(await bad({ backup: { volume_id: vol.id, metadata: { a: 'b' } } })).toBe(400); // metadata needs 3.43
    expect(await bad({ backup: { volume_id: vol.id, snapshot_id: 'x' } })).toBe(400);
    expect(await bad({ backup: { volume_id: vol.id, name: 'n'.repeat(256) } })).toBe(400);
    expect(await bad({ backup: { volume_id: vol.id, availability_zone: 'atlantis' } }, '3.51')).toBe(400);
    expect(await bad({ backup: { volume_id: '6d2b4c3a-0000-4000-8000-000000000000' } })).toBe(404);
    expect(await bad({ backup: { volume_id: vol.id, snapshot_id: '6d2b4c3a-0000-4000-8000-000000000000' } })).toBe(404);
  });

  it('updates name, description and (3.43) metadata from 3.9', async () => {
    const vol = await newVolume();
    const b = await backup({ volume_id: vol.id, name: 'before', metadata: { k: 'v' } }, demo, '3.43');
    expect((await cinder('PUT', `/${pid}/backups/${b.id}`, demo, { backup: { name: 'x' } })).status).toBe(404);
    const upd = await cinder('PUT', `/${pid}/backups/${b.id}`, demo, { backup: { name: 'after', description: 'd' } }, '3.9');
    expect(upd.status).toBe(200);
    expect(upd.body.backup).toMatchObject({ id: b.id, name: 'after' });
    expect(tempestErrors([['backups', 'update_backup', upd.status, upd.body]], 'volume')).toEqual([]);
    expect((await cinder('PUT', `/${pid}/backups/${b.id}`, demo, { backup: { metadata: { a: 'b' } } }, '3.9')).status).toBe(400);
    await ok('PUT', `/${pid}/backups/${b.id}`, demo, { backup: { metadata: { a: 'b' } } }, 200, '3.43');
    const shown = (await ok('GET', `/${pid}/backups/${b.id}`, demo, undefined, 200, '3.43')).backup;
    expect(shown).toMatchObject({ name: 'after', description: 'd', metadata: { a: 'b' } });
    expect((await ok('GET', `/${pid}/backups/${b.id}`, demo, undefined, 200, '3.42')).backup).not.toHaveProperty('metadata');
    expect(shown).not.toHaveProperty('os-backup-project-attr:project_id');
    const asAdmin = (await ok('GET', `/${pid}/backups/${b.id}`, c.adminToken, undefined, 200, '3.56')).backup;
    expect(asAdmin['os-backup-project-attr:project_id']).toBe(pid);
    expect(asAdmin).toHaveProperty('user_id');
    expect(tempestErrors([['v3_64.backups', 'show_backup', 200, { backup: asAdmin }]], 'volume')).toEqual([]);
    expect((await cinder('PUT', `/${pid}/backups/${b.id}`, reader, { backup: { name: 'r' } }, '3.9')).status).toBe(403);
  });

  it('lists with filters, paging and sorting', async () => {
    const vol = await newVolume();
    const made: string[] = [];
    for (const name of ['bk-b', 'bk-a', 'bk-c']) made.push((await backup({ volume_id: vol.id, name })).id);
    const ids = async (q: string) => (await ok('GET', `/${pid}/backups?volume_id=${vol.id}&${q}`, demo)).backups.map((b: { id: string }) => b.id);
    expect(await ids('')).toEqual([...made].reverse());
    expect(await ids('name=bk-a')).toEqual([made[1]]);
    expect(await ids('status=error')).toEqual([]);
    expect(await ids('limit=0')).toEqual([]);
    expect(await ids('limit=1')).toEqual([made[2]]);
    expect(await ids('offset=1&limit=5')).toEqual([made[1], made[0]]);
    expect(await ids(`marker=${made[2]}`)).toEqual([made[1], made[0]]);
    expect(await ids('sort=name:asc')).toEqual([made[1], made[0], made[2]]);
    expect(await ids('sort_key=created_at&sort_dir=asc')).toEqual(made);
    const page = await ok('GET', `/${pid}/backups/detail?volume_id=${vol.id}&limit=2`, demo);
    expect(new URL(page.backups_links[0].href).searchParams.get('marker')).toBe(made[1]);
    expect((await cinder('GET', `/${pid}/backups?sort_key=bogus`, demo)).status).toBe(400);
    expect((await cinder('GET', `/${pid}/backups?limit=x`, demo)).status).toBe(400);
    expect((await cinder('GET', `/${pid}/backups?marker=6d2b4c3a-0000-4000-8000-000000000000`, demo)).status).toBe(404);
    const counted = await ok('GET', `/${pid}/backups?volume_id=${vol.id}&with_count=true`, demo, undefined, 200, '3.45');
    expect(counted.count).toBe(3);
  });

  it('hides backups from other projects and keeps readers from writing', async () => {
    const vol = await newVolume();
    const b = await backup({ volume_id: vol.id });
    for (const [m, p, body] of [
      ['GET', `/backups/${b.id}`], ['DELETE', `/backups/${b.id}`], ['POST', `/backups/${b.id}/restore`, { restore: null }],
      ['PUT', `/backups/${b.id}`, { backup: { name: 'x' } }],
    ] as Array<[string, string, unknown?]>) {
      expect((await cinder(m, p, other, body, '3.67')).status, `${m} ${p}`).toBe(404);
    }
    expect((await cinder('GET', '/backups', other, undefined, '3.67')).body.backups).toEqual([]);
    expect((await cinder('POST', '/backups', other, { backup: { volume_id: vol.id } }, '3.67')).status).toBe(404);
    expect((await cinder('POST', `/${pid}/backups`, reader, { backup: { volume_id: vol.id } })).status).toBe(403);
    expect((await cinder('DELETE', `/${pid}/backups/${b.id}`, reader)).status).toBe(403);
    expect((await cinder('POST', `/${pid}/backups/${b.id}/restore`, reader, { restore: null })).status).toBe(403);
    expect((await cinder('GET', `/${pid}/backups/${b.id}`, reader)).status).toBe(200);
  });

  it('counts backups and backup gigabytes against the quota; racers for the last unit get one backup', async () => {
    const vol = await newVolume(2);
    const used = (await db().selectFrom('backup').select('id').where('project_id', '=', pid).execute()).length;
    await setQuota('backups', used);
    const over = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id } });
    expect(over.status).toBe(413);
    expect((await ok('GET', `/${pid}/volumes/${vol.id}`, demo)).volume.status).toBe('available');
    await setQuota('backups', used + 1);
    const race = await Promise.all([1, 2, 3].map(() => cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id } })));
    // One wins the quota unit; the others lose on quota or on the volume now backing up.
    expect(race.filter((r) => r.status === 202)).toHaveLength(1);
    expect(race.filter((r) => r.status !== 202).every((r) => r.status === 413 || r.status === 400)).toBe(true);
    await waitFor(`/${pid}/backups/${race.find((r) => r.status === 202)!.body.backup.id}`, 'backup', demo, ['available']);
    await dropQuota('backups');
    const gb = (await db().selectFrom('backup').select('size').where('project_id', '=', pid).execute()).reduce((s, r) => s + r.size, 0);
    await setQuota('backup_gigabytes', gb + 1);
    const big = await cinder('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id } });
    expect(big.status).toBe(413);
    expect(big.body.overLimit.message).toMatch(/gigabytes/i);
    await dropQuota('backup_gigabytes');
    // A restore to a new volume counts against the volume quota.
    await setQuota('volumes', 0);
    const b = (await db().selectFrom('backup').selectAll().where('volume_id', '=', vol.id).executeTakeFirstOrThrow());
    expect((await cinder('POST', `/${pid}/backups/${b.id}/restore`, demo, { restore: null })).status).toBe(413);
    await dropQuota('volumes');
  });

  it('lets admins reset status, force delete, and export and import records', async () => {
    const vol = await newVolume();
    await write(vol.id, [[0, randomBytes(MiB)]]);
    const before = await digest(vol.id);
    const b = await backup({ volume_id: vol.id, name: 'exported' });
    const act = (id: string, token: string, body: unknown) => cinder('POST', `/${pid}/backups/${id}/action`, token, body);

    expect((await cinder('GET', `/${pid}/backups/${b.id}/export_record`, demo)).status).toBe(403);
    const exp = await cinder('GET', `/${pid}/backups/${b.id}/export_record`, c.adminToken);
    expect(exp.status).toBe(200);
    expect(exp.body['backup-record'].backup_service).toMatch(/^cinder\.backup\.drivers\./);
    expect(tempestErrors([['backups', 'export_backup', exp.status, exp.body]], 'volume')).toEqual([]);
    const record = JSON.parse(Buffer.from(exp.body['backup-record'].backup_url, 'base64').toString());
    const newId = '0b5e3c1a-8f2d-4c6e-9a7b-1d2e3f4a5b6c';
    const url = Buffer.from(JSON.stringify({ ...record, id: newId })).toString('base64');
    const imp = await cinder('POST', `/${pid}/backups/import_record`, c.adminToken, { 'backup-record': { backup_service: record.service, backup_url: url } });
    expect(imp.status).toBe(201);
    expect(imp.body.backup.id).toBe(newId);
    expect(tempestErrors([['backups', 'import_backup', imp.status, imp.body]], 'volume')).toEqual([]);
    const adminPid = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0].id;
    const imported = await waitFor(`/${adminPid}/backups/${newId}`, 'backup', c.adminToken, ['available', 'error']);
    expect(imported).toMatchObject({ status: 'available', name: 'exported', volume_id: vol.id });
    const again = await cinder('POST', `/${pid}/backups/import_record`, c.adminToken, { 'backup-record': { backup_service: record.service, backup_url: url } });
    expect(again.status).toBe(400);
    expect((await cinder('POST', `/${pid}/backups/import_record`, c.adminToken, { 'backup-record': { backup_service: record.service, backup_url: '!!' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/backups/import_record`, demo, { 'backup-record': { backup_service: record.service, backup_url: url } })).status).toBe(403);

    // The imported record stands alone: the original can go and the import still restores.
    expect((await act(b.id, demo, { 'os-force_delete': {} })).status).toBe(403);
    expect((await act(b.id, c.adminToken, { 'os-force_delete': {} })).status).toBe(202);
    await waitFor(`/${pid}/backups/${b.id}`, 'backup', demo, ['deleted']);
    const r = await cinder('POST', `/${adminPid}/backups/${newId}/restore`, c.adminToken, { restore: null });
    expect(r.status).toBe(202);
    await waitFor(`/${adminPid}/volumes/${r.body.restore.volume_id}`, 'volume', c.adminToken, ['available']);
    expect(await digest(r.body.restore.volume_id)).toBe(before);

    expect((await act(newId, demo, { 'os-reset_status': { status: 'error' } })).status).toBe(404);
    expect((await act(newId, c.adminToken, { 'os-reset_status': { status: 'creating' } })).status).toBe(400);
    const reset = await act(newId, c.adminToken, { 'os-reset_status': { status: 'error' } });
    expect(reset.status).toBe(202);
    expect(tempestErrors([['backups', 'reset_backup_status', reset.status, reset.body]], 'volume')).toEqual([]);
    expect((await ok('GET', `/${adminPid}/backups/${newId}`, c.adminToken)).backup.status).toBe('error');
    expect((await cinder('DELETE', `/${adminPid}/backups/${newId}`, c.adminToken)).status).toBe(202);
    await waitFor(`/${adminPid}/backups/${newId}`, 'backup', c.adminToken, ['deleted']);
  });
});
