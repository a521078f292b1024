import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { volumeClient } from '../../helpers/volume.js';
import { outsider } from '../../helpers/compute.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';

/**
 * Attach and detach on the Cinder side: the legacy actions a hypervisor calls, the 3.27
 * attachments API, multi-attach, racing attaches, and volume transfers between projects.
 */
let c: TestCloud;
let demo: string;
let demoProject: string;
let other: string;
let otherProject: string;
const { cinder, ok, waitFor } = volumeClient(() => c);
const projectOf = async (token: string) => (await c.api('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } })).body.token.project.id as string;

const newVolume = async (extra: Record<string, unknown> = {}, token = demo, project = demoProject) => {
  const v = (await ok('POST', `/${project}/volumes`, token, { volume: { size: 1, ...extra } }, 202)).volume;
  return waitFor(`/${project}/volumes/${v.id}`, 'volume', token, ['available']);
};
const act = (id: string, body: unknown, token = demo, version?: string) => cinder('POST', `/${demoProject}/volumes/${id}/action`, token, body, version);
const statusOf = async (id: string) => (await ok('GET', `/${demoProject}/volumes/${id}`, demo)).volume;

beforeAll(async () => {
  c = await testCloud();
  demo = await c.login('demo', 'demo-secret', 'demo');
  demoProject = await projectOf(demo);
  other = await outsider(c);
  otherProject = await projectOf(other);
  // The multi-attach types are private: give the demo project access, as an operator would on activation.
  const types = await c.platform.db.selectFrom('volume_type' as never).select(['id' as never, 'name' as never]).execute() as Array<{ id: string; name: string }>;
  for (const t of types.filter((x) => x.name.endsWith('multiattach'))) {
    await c.platform.db.insertInto('volume_type_access' as never).values({ type_id: t.id, project_id: demoProject } as never).execute();
  }
}, 60_000);
afterAll(async () => { await c?.destroy(); });

describe('legacy attach actions', () => {
  it('reserves and unreserves', async () => {
    const vol = await newVolume();
    expect((await act(vol.id, { 'os-reserve': {} })).status).toBe(202);
    expect((await statusOf(vol.id)).status).toBe('attaching');
    // A reserved volume cannot be reserved again.
    const again = await act(vol.id, { 'os-reserve': {} });
    expect(again.status).toBe(400);
    expect(again.body.badRequest.message).toMatch(/^Invalid volume: Volume .* status must be available/);
    expect((await act(vol.id, { 'os-unreserve': {} })).status).toBe(202);
    expect((await statusOf(vol.id)).status).toBe('available');
  });

  it('attaches to a server, shows the attachment, and detaches', async () => {
    const vol = await newVolume();
    const server = randomUUID();
    const r = await act(vol.id, { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb', mode: 'rw' } });
    expect(r.status, r.text).toBe(202);
    const shown = await statusOf(vol.id);
    expect(shown).toMatchObject({ status: 'in-use' });
    expect(shown.attachments).toEqual([expect.objectContaining({ id: vol.id, volume_id: vol.id, server_id: server, device: '/dev/vdb' })]);
    const detail = await cinder('GET', `/${demoProject}/volumes/${vol.id}`, demo);
    expect(tempestErrors([['volumes', 'show_volume', 200, detail.body]], 'volume')).toEqual([]);

    // Not multi-attach: a second server is refused, and the volume cannot be deleted.
    const second = await act(vol.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' } });
    expect(second.status).toBe(400);
    expect((await cinder('DELETE', `/${demoProject}/volumes/${vol.id}`, demo)).status).toBe(400);

    const conn = await act(vol.id, { 'os-initialize_connection': { connector: { host: 'compute-1', initiator: 'x' } } });
    expect(conn.status).toBe(200);
    expect(conn.body.connection_info).toMatchObject({ driver_volume_type: 'file', data: { device_path: c.volume.locate(vol.id), access_mode: 'rw' } });
    expect((await act(vol.id, { 'os-initialize_connection': {} })).status).toBe(400);

    expect((await act(vol.id, { 'os-begin_detaching': {} })).status).toBe(202);
    expect((await statusOf(vol.id)).status).toBe('detaching');
    expect((await act(vol.id, { 'os-roll_detaching': {} })).status).toBe(202);
    expect((await statusOf(vol.id)).status).toBe('in-use');
    expect((await act(vol.id, { 'os-terminate_connection': { connector: { host: 'compute-1' } } })).status).toBe(202);
    expect((await act(vol.id, { 'os-detach': {} })).status).toBe(202);
    expect(await statusOf(vol.id)).toMatchObject({ status: 'available', attachments: [] });
    // Detaching a volume attached nowhere is accepted and changes nothing (Cinder does the same).
    expect((await act(vol.id, { 'os-detach': {} })).status).toBe(202);
    expect(await statusOf(vol.id)).toMatchObject({ status: 'available' });
  });

  it('attaches a read-only volume read-only', async () => {
    const vol = await newVolume();
    expect((await act(vol.id, { 'os-update_readonly_flag': { readonly: true } })).status).toBe(202);
    expect((await act(vol.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc' } })).status).toBe(202);
    const conn = await act(vol.id, { 'os-initialize_connection': { connector: { host: 'h' } } });
    expect(conn.body.connection_info.data.access_mode).toBe('ro');
    const [row] = await c.platform.db.selectFrom('volume_attachment' as never).selectAll().where('volume_id' as never, '=', vol.id as never).execute() as Array<{ attach_mode: string }>;
    expect(row!.attach_mode).toBe('ro');
    expect((await act(vol.id, { 'os-detach': {} })).status).toBe(202);
  });

  it('refuses bad input, readers and other projects', async () => {
    const vol = await newVolume();
    expect((await act(vol.id, { 'os-attach': { mountpoint: '/dev/vdb' } })).status).toBe(400);
    expect((await act(vol.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rx' } })).status).toBe(400);
    expect((await cinder('POST', `/${otherProject}/volumes/${vol.id}/action`, other, { 'os-reserve': {} })).status).toBe(404);
    expect((await statusOf(vol.id)).status).toBe('available');
  });

  it('lets exactly one of many racing attaches of a single-attach volume win', async () => {
    const vol = await newVolume();
    const results = await Promise.all(Array.from({ length: 8 }, () => act(vol.id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' } })));
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(7);
    expect((await statusOf(vol.id)).attachments).toHaveLength(1);
    const viaApi = await Promise.all(Array.from({ length: 6 }, () => cinder('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, instance_uuid: randomUUID() } }, '3.27')));
    expect(viaApi.every((r) => r.status === 400)).toBe(true);
    expect((await act(vol.id, { 'os-detach': {} })).status).toBe(202);
    const raced = await Promise.all(Array.from({ length: 6 }, () => cinder('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, instance_uuid: randomUUID() } }, '3.27')));
    expect(raced.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

describe('attachments API (3.27+)', () => {
  it('reserves, updates with a connector, completes, lists and deletes', async () => {
    const vol = await newVolume();
    const server = randomUUID();
    expect((await cinder('GET', `/${demoProject}/attachments`, demo, undefined, '3.26')).status).toBe(404);
    const created = await ok('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, instance_uuid: server } }, 200, '3.27');
    expect(created.attachment).toMatchObject({ status: 'reserved', instance: server, volume_id: vol.id, connection_info: {} });
    expect((await statusOf(vol.id)).status).toBe('reserved');
    const id = created.attachment.id;

    const updated = await ok('PUT', `/${demoProject}/attachments/${id}`, demo, { attachment: { connector: { host: 'compute-1', mountpoint: '/dev/vdb' } } }, 200, '3.27');
    expect(updated.attachment).toMatchObject({ status: 'attaching', attach_mode: 'rw' });
    expect(updated.attachment.connection_info).toMatchObject({ driver_volume_type: 'file', data: { device_path: c.volume.locate(vol.id) } });
    expect((await statusOf(vol.id)).status).toBe('attaching');

    expect((await cinder('POST', `/${demoProject}/attachments/${id}/action`, demo, { 'os-complete': {} }, '3.43')).status).toBe(400);
    expect((await cinder('POST', `/${demoProject}/attachments/${id}/action`, demo, { 'os-complete': {} }, '3.44')).status).toBe(204);
    const inUse = await statusOf(vol.id);
    expect(inUse.status).toBe('in-use');
    expect(inUse.attachments[0]).toMatchObject({ attachment_id: id, server_id: server, device: '/dev/vdb', host_name: 'compute-1' });

    const list = await ok('GET', `/${demoProject}/attachments?volume_id=${vol.id}`, demo, undefined, 200, '3.27');
    expect(list.attachments).toEqual([{ id, status: 'attached', instance: server, volume_id: vol.id }]);
    const detail = await ok('GET', `/${demoProject}/attachments/detail?instance_id=${server}`, demo, undefined, 200, '3.27');
    expect(detail.attachments[0]).toMatchObject({ id, attach_mode: 'rw', status: 'attached' });
    expect(detail.attachments[0].attached_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await ok('GET', `/${demoProject}/attachments/${id}`, demo, undefined, 200, '3.27')).attachment.id).toBe(id);

    // Others see nothing; readers cannot write.
    expect((await cinder('GET', `/${otherProject}/attachments/${id}`, other, undefined, '3.27')).status).toBe(404);
    expect((await ok('GET', `/${otherProject}/attachments`, other, undefined, 200, '3.27')).attachments).toEqual([]);
    expect((await cinder('DELETE', `/${otherProject}/attachments/${id}`, other, undefined, '3.27')).status).toBe(404);

    expect((await ok('DELETE', `/${demoProject}/attachments/${id}`, demo, undefined, 200, '3.27')).attachments).toEqual([]);
    expect((await statusOf(vol.id)).status).toBe('available');
  });

  it('creates with a connector straight into attaching', async () => {
    const vol = await newVolume();
    const r = await ok('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, instance_uuid: randomUUID(), connector: { host: 'h1' }, mode: 'ro' } }, 200, '3.54');
    expect(r.attachment).toMatchObject({ status: 'attaching', attach_mode: 'ro' });
    expect(r.attachment.connection_info.data.access_mode).toBe('ro');
    expect((await statusOf(vol.id)).status).toBe('attaching');
    expect((await cinder('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, mode: 'ro' } }, '3.53')).status).toBe(400);
    await ok('DELETE', `/${demoProject}/attachments/${r.attachment.id}`, demo, undefined, 200, '3.27');
  });

  it('attaches a multi-attach volume to several servers and stays in-use until the last detach', async () => {
    const vol = await newVolume({ volume_type: 'ssd-multiattach' });
    expect(vol.multiattach).toBe(true);
    const ids: string[] = [];
    for (const server of [randomUUID(), randomUUID(), randomUUID()]) {
      const a = await ok('POST', `/${demoProject}/attachments`, demo, { attachment: { volume_uuid: vol.id, instance_uuid: server, connector: { host: 'h' } } }, 200, '3.44');
      await ok('POST', `/${demoProject}/attachments/${a.attachment.id}/action`, demo, { 'os-complete': null }, 204, '3.44');
      ids.push(a.attachment.id);
    }
    const shown = await statusOf(vol.id);
    expect(shown.status).toBe('in-use');
    expect(shown.attachments).toHaveLength(3);
    // Several attachments: os-detach must name one.
    expect((await act(vol.id, { 'os-detach': {} })).status).toBe(400);
    expect((await act(vol.id, { 'os-detach': { attachment_id: ids[0] } })).status).toBe(202);
    await ok('DELETE', `/${demoProject}/attachments/${ids[1]}`, demo, undefined, 200, '3.27');
    expect((await statusOf(vol.id)).status).toBe('in-use');
    await ok('DELETE', `/${demoProject}/attachments/${ids[2]}`, demo, undefined, 200, '3.27');
    expect(await statusOf(vol.id)).toMatchObject({ status: 'available', attachments: [] });
  });

  it('refuses a volume in another availability zone than the server (public interface)', async () => {
    const vol = await newVolume({ availability_zone: 'europe-se-1a' });
    const ctx = { ...(await c.identity.authenticate(demo)) };
    await expect(c.volume.reserveAttachment(ctx, vol.id, { instanceId: randomUUID(), zone: 'europe-se-1b' })).rejects.toMatchObject({ status: 400 });
    const id = await c.volume.attachVolume(ctx, vol.id, { instanceId: randomUUID(), zone: 'europe-se-1a', mountpoint: '/dev/vdb', host: 'h' });
    expect((await statusOf(vol.id)).status).toBe('in-use');
    await c.volume.deleteAttachment(id);
    await c.volume.deleteAttachment(id); // idempotent
    expect((await statusOf(vol.id)).status).toBe('available');
  });
});

describe('volume transfers', () => {
  it('transfers a volume and its snapshots to another project with the auth key', async () => {
    const vol = await newVolume({ name: 'moving' });
    const snap = (await ok('POST', `/${demoProject}/snapshots`, demo, { snapshot: { volume_id: vol.id, name: 's1' } }, 202)).snapshot;
    await waitFor(`/${demoProject}/snapshots/${snap.id}`, 'snapshot', demo, ['available']);
    const created = await ok('POST', `/${demoProject}/os-volume-transfer`, demo, { transfer: { volume_id: vol.id, name: 'to-other' } }, 202);
    const t = created.transfer;
    expect(t.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect((await statusOf(vol.id)).status).toBe('awaiting-transfer');
    const shown = await ok('GET', `/${demoProject}/os-volume-transfer/${t.id}`, demo);
    expect(shown.transfer).not.toHaveProperty('auth_key');
    const list = await ok('GET', `/${demoProject}/os-volume-transfer`, demo);
    const detail = await ok('GET', `/${demoProject}/os-volume-transfer/detail`, demo);
    expect(list.transfers.map((x: { id: string }) => x.id)).toContain(t.id);

    // Other projects cannot see it, readers cannot write, a wrong key is refused.
    expect((await cinder('GET', `/${otherProject}/os-volume-transfer/${t.id}`, other)).status).toBe(404);
    expect((await ok('GET', `/${otherProject}/os-volume-transfer`, other)).transfers).toEqual([]);
    expect((await cinder('DELETE', `/${otherProject}/os-volume-transfer/${t.id}`, other)).status).toBe(404);
    const wrong = await cinder('POST', `/${otherProject}/os-volume-transfer/${t.id}/accept`, other, { accept: { auth_key: 'not-the-key' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.badRequest.message).toMatch(/invalid auth key/i);

    const accepted = await ok('POST', `/${otherProject}/os-volume-transfer/${t.id}/accept`, other, { accept: { auth_key: t.auth_key } }, 202);
    expect(accepted.transfer).toMatchObject({ id: t.id, volume_id: vol.id, name: 'to-other' });
    expect(tempestErrors([
      ['transfers', 'create_volume_transfer', 202, created], ['transfers', 'show_volume_transfer', 200, shown],
      ['transfers', 'list_volume_transfers_no_detail', 200, list], ['transfers', 'list_volume_transfers_with_detail', 200, detail],
      ['transfers', 'accept_volume_transfer', 202, accepted],
    ], 'volume')).toEqual([]);

    const moved = await ok('GET', `/${otherProject}/volumes/${vol.id}`, other);
    expect(moved).toMatchObject({ volume: { status: 'available', 'os-vol-tenant-attr:tenant_id': otherProject } });
    expect((await cinder('GET', `/${demoProject}/volumes/${vol.id}`, demo)).status).toBe(404);
    expect((await ok('GET', `/${otherProject}/snapshots/${snap.id}`, other)).snapshot.volume_id).toBe(vol.id);
    // An accepted transfer is gone; a second accept finds nothing.
    expect((await cinder('POST', `/${otherProject}/os-volume-transfer/${t.id}/accept`, other, { accept: { auth_key: t.auth_key } })).status).toBe(404);
  });

  it('keeps snapshots with no_snapshots (3.55) and shows the 3.57 fields', async () => {
    const vol = await newVolume();
    const snap = (await ok('POST', `/${demoProject}/snapshots`, demo, { snapshot: { volume_id: vol.id } }, 202)).snapshot;
    await waitFor(`/${demoProject}/snapshots/${snap.id}`, 'snapshot', demo, ['available']);
    expect((await cinder('POST', `/${demoProject}/volume-transfers`, demo, { transfer: { volume_id: vol.id } }, '3.54')).status).toBe(404);
    const c55 = await ok('POST', `/${demoProject}/volume-transfers`, demo, { transfer: { volume_id: vol.id, no_snapshots: true } }, 202, '3.55');
    expect(c55.transfer.no_snapshots).toBe(true);
    const s55 = await ok('GET', `/${demoProject}/volume-transfers/${c55.transfer.id}`, demo, undefined, 200, '3.55');
    const s57 = await ok('GET', `/${demoProject}/volume-transfers/${c55.transfer.id}`, demo, undefined, 200, '3.57');
    const d57 = await ok('GET', `/${demoProject}/volume-transfers/detail`, demo, undefined, 200, '3.57');
    expect(s57.transfer).toMatchObject({ source_project_id: demoProject, destination_project_id: null, accepted: false, no_snapshots: true });
    expect(tempestErrors([
      ['v3_55.transfers', 'create_volume_transfer', 202, c55], ['v3_55.transfers', 'show_volume_transfer', 200, s55],
      ['v3_57.transfers', 'show_volume_transfer', 200, s57], ['v3_57.transfers', 'list_volume_transfers_with_detail', 200, d57],
    ], 'volume')).toEqual([]);
    await ok('POST', `/${otherProject}/volume-transfers/${c55.transfer.id}/accept`, other, { accept: { auth_key: c55.transfer.auth_key } }, 202, '3.55');
    expect((await ok('GET', `/${demoProject}/snapshots/${snap.id}`, demo)).snapshot.volume_id).toBe(vol.id);
    expect((await cinder('GET', `/${otherProject}/snapshots/${snap.id}`, other)).status).toBe(404);
  });

  it('refuses a volume that is not available, readers, and a transfer over the acceptor\'s quota; delete gives the volume back', async () => {
    const vol = await newVolume();
    expect((await act(vol.id, { 'os-reserve': {} })).status).toBe(202);
    expect((await cinder('POST', `/${demoProject}/os-volume-transfer`, demo, { transfer: { volume_id: vol.id } })).status).toBe(400);
    expect((await act(vol.id, { 'os-unreserve': {} })).status).toBe(202);
    expect((await cinder('POST', `/${otherProject}/os-volume-transfer`, other, { transfer: { volume_id: vol.id } })).status).toBe(404);

    const t = (await ok('POST', `/${demoProject}/os-volume-transfer`, demo, { transfer: { volume_id: vol.id } }, 202)).transfer;
    // A reader of the demo project may look but not cancel.
    const reader = await readerToken();
    expect((await cinder('GET', `/${demoProject}/os-volume-transfer/${t.id}`, reader)).status).toBe(200);
    expect((await cinder('DELETE', `/${demoProject}/os-volume-transfer/${t.id}`, reader)).status).toBe(403);
    expect((await cinder('POST', `/${demoProject}/os-volume-transfer`, reader, { transfer: { volume_id: vol.id } })).status).toBe(403);

    // The acceptor's quota must hold the volume.
    await c.platform.db.insertInto('volume_quota' as never).values({ project_id: otherProject, resource: 'volumes', hard_limit: 0 } as never).execute();
    const over = await cinder('POST', `/${otherProject}/os-volume-transfer/${t.id}/accept`, other, { accept: { auth_key: t.auth_key } });
    expect(over.status).toBe(413);
    expect((await statusOf(vol.id)).status).toBe('awaiting-transfer');

    expect((await cinder('DELETE', `/${demoProject}/os-volume-transfer/${t.id}`, demo)).status).toBe(202);
    expect((await statusOf(vol.id)).status).toBe('available');
    expect((await cinder('GET', `/${demoProject}/os-volume-transfer/${t.id}`, demo)).status).toBe(404);
  });
});

/** A user with only the reader role on the demo project. */
async function readerToken(): Promise<string> {
  const admin = c.adminToken;
  const user = (await c.api('POST', '/identity/v3/users', { token: admin, body: { user: { name: 'demo-reader', password: 'reader-secret' } } })).body.user;
  const role = (await c.api('GET', '/identity/v3/roles?name=reader', { token: admin })).body.roles[0];
  await c.api('PUT', `/identity/v3/projects/${demoProject}/users/${user.id}/roles/${role.id}`, { token: admin });
  return c.login('demo-reader', 'reader-secret', 'demo');
}
