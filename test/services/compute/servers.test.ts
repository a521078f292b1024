import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';

/**
 * Servers on the fake hypervisor: the product documents' compute scenarios through the API —
 * boot, the state machine of every action, resize confirm/revert and the quota on it,
 * shelve/unshelve, snapshots, server groups, quotas under concurrency, and isolation.
 */
describe('compute: servers', () => {
  let c: TestCloud;
  let demo: string;
  let imageId: string;
  let netId: string;
  const flavors: Record<string, string> = {};

  const api = (method: string, path: string, body?: unknown, token = demo, version?: string) =>
    c.api(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'X-OpenStack-Nova-API-Version': version } : {} });
  const ok = async (method: string, path: string, body?: unknown, status = 200, token = demo, version?: string) => {
    const r = await api(method, path, body, token, version);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  const settle = () => c.platform.tasks.idle();
  const server = async (id: string, token = demo, version?: string) => (await ok('GET', `/servers/${id}`, undefined, 200, token, version)).server;
  const boot = async (name: string, extra: Record<string, unknown> = {}, hints?: Record<string, unknown>, token = demo) => {
    const body: Record<string, unknown> = { server: { name, imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }], ...extra } };
    if (hints) body['os:scheduler_hints'] = hints;
    const r = await ok('POST', '/servers', body, 202, token);
    await settle();
    return r.server.id as string;
  };
  const act = async (id: string, action: Record<string, unknown>, status = 202, version?: string) => {
    const r = await api('POST', `/servers/${id}/action`, action, demo, version);
    expect(r.status, `${Object.keys(action)[0]}: ${r.text}`).toBe(status);
    await settle();
    return r;
  };

  beforeAll(async () => {
    c = await testCloud({ compute: { zones: ['europe-se-1a', 'europe-se-1b'], fakeHostsPerZone: 3, fakeHostVcpus: 64, fakeHostMemoryMb: 512 * 1024, fakeHostDiskGb: 4096, fakeDelayMs: 1 } });
    demo = await c.login('demo', 'demo-secret');
    for (const f of (await ok('GET', '/flavors/detail')).flavors) flavors[f.name] = f.id;
    const img = await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'ubuntu-24.04', disk_format: 'raw', container_format: 'bare' } });
    imageId = img.body.id;
    await c.api('PUT', `/image/v2/images/${imageId}/file`, { token: demo, body: 'x'.repeat(4096), headers: { 'content-type': 'application/octet-stream' } });
    const net = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'net1' } } });
    netId = net.body.network.id;
    await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, cidr: '172.29.45.0/24', ip_version: 4, allocation_pools: [{ start: '172.29.45.20', end: '172.29.45.254' }] } } });
  });
  afterAll(async () => { await c?.destroy(); });

  it('serves the documented flavor catalogue', async () => {
    expect(Object.keys(flavors)).toHaveLength(100);
    const detail = (await ok('GET', '/flavors/detail')).flavors;
    const by = (n: string) => detail.find((f: any) => f.name === n);
    expect(by('gp.1x2')).toMatchObject({ vcpus: 1, ram: 2048, disk: 0 });
    expect(by('hm.8x48')).toMatchObject({ vcpus: 8, ram: 49152 });
    // The four table rows that contradict their names follow the name.
    expect(by('gp-v2a.4x8').ram).toBe(8192);
    expect(by('hm-v2a.2x8').ram).toBe(8192);
    expect(by('hp.12x64-gpu8-nvme50')).toMatchObject({ vcpus: 12, ram: 65536, disk: 50 });
  });

  it('boots from an image on an NVMe flavor, shows addresses, and refuses zero-disk flavors without a volume', async () => {
    const refused = await api('POST', '/servers', { server: { name: 'eph', imageRef: imageId, flavorRef: flavors['gp.1x2'], networks: [{ uuid: netId }] } });
    expect(refused.status).toBe(403);
    expect(refused.body.forbidden.message).toBe('Only volume-backed servers are allowed for flavors with zero disk.');
    const id = await boot('web1');
    const s = await server(id);
    expect(s).toMatchObject({ status: 'ACTIVE', 'OS-EXT-AZ:availability_zone': 'europe-se-1a', 'OS-EXT-STS:power_state': 1, 'OS-EXT-STS:task_state': null });
    // The network's DHCP ports hold .20 and .21; the server gets the next lowest free address.
    expect(s.addresses.net1).toEqual([expect.objectContaining({ addr: '172.29.45.22', version: 4, 'OS-EXT-IPS:type': 'fixed' })]);
    expect(s.hostId).toMatch(/^[0-9a-f]{56}$/);
    expect(s).not.toHaveProperty('locked'); // a 2.9 field, not at 2.1
    const latest = await server(id, demo, '2.96');
    expect(latest.flavor).toMatchObject({ vcpus: 4, ram: 8192, disk: 50, original_name: 'hp.4x8-nvme50' });
    expect(latest).toMatchObject({ locked: false, tags: [], description: null });
    const port = (await c.api('GET', `/network/v2.0/ports?device_id=${id}`, { token: demo })).body.ports[0];
    expect(port).toMatchObject({ device_owner: 'compute:europe-se-1a', status: 'ACTIVE' });
    // The NVMe flavor exists in europe-se-1a only: the scheduler finds no host in 1b.
    const b = await ok('POST', '/servers', { server: { name: 'nv-b', imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }], availability_zone: 'europe-se-1b' } }, 202);
    await settle();
    const failed = await server(b.server.id);
    expect(failed.status).toBe('ERROR');
    expect(failed.fault.message).toMatch(/No valid host was found/);
    await ok('DELETE', `/servers/${b.server.id}`, undefined, 204);
    await settle();
    expect((await api('GET', `/servers/${b.server.id}`)).status).toBe(404);
  });

  it('walks the state machine: stop, hard reboot from SHUTOFF, pause, suspend, lock, rescue', async () => {
    const id = await boot('states');
    await act(id, { 'os-stop': null });
    expect((await server(id)).status).toBe('SHUTOFF');
    const soft = await api('POST', `/servers/${id}/action`, { reboot: { type: 'SOFT' } });
    expect(soft.status).toBe(409);
    // The documents: a hard reboot starts a server even from a powered-off state.
    await act(id, { reboot: { type: 'HARD' } });
    expect((await server(id)).status).toBe('ACTIVE');
    await act(id, { pause: null });
    expect((await server(id)).status).toBe('PAUSED');
    expect((await api('POST', `/servers/${id}/action`, { suspend: null })).status).toBe(409);
    await act(id, { unpause: null });
    await act(id, { suspend: null });
    expect((await server(id)).status).toBe('SUSPENDED');
    await act(id, { resume: null });
    await act(id, { lock: { locked_reason: 'maintenance' } }, 202, '2.73');
    expect(await server(id, demo, '2.73')).toMatchObject({ locked: true, locked_reason: 'maintenance' });
    const admin = await c.api('POST', `/compute/v2.1/servers/${id}/action`, { token: c.adminToken, body: { 'os-stop': null } });
    expect(admin.status).toBe(202); // admins act on locked servers
    await settle();
    await act(id, { 'os-start': null }, 409);
    await act(id, { unlock: null });
    await act(id, { 'os-start': null });
    const rescue = await act(id, { rescue: null }, 200);
    expect(rescue.body.adminPass).toBeTruthy();
    expect((await server(id)).status).toBe('RESCUE');
    await act(id, { unrescue: null });
    expect((await server(id)).status).toBe('ACTIVE');
    const log = await act(id, { 'os-getConsoleOutput': { length: 3 } }, 200);
    expect(log.body.output.split('\n').filter(Boolean)).toHaveLength(3);
    const actions = (await ok('GET', `/servers/${id}/os-instance-actions`)).instanceActions.map((a: any) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['create', 'stop', 'reboot', 'pause', 'rescue', 'unrescue']));
  });

  it('resizes with confirm and revert, and refuses a resize over the cores quota', async () => {
    const id = await boot('resizer');
    await act(id, { resize: { flavorRef: flavors['hp.8x24-nvme50'] } });
    let s = await server(id, demo, '2.47');
    expect(s.status).toBe('VERIFY_RESIZE');
    expect(s.flavor.original_name).toBe('hp.8x24-nvme50');
    await act(id, { revertResize: null });
    s = await server(id, demo, '2.47');
    expect(s.status).toBe('ACTIVE');
    expect(s.flavor.original_name).toBe('hp.4x8-nvme50');
    await act(id, { resize: { flavorRef: flavors['hp.8x24-nvme50'] } });
    await act(id, { confirmResize: null }, 204);
    s = await server(id, demo, '2.47');
    expect(s).toMatchObject({ status: 'ACTIVE', flavor: expect.objectContaining({ vcpus: 8 }) });
    // A zero-disk flavor cannot take an image-backed server's disk.
    expect((await api('POST', `/servers/${id}/action`, { resize: { flavorRef: flavors['gp-v2a.48x96'] } })).status).toBe(403);
    // Growing past the project's cores: refused, the server stays as it was.
    const project = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    const used = (await ok('GET', '/limits')).limits.absolute.totalCoresUsed;
    await ok('PUT', `/compute/v2.1/os-quota-sets/${project}`.replace('/compute/v2.1', ''), { quota_set: { cores: used + 2 } }, 200, c.adminToken);
    const over = await api('POST', `/servers/${id}/action`, { resize: { flavorRef: flavors['hp.12x64-nvme50'] } });
    expect(over.status).toBe(403);
    expect(over.body.forbidden.message).toBe(`Quota exceeded for cores: Requested 4, but already used ${used} of ${used + 2} cores`);
    await ok('PUT', `/os-quota-sets/${project}`, { quota_set: { cores: 40 } }, 200, c.adminToken);
    expect(await server(id, demo, '2.47')).toMatchObject({ status: 'ACTIVE', flavor: expect.objectContaining({ vcpus: 8 }) });
    expect((await api('POST', `/servers/${id}/action`, { resize: { flavorRef: flavors['hp.8x24-nvme50'] } })).status).toBe(400);
  });

  it('shelves to <name>-shelved and frees the usage, unshelves, and snapshots into Glance', async () => {
    const id = await boot('shelfy');
    const before = (await ok('GET', '/limits')).limits.absolute.totalCoresUsed;
    await act(id, { shelve: null });
    const s = await server(id, c.adminToken);
    expect(s.status).toBe('SHELVED_OFFLOADED');
    expect(s['OS-EXT-SRV-ATTR:host']).toBeNull();
    expect((await ok('GET', '/limits')).limits.absolute.totalCoresUsed).toBe(before - 4);
    const shelvedImages = (await c.api('GET', '/image/v2/images?name=shelfy-shelved', { token: demo })).body.images;
    expect(shelvedImages).toHaveLength(1);
    expect(shelvedImages[0].status).toBe('active');
    await act(id, { unshelve: null });
    expect((await server(id)).status).toBe('ACTIVE');
    expect((await c.api('GET', '/image/v2/images?name=shelfy-shelved', { token: demo })).body.images).toHaveLength(0);
    const snap = await api('POST', `/servers/${id}/action`, { createImage: { name: 'snap1' } });
    expect(snap.status).toBe(202);
    const location = snap.headers.get('location')!;
    await settle();
    const image = (await c.api('GET', `/image/v2/images/${location.split('/').pop()}`, { token: demo })).body;
    expect(image).toMatchObject({ name: 'snap1', status: 'active', image_type: 'snapshot', instance_uuid: id });
  });

  it('places an anti-affinity group on distinct hosts and affinity on one', async () => {
    const anti = (await ok('POST', '/os-server-groups', { server_group: { name: 'anti', policies: ['anti-affinity'] } })).server_group;
    const a1 = await boot('app1', {}, { group: anti.id });
    const a2 = await boot('app2', {}, { group: anti.id });
    expect((await server(a1)).hostId).not.toBe((await server(a2)).hostId);
    const group = (await ok('GET', `/os-server-groups/${anti.id}`)).server_group;
    expect(group.members.sort()).toEqual([a1, a2].sort());
    const aff = (await ok('POST', '/os-server-groups', { server_group: { name: 'aff', policies: ['affinity'] } })).server_group;
    const b1 = await boot('db1', {}, { group: aff.id });
    const b2 = await boot('db2', {}, { group: aff.id });
    expect((await server(b1)).hostId).toBe((await server(b2)).hostId);
    for (const id of [a1, a2, b1, b2]) await ok('DELETE', `/servers/${id}`, undefined, 204);
    await settle();
  });

  it('lists with filters and pages, and keeps other projects out', async () => {
    const ids = [await boot('list-a'), await boot('list-b', { metadata: { role: 'db' } })];
    const names = (await ok('GET', '/servers?name=^list-')).servers.map((s: any) => s.name).sort();
    expect(names).toEqual(['list-a', 'list-b']);
    const page = await ok('GET', '/servers?name=^list-&limit=1');
    expect(page.servers).toHaveLength(1);
    expect(page.servers_links[0].rel).toBe('next');
    expect((await ok('GET', '/servers/detail?status=ACTIVE&name=list-b')).servers[0].metadata).toEqual({ role: 'db' });
    expect((await ok('GET', `/servers/detail?ip=172\\.29\\.45\\.`)).servers.length).toBeGreaterThanOrEqual(2);
    // Another project sees nothing of them.
    await c.api('POST', '/identity/v3/projects', { token: c.adminToken, body: { project: { name: 'other', domain_id: 'default' } } });
    const otherUser = await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name: 'mallory', password: 'mallory-pass', default_project_id: undefined, domain_id: 'default' } } });
    const proj = (await c.api('GET', '/identity/v3/projects?name=other', { token: c.adminToken })).body.projects[0];
    const member = (await c.api('GET', '/identity/v3/roles?name=member', { token: c.adminToken })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${proj.id}/users/${otherUser.body.user.id}/roles/${member.id}`, { token: c.adminToken });
    const mallory = await c.login('mallory', 'mallory-pass', 'other');
    expect((await api('GET', `/servers/${ids[0]}`, undefined, mallory)).status).toBe(404);
    expect((await api('DELETE', `/servers/${ids[0]}`, undefined, mallory)).status).toBe(404);
    expect((await api('POST', `/servers/${ids[0]}/action`, { 'os-stop': null }, mallory)).status).toBe(404);
    expect((await ok('GET', '/servers', undefined, 200, mallory)).servers).toEqual([]);
    // A reader of the project sees the server but may not act on it.
    const reader = (await c.api('GET', '/identity/v3/roles?name=reader', { token: c.adminToken })).body.roles[0];
    const demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0];
    await c.api('PUT', `/identity/v3/projects/${demoProject.id}/users/${otherUser.body.user.id}/roles/${reader.id}`, { token: c.adminToken });
    const readerToken = await c.login('mallory', 'mallory-pass', 'demo');
    expect((await api('GET', `/servers/${ids[0]}`, undefined, readerToken)).status).toBe(200);
    expect((await api('POST', `/servers/${ids[0]}/action`, { 'os-stop': null }, readerToken)).status).toBe(403);
    expect((await api('POST', '/servers', { server: { name: 'x', imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }] } }, readerToken)).status).toBe(403);
    for (const id of ids) await ok('DELETE', `/servers/${id}`, undefined, 204);
    await settle();
  });

  it('refuses bad input with Nova errors and changes nothing', async () => {
    const count = (await ok('GET', '/servers')).servers.length;
    const bad = async (server: Record<string, unknown>, status: number, pattern: RegExp) => {
      const r = await api('POST', '/servers', { server: { name: 'bad', imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }], ...server } });
      expect(r.status, r.text).toBe(status);
      expect(JSON.stringify(r.body)).toMatch(pattern);
    };
    await bad({ flavorRef: 'nope' }, 400, /Flavor nope could not be found/);
    await bad({ imageRef: '6e1b7a1c-0000-4000-8000-000000000000' }, 400, /Image .* could not be found/);
    await bad({ networks: [{ uuid: '6e1b7a1c-0000-4000-8000-000000000000' }] }, 400, /Network .* could not be found/);
    await bad({ key_name: 'missing' }, 400, /Invalid key_name provided/);
    await bad({ security_groups: [{ name: 'nope' }] }, 400, /Security group nope not found/);
    await bad({ availability_zone: 'mars-1a' }, 400, /availability zone is not available/);
    await bad({ name: ' padded ' }, 400, /badRequest/);
    await bad({ min_count: 3, max_count: 2 }, 400, /min_count must be <= max_count/);
    await bad({ user_data: 'not base64!' }, 400, /valid base 64/);
    expect((await api('POST', '/servers', { server: { name: 'x' } })).status).toBe(400);
    expect((await api('GET', '/servers/not-a-server')).status).toBe(404);
    expect((await ok('GET', '/servers')).servers.length).toBe(count);
  });

  it('gives one winner when two creates race for the last cores of the quota', async () => {
    const project = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    const usage = (await ok('GET', '/limits')).limits.absolute.totalCoresUsed;
    // Leave room for exactly one more 4-core server.
    await ok('PUT', `/os-quota-sets/${project}`, { quota_set: { cores: usage + 4 } }, 200, c.adminToken);
    const both = await Promise.all(['race-1', 'race-2'].map((name) => api('POST', '/servers', { server: { name, imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }] } })));
    expect(both.map((r) => r.status).sort()).toEqual([202, 403]);
    await settle();
    expect((await ok('GET', '/limits')).limits.absolute.totalCoresUsed).toBe(usage + 4);
    await ok('PUT', `/os-quota-sets/${project}`, { quota_set: { cores: 40 } }, 200, c.adminToken);
    const winner = both.find((r) => r.status === 202)!.body.server.id;
    await ok('DELETE', `/servers/${winner}`, undefined, 204);
    await settle();
  });

  it('creates several at once with min_count/max_count and a reservation id', async () => {
    const r = await ok('POST', '/servers', { server: { name: 'multi', imageRef: imageId, flavorRef: flavors['hp.4x8-nvme50'], networks: [{ uuid: netId }], min_count: 2, max_count: 2, return_reservation_id: true } }, 202);
    expect(r.reservation_id).toMatch(/^r-/);
    await settle();
    const made = (await ok('GET', `/servers/detail?reservation_id=${r.reservation_id}`)).servers;
    expect(made.map((s: any) => s.name).sort()).toEqual(['multi-1', 'multi-2']);
    for (const s of made) await ok('DELETE', `/servers/${s.id}`, undefined, 204);
    await settle();
    // Their ports went with them; the DHCP ports stay.
    const ports = (await c.api('GET', `/network/v2.0/ports?network_id=${netId}&device_owner=compute:europe-se-1a`, { token: demo })).body.ports;
    expect(ports.filter((p: any) => made.some((s: any) => s.id === p.device_id))).toEqual([]);
  });
});
