import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { volumeClient } from '../../helpers/volume.js';
import { outsider } from '../../helpers/compute.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';

let c: TestCloud;
let demo: string;
let demoProject: string;
const { cinder, ok, waitFor } = volumeClient(() => c);

beforeAll(async () => {
  c = await testCloud();
  demo = await c.login('demo', 'demo-secret', 'demo');
  demoProject = (await c.api('GET', '/identity/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': demo } })).body.token.project.id;
}, 60_000);
afterAll(async () => { await c?.destroy(); });

describe('volumes', () => {
  it('creates a blank volume of the default type in the first zone, as a sparse file', async () => {
    const created = await ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: 'vol1', metadata: { Type: 'work' } } }, 202);
    expect(created.volume).toMatchObject({ name: 'vol1', size: 1, status: 'creating', volume_type: 'ssd', availability_zone: 'europe-se-1a', bootable: 'false', multiattach: false });
    const vol = await waitFor(`/${demoProject}/volumes/${created.volume.id}`, 'volume', demo, ['available']);
    expect(vol.metadata).toEqual({ Type: 'work' });
    const st = statSync(c.volume.locate(vol.id));
    expect(st.size).toBe(1024 ** 3);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
    const detail = await cinder('GET', `/${demoProject}/volumes/${vol.id}`, demo);
    const list = await cinder('GET', `/${demoProject}/volumes?name=vol1`, demo);
    const listDetail = await cinder('GET', `/${demoProject}/volumes/detail?metadata=${encodeURIComponent("{'Type': 'work'}")}`, demo);
    expect(list.body.volumes.map((v: { id: string }) => v.id)).toEqual([vol.id]);
    expect(listDetail.body.volumes.map((v: { id: string }) => v.id)).toEqual([vol.id]);
    expect(tempestErrors([
      ['volumes', 'create_volume', 202, created], ['volumes', 'show_volume', 200, detail.body],
      ['volumes', 'list_volumes_no_detail', 200, list.body], ['volumes', 'list_volumes_with_detail', 200, listDetail.body],
    ], 'volume')).toEqual([]);
  });

  it('pages with limit and marker and a next link when a page is full', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: `page${i}` } }, 202)).volume.id);
    const all = (await ok('GET', `/${demoProject}/volumes?sort=id:asc`, demo)).volumes.map((v: { id: string }) => v.id);
    const page1 = await ok('GET', `/${demoProject}/volumes?sort=id:asc&limit=2`, demo);
    expect(page1.volumes.map((v: { id: string }) => v.id)).toEqual(all.slice(0, 2));
    const next = new URL(page1.volumes_links[0].href);
    const page2 = await ok('GET', `${next.pathname.replace(/^\/volume\/v3/, '')}${next.search}`, demo);
    expect(page2.volumes.map((v: { id: string }) => v.id)).toEqual(all.slice(2, 4));
    expect((await cinder('GET', `/${demoProject}/volumes?marker=00000000-0000-0000-0000-000000000000`, demo)).status).toBe(404);
    expect((await cinder('GET', `/${demoProject}/volumes?sort=bogus:asc`, demo)).status).toBe(400);
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    const before = (await ok('GET', `/${demoProject}/volumes`, demo)).volumes.length;
    for (const body of [{ volume: { size: 0 } }, { volume: { size: -1 } }, { volume: { size: 'abc' } }, { volume: {} }, { volume: { size: 1, volume_type: 'nope' } },
      { volume: { size: 1, availability_zone: 'mars-1a' } }, { volume: { size: 1, snapshot_id: '00000000-0000-0000-0000-000000000000' } }]) {
      const r = await cinder('POST', `/${demoProject}/volumes`, demo, body);
      expect([400, 404], `${JSON.stringify(body)} → ${r.status} ${r.text}`).toContain(r.status);
    }
    expect((await ok('GET', `/${demoProject}/volumes`, demo)).volumes.length).toBe(before);
  });

  it('hides volumes from other projects and refuses readers', async () => {
    const vol = (await ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: 'private' } }, 202)).volume;
    const other = await outsider(c);
    const otherProject = (await c.api('GET', '/identity/v3/auth/tokens', { token: other, headers: { 'x-subject-token': other } })).body.token.project.id;
    expect((await cinder('GET', `/${otherProject}/volumes/${vol.id}`, other)).status).toBe(404);
    expect((await cinder('DELETE', `/${otherProject}/volumes/${vol.id}`, other)).status).toBe(404);
    expect((await cinder('GET', `/${demoProject}/volumes`, other)).status).toBe(400);
    expect((await ok('GET', `/${otherProject}/volumes`, other)).volumes).toEqual([]);
  });

  it('deletes a volume and its file', async () => {
    const vol = (await ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: 'gone' } }, 202)).volume;
    await waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['available']);
    const path = c.volume.locate(vol.id);
    await ok('DELETE', `/${demoProject}/volumes/${vol.id}`, demo, undefined, 202);
    await waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['deleted']);
    expect(() => statSync(path)).toThrow();
  });

  it('creates a volume from a backup at 3.47 (and refuses backup_id below it)', async () => {
    const vol = (await ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: 'to-back-up' } }, 202)).volume;
    await waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['available']);
    const backup = (await ok('POST', `/${demoProject}/backups`, demo, { backup: { volume_id: vol.id, name: 'b1' } }, 202)).backup;
    await waitFor(`/${demoProject}/backups/${backup.id}`, 'backup', demo, ['available'], 60_000);
    expect((await cinder('POST', `/${demoProject}/volumes`, demo, { volume: { backup_id: backup.id, name: 'restored' } })).status).toBe(400);
    const created = await ok('POST', `/${demoProject}/volumes`, demo, { volume: { backup_id: backup.id, name: 'restored' } }, 202, '3.47');
    const restored = await waitFor(`/${demoProject}/volumes/${created.volume.id}`, 'volume', demo, ['available'], 60_000);
    expect(restored).toMatchObject({ name: 'restored', size: 1 });
    await ok('DELETE', `/${demoProject}/backups/${backup.id}`, demo, undefined, 202);
    for (const id of [vol.id, restored.id]) {
      await ok('DELETE', `/${demoProject}/volumes/${id}`, demo, undefined, 202);
      await waitFor(`/${demoProject}/volumes/${id}`, 'volume', demo, ['deleted']);
    }
  }, 120_000);

  it('keeps the quota: the 21st volume is refused with 413', async () => {
    const n = (await ok('GET', `/${demoProject}/volumes`, demo)).volumes.length;
    const results = await Promise.all(Array.from({ length: 22 - n }, (_, i) => cinder('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, name: `q${i}` } })));
    expect(results.filter((r) => r.status === 202).length).toBe(20 - n);
    expect(results.filter((r) => r.status === 413).length).toBe(2);
  });
});
