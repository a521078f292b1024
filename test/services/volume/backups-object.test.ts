import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { volumeClient } from '../../helpers/volume.js';

/** Backups kept in Object Storage (the default when it runs), as Cinder's Swift backup driver keeps them. */
let c: TestCloud;
let demo: string;
let pid: string;
const { ok, waitFor } = volumeClient(() => c);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  c = await testCloud();
  demo = await c.login('demo', 'demo-secret', 'demo');
  pid = (await c.api('GET', '/identity/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': demo } })).body.token.project.id;
}, 60_000);
afterAll(async () => { await c?.destroy(); });

describe('backups in Object Storage', () => {
  it('stores chunks and a manifest in the owner\'s volumebackups container, restores the bytes, and removes them on delete', async () => {
    const vol = (await ok('POST', `/${pid}/volumes`, demo, { volume: { size: 1, name: 'src' } }, 202)).volume;
    await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['available']);
    const fd = openSync(c.volume.locate(vol.id), 'r+');
    const data = Buffer.from('stratus backup bytes '.repeat(5000));
    writeSync(fd, data, 0, data.length, 40 << 20);
    closeSync(fd);
    const before = sha(readFileSync(c.volume.locate(vol.id)));

    const backup = (await ok('POST', `/${pid}/backups`, demo, { backup: { volume_id: vol.id, name: 'b1' } }, 202)).backup;
    const done = await waitFor(`/${pid}/backups/${backup.id}`, 'backup', demo, ['available', 'error'], 60_000);
    expect(done).toMatchObject({ status: 'available', container: 'volumebackups' });

    const container = await c.api('HEAD', `/object-store/v1/AUTH_${pid}/volumebackups`, { token: demo });
    expect(container.headers.get('x-storage-policy')).toBe('gp.archive');
    const listing = await c.api('GET', `/object-store/v1/AUTH_${pid}/volumebackups?format=json&prefix=${backup.id}/`, { token: demo });
    expect(listing.status).toBe(200);
    const names = (listing.body as Array<{ name: string }>).map((o) => o.name.slice(backup.id.length + 1));
    expect(names).toContain('manifest.json');
    expect(names.filter((n) => n.startsWith('chunk-'))).toEqual(['chunk-000001']);

    const restore = (await ok('POST', `/${pid}/backups/${backup.id}/restore`, demo, { restore: { name: 'back' } }, 202)).restore;
    await waitFor(`/${pid}/volumes/${restore.volume_id}`, 'volume', demo, ['available'], 60_000);
    expect(sha(readFileSync(c.volume.locate(restore.volume_id)))).toBe(before);

    await ok('DELETE', `/${pid}/backups/${backup.id}`, demo, undefined, 202);
    await waitFor(`/${pid}/backups/${backup.id}`, 'backup', demo, ['deleted'], 60_000);
    const after = await c.api('GET', `/object-store/v1/AUTH_${pid}/volumebackups?format=json&prefix=${backup.id}/`, { token: demo });
    expect(after.body ?? []).toEqual([]);
  }, 120_000);
});
