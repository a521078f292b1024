import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';

/** os-instance-actions: what was done to a server, as Tempest's InstanceActions tests read it. */
describe('compute instance actions', () => {
  let c: TestCloud;
  let demo: string;
  let imageId: string;
  let flavorId: string;
  let netId: string;
  const mvh = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
  const nova = (method: string, path: string, opts: { token?: string; body?: unknown; v?: string } = {}) =>
    c.api(method, `/compute/v2.1${path}`, { token: opts.token ?? demo, body: opts.body, headers: opts.v ? mvh(opts.v) : {} });
  const waitFor = async (id: string, status: string, token = demo) => {
    for (let i = 0; i < 300; i++) {
      const r = await nova('GET', `/servers/${id}`, { token });
      if (status === 'GONE' && r.status === 404) return;
      if (r.body?.server?.status === status && !r.body.server['OS-EXT-STS:task_state']) return;
      await new Promise((res) => setTimeout(res, 30));
    }
    throw new Error(`server ${id} never reached ${status}`);
  };
  const boot = async (name: string, token = demo, networks: unknown = [{ uuid: netId }]) => {
    const r = await nova('POST', '/servers', { token, v: '2.37', body: { server: { name, imageRef: imageId, flavorRef: flavorId, availability_zone: 'europe-se-1a', networks } } });
    expect(r.status, r.text).toBe(202);
    return { id: r.body.server.id as string, requestId: r.headers.get('x-compute-request-id')! };
  };

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    const img = await c.api('POST', '/image/v2/images', { token: c.adminToken, body: { name: 'tiny', disk_format: 'raw', container_format: 'bare', visibility: 'public' } });
    expect(img.status, img.text).toBe(201);
    imageId = img.body.id;
    await fetch(`${c.url}/image/v2/images/${imageId}/file`, { method: 'PUT', headers: { 'x-auth-token': c.adminToken, 'content-type': 'application/octet-stream' }, body: new Uint8Array(1024) });
    const net = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'ia-net' } } });
    netId = net.body.network.id;
    await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, ip_version: 4, cidr: '10.30.0.0/24' } } });
    flavorId = (await nova('GET', '/flavors')).body.flavors.find((f: any) => f.name === 'hp.4x8-nvme50').id;
  });
  afterAll(async () => { await c.destroy(); });

  it('lists create and reboot, newest first, and shows the create by its request id', async () => {
    const s = await boot('acts');
    expect(s.requestId).toMatch(/^req-/);
    await waitFor(s.id, 'ACTIVE');
    expect((await nova('POST', `/servers/${s.id}/action`, { body: { reboot: { type: 'HARD' } } })).status).toBe(202);
    await waitFor(s.id, 'ACTIVE');
    const list = await nova('GET', `/servers/${s.id}/os-instance-actions`);
    expect(list.status).toBe(200);
    expect(list.body.instanceActions.map((a: any) => a.action)).toEqual(['reboot', 'create']);
    expect(Object.keys(list.body.instanceActions[0]).sort()).toEqual(['action', 'instance_uuid', 'message', 'project_id', 'request_id', 'start_time', 'user_id']);
    expect(list.body.instanceActions[1].start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    // v2.1, non-admin: the action without its events.
    const show = (await nova('GET', `/servers/${s.id}/os-instance-actions/${s.requestId}`)).body.instanceAction;
    expect(show).toMatchObject({ action: 'create', instance_uuid: s.id, request_id: s.requestId, message: null });
    expect(show).not.toHaveProperty('events');
    // 2.51: events for everyone, tracebacks for admins only.
    const v251 = (await nova('GET', `/servers/${s.id}/os-instance-actions/${s.requestId}`, { v: '2.51' })).body.instanceAction;
    expect(v251.events).toHaveLength(1);
    expect(v251.events[0]).toMatchObject({ event: 'compute_build', result: 'Success' });
    expect(Object.keys(v251.events[0]).sort()).toEqual(['event', 'finish_time', 'result', 'start_time']);
    const admin = (await nova('GET', `/servers/${s.id}/os-instance-actions/${s.requestId}`, { token: c.adminToken })).body.instanceAction;
    expect(Object.keys(admin.events[0]).sort()).toEqual(['event', 'finish_time', 'result', 'start_time', 'traceback']);
    // 2.58 updated_at; 2.62 hostId for all and host for admins.
    const reboot = list.body.instanceActions[0].request_id;
    const v262 = (await nova('GET', `/servers/${s.id}/os-instance-actions/${reboot}`, { v: '2.62' })).body.instanceAction;
    expect(v262.updated_at).toMatch(/^\d{4}-/);
    expect(v262.events[0]).toMatchObject({ event: 'compute_reboot', result: 'Success' });
    expect(v262.events[0].hostId).toMatch(/^[0-9a-f]{56}$/);
    expect(v262.events[0]).not.toHaveProperty('host');
    const hostOf = (await nova('GET', `/servers/${s.id}`, { token: c.adminToken })).body.server['OS-EXT-SRV-ATTR:host'];
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions/${reboot}`, { v: '2.62', token: c.adminToken })).body.instanceAction.events[0].host).toBe(hostOf);

    expect((await nova('GET', `/servers/${s.id}/os-instance-actions/999`)).status).toBe(404);
  });

  it('pages and filters from 2.58', async () => {
    const s = await boot('paged');
    await waitFor(s.id, 'ACTIVE');
    for (const a of ['stop', 'start']) {
      expect((await nova('POST', `/servers/${s.id}/action`, { body: { [`os-${a}`]: null } })).status).toBe(202);
      await waitFor(s.id, a === 'stop' ? 'SHUTOFF' : 'ACTIVE');
    }
    const all = (await nova('GET', `/servers/${s.id}/os-instance-actions`, { v: '2.58' })).body.instanceActions;
    expect(all.map((a: any) => a.action)).toEqual(['start', 'stop', 'create']);
    expect(all[0]).toHaveProperty('updated_at');
    const page = (await nova('GET', `/servers/${s.id}/os-instance-actions?limit=2`, { v: '2.58' })).body;
    expect(page.instanceActions.map((a: any) => a.action)).toEqual(['start', 'stop']);
    expect(page.links[0].rel).toBe('next');
    expect(page.links[0].href).toContain(`marker=${page.instanceActions[1].request_id}`);
    const rest = (await nova('GET', `/servers/${s.id}/os-instance-actions?marker=${page.instanceActions[1].request_id}`, { v: '2.58' })).body;
    expect(rest.instanceActions.map((a: any) => a.action)).toEqual(['create']);
    expect(rest).not.toHaveProperty('links');
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions?marker=req-nope`, { v: '2.58' })).status).toBe(400);
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions?changes-since=yesterday`, { v: '2.58' })).status).toBe(400);
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions?bogus=1`, { v: '2.58' })).status).toBe(400);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions?changes-since=${future}`, { v: '2.58' })).body.instanceActions).toEqual([]);
    const past = new Date(Date.now() - 3600_000).toISOString();
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions?changes-since=${future}&changes-before=${past}`, { v: '2.66' })).status).toBe(400);
  });

  it("keeps a deleted server's actions readable from 2.21, and hides other projects' servers", async () => {
    const s = await boot('doomed');
    await waitFor(s.id, 'ACTIVE');
    expect((await nova('DELETE', `/servers/${s.id}`)).status).toBe(204);
    await waitFor(s.id, 'GONE');
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions`)).status).toBe(404);
    const v221 = await nova('GET', `/servers/${s.id}/os-instance-actions`, { v: '2.21' });
    expect(v221.status).toBe(200);
    expect(v221.body.instanceActions.map((a: any) => a.action).sort()).toEqual(['create', 'delete']);

    // The admin project's server is not demo's business: 404, as if it did not exist.
    const theirs = await boot('admins', c.adminToken, 'none');
    expect((await nova('GET', `/servers/${theirs.id}/os-instance-actions`)).status).toBe(404);
    expect((await nova('GET', `/servers/${theirs.id}/os-instance-actions/${theirs.requestId}`)).status).toBe(404);
    expect((await nova('GET', `/servers/${theirs.id}/os-instance-actions`, { token: c.adminToken })).body.instanceActions).toHaveLength(1);
    // ...and admins see demo's, deleted or not.
    expect((await nova('GET', `/servers/${s.id}/os-instance-actions`, { token: c.adminToken, v: '2.21' })).status).toBe(200);
    expect((await nova('GET', '/servers/00000000-0000-4000-8000-000000000000/os-instance-actions')).status).toBe(404);
    expect((await nova('GET', '/servers/not-a-uuid/os-instance-actions')).status).toBe(404);
    await c.platform.tasks.idle();
  });
});
