import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { outsider } from '../../helpers/compute.js';
import { volumeClient } from '../../helpers/volume.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';

/**
 * Compute with block storage: boot from volume (new from an image, existing, from a
 * snapshot), os-volume_attachments, the root volume that cannot be detached,
 * delete_on_termination, no attach across zones, and the snapshot of a volume-backed server.
 */
describe('compute: volumes', () => {
  let c: TestCloud;
  let demo: string;
  let demoProject: string;
  let imageId: string;
  let netId: string;
  const flavors: Record<string, string> = {};
  const vc = volumeClient(() => c);

  const api = (method: string, path: string, body?: unknown, token = demo, version?: string) =>
    c.api(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'X-OpenStack-Nova-API-Version': version } : {} });
  const ok = async (method: string, path: string, body?: unknown, status = 200, token = demo, version?: string) => {
    const r = await api(method, path, body, token, version);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  const settle = () => c.platform.tasks.idle();
  const server = async (id: string, version = '2.79') => (await ok('GET', `/servers/${id}`, undefined, 200, demo, version)).server;
  const volume = async (id: string) => (await vc.ok('GET', `/${demoProject}/volumes/${id}`, demo)).volume;
  const newVolume = async (extra: Record<string, unknown> = {}) => {
    const v = (await vc.ok('POST', `/${demoProject}/volumes`, demo, { volume: { size: 1, ...extra } }, 202)).volume;
    return vc.waitFor(`/${demoProject}/volumes/${v.id}`, 'volume', demo, ['available']);
  };
  const boot = async (name: string, extra: Record<string, unknown>, version = '2.79', expectStatus = 'ACTIVE') => {
    const r = await ok('POST', '/servers', { server: { name, flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], ...extra } }, 202, demo, version);
    await settle();
    const s = await server(r.server.id);
    expect(s.status, JSON.stringify(s.fault ?? null)).toBe(expectStatus);
    return s;
  };
  const imageServer = async (name: string, zone = 'europe-se-1a') => {
    const r = await ok('POST', '/servers', { server: { name, imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }], availability_zone: zone } }, 202);
    await settle();
    return r.server.id as string;
  };

  beforeAll(async () => {
    c = await testCloud({ compute: { zones: ['europe-se-1a', 'europe-se-1b'], fakeHostsPerZone: 2, fakeHostVcpus: 64, fakeHostMemoryMb: 512 * 1024, fakeHostDiskGb: 4096, fakeDelayMs: 1 } });
    demo = await c.login('demo', 'demo-secret');
    demoProject = (await c.api('GET', '/identity/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': demo } })).body.token.project.id;
    for (const f of (await ok('GET', '/flavors/detail')).flavors) flavors[f.name] = f.id;
    const img = await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'ubuntu-24.04', disk_format: 'raw', container_format: 'bare' } });
    imageId = img.body.id;
    await c.api('PUT', `/image/v2/images/${imageId}/file`, { token: demo, body: 'x'.repeat(4096), headers: { 'content-type': 'application/octet-stream' } });
    const net = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'net1' } } });
    netId = net.body.network.id;
    await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, cidr: '172.29.46.0/24', ip_version: 4 } } });
  }, 60_000);
  afterAll(async () => { await c?.destroy(); });

  it('boots from a new volume made from an image, and deletes it with the server (delete_on_termination)', async () => {
    const s = await boot('bfv1', {
      block_device_mapping_v2: [{ uuid: imageId, source_type: 'image', destination_type: 'volume', boot_index: 0, volume_size: 2, delete_on_termination: true }],
    });
    expect(s.image).toBe('');
    expect(s['os-extended-volumes:volumes_attached']).toHaveLength(1);
    const attached = s['os-extended-volumes:volumes_attached'][0];
    expect(attached.delete_on_termination).toBe(true);
    const vol = await volume(attached.id);
    expect(vol).toMatchObject({ status: 'in-use', size: 2, bootable: 'true', availability_zone: 'europe-se-1a' });
    expect(vol.attachments).toEqual([expect.objectContaining({ server_id: s.id, device: '/dev/vda' })]);
    expect(vol.volume_image_metadata).toMatchObject({ image_id: imageId });
    // The root volume stays: it cannot be detached.
    const root = await api('DELETE', `/servers/${s.id}/os-volume_attachments/${vol.id}`);
    expect(root.status).toBe(400);
    expect(root.body.badRequest.message).toBe("Can't detach root device volume");
    // Refused without a size, or with a flavor of no disk and no volume.
    const noSize = await api('POST', '/servers', { server: { name: 'x', flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], block_device_mapping_v2: [{ uuid: imageId, source_type: 'image', destination_type: 'volume', boot_index: 0 }] } });
    expect(noSize.status).toBe(400);
    expect((await api('POST', '/servers', { server: { name: 'x', imageRef: imageId, flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }] } })).status).toBe(403);

    expect((await api('DELETE', `/servers/${s.id}`)).status).toBe(204);
    await settle();
    await vc.waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['deleted']);
  });

  it('boots from an existing volume in its zone, keeps it on delete, and refuses unusable volumes', async () => {
    const vol = await newVolume({ imageRef: imageId, availability_zone: 'europe-se-1b', name: 'bootable' });
    expect(vol.bootable).toBe('true');
    const bdm = [{ uuid: vol.id, source_type: 'volume', destination_type: 'volume', boot_index: 0 }];
    // No attach across zones: the server cannot be asked for in another zone than its volume.
    const cross = await api('POST', '/servers', { server: { name: 'x', flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], availability_zone: 'europe-se-1a', block_device_mapping_v2: bdm } });
    expect(cross.status).toBe(400);
    expect(cross.body.badRequest.message).toMatch(/availability zone/);

    const s = await boot('bfv2', { block_device_mapping_v2: bdm, imageRef: '' });
    expect(s['OS-EXT-AZ:availability_zone']).toBe('europe-se-1b');
    expect(s['os-extended-volumes:volumes_attached']).toEqual([{ id: vol.id, delete_on_termination: false }]);
    expect((await volume(vol.id)).status).toBe('in-use');
    // The volume is taken: a second server cannot boot from it.
    const taken = await api('POST', '/servers', { server: { name: 'y', flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], block_device_mapping_v2: bdm } });
    expect(taken.status).toBe(400);
    const blank = await newVolume({ availability_zone: 'europe-se-1b' });
    const notBootable = await api('POST', '/servers', { server: { name: 'z', flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], block_device_mapping_v2: [{ uuid: blank.id, source_type: 'volume', destination_type: 'volume', boot_index: 0 }] } });
    expect(notBootable.status).toBe(400);
    expect(notBootable.body.badRequest.message).toBe(`Block Device ${blank.id} is not bootable.`);
    const missing = await api('POST', '/servers', { server: { name: 'z', flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }], block_device_mapping_v2: [{ uuid: '00000000-0000-0000-0000-000000000000', source_type: 'volume', destination_type: 'volume', boot_index: 0 }] } });
    expect(missing.status).toBe(400);

    // Shelve and unshelve: the volume stays attached; no shelve image is made.
    await ok('POST', `/servers/${s.id}/action`, { shelve: null }, 202);
    await settle();
    expect((await server(s.id)).status).toBe('SHELVED_OFFLOADED');
    expect((await volume(vol.id)).status).toBe('in-use');
    await ok('POST', `/servers/${s.id}/action`, { unshelve: null }, 202);
    await settle();
    expect((await server(s.id)).status).toBe('ACTIVE');

    // Rescue at 2.87 from the image the root volume was made from.
    expect((await api('POST', `/servers/${s.id}/action`, { rescue: {} }, demo, '2.86')).status).toBe(400);
    expect((await api('POST', `/servers/${s.id}/action`, { rescue: {} }, demo, '2.87')).status).toBe(200);
    await settle();
    expect((await server(s.id)).status).toBe('RESCUE');
    await ok('POST', `/servers/${s.id}/action`, { unrescue: null }, 202);
    await settle();

    await ok('DELETE', `/servers/${s.id}`, undefined, 204);
    await settle();
    expect(await volume(vol.id)).toMatchObject({ status: 'available', attachments: [] });
  });

  it('boots with the legacy block_device_mapping naming a volume', async () => {
    const vol = await newVolume({ imageRef: imageId });
    const s = await boot('legacy', { block_device_mapping: [{ device_name: 'vda', volume_id: vol.id, delete_on_termination: false }] }, '2.1');
    expect(s.image).toBe('');
    expect((await volume(vol.id)).attachments[0].device).toBe('/dev/vda');
    await ok('DELETE', `/servers/${s.id}`, undefined, 204);
    await settle();
  });

  it('attaches and detaches volumes through os-volume_attachments', async () => {
    const id = await imageServer('web');
    const vol = await newVolume({ name: 'data' });
    const r = await ok('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } }, 200, demo, '2.79');
    expect(r.volumeAttachment).toEqual({ id: vol.id, serverId: id, volumeId: vol.id, device: '/dev/vdb', tag: null, delete_on_termination: false });
    await settle();
    expect(await volume(vol.id)).toMatchObject({ status: 'in-use', attachments: [expect.objectContaining({ server_id: id, device: '/dev/vdb' })] });
    const list = await ok('GET', `/servers/${id}/os-volume_attachments`, undefined, 200, demo, '2.79');
    const show = await ok('GET', `/servers/${id}/os-volume_attachments/${vol.id}`, undefined, 200, demo, '2.79');
    const list21 = await ok('GET', `/servers/${id}/os-volume_attachments`);
    expect(list21.volumeAttachments).toEqual([{ id: vol.id, serverId: id, volumeId: vol.id, device: '/dev/vdb' }]);
    const at289 = await ok('GET', `/servers/${id}/os-volume_attachments/${vol.id}`, undefined, 200, demo, '2.89');
    expect(at289.volumeAttachment).not.toHaveProperty('id');
    expect(at289.volumeAttachment.attachment_id).toBe((await volume(vol.id)).attachments[0].attachment_id);
    expect(tempestErrors([
      ['v2_79.servers', 'attach_volume', 200, r], ['v2_79.servers', 'list_volume_attachments', 200, list], ['v2_79.servers', 'show_volume_attachment', 200, show],
      ['v2_1.servers', 'list_volume_attachments', 200, list21],
    ])).toEqual([]);
    expect((await server(id))['os-extended-volumes:volumes_attached']).toEqual([{ id: vol.id, delete_on_termination: false }]);

    // Attached once is enough; an in-use volume cannot go to a second server either.
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } })).status).toBe(400);
    const other = await imageServer('web2');
    expect((await api('POST', `/servers/${other}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } })).status).toBe(400);
    // The volume cannot be deleted while attached.
    expect((await vc.cinder('DELETE', `/${demoProject}/volumes/${vol.id}`, demo)).status).toBe(400);

    expect((await api('DELETE', `/servers/${id}/os-volume_attachments/${vol.id}`)).status).toBe(202);
    await settle();
    expect(await volume(vol.id)).toMatchObject({ status: 'available', attachments: [] });
    expect((await ok('GET', `/servers/${id}/os-volume_attachments`)).volumeAttachments).toEqual([]);
    expect((await api('DELETE', `/servers/${id}/os-volume_attachments/${vol.id}`)).status).toBe(404);
    expect((await api('GET', `/servers/${id}/os-volume_attachments/${vol.id}`)).status).toBe(404);
    const console = await ok('POST', `/servers/${id}/action`, { 'os-getConsoleOutput': {} });
    expect(console.output).toMatch(/vdb attached/);
  });

  it('refuses to attach across zones, other projects\' volumes, missing volumes and readers', async () => {
    const id = await imageServer('zone-a');
    const far = await newVolume({ availability_zone: 'europe-se-1b' });
    const cross = await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: far.id } });
    expect(cross.status).toBe(400);
    expect(cross.body.badRequest.message).toMatch(/same availability zone/);
    expect((await volume(far.id)).status).toBe('available');
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: '00000000-0000-0000-0000-000000000000' } })).status).toBe(404);
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: 'nope' } })).status).toBe(400);
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: far.id, bogus: 1 } })).status).toBe(400);

    const stranger = await outsider(c);
    const strangerProject = (await c.api('GET', '/identity/v3/auth/tokens', { token: stranger, headers: { 'x-subject-token': stranger } })).body.token.project.id;
    const theirs = (await vc.ok('POST', `/${strangerProject}/volumes`, stranger, { volume: { size: 1 } }, 202)).volume;
    await vc.waitFor(`/${strangerProject}/volumes/${theirs.id}`, 'volume', stranger, ['available']);
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: theirs.id } })).status).toBe(404);
    expect((await api('GET', `/servers/${id}/os-volume_attachments`, undefined, stranger)).status).toBe(404);

    const role = (await c.api('GET', '/identity/v3/roles?name=reader', { token: c.adminToken })).body.roles[0];
    const user = (await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name: 'watcher', password: 'watcher-secret' } } })).body.user;
    await c.api('PUT', `/identity/v3/projects/${demoProject}/users/${user.id}/roles/${role.id}`, { token: c.adminToken });
    const reader = await c.login('watcher', 'watcher-secret', 'demo');
    const near = await newVolume();
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: near.id } }, reader)).status).toBe(403);
    expect((await api('GET', `/servers/${id}/os-volume_attachments`, undefined, reader)).status).toBe(200);
  });

  it('lets one of two servers racing for a volume win', async () => {
    const a = await imageServer('race-a');
    const b = await imageServer('race-b');
    const vol = await newVolume();
    const [ra, rb] = await Promise.all([a, b].map((id) => api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } })));
    expect([ra!.status, rb!.status].sort()).toEqual([200, 400]);
    await settle();
    expect((await volume(vol.id)).attachments).toHaveLength(1);
  });

  it('deletes an attached volume with its server when delete_on_termination is set (2.79)', async () => {
    const id = await imageServer('dot');
    const keep = await newVolume();
    const drop = await newVolume();
    expect((await api('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: drop.id, delete_on_termination: true } }, demo, '2.78')).status).toBe(400);
    await ok('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: drop.id, delete_on_termination: true, tag: 'scratch' } }, 200, demo, '2.79');
    await ok('POST', `/servers/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: keep.id } }, 200, demo, '2.79');
    await settle();
    // 2.85: delete_on_termination can be changed afterwards.
    await ok('PUT', `/servers/${id}/os-volume_attachments/${keep.id}`, { volumeAttachment: { volumeId: keep.id, delete_on_termination: false } }, 202, demo, '2.85');
    const s = await server(id);
    expect(s['os-extended-volumes:volumes_attached']).toEqual([{ id: drop.id, delete_on_termination: true }, { id: keep.id, delete_on_termination: false }]);
    await ok('DELETE', `/servers/${id}`, undefined, 204);
    await settle();
    await vc.waitFor(`/${demoProject}/volumes/${drop.id}`, 'volume', demo, ['deleted']);
    expect(await volume(keep.id)).toMatchObject({ status: 'available', attachments: [] });
  });

  it('snapshots a volume-backed server into an image of mappings, and boots new volumes from it', async () => {
    const s = await boot('bfv-snap', {
      block_device_mapping_v2: [{ uuid: imageId, source_type: 'image', destination_type: 'volume', boot_index: 0, volume_size: 1, delete_on_termination: true }],
    });
    const r = await ok('POST', `/servers/${s.id}/action`, { createImage: { name: 'bfv-image', metadata: { purpose: 'test' } } }, 202, demo, '2.45');
    await settle();
    const image = (await c.api('GET', `/image/v2/images/${r.image_id}`, { token: demo })).body;
    expect(image).toMatchObject({ status: 'active', size: 0, bdm_v2: 'True', root_device_name: '/dev/vda', purpose: 'test' });
    const mappings = JSON.parse(image.block_device_mapping);
    expect(mappings).toEqual([expect.objectContaining({ source_type: 'snapshot', destination_type: 'volume', boot_index: 0, volume_size: 1, delete_on_termination: true })]);
    const snap = (await vc.ok('GET', `/${demoProject}/snapshots/${mappings[0].snapshot_id}`, demo)).snapshot;
    expect(snap).toMatchObject({ volume_id: s['os-extended-volumes:volumes_attached'][0].id });
    await vc.waitFor(`/${demoProject}/snapshots/${snap.id}`, 'snapshot', demo, ['available']);

    const again = await boot('from-snap-image', { imageRef: r.image_id });
    expect(again.image.id).toBe(r.image_id);
    const [root] = again['os-extended-volumes:volumes_attached'];
    expect(await volume(root.id)).toMatchObject({ status: 'in-use', snapshot_id: snap.id });
    expect(root.delete_on_termination).toBe(true);
    // Volume-backed from the image's mappings: snapshots of it are volume snapshots again.
    const r2 = await ok('POST', `/servers/${again.id}/action`, { createImage: { name: 'again' } }, 202, demo, '2.45');
    const image2 = (await c.api('GET', `/image/v2/images/${r2.image_id}`, { token: demo })).body;
    expect(image2.block_device_mapping).toBeDefined();
    await settle();
  });

  it('boots from a snapshot and with an extra blank volume', async () => {
    const src = await newVolume({ imageRef: imageId });
    const snap = (await vc.ok('POST', `/${demoProject}/snapshots`, demo, { snapshot: { volume_id: src.id } }, 202)).snapshot;
    await vc.waitFor(`/${demoProject}/snapshots/${snap.id}`, 'snapshot', demo, ['available']);
    const s = await boot('from-snap', {
      block_device_mapping_v2: [
        { uuid: snap.id, source_type: 'snapshot', destination_type: 'volume', boot_index: 0, delete_on_termination: true },
        { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: -1, delete_on_termination: true },
      ],
    });
    const attached = s['os-extended-volumes:volumes_attached'];
    expect(attached).toHaveLength(2);
    const devices = await Promise.all(attached.map(async (a: { id: string }) => (await volume(a.id)).attachments[0].device));
    expect(devices).toEqual(['/dev/vda', '/dev/vdb']);
    await ok('DELETE', `/servers/${s.id}`, undefined, 204);
    await settle();
    for (const a of attached) await vc.waitFor(`/${demoProject}/volumes/${a.id}`, 'volume', demo, ['deleted']);
  });

  it('proxies os-volumes and os-snapshots until 2.35, in Nova\'s shapes', async () => {
    const created = await ok('POST', '/os-volumes', { volume: { size: 1, display_name: 'proxied', metadata: { k: 'v' } } });
    expect(created.volume).toMatchObject({ displayName: 'proxied', size: 1, metadata: { k: 'v' }, volumeType: 'ssd' });
    await vc.waitFor(`/${demoProject}/volumes/${created.volume.id}`, 'volume', demo, ['available']);
    const shown = await ok('GET', `/os-volumes/${created.volume.id}`);
    const list = await ok('GET', '/os-volumes/detail');
    expect(list.volumes.map((v: { id: string }) => v.id)).toContain(created.volume.id);
    for (const body of [{ volume: {} }, { volume: { size: 0 } }, { volume: { size: '#$%' } }]) expect((await api('POST', '/os-volumes', body)).status).toBe(400);
    expect((await api('GET', '/os-volumes/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await api('GET', '/os-volumes', undefined, demo, '2.36')).status).toBe(404);
    const snap = await ok('POST', '/os-snapshots', { snapshot: { volume_id: created.volume.id, display_name: 's1', force: true } });
    await vc.waitFor(`/${demoProject}/snapshots/${snap.snapshot.id}`, 'snapshot', demo, ['available']);
    const snaps = await ok('GET', '/os-snapshots/detail');
    expect(tempestErrors([
      ['v2_1.volumes', 'create_get_volume', 200, created], ['v2_1.volumes', 'create_get_volume', 200, shown], ['v2_1.volumes', 'list_volumes', 200, list],
      ['v2_1.snapshots', 'create_get_snapshot', 200, snap], ['v2_1.snapshots', 'list_snapshots', 200, snaps],
    ])).toEqual([]);
    expect((await api('DELETE', `/os-snapshots/${snap.snapshot.id}`)).status).toBe(202);
    await vc.waitFor(`/${demoProject}/snapshots/${snap.snapshot.id}`, 'snapshot', demo, ['deleted']);
    expect((await api('DELETE', `/os-volumes/${created.volume.id}`)).status).toBe(202);
    await vc.waitFor(`/${demoProject}/volumes/${created.volume.id}`, 'volume', demo, ['deleted']);
  });

  it('records extend_volume on the server when an attached volume grows (3.42)', async () => {
    const sid = await imageServer('grow');
    const vol = await newVolume({ name: 'grow-data' });
    await ok('POST', `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: vol.id } });
    await vc.waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['in-use']);
    expect((await vc.cinder('POST', `/${demoProject}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 2 } })).status).toBe(400);
    await vc.ok('POST', `/${demoProject}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 2 } }, 202, '3.42');
    expect((await vc.waitFor(`/${demoProject}/volumes/${vol.id}`, 'volume', demo, ['in-use'])).size).toBe(2);
    await settle();
    const actions = (await ok('GET', `/servers/${sid}/os-instance-actions`)).instanceActions;
    const extend = actions.find((a: { action: string }) => a.action === 'extend_volume');
    expect(extend).toBeDefined();
    const detail = (await ok('GET', `/servers/${sid}/os-instance-actions/${extend.request_id}`, undefined, 200, c.adminToken)).instanceAction;
    expect(detail.events).toEqual([expect.objectContaining({ event: 'compute_extend_volume', result: 'Success' })]);
    expect(detail.events[0].finish_time).toBeTruthy();
  });
});
