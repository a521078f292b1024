import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';


describe('compute limits, quota sets and quota classes', () => {
  let c: TestCloud;
  let demo: string;
  let reader: string;
  let demoProject: string;
  let adminProject: string;
  const v = (mv: string) => ({ 'OpenStack-API-Version': `compute ${mv}` });
  const get = (path: string, token: string, mv = '2.1') => c.api('GET', `/compute/v2.1/${path}`, { token, headers: v(mv) });
  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    const t = c.adminToken;
    demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0].id;
    adminProject = (await c.api('GET', '/identity/v3/projects?name=admin', { token: t })).body.projects[0].id;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'auditor', password: 'apw' } } })).body.user;
    const role = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${demoProject}/users/${user.id}/roles/${role.id}`, { token: t });
    reader = await c.login('auditor', 'apw', 'demo');
  });
  afterAll(async () => { await c.destroy(); });

  it('shows absolute limits with the documented defaults, keys per microversion', async () => {
    const l21 = (await get('limits', demo)).body;
    expect(l21.limits.rate).toEqual([]);
    expect(l21.limits.absolute).toEqual({
      maxTotalInstances: 40, maxTotalCores: 40, maxTotalRAMSize: 102400, maxTotalKeypairs: 100, maxServerMeta: 128, maxImageMeta: 128,
      maxPersonality: 5, maxPersonalitySize: 10240, maxTotalFloatingIps: -1, maxSecurityGroups: -1, maxSecurityGroupRules: -1,
      maxServerGroups: 10, maxServerGroupMembers: 10, totalRAMUsed: 0, totalCoresUsed: 0, totalInstancesUsed: 0,
      totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0, totalServerGroupsUsed: 0,
    });
    const l236 = (await get('limits', demo, '2.36')).body.limits.absolute;
    expect(l236).not.toHaveProperty('maxSecurityGroups');
    expect(l236).not.toHaveProperty('totalFloatingIpsUsed');
    expect(l236).toHaveProperty('maxImageMeta');
    const l239 = (await get('limits', demo, '2.39')).body.limits.absolute;
    expect(l239).not.toHaveProperty('maxImageMeta');
    expect(l239).toHaveProperty('maxPersonality');
    const l257 = (await get('limits', demo, '2.57')).body;
    expect(Object.keys(l257.limits.absolute).sort()).toEqual([
      'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize',
      'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
    ]);
    // Only admins may ask about another project.
    expect((await get(`limits?tenant_id=${adminProject}`, demo)).status).toBe(403);
    await c.api('POST', '/compute/v2.1/os-server-groups', { token: demo, body: { server_group: { name: 'g', policies: ['affinity'] } } });
    const other = (await get(`limits?tenant_id=${demoProject}`, c.adminToken)).body.limits.absolute;
    expect(other.totalServerGroupsUsed).toBe(1);
    expect((await get('limits', c.adminToken)).body.limits.absolute.totalServerGroupsUsed).toBe(0);
    expect(tempestErrors([
      ['v2_1.limits', 'get_limit', 200, l21], ['v2_36.limits', 'get_limit', 200, (await get('limits', demo, '2.36')).body],
      ['v2_39.limits', 'get_limit', 200, (await get('limits', demo, '2.39')).body], ['v2_57.limits', 'get_limit', 200, l257],
    ])).toEqual([]);
  });

  it('shows quota sets, defaults and details; readers their own project only', async () => {
    const q = (await get(`os-quota-sets/${demoProject}`, demo)).body.quota_set;
    expect(q).toEqual({
      id: demoProject, instances: 40, cores: 40, ram: 102400, metadata_items: 128, injected_files: 5, injected_file_content_bytes: 10240,
      injected_file_path_bytes: 255, key_pairs: 100, server_groups: 10, server_group_members: 10,
      fixed_ips: -1, floating_ips: -1, security_group_rules: -1, security_groups: -1,
    });
    // A user without settings of their own has the project's quotas.
    expect((await get(`os-quota-sets/${demoProject}?user_id=whoever`, demo)).body.quota_set).toEqual(q);
    expect((await get(`os-quota-sets/${demoProject}`, reader)).status).toBe(200);
    expect((await get(`os-quota-sets/${adminProject}`, demo)).status).toBe(403);
    expect((await get(`os-quota-sets/${adminProject}/detail`, reader)).status).toBe(403);
    expect((await get(`os-quota-sets/${demoProject}`, c.adminToken)).status).toBe(200);
    const q236 = (await get(`os-quota-sets/${demoProject}`, demo, '2.36')).body.quota_set;
    expect(q236).not.toHaveProperty('floating_ips');
    expect(q236).toHaveProperty('injected_files');
    const q257 = (await get(`os-quota-sets/${demoProject}`, demo, '2.57')).body.quota_set;
    expect(Object.keys(q257).sort()).toEqual(['cores', 'id', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups']);
    const defaults = (await get(`os-quota-sets/${demoProject}/defaults`, demo)).body.quota_set;
    expect(defaults).toEqual(q);
    const detail = (await get(`os-quota-sets/${demoProject}/detail`, demo)).body.quota_set;
    expect(detail.id).toBe(demoProject);
    expect(detail.server_groups).toEqual({ in_use: 1, limit: 10, reserved: 0 });
    expect(detail.cores).toEqual({ in_use: 0, limit: 40, reserved: 0 });
    expect(tempestErrors([
      ['v2_1.quotas', 'get_quota_set', 200, { quota_set: q }], ['v2_1.quotas', 'get_quota_set', 200, { quota_set: defaults }],
      ['v2_1.quotas', 'get_quota_set_details', 200, { quota_set: detail }],
      ['v2_36.quotas', 'get_quota_set', 200, { quota_set: q236 }], ['v2_57.quotas', 'get_quota_set', 200, { quota_set: q257 }],
      ['v2_57.quotas', 'get_quota_set_details', 200, (await get(`os-quota-sets/${demoProject}/detail`, demo, '2.57')).body],
      ['v2_36.quotas', 'get_quota_set', 200, (await get(`os-quota-sets/${demoProject}/defaults`, demo, '2.36')).body],
    ])).toEqual([]);
  });

  it('lets admins update and reset quotas, refusing values under usage unless forced', async () => {
    const put = (quota_set: unknown, token = c.adminToken, mv = '2.1') => c.api('PUT', `/compute/v2.1/os-quota-sets/${demoProject}`, { token, headers: v(mv), body: { quota_set } });
    expect((await put({ ram: 5120 }, demo)).status).toBe(403);
    expect((await put({ ram: 5120 }, reader)).status).toBe(403);
    const upd = await put({ ram: '5120', cores: 4, instances: -1 });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body.quota_set).not.toHaveProperty('id');
    expect(upd.body.quota_set).toMatchObject({ ram: 5120, cores: 4, instances: -1 });
    expect(tempestErrors([['v2_1.quotas', 'update_quota_set', 200, upd.body]])).toEqual([]);
    expect((await get('limits', demo)).body.limits.absolute).toMatchObject({ maxTotalRAMSize: 5120, maxTotalCores: 4, maxTotalInstances: -1 });
    // Bad input changes nothing.
    for (const bad of [{ ram: -2 }, { ram: 'lots' }, { ram: 1.5 }, { bogus: 1 }, { ram: 1, networks: 1 }, { ram: null }]) {
      const r = await put(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await put({ floating_ips: 5 }, c.adminToken, '2.36')).status).toBe(400);
    expect((await put({ injected_files: 5 }, c.adminToken, '2.57')).status).toBe(400);
    // The project holds one server group: 0 is under usage, unless forced.
    const under = await put({ server_groups: 0 });
    expect(under.status).toBe(400);
    expect(under.body.badRequest.message).toBe('Quota limit 0 for server_groups must be greater than or equal to already used and reserved 1.');
    expect((await get(`os-quota-sets/${demoProject}`, demo)).body.quota_set).toMatchObject({ ram: 5120, server_groups: 10 });
    expect((await put({ server_groups: 0, force: true })).status).toBe(200);
    expect((await c.api('POST', '/compute/v2.1/os-server-groups', { token: demo, body: { server_group: { name: 'over', policies: ['affinity'] } } })).status).toBe(403);
    // A user may not get more than the project.
    expect((await c.api('PUT', `/compute/v2.1/os-quota-sets/${demoProject}?user_id=x`, { token: c.adminToken, body: { quota_set: { ram: 999999 } } })).status).toBe(400);
    // DELETE: back to the defaults, admins only.
    expect((await c.api('DELETE', `/compute/v2.1/os-quota-sets/${demoProject}`, { token: demo })).status).toBe(403);
    const del = await c.api('DELETE', `/compute/v2.1/os-quota-sets/${demoProject}`, { token: c.adminToken });
    expect(del.status).toBe(202);
    expect(del.text).toBe('');
    expect((await get(`os-quota-sets/${demoProject}`, demo)).body.quota_set).toMatchObject({ ram: 102400, cores: 40, instances: 40, server_groups: 10 });
  });

  it('keeps per-user quotas inside a project and enforces them on create', async () => {
    const t = c.adminToken;
    const demoUser = (await c.api('GET', '/identity/v3/users?name=demo', { token: t })).body.users[0].id;
    const put = await c.api('PUT', `/compute/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, { token: t, body: { quota_set: { cores: 2, instances: 5 } } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.quota_set).toMatchObject({ cores: 2, instances: 5, ram: 102400 });
    expect((await get(`os-quota-sets/${demoProject}?user_id=${demoUser}`, demo)).body.quota_set).toMatchObject({ cores: 2, instances: 5 });
    expect((await get(`os-quota-sets/${demoProject}`, demo)).body.quota_set).toMatchObject({ cores: 40, instances: 40 });
    expect((await get(`os-quota-sets/${demoProject}/detail?user_id=${demoUser}`, demo)).body.quota_set.cores).toEqual({ in_use: 0, limit: 2, reserved: 0 });
    // The demo user may not boot 4 vCPUs; the project's quota would allow it.
    const flavor = (await c.api('GET', '/compute/v2.1/flavors?minDisk=1', { token: demo })).body.flavors.find((f: { name: string }) => f.name === 'hp.4x8-nvme50');
    const img = (await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'tiny', disk_format: 'raw', container_format: 'bare' } })).body;
    await fetch(`${c.url}/image/v2/images/${img.id}/file`, { method: 'PUT', headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, body: 'x'.repeat(1024) });
    const boot = await c.api('POST', '/compute/v2.1/servers', { token: demo, headers: v('2.37'), body: { server: { name: 'big', imageRef: img.id, flavorRef: flavor.id, networks: 'none' } } });
    expect(boot.status, boot.text).toBe(403);
    expect(boot.body.forbidden.message).toMatch(/Quota exceeded for cores/);
    // Removing the user's settings gives the project's back.
    expect((await c.api('DELETE', `/compute/v2.1/os-quota-sets/${demoProject}?user_id=${demoUser}`, { token: t })).status).toBe(202);
    expect((await get(`os-quota-sets/${demoProject}?user_id=${demoUser}`, demo)).body.quota_set).toMatchObject({ cores: 40, instances: 40 });
  });

  it('shows and updates the default quota class (admins only), which every project starts from', async () => {
    expect((await get('os-quota-class-sets/default', demo)).status).toBe(403);
    const c21 = (await get('os-quota-class-sets/default', c.adminToken)).body;
    expect(c21.quota_class_set.id).toBe('default');
    expect(c21.quota_class_set).not.toHaveProperty('server_groups');
    expect(c21.quota_class_set).toHaveProperty('floating_ips');
    const c250 = (await get('os-quota-class-sets/default', c.adminToken, '2.50')).body;
    expect(c250.quota_class_set).toHaveProperty('server_groups');
    expect(c250.quota_class_set).not.toHaveProperty('floating_ips');
    const c257 = (await get('os-quota-class-sets/default', c.adminToken, '2.57')).body;
    expect(c257.quota_class_set).not.toHaveProperty('injected_files');
    const putClass = (body: unknown, token = c.adminToken, mv = '2.1') => c.api('PUT', '/compute/v2.1/os-quota-class-sets/default', { token, headers: v(mv), body: { quota_class_set: body } });
    expect((await putClass({ key_pairs: 50 }, demo)).status).toBe(403);
    expect((await putClass({ bogus: 1 })).status).toBe(400);
    const upd = await putClass({ key_pairs: 50, metadata_items: 64 });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body.quota_class_set).not.toHaveProperty('id');
    expect(upd.body.quota_class_set).toMatchObject({ key_pairs: 50, metadata_items: 64 });
    expect((await get(`os-quota-sets/${demoProject}/defaults`, demo)).body.quota_set).toMatchObject({ key_pairs: 50, metadata_items: 64 });
    expect((await get(`os-quota-sets/${demoProject}`, demo)).body.quota_set).toMatchObject({ key_pairs: 50 });
    expect(tempestErrors([
      ['v2_1.quota_classes', 'get_quota_class_set', 200, c21], ['v2_50.quota_classes', 'get_quota_class_set', 200, c250],
      ['v2_57.quota_classes', 'get_quota_class_set', 200, c257], ['v2_1.quota_classes', 'update_quota_class_set', 200, upd.body],
    ])).toEqual([]);
    expect((await putClass({ key_pairs: 100, metadata_items: 128 })).status).toBe(200);
  });

  it('works with the openstack CLI: quota show, limits show --absolute', async () => {
    const cli = clients(c.dataDir);
    const quota = await cli.json(['quota', 'show', demoProject]);
    const asMap: Record<string, unknown> = Array.isArray(quota) ? Object.fromEntries(quota.map((r: any) => [r.Resource, r.Limit])) : quota;
    expect(asMap.cores).toBe(40);
    expect(asMap.ram).toBe(102400);
    const limits = await cli.json(['limits', 'show', '--absolute']);
    const byName = Object.fromEntries(limits.map((r: any) => [r.Name, r.Value]));
    expect(byName.maxTotalCores).toBe(40);
    expect(byName.maxServerGroups).toBe(10);
    expect(byName.totalServerGroupsUsed).toBe((await get('limits', demo)).body.limits.absolute.totalServerGroupsUsed);
  });
});
