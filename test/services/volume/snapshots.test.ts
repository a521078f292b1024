import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { outsider, readerOf } from '../../helpers/compute.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';
import { volumeClient } from '../../helpers/volume.js';
import { volumeDb } from '../../../src/services/volume/store.js';

describe('volume snapshots', () => {
  let c: TestCloud;
  let demo: string;
  let reader: string;
  let other: string;
  let pid: string;
  const { cinder, ok, waitFor } = volumeClient(() => c);
  const db = () => volumeDb(c.platform.db);

  const newVolume = async (size = 1, token = demo, project = () => pid) => {
    const v = (await ok('POST', `/${project()}/volumes`, token, { volume: { size, name: 'vol' } }, 202)).volume;
    return waitFor(`/${project()}/volumes/${v.id}`, 'volume', token, ['available']);
  };
  const newSnapshot = async (volumeId: string, extra: Record<string, unknown> = {}) => {
    const s = (await ok('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: volumeId, ...extra } }, 202)).snapshot;
    return waitFor(`/${pid}/snapshots/${s.id}`, 'snapshot', demo, ['available']);
  };
  const setQuota = async (resource: string, limit: number) => {
    await db().deleteFrom('volume_quota').where('project_id', '=', pid).where('resource', '=', resource).execute();
    await db().insertInto('volume_quota').values({ project_id: pid, resource, hard_limit: limit }).execute();
  };
  const dropQuota = (resource: string) => db().deleteFrom('volume_quota').where('project_id', '=', pid).where('resource', '=', resource).execute();

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    const t = c.adminToken;
    pid = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0].id;
    reader = await readerOf(c, 'demo');
    other = await outsider(c);
  });
  afterAll(async () => { await c.destroy(); });

  it('creates, shows, lists, updates and deletes a snapshot, every body as Tempest expects', async () => {
    const vol = await newVolume();
    const created = await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, name: ' snap-1 ', description: 'first', metadata: { a: '1' } } });
    expect(created.status).toBe(202);
    expect(created.body.snapshot).toMatchObject({ name: 'snap-1', description: 'first', status: 'creating', size: 1, volume_id: vol.id, metadata: { a: '1' } });
    expect(created.body.snapshot).not.toHaveProperty('os-extended-snapshot-attributes:progress');
    const id = created.body.snapshot.id;
    const shown = await waitFor(`/${pid}/snapshots/${id}`, 'snapshot', demo, ['available']);
    expect(shown['os-extended-snapshot-attributes:progress']).toBe('100%');
    expect(shown['os-extended-snapshot-attributes:project_id']).toBe(pid);

    const list = await cinder('GET', `/${pid}/snapshots`, demo);
    const detail = await cinder('GET', `/${pid}/snapshots/detail`, demo);
    expect(list.body.snapshots.map((s: { id: string }) => s.id)).toContain(id);
    expect(detail.body.snapshots[0]).toHaveProperty('os-extended-snapshot-attributes:progress');

    const upd = await cinder('PUT', `/${pid}/snapshots/${id}`, demo, { snapshot: { name: 'renamed', description: 'new words' } });
    expect(upd.status).toBe(200);
    expect(upd.body.snapshot).toMatchObject({ name: 'renamed', description: 'new words' });
    const legacy = await ok('PUT', `/${pid}/snapshots/${id}`, demo, { snapshot: { display_name: 'legacy', display_description: 'old spelling' } });
    expect(legacy.snapshot).toMatchObject({ name: 'legacy', description: 'old spelling' });
    expect((await cinder('PUT', `/${pid}/snapshots/${id}`, demo, { snapshot: {} })).status).toBe(400);
    expect((await cinder('PUT', `/${pid}/snapshots/${id}`, demo, { snapshot: { size: 3 } })).status).toBe(400);

    expect(tempestErrors([
      ['snapshots', 'create_snapshot', created.status, created.body],
      ['snapshots', 'show_snapshot', 200, { snapshot: shown }],
      ['snapshots', 'list_snapshots_no_detail', list.status, list.body],
      ['snapshots', 'list_snapshots_with_detail', detail.status, detail.body],
      ['snapshots', 'update_snapshot', upd.status, upd.body],
    ], 'volume')).toEqual([]);

    const del = await cinder('DELETE', `/${pid}/snapshots/${id}`, demo);
    expect(del.status).toBe(202);
    expect(del.text).toBe('');
    await waitFor(`/${pid}/snapshots/${id}`, 'snapshot', demo, ['deleted']);
    expect((await cinder('GET', `/${pid}/snapshots/${id}`, demo)).status).toBe(404);
  });

  it('shows the microversioned fields only from their microversions', async () => {
    const vol = await newVolume();
    const snap = await newSnapshot(vol.id);
    const at = async (v: string) => (await ok('GET', `/${pid}/snapshots/${snap.id}`, demo, undefined, 200, v)).snapshot;
    expect(await at('3.0')).not.toHaveProperty('user_id');
    expect(await at('3.14')).toHaveProperty('group_snapshot_id', null);
    expect(await at('3.41')).toHaveProperty('user_id');
    expect(await at('3.64')).not.toHaveProperty('consumes_quota');
    expect(await at('3.65')).toHaveProperty('consumes_quota', true);
    // The summary list stays the summary at every version.
    const listed = (await ok('GET', `/${pid}/snapshots?volume_id=${vol.id}`, demo, undefined, 200, '3.65')).snapshots[0];
    expect(listed).not.toHaveProperty('user_id');
    expect(Object.keys(listed).sort()).toEqual(['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id']);
  });

  it('needs force for an in-use volume before 3.66, refuses other statuses, and validates the body', async () => {
    const vol = await newVolume();
    await db().updateTable('volume').set({ status: 'in-use' }).where('id', '=', vol.id).execute();
    const noForce = await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, force: false } });
    expect(noForce.status).toBe(400);
    expect(noForce.body.badRequest.message).toMatch(/status must be available/);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } })).status).toBe(400);
    const forced = await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, force: 'true' } });
    expect(forced.status).toBe(202);
    await waitFor(`/${pid}/snapshots/${forced.body.snapshot.id}`, 'snapshot', demo, ['available']);
    // 3.66: in-use needs no flag, and an explicit false is refused.
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } }, '3.66')).status).toBe(202);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, force: false } }, '3.66')).status).toBe(400);

    await db().updateTable('volume').set({ status: 'error' }).where('id', '=', vol.id).execute();
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, force: true } })).status).toBe(400);
    await db().updateTable('volume').set({ status: 'available' }).where('id', '=', vol.id).execute();

    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: '6d2b4c3a-0000-4000-8000-000000000000' } })).status).toBe(404);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: null } })).status).toBe(404);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { name: 'x' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: 'not-a-uuid' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, bogus: 1 } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, name: 'x'.repeat(256) } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, force: 'maybe' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id, metadata: { k: 1 } } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: 'x' })).status).toBe(400);
  });

  describe('lists', () => {
    let vol: { id: string };
    const ids: string[] = [];
    beforeAll(async () => {
      vol = await newVolume();
      for (const name of ['list-b', 'list-a', 'list-c']) ids.push((await newSnapshot(vol.id, { name, metadata: { tier: name === 'list-a' ? 'gold' : 'iron' } })).id);
    });
    const listed = async (query: string, version?: string) => {
      const r = await cinder('GET', `/${pid}/snapshots?volume_id=${vol.id}&${query}`, demo, undefined, version);
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const idsOf = (b: { snapshots: Array<{ id: string }> }) => b.snapshots.map((s) => s.id);

    it('filters by name, status, volume and (from 3.22) metadata', async () => {
      expect((await listed('name=list-a')).snapshots.map((s: { name: string }) => s.name)).toEqual(['list-a']);
      expect(idsOf(await listed('status=available')).sort()).toEqual([...ids].sort());
      expect(idsOf(await listed('status=error'))).toEqual([]);
      expect(idsOf(await listed(`metadata=${encodeURIComponent("{'tier': 'gold'}")}`, '3.22'))).toEqual([ids[1]]);
      expect(idsOf(await listed(`metadata=${encodeURIComponent('{"tier":"iron"}')}`, '3.22')).sort()).toEqual([ids[0], ids[2]].sort());
      expect((await listed('name=list-a&with_count=true', '3.45')).count).toBe(1);
      expect(await listed('name=list-a&with_count=true')).not.toHaveProperty('count');
    });

    it('pages with limit, offset and marker, newest first by default, with a next link', async () => {
      expect(idsOf(await listed(''))).toEqual([...ids].reverse());
      expect(idsOf(await listed('limit=0'))).toEqual([]);
      expect(idsOf(await listed('limit=100000'))).toHaveLength(3);
      expect(idsOf(await listed('offset=2&limit=3'))).toEqual([ids[0]]);
      const page = await listed('limit=2');
      expect(idsOf(page)).toEqual([ids[2], ids[1]]);
      const next = new URL(page.snapshots_links[0].href);
      expect(page.snapshots_links[0].rel).toBe('next');
      expect(next.searchParams.get('marker')).toBe(ids[1]);
      expect(next.pathname).toBe(`/volume/v3/${pid}/snapshots`);
      const rest = await cinder('GET', `/${pid}/snapshots?${next.searchParams}`, demo);
      expect(idsOf(rest.body)).toEqual([ids[0]]);
      expect(idsOf(await listed(`marker=${ids[1]}`))).toEqual([ids[0]]);
      expect(tempestErrors([['snapshots', 'list_snapshots_no_detail', 200, page]], 'volume')).toEqual([]);
    });

    it('sorts by id, created_at and name (display_name) both ways', async () => {
      for (const key of ['id', 'created_at', 'display_name', 'name']) {
        for (const dir of ['asc', 'desc']) {
          const body = await listed(`sort_key=${key}&sort_dir=${dir}`);
          const values = body.snapshots.map((s: Record<string, string>) => s[key === 'display_name' ? 'name' : key]);
          const sorted = [...values].sort();
          expect(values).toEqual(dir === 'asc' ? sorted : sorted.reverse());
        }
      }
      expect(idsOf(await listed('sort=name:asc'))).toEqual([ids[1], ids[0], ids[2]]);
    });

    it('refuses bad paging and sorting', async () => {
      expect((await cinder('GET', `/${pid}/snapshots?limit=invalid`, demo)).status).toBe(400);
      expect((await cinder('GET', `/${pid}/snapshots?limit=-1`, demo)).status).toBe(400);
      expect((await cinder('GET', `/${pid}/snapshots?offset=x`, demo)).status).toBe(400);
      expect((await cinder('GET', `/${pid}/snapshots?sort_key=invalid`, demo)).status).toBe(400);
      expect((await cinder('GET', `/${pid}/snapshots?sort_dir=sideways`, demo)).status).toBe(400);
      expect((await cinder('GET', `/${pid}/snapshots?marker=6d2b4c3a-0000-4000-8000-000000000000`, demo)).status).toBe(404);
      expect((await cinder('GET', `/${pid}/snapshots?sort=id&sort_key=id`, demo)).status).toBe(400);
    });

    it('shows other projects only to an admin asking for all_tenants', async () => {
      const mine = await cinder('GET', `/${pid}/snapshots?all_tenants=1`, demo);
      expect(idsOf(mine.body)).toEqual(expect.arrayContaining(ids));
      const adminPid = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0].id;
      expect(idsOf((await cinder('GET', `/${adminPid}/snapshots`, c.adminToken)).body)).not.toContain(ids[0]);
      const all = await cinder('GET', `/${adminPid}/snapshots/detail?all_tenants=true`, c.adminToken);
      expect(idsOf(all.body)).toEqual(expect.arrayContaining(ids));
      const byProject = await cinder('GET', `/${adminPid}/snapshots?all_tenants=1&project_id=${pid}`, c.adminToken);
      expect(idsOf(byProject.body)).toEqual(expect.arrayContaining(ids));
      expect(idsOf((await cinder('GET', '/snapshots?all_tenants=1', other, undefined, '3.67')).body)).toEqual([]);
    });
  });

  it('keeps snapshot metadata: create merges, update replaces, items read, write and delete', async () => {
    const vol = await newVolume();
    const snap = await newSnapshot(vol.id);
    const base = `/${pid}/snapshots/${snap.id}/metadata`;
    const created = await cinder('POST', base, demo, { metadata: { key1: 'value1', key2: 'value2', key3: 'value3' } });
    expect(created.status).toBe(200);
    expect(created.body.metadata).toEqual({ key1: 'value1', key2: 'value2', key3: 'value3' });
    const merged = await ok('POST', base, demo, { metadata: { key4: 'value4' } });
    expect(Object.keys(merged.metadata).sort()).toEqual(['key1', 'key2', 'key3', 'key4']);
    const replaced = await cinder('PUT', base, demo, { metadata: { key3: 'value3_update', key4: 'value4' } });
    expect(replaced.body.metadata).toEqual({ key3: 'value3_update', key4: 'value4' });
    const shown = await cinder('GET', base, demo);
    expect(shown.body.metadata).toEqual({ key3: 'value3_update', key4: 'value4' });
    const item = await cinder('PUT', `${base}/key3`, demo, { meta: { key3: 'v3' } });
    expect(item.body).toEqual({ meta: { key3: 'v3' } });
    const itemShown = await cinder('GET', `${base}/key3`, demo);
    expect(itemShown.body).toEqual({ meta: { key3: 'v3' } });
    expect((await cinder('PUT', `${base}/key3`, demo, { meta: { other: 'x' } })).status).toBe(400);
    expect((await cinder('PUT', `${base}/key3`, demo, { meta: { key3: 'x', other: 'y' } })).status).toBe(400);
    expect((await cinder('PUT', `${base}/key3`, demo, { meta: {} })).status).toBe(400);
    expect((await cinder('POST', base, demo, { metadata: { 'bad/key': 'x' } })).status).toBe(400);
    expect((await cinder('POST', base, demo, { metadata: { k: 'x'.repeat(256) } })).status).toBe(400);
    expect((await cinder('POST', base, demo, { meta: {} })).status).toBe(400);
    const del = await cinder('DELETE', `${base}/key3`, demo);
    expect(del.status).toBe(200);
    expect((await cinder('DELETE', `${base}/key3`, demo)).status).toBe(404);
    expect((await cinder('GET', `${base}/key3`, demo)).status).toBe(404);
    expect((await ok('GET', `/${pid}/snapshots/${snap.id}`, demo)).snapshot.metadata).toEqual({ key4: 'value4' });
    expect(tempestErrors([
      ['snapshots', 'create_snapshot_metadata', created.status, created.body],
      ['snapshots', 'show_snapshot_metadata', shown.status, shown.body],
      ['snapshots', 'update_snapshot_metadata', replaced.status, replaced.body],
      ['snapshots', 'update_snapshot_metadata_item', item.status, item.body],
      ['snapshots', 'show_snapshot_metadata_item', itemShown.status, itemShown.body],
    ], 'volume')).toEqual([]);
    // Readers read, they do not write.
    expect((await cinder('GET', base, reader)).status).toBe(200);
    expect((await cinder('POST', base, reader, { metadata: { r: '1' } })).status).toBe(403);
    expect((await cinder('DELETE', `${base}/key4`, reader)).status).toBe(403);
  });

  it('hides a snapshot from other projects and keeps readers from writing', async () => {
    const vol = await newVolume();
    const snap = await newSnapshot(vol.id);
    for (const [m, p, body] of [
      ['GET', `/snapshots/${snap.id}`], ['PUT', `/snapshots/${snap.id}`, { snapshot: { name: 'x' } }], ['DELETE', `/snapshots/${snap.id}`],
      ['GET', `/snapshots/${snap.id}/metadata`], ['POST', `/snapshots/${snap.id}/metadata`, { metadata: { a: 'b' } }],
      ['POST', `/snapshots/${snap.id}/action`, { 'os-update_snapshot_status': { status: 'error' } }],
    ] as Array<[string, string, unknown?]>) {
      expect((await cinder(m, p, other, body, '3.67')).status, `${m} ${p}`).toBe(404);
    }
    // Another project's volume cannot be snapshotted either.
    expect((await cinder('POST', '/snapshots', other, { snapshot: { volume_id: vol.id } }, '3.67')).status).toBe(404);
    expect((await cinder('GET', `/${pid}/snapshots/${snap.id}`, other)).status).toBe(400); // someone else's project in the URL
    expect((await cinder('POST', `/${pid}/snapshots`, reader, { snapshot: { volume_id: vol.id } })).status).toBe(403);
    expect((await cinder('PUT', `/${pid}/snapshots/${snap.id}`, reader, { snapshot: { name: 'x' } })).status).toBe(403);
    expect((await cinder('DELETE', `/${pid}/snapshots/${snap.id}`, reader)).status).toBe(403);
    expect((await cinder('GET', `/${pid}/snapshots/${snap.id}`, reader)).status).toBe(200);
  });

  it('counts snapshots and gigabytes against the quota; one of two racers gets the last unit', async () => {
    const vol = await newVolume(2);
    const used = (await db().selectFrom('snapshot').select('id').where('project_id', '=', pid).execute()).length;
    await setQuota('snapshots', used);
    const over = await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } });
    expect(over.status).toBe(413);
    expect(over.body.overLimit.message).toMatch(/snapshots/);
    await setQuota('snapshots', used + 1);
    const race = await Promise.all([1, 2, 3].map(() => cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } })));
    expect(race.map((r) => r.status).sort()).toEqual([202, 413, 413]);
    await waitFor(`/${pid}/snapshots/${race.find((r) => r.status === 202)!.body.snapshot.id}`, 'snapshot', demo, ['available']);
    await dropQuota('snapshots');

    const gb = (await db().selectFrom('volume').select('size').where('project_id', '=', pid).execute()).reduce((s, r) => s + r.size, 0)
      + (await db().selectFrom('snapshot').select('size').where('project_id', '=', pid).execute()).reduce((s, r) => s + r.size, 0);
    await setQuota('gigabytes', gb + 1);
    const tooBig = await cinder('POST', `/${pid}/snapshots`, demo, { snapshot: { volume_id: vol.id } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.overLimit.message).toMatch(/gigabytes/);
    await dropQuota('gigabytes');
    expect(await db().selectFrom('snapshot').select('id').where('volume_id', '=', vol.id).execute()).toHaveLength(1);
  });

  it('deletes only available or errored snapshots; admins reset status and force delete', async () => {
    const vol = await newVolume();
    const snap = await newSnapshot(vol.id);
    const act = (token: string, body: unknown) => cinder('POST', `/${pid}/snapshots/${snap.id}/action`, token, body);

    expect((await act(demo, { 'os-reset_status': { status: 'creating' } })).status).toBe(403);
    const reset = await act(c.adminToken, { 'os-reset_status': { status: 'creating' } });
    expect(reset.status).toBe(202);
    expect(tempestErrors([['snapshots', 'reset_snapshot_status', reset.status, reset.body]], 'volume')).toEqual([]);
    expect((await ok('GET', `/${pid}/snapshots/${snap.id}`, demo)).snapshot.status).toBe('creating');
    const refused = await cinder('DELETE', `/${pid}/snapshots/${snap.id}`, demo);
    expect(refused.status).toBe(400);
    expect((await act(c.adminToken, { 'os-reset_status': { status: 'nonsense' } })).status).toBe(400);
    expect((await act(c.adminToken, { 'os-reset_status': {} })).status).toBe(400);
    expect((await act(demo, { 'os-bogus': {} })).status).toBe(400);

    // os-update_snapshot_status: the owner moves creating → error with a progress.
    const upd = await act(demo, { 'os-update_snapshot_status': { status: 'error', progress: '80%' } });
    expect(upd.status).toBe(202);
    const after = (await ok('GET', `/${pid}/snapshots/${snap.id}`, c.adminToken)).snapshot;
    expect(after.status).toBe('error');
    expect(after['os-extended-snapshot-attributes:progress']).toBe('80%');
    expect((await act(demo, { 'os-update_snapshot_status': { status: 'available' } })).status).toBe(400); // from error: not allowed
    await act(c.adminToken, { 'os-reset_status': { status: 'creating' } });
    expect((await act(demo, { 'os-update_snapshot_status': { status: 'deleting' } })).status).toBe(400);
    expect((await act(demo, { 'os-update_snapshot_status': { status: 'available', progress: '101%' } })).status).toBe(400);
    expect((await act(reader, { 'os-update_snapshot_status': { status: 'available' } })).status).toBe(403);

    expect((await act(demo, { 'os-force_delete': {} })).status).toBe(403);
    const forced = await act(c.adminToken, { 'os-force_delete': {} });
    expect(forced.status).toBe(202);
    await waitFor(`/${pid}/snapshots/${snap.id}`, 'snapshot', demo, ['deleted']);

    // An errored snapshot deletes normally.
    const snap2 = await newSnapshot(vol.id);
    await cinder('POST', `/${pid}/snapshots/${snap2.id}/action`, c.adminToken, { 'os-reset_status': { status: 'error' } });
    expect((await cinder('DELETE', `/${pid}/snapshots/${snap2.id}`, demo)).status).toBe(202);
    await waitFor(`/${pid}/snapshots/${snap2.id}`, 'snapshot', demo, ['deleted']);
  });
});
