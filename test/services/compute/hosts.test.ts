import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';

/** The operator's compute APIs: zones, hypervisors, services, aggregates, usage, migrations. */
describe('compute hosts (os-availability-zone, os-hypervisors, os-services, os-aggregates, usage, migrations)', () => {
  let c: TestCloud;
  let demo: string;
  let serverId: string;
  let serverHost: string;
  const mvh = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
  const nova = (method: string, path: string, opts: { token?: string; body?: unknown; v?: string } = {}) =>
    c.api(method, `/compute/v2.1${path}`, { token: opts.token ?? c.adminToken, body: opts.body, headers: opts.v ? mvh(opts.v) : {} });

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    // A server in europe-se-1a, so hosts have something on them.
    const img = await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'tiny', disk_format: 'raw', container_format: 'bare' } });
    expect(img.status, img.text).toBe(201);
    const put = await fetch(`${c.url}/image/v2/images/${img.body.id}/file`, { method: 'PUT', headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, body: new Uint8Array(1024) });
    expect(put.status).toBe(204);
    const net = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'hosts-net' } } });
    await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: net.body.network.id, ip_version: 4, cidr: '10.20.0.0/24' } } });
    const flavor = (await nova('GET', '/flavors', { token: demo })).body.flavors.find((f: any) => f.name === 'hp.4x8-nvme50');
    const s = await nova('POST', '/servers', {
      token: demo, body: { server: { name: 'web-1', imageRef: img.body.id, flavorRef: flavor.id, availability_zone: 'europe-se-1a', networks: [{ uuid: net.body.network.id }] } },
    });
    expect(s.status, s.text).toBe(202);
    serverId = s.body.server.id;
    for (let i = 0; i < 200; i++) {
      const r = await nova('GET', `/servers/${serverId}`);
      if (r.body.server.status === 'ACTIVE') { serverHost = r.body.server['OS-EXT-SRV-ATTR:host']; break; }
      if (r.body.server.status === 'ERROR') throw new Error(JSON.stringify(r.body.server.fault));
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(serverHost).toMatch(/^compute-1a-/);
  });
  afterAll(async () => { await c.destroy(); });

  it('lists availability zones for everyone and their services for admins, with the internal zone', async () => {
    const list = await nova('GET', '/os-availability-zone', { token: demo });
    expect(list.status).toBe(200);
    expect(list.body.availabilityZoneInfo).toEqual([
      { zoneName: 'europe-se-1a', zoneState: { available: true }, hosts: null },
      { zoneName: 'europe-se-1b', zoneState: { available: true }, hosts: null },
    ]);
    expect((await nova('GET', '/os-availability-zone/detail', { token: demo })).status).toBe(403);
    const detail = (await nova('GET', '/os-availability-zone/detail')).body.availabilityZoneInfo;
    const internal = detail.find((z: any) => z.zoneName === 'internal');
    expect(Object.keys(internal.hosts.controller).sort()).toEqual(['nova-conductor', 'nova-scheduler']);
    const a = detail.find((z: any) => z.zoneName === 'europe-se-1a');
    expect(Object.keys(a.hosts).sort()).toEqual(['compute-1a-1', 'compute-1a-2', 'compute-1a-3']);
    expect(a.hosts['compute-1a-1']['nova-compute']).toMatchObject({ available: true, active: true });
    expect(a.hosts['compute-1a-1']['nova-compute'].updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('shows hypervisors with usage per microversion and refuses non-admins', async () => {
    expect((await nova('GET', '/os-hypervisors', { token: demo })).status).toBe(403);
    expect((await nova('GET', '/os-hypervisors/statistics', { token: demo })).status).toBe(403);
    const list = (await nova('GET', '/os-hypervisors')).body.hypervisors;
    expect(list).toHaveLength(6);
    expect(Object.keys(list[0]).sort()).toEqual(['hypervisor_hostname', 'id', 'state', 'status']);
    expect(typeof list[0].id).toBe('number');
    const mine = list.find((h: any) => h.hypervisor_hostname === serverHost);
    const show = (await nova('GET', `/os-hypervisors/${mine.id}`)).body.hypervisor;
    expect(show).toMatchObject({ hypervisor_type: 'fake', hypervisor_version: 1000, vcpus_used: 4, memory_mb_used: 8192, local_gb_used: 50, running_vms: 1, state: 'up', status: 'enabled', host_ip: '127.0.0.1' });
    expect(show.service).toEqual({ host: serverHost, id: mine.id, disabled_reason: null });
    expect(typeof show.cpu_info).toBe('string');
    expect(show.free_ram_mb).toBe(show.memory_mb - 8192);
    // 2.28: cpu_info is an object; 2.53: uuids, with_servers and the hostname pattern.
    expect(typeof (await nova('GET', `/os-hypervisors/${mine.id}`, { v: '2.28' })).body.hypervisor.cpu_info).toBe('object');
    const v253 = (await nova('GET', `/os-hypervisors?hypervisor_hostname_pattern=${serverHost}&with_servers=true`, { v: '2.53' })).body.hypervisors;
    expect(v253).toHaveLength(1);
    expect(v253[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(v253[0].servers).toEqual([{ name: 'web-1', uuid: serverId }]);
    expect((await nova('GET', `/os-hypervisors/${mine.id}`, { v: '2.53' })).status).toBe(400);
    expect((await nova('GET', '/os-hypervisors/detail?hypervisor_hostname_pattern=nope', { v: '2.53' })).status).toBe(404);
    expect((await nova('GET', '/os-hypervisors?with_servers=maybe', { v: '2.53' })).status).toBe(400);
    expect((await nova('GET', '/os-hypervisors?bogus=1', { v: '2.53' })).status).toBe(400);
    const v288 = (await nova('GET', `/os-hypervisors/${v253[0].id}`, { v: '2.88' })).body.hypervisor;
    expect(v288).not.toHaveProperty('vcpus');
    expect(v288).not.toHaveProperty('cpu_info');
    expect(typeof v288.uptime).toBe('string');
    expect((await nova('GET', '/os-hypervisors/statistics', { v: '2.88' })).status).toBe(404);
    const stats = (await nova('GET', '/os-hypervisors/statistics')).body.hypervisor_statistics;
    expect(stats).toMatchObject({ count: 6, running_vms: 1, vcpus_used: 4 });
    const uptime = (await nova('GET', `/os-hypervisors/${mine.id}/uptime`)).body.hypervisor;
    expect(Object.keys(uptime).sort()).toEqual(['hypervisor_hostname', 'id', 'state', 'status', 'uptime']);
    expect((await nova('GET', '/os-hypervisors/9999')).status).toBe(404);
    expect((await nova('GET', '/os-hypervisors/not-a-number')).status).toBe(404);
    // Before 2.53: search and servers routes.
    const servers = (await nova('GET', `/os-hypervisors/${serverHost}/servers`)).body.hypervisors;
    expect(servers[0].servers).toEqual([{ name: 'web-1', uuid: serverId }]);
    expect((await nova('GET', '/os-hypervisors/compute-1b/search')).body.hypervisors).toHaveLength(3);
    expect((await nova('GET', '/os-hypervisors/nonexistent/search')).status).toBe(404);
    expect((await nova('GET', '/os-hypervisors/compute-1b/search', { v: '2.53' })).status).toBe(404);
    // Paging (2.33).
    const page = (await nova('GET', '/os-hypervisors?limit=2', { v: '2.33' })).body;
    expect(page.hypervisors).toHaveLength(2);
    expect(page.hypervisors_links[0].href).toContain(`marker=${page.hypervisors[1].id}`);
  });

  it('lists, disables, forces down and deletes compute services; the scheduler honours it', async () => {
    expect((await nova('GET', '/os-services', { token: demo })).status).toBe(403);
    const all = (await nova('GET', '/os-services')).body.services;
    expect(all).toHaveLength(8);
    expect(all.filter((s: any) => s.zone === 'internal').map((s: any) => s.binary).sort()).toEqual(['nova-conductor', 'nova-scheduler']);
    expect(Object.keys(all[0]).sort()).toEqual(['binary', 'disabled_reason', 'host', 'id', 'state', 'status', 'updated_at', 'zone']);
    expect((await nova('GET', '/os-services?binary=nova-compute&host=compute-1b-1')).body.services).toHaveLength(1);
    expect((await nova('GET', '/os-services?host=xxx&binary=nova-compute')).body.services).toEqual([]);
    expect((await nova('GET', '/os-services?xxx=1', { v: '2.75' })).status).toBe(400);

    // Old style: the action in the path.
    const dis = await nova('PUT', '/os-services/disable-log-reason', { body: { host: 'compute-1b-1', binary: 'nova-compute', disabled_reason: 'maintenance' } });
    expect(dis.body).toEqual({ service: { host: 'compute-1b-1', binary: 'nova-compute', status: 'disabled', disabled_reason: 'maintenance' } });
    expect((await nova('PUT', '/os-services/disable', { body: { host: 'nope', binary: 'nova-compute' } })).status).toBe(404);
    expect((await nova('PUT', '/os-services/disable', { body: { host: 'controller', binary: 'nova-scheduler' } })).status).toBe(400);
    expect((await nova('PUT', '/os-services/force-down', { body: { host: 'compute-1b-1', binary: 'nova-compute', forced_down: true } })).status).toBe(400);
    const fd = await nova('PUT', '/os-services/force-down', { v: '2.11', body: { host: 'compute-1b-2', binary: 'nova-compute', forced_down: true } });
    expect(fd.body).toEqual({ service: { host: 'compute-1b-2', binary: 'nova-compute', forced_down: true } });
    expect((await nova('PUT', '/os-services/enable', { token: demo, body: { host: 'compute-1b-1', binary: 'nova-compute' } })).status).toBe(403);
    const hyp = (await nova('GET', '/os-hypervisors/detail')).body.hypervisors;
    expect(hyp.find((h: any) => h.hypervisor_hostname === 'compute-1b-1')).toMatchObject({ status: 'disabled', service: { disabled_reason: 'maintenance' } });
    expect(hyp.find((h: any) => h.hypervisor_hostname === 'compute-1b-2').state).toBe('down');

    // 2.53: by uuid.
    const v253 = (await nova('GET', '/os-services?binary=nova-compute', { v: '2.53' })).body.services;
    const b3 = v253.find((s: any) => s.host === 'compute-1b-3');
    expect(b3.id).toMatch(/^[0-9a-f-]{36}$/);
    const upd = await nova('PUT', `/os-services/${b3.id}`, { v: '2.53', body: { status: 'disabled', disabled_reason: 'rack move' } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body.service).toMatchObject({ id: b3.id, status: 'disabled', disabled_reason: 'rack move', forced_down: false, state: 'up', zone: 'europe-se-1b' });
    expect((await nova('PUT', `/os-services/${b3.id}`, { v: '2.53', body: { status: 'enabled', disabled_reason: 'x' } })).status).toBe(400);
    expect((await nova('PUT', `/os-services/${b3.id}`, { v: '2.53', body: {} })).status).toBe(400);
    expect((await nova('PUT', '/os-services/8c1f4b0e-6c7f-4f6a-9a57-111111111111', { v: '2.53', body: { status: 'enabled' } })).status).toBe(404);
    expect((await nova('PUT', '/os-services/not-a-uuid', { v: '2.53', body: { status: 'enabled' } })).status).toBe(400);

    // Every host of europe-se-1b is now out of the scheduler's reach: no server lands there.
    const img = (await c.api('GET', '/image/v2/images?name=tiny', { token: demo })).body.images[0];
    const flavor = (await nova('GET', '/flavors', { token: demo })).body.flavors.find((f: any) => f.name === 'hp.4x8-nvme50');
    const zoneDetail = (await nova('GET', '/os-availability-zone/detail')).body.availabilityZoneInfo;
    // compute-1b-2 is enabled but down: the zone stays available, the host shows as not alive.
    expect(zoneDetail.find((z: any) => z.zoneName === 'europe-se-1b').hosts).toEqual({ 'compute-1b-2': { 'nova-compute': { available: false, active: true, updated_at: expect.any(String) } } });
    const s = await nova('POST', '/servers', { body: { server: { name: 'nowhere', imageRef: img.id, flavorRef: flavor.id, availability_zone: 'europe-se-1b', networks: 'none' } }, v: '2.37' });
    expect(s.status, s.text).toBe(202);
    let status = '';
    for (let i = 0; i < 100 && status !== 'ERROR'; i++) { status = (await nova('GET', `/servers/${s.body.server.id}`)).body.server.status; await new Promise((r) => setTimeout(r, 30)); }
    expect(status).toBe('ERROR');
    await nova('DELETE', `/servers/${s.body.server.id}`);

    // Back to service, old style and new.
    await nova('PUT', '/os-services/enable', { body: { host: 'compute-1b-1', binary: 'nova-compute' } });
    await nova('PUT', `/os-services/${b3.id}`, { v: '2.53', body: { status: 'enabled' } });
    await nova('PUT', '/os-services/force-down', { v: '2.11', body: { host: 'compute-1b-2', binary: 'nova-compute', forced_down: false } });
    expect((await nova('GET', '/os-services?binary=nova-compute')).body.services.every((x: any) => x.status === 'enabled' && x.state === 'up')).toBe(true);

    // Delete: not while it hosts servers; the others go, with their aggregate memberships.
    const hostSvc = (await nova('GET', `/os-services?host=${serverHost}`)).body.services[0];
    expect((await nova('DELETE', `/os-services/${hostSvc.id}`)).status).toBe(409);
    expect((await nova('DELETE', '/os-services/abc')).status).toBe(400);
    expect((await nova('DELETE', '/os-services/12345')).status).toBe(404);
    const victim = (await nova('GET', '/os-services?host=compute-1b-3')).body.services[0];
    expect((await nova('DELETE', `/os-services/${victim.id}`, { token: demo })).status).toBe(403);
    expect((await nova('DELETE', `/os-services/${victim.id}`)).status).toBe(204);
    expect((await nova('GET', '/os-services?binary=nova-compute')).body.services).toHaveLength(5);
    const aggs = (await nova('GET', '/os-aggregates')).body.aggregates;
    expect(aggs.find((a: any) => a.name === 'europe-se-1b').hosts).toEqual(['compute-1b-1', 'compute-1b-2']);
  });

  it('manages aggregates as Nova does, with zones that never split a host', async () => {
    expect((await nova('GET', '/os-aggregates', { token: demo })).status).toBe(403);
    expect((await nova('POST', '/os-aggregates', { token: demo, body: { aggregate: { name: 'x' } } })).status).toBe(403);
    const boot = (await nova('GET', '/os-aggregates')).body.aggregates;
    expect(boot.find((a: any) => a.name === 'europe-se-1a')).toMatchObject({ availability_zone: 'europe-se-1a', deleted: false, deleted_at: null, metadata: { availability_zone: 'europe-se-1a' } });
    expect(boot[0]).not.toHaveProperty('uuid');

    const created = await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'gpu', availability_zone: null } } });
    expect(created.status, created.text).toBe(200);
    const agg = created.body.aggregate;
    expect(Object.keys(agg).sort()).toEqual(['availability_zone', 'created_at', 'deleted', 'deleted_at', 'id', 'name', 'updated_at']);
    expect(agg).toMatchObject({ name: 'gpu', availability_zone: null, updated_at: null });
    expect((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'gpu' } } })).status).toBe(409);
    expect((await nova('POST', '/os-aggregates', { body: { aggregate: { name: '' } } })).status).toBe(400);
    expect((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'a'.repeat(256) } } })).status).toBe(400);
    expect((await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'z', availability_zone: 'bad:zone' } } })).status).toBe(400);
    expect((await nova('GET', '/os-aggregates/-1')).status).toBe(404);
    expect((await nova('GET', '/os-aggregates/abc')).status).toBe(400);

    // Hosts: must exist, join once; a host with a zone joins a zoneless aggregate freely.
    expect((await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { add_host: { host: 'nonexist_host' } } })).status).toBe(404);
    const added = await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { add_host: { host: 'compute-1a-2' } }, v: '2.41' });
    expect(added.status, added.text).toBe(200);
    expect(added.body.aggregate).toMatchObject({ hosts: ['compute-1a-2'], availability_zone: null, metadata: {} });
    expect(added.body.aggregate.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(added.body.aggregate.updated_at).toMatch(/^\d{4}-/);
    expect((await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { add_host: { host: 'compute-1a-2' } } })).status).toBe(409);
    expect((await nova('POST', `/os-aggregates/${agg.id}/action`, { token: demo, body: { add_host: { host: 'compute-1a-3' } } })).status).toBe(403);

    // Metadata: set, and null deletes; a zone that would put compute-1a-2 in two zones is refused.
    const meta = await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { set_metadata: { metadata: { gpu: 'a100', color: 'red' } } } });
    expect(meta.body.aggregate.metadata).toEqual({ gpu: 'a100', color: 'red' });
    const del = await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { set_metadata: { metadata: { color: null } } } });
    expect(del.body.aggregate.metadata).toEqual({ gpu: 'a100' });
    const split = await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { set_metadata: { metadata: { availability_zone: 'elsewhere' } } } });
    expect(split.status).toBe(400);
    expect(split.body.badRequest.message).toContain('already in availability zone');
    expect((await nova('PUT', `/os-aggregates/${agg.id}`, { body: { aggregate: { availability_zone: 'elsewhere' } } })).status).toBe(400);
    expect((await nova('GET', `/os-aggregates/${agg.id}`)).body.aggregate.availability_zone).toBeNull();
    expect((await nova('PUT', `/os-aggregates/${agg.id}`, { body: { aggregate: {} } })).status).toBe(400);
    expect((await nova('PUT', `/os-aggregates/${agg.id}`, { body: { aggregate: { name: 'europe-se-1a' } } })).status).toBe(409);

    // Not empty: no delete. Empty: delete answers 200 with no body.
    expect((await nova('DELETE', `/os-aggregates/${agg.id}`)).status).toBe(400);
    expect((await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { remove_host: { host: 'compute-1a-3' } } })).status).toBe(404);
    expect((await nova('POST', `/os-aggregates/${agg.id}/action`, { body: { remove_host: { host: 'compute-1a-2' } } })).body.aggregate.hosts).toEqual([]);
    const gone = await nova('DELETE', `/os-aggregates/${agg.id}`);
    expect(gone.status).toBe(200);
    expect(gone.text).toBe('');
    expect((await nova('GET', `/os-aggregates/${agg.id}`)).status).toBe(404);

    // A new zone: a host without servers moves into it, and the zone list shows it.
    const z = (await nova('POST', '/os-aggregates', { body: { aggregate: { name: 'edge', availability_zone: 'edge-1' } } })).body.aggregate;
    expect(z.availability_zone).toBe('edge-1');
    const conflictAdd = await nova('POST', `/os-aggregates/${z.id}/action`, { body: { add_host: { host: 'compute-1b-1' } } });
    expect(conflictAdd.status).toBe(409);
    // Out of its old zone first, then in.
    const b = (await nova('GET', '/os-aggregates')).body.aggregates.find((a: any) => a.name === 'europe-se-1b');
    await nova('POST', `/os-aggregates/${b.id}/action`, { body: { remove_host: { host: 'compute-1b-1' } } });
    expect((await nova('POST', `/os-aggregates/${z.id}/action`, { body: { add_host: { host: 'compute-1b-1' } } })).status).toBe(200);
    const zones = (await nova('GET', '/os-availability-zone', { token: demo })).body.availabilityZoneInfo.map((x: any) => x.zoneName);
    expect(zones).toContain('edge-1');
    const renamed = await nova('PUT', `/os-aggregates/${z.id}`, { body: { aggregate: { name: 'edge-renamed', availability_zone: 'edge-2' } } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.aggregate).toMatchObject({ name: 'edge-renamed', availability_zone: 'edge-2', hosts: ['compute-1b-1'] });
    // The zone of a host with servers does not change under them.
    const a = (await nova('GET', '/os-aggregates')).body.aggregates.find((x: any) => x.name === 'europe-se-1a');
    const moving = await nova('POST', `/os-aggregates/${a.id}/action`, { body: { set_metadata: { metadata: { availability_zone: 'europe-se-1x' } } } });
    expect(moving.status).toBe(400);
    expect(moving.body.badRequest.message).toContain('contain instances');
    const leave = await nova('POST', `/os-aggregates/${a.id}/action`, { body: { remove_host: { host: serverHost } } });
    expect(leave.status).toBe(409);
    expect((await nova('GET', `/os-aggregates/${a.id}`)).body.aggregate.hosts).toContain(serverHost);
  });

  it('reports usage per project, and a project its own only', async () => {
    const start = new Date(Date.now() - 86400_000).toISOString().slice(0, 19);
    const end = new Date(Date.now() + 86400_000).toISOString().slice(0, 19);
    const projectId = (await nova('GET', `/servers/${serverId}`)).body.server.tenant_id;
    const all = await nova('GET', `/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`);
    expect(all.status, all.text).toBe(200);
    const usage = all.body.tenant_usages.find((u: any) => u.tenant_id === projectId);
    expect(Object.keys(usage)).toHaveLength(8);
    expect(usage.server_usages[0]).toMatchObject({ instance_id: serverId, name: 'web-1', vcpus: 4, memory_mb: 8192, local_gb: 50, flavor: 'hp.4x8-nvme50', state: 'active', ended_at: null });
    expect(usage.total_vcpus_usage).toBeCloseTo(usage.total_hours * 4, 6);
    expect((await nova('GET', `/os-simple-tenant-usage?start=${start}&end=${end}`, { token: demo })).status).toBe(403);
    const own = await nova('GET', `/os-simple-tenant-usage/${projectId}?start=${start}&end=${end}`, { token: demo });
    expect(own.status).toBe(200);
    expect(Object.keys(own.body.tenant_usage)).toHaveLength(8);
    expect((await nova('GET', `/os-simple-tenant-usage/someone-else?start=${start}&end=${end}`, { token: demo })).status).toBe(403);
    expect((await nova('GET', `/os-simple-tenant-usage/${projectId}?start=${end}&end=${start}`)).status).toBe(400);
    expect((await nova('GET', `/os-simple-tenant-usage/${projectId}?start=yesterday`)).status).toBe(400);
    expect((await nova('GET', `/os-simple-tenant-usage/?start=${start}&end=${end}`)).status).toBe(404);
    const paged = await nova('GET', `/os-simple-tenant-usage/${projectId}?start=${start}&end=${end}&limit=1`, { v: '2.40' });
    expect(paged.body.tenant_usage_links[0].href).toContain(`marker=${serverId}`);
    expect((await nova('GET', `/os-simple-tenant-usage/${projectId}?start=${start}&end=${end}&marker=nope`, { v: '2.40' })).status).toBe(400);
  });

  it('lists migrations with the fields of each microversion', async () => {
    expect((await nova('GET', '/os-migrations', { token: demo })).status).toBe(403);
    // Migration records as the manager writes them: a finished cold migration and a live one under way.
    const server = (await nova('GET', `/servers/${serverId}`)).body.server;
    const db = c.platform.db as any;
    const t = Date.now();
    const row = (id: number, type: string, status: string, dest: string | null, at: number) => ({
      id, uuid: `00000000-0000-4000-8000-00000000000${id}`, instance_id: serverId, project_id: server.tenant_id, user_id: server.user_id, migration_type: type, status,
      source_compute: serverHost, dest_compute: dest, old_flavor_id: server.flavor.id, new_flavor_id: server.flavor.id, created_at: at, updated_at: at,
    });
    await db.insertInto('migration').values([row(1, 'migration', 'confirmed', 'compute-1a-3', t - 60_000), row(2, 'live-migration', 'running', 'compute-1a-1', t)]).execute();

    const v21 = (await nova('GET', '/os-migrations')).body.migrations;
    expect(v21).toHaveLength(2);
    expect(Object.keys(v21[0]).sort()).toEqual(['created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid', 'new_instance_type_id', 'old_instance_type_id', 'source_compute', 'source_node', 'status', 'updated_at']);
    expect(v21[0]).toMatchObject({ id: 1, instance_uuid: serverId, source_compute: serverHost, dest_compute: 'compute-1a-3', status: 'confirmed' });
    const v223 = (await nova('GET', '/os-migrations', { v: '2.23' })).body.migrations;
    expect(v223.find((m: any) => m.id === 1)).not.toHaveProperty('links');
    expect(v223.find((m: any) => m.id === 2).links[0].href).toMatch(new RegExp(`/v2.1/servers/${serverId}/migrations/2$`));
    const v280 = (await nova('GET', `/os-migrations?instance_uuid=${serverId}&migration_type=migration`, { v: '2.80' })).body.migrations;
    expect(v280).toHaveLength(1);
    expect(v280[0]).toMatchObject({ migration_type: 'migration', uuid: '00000000-0000-4000-8000-000000000001', project_id: server.tenant_id, user_id: server.user_id });
    // 2.59: newest first, paged by uuid.
    const page = (await nova('GET', '/os-migrations?limit=1', { v: '2.59' })).body;
    expect(page.migrations.map((m: any) => m.id)).toEqual([2]);
    expect(page.migrations_links[0].href).toContain('marker=00000000-0000-4000-8000-000000000002');
    expect((await nova('GET', '/os-migrations?marker=00000000-0000-4000-8000-000000000002', { v: '2.59' })).body.migrations.map((m: any) => m.id)).toEqual([1]);
    expect((await nova('GET', '/os-migrations?status=error')).body.migrations).toEqual([]);
    expect((await nova('GET', '/os-migrations?host=compute-1a-3')).body.migrations.map((m: any) => m.id)).toEqual([1]);
    expect((await nova('GET', '/os-migrations?marker=nope', { v: '2.59' })).status).toBe(400);
    expect((await nova('GET', '/os-migrations?changes-since=notadate', { v: '2.59' })).status).toBe(400);
    expect((await nova('GET', `/os-migrations?changes-since=${new Date(t - 1000).toISOString()}`, { v: '2.59' })).body.migrations.map((m: any) => m.id)).toEqual([2]);

    // The server's own: live migrations in progress only (2.23+), admin only.
    const mine = (await nova('GET', `/servers/${serverId}/migrations`, { v: '2.23' })).body.migrations;
    expect(mine.map((m: any) => m.id)).toEqual([2]);
    expect(mine[0]).toMatchObject({ server_uuid: serverId, status: 'running', dest_compute: 'compute-1a-1', source_compute: serverHost });
    expect((await nova('GET', `/servers/${serverId}/migrations/2`, { v: '2.59' })).body.migration.uuid).toBe('00000000-0000-4000-8000-000000000002');
    expect((await nova('GET', `/servers/${serverId}/migrations/1`, { v: '2.23' })).status).toBe(404);
    expect((await nova('GET', `/servers/${serverId}/migrations`)).status).toBe(404);
    expect((await nova('GET', `/servers/${serverId}/migrations`, { v: '2.23', token: demo })).status).toBe(403);
    await db.deleteFrom('migration').execute();
  });

  it('answers the openstack CLI', async () => {
    const cli = clients(c.dataDir, 'stratus-admin');
    const zones = await cli.json(['availability', 'zone', 'list', '--compute']);
    expect(zones.map((z: any) => z['Zone Name'])).toContain('europe-se-1a');
    const hyps = await cli.json(['hypervisor', 'list']);
    expect(hyps.length).toBeGreaterThanOrEqual(5);
    const svcs = await cli.json(['compute', 'service', 'list']);
    expect(svcs.some((s: any) => s.Binary === 'nova-conductor' && s.Zone === 'internal')).toBe(true);
    const zoned = await cli.json(['aggregate', 'create', '--zone', 'cli-zone', 'cli-zoned']);
    expect(zoned.availability_zone).toBe('cli-zone');
    await cli.json(['aggregate', 'create', '--property', 'ssd=true', 'cli-agg']);
    await cli.must(['aggregate', 'add', 'host', 'cli-agg', 'compute-1b-2']);
    const shown = await cli.json(['aggregate', 'show', 'cli-agg']);
    expect(shown.hosts).toEqual(['compute-1b-2']);
  }, 120_000);
});
