import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';


describe('compute server groups (os-server-groups)', () => {
  let c: TestCloud;
  let demo: string;
  let reader: string;
  let demoProject: string;
  const v = (mv: string) => ({ 'OpenStack-API-Version': `compute ${mv}` });
  const post = (token: string, server_group: unknown, headers: Record<string, string> = {}) =>
    c.api('POST', '/compute/v2.1/os-server-groups', { token, headers, body: { server_group } });
  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    const t = c.adminToken;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'auditor', password: 'apw' } } })).body.user;
    demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0].id;
    const role = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${demoProject}/users/${user.id}/roles/${role.id}`, { token: t });
    reader = await c.login('auditor', 'apw', 'demo');
  });
  afterAll(async () => { await c.destroy(); });

  it('creates, shows, lists and deletes with the v2.1 shape (policies, metadata)', async () => {
    const r = await post(demo, { name: 'web', policies: ['anti-affinity'] });
    expect(r.status, r.text).toBe(200);
    const g = r.body.server_group;
    expect(g).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'web', policies: ['anti-affinity'], members: [], metadata: {} });
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo })).body).toEqual({ server_group: g });
    expect((await c.api('GET', '/compute/v2.1/os-server-groups', { token: demo })).body).toEqual({ server_groups: [g] });
    // Readers may look but not touch.
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${g.id}`, { token: reader })).status).toBe(200);
    expect((await post(reader, { name: 'nope', policies: ['affinity'] })).status).toBe(403);
    expect((await c.api('DELETE', `/compute/v2.1/os-server-groups/${g.id}`, { token: reader })).status).toBe(403);
    const del = await c.api('DELETE', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const gone = await c.api('GET', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo });
    expect(gone.status).toBe(404);
    expect(gone.body.itemNotFound.message).toBe(`Instance group ${g.id} could not be found.`);
  });

  it('shapes the group per microversion: project_id/user_id at 2.13, soft policies at 2.15, policy and rules at 2.64', async () => {
    expect((await post(demo, { name: 's', policies: ['soft-affinity'] })).status).toBe(400);
    const soft = await post(demo, { name: 's', policies: ['soft-anti-affinity'] }, v('2.15'));
    expect(soft.status, soft.text).toBe(200);
    expect(Object.keys(soft.body.server_group).sort()).toEqual(['id', 'members', 'metadata', 'name', 'policies', 'project_id', 'user_id']);
    expect(soft.body.server_group.project_id).toBe(demoProject);
    const ruled = await post(demo, { name: 'r', policy: 'anti-affinity', rules: { max_server_per_host: 3 } }, v('2.64'));
    expect(ruled.status, ruled.text).toBe(200);
    expect(ruled.body.server_group).toEqual({ id: expect.any(String), name: 'r', policy: 'anti-affinity', rules: { max_server_per_host: 3 }, members: [], project_id: demoProject, user_id: expect.any(String) });
    // The same group seen at 2.1 and at 2.64.
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${ruled.body.server_group.id}`, { token: demo })).body.server_group)
      .toEqual({ id: ruled.body.server_group.id, name: 'r', policies: ['anti-affinity'], members: [], metadata: {} });
    const soft64 = (await c.api('GET', `/compute/v2.1/os-server-groups/${soft.body.server_group.id}`, { token: demo, headers: v('2.64') })).body.server_group;
    expect(soft64).toMatchObject({ policy: 'soft-anti-affinity', rules: {} });
    expect(soft64).not.toHaveProperty('policies');
    expect(soft64).not.toHaveProperty('metadata');
    for (const id of [soft.body.server_group.id, ruled.body.server_group.id]) await c.api('DELETE', `/compute/v2.1/os-server-groups/${id}`, { token: demo });
  });

  it('answers in the exact shapes of Tempest\'s schemas at 2.1, 2.13 and 2.64', async () => {
    const checks: Array<[string, string, number, unknown]> = [];
    for (const [mod, mv, body] of [['v2_1', '2.1', { name: 'a', policies: ['affinity'] }], ['v2_13', '2.15', { name: 'b', policies: ['soft-affinity'] }],
      ['v2_64', '2.64', { name: 'c', policy: 'anti-affinity', rules: { max_server_per_host: 2 } }]] as const) {
      const made = await post(demo, body, v(mv));
      const id = made.body.server_group.id;
      const shown = await c.api('GET', `/compute/v2.1/os-server-groups/${id}`, { token: demo, headers: v(mv) });
      const listed = await c.api('GET', '/compute/v2.1/os-server-groups', { token: demo, headers: v(mv) });
      const del = await c.api('DELETE', `/compute/v2.1/os-server-groups/${id}`, { token: demo, headers: v(mv) });
      const m = `${mod}.server_groups`;
      checks.push([m, 'create_show_server_group', made.status, made.body], [m, 'create_show_server_group', shown.status, shown.body],
        [m, 'list_server_groups', listed.status, listed.body], [m, 'delete_server_group', del.status, del.text]);
    }
    expect(tempestErrors(checks)).toEqual([]);
  });

  it('refuses bad input with 400 and creates nothing', async () => {
    const bad: Array<[unknown, string]> = [
      [{ name: 'x' }, '2.1'], [{ policies: ['affinity'] }, '2.1'], [{ name: '', policies: ['affinity'] }, '2.1'],
      [{ name: 'x'.repeat(256), policies: ['affinity'] }, '2.1'], [{ name: ' x', policies: ['affinity'] }, '2.1'],
      [{ name: 'x', policies: [] }, '2.1'], [{ name: 'x', policies: ['affinity', 'anti-affinity'] }, '2.1'],
      [{ name: 'x', policies: ['bogus'] }, '2.1'], [{ name: 'x', policies: 'affinity' }, '2.1'],
      [{ name: 'x', policy: 'affinity' }, '2.63'], [{ name: 'x', policies: ['affinity'] }, '2.64'],
      [{ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } }, '2.64'],
      [{ name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } }, '2.64'],
      [{ name: 'x', policy: 'anti-affinity', rules: { other: 1 } }, '2.64'],
      [{ name: 'x', policies: ['affinity'], extra: 1 }, '2.1'],
    ];
    for (const [body, mv] of bad) {
      const r = await post(demo, body, v(mv));
      expect(r.status, `${mv} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.badRequest.message).toBeTruthy();
    }
    const affRules = await post(demo, { name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } }, v('2.64'));
    expect(affRules.body.badRequest.message).toBe('Only anti-affinity policy supports rules.');
    expect((await c.api('GET', '/compute/v2.1/os-server-groups', { token: demo })).body.server_groups).toEqual([]);
  });

  it('hides other projects\' groups (404), and lists all projects for admins only', async () => {
    const mine = (await post(demo, { name: 'mine', policies: ['affinity'] })).body.server_group;
    const admins = (await post(c.adminToken, { name: 'admins', policies: ['affinity'] })).body.server_group;
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${admins.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('DELETE', `/compute/v2.1/os-server-groups/${admins.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('GET', '/compute/v2.1/os-server-groups?all_projects=True', { token: demo })).body.server_groups.map((g: any) => g.name)).toEqual(['mine']);
    expect((await c.api('GET', '/compute/v2.1/os-server-groups', { token: c.adminToken })).body.server_groups.map((g: any) => g.name)).toEqual(['admins']);
    const all = (await c.api('GET', '/compute/v2.1/os-server-groups?all_projects=True', { token: c.adminToken })).body.server_groups;
    expect(all.map((g: any) => g.name)).toEqual(['mine', 'admins']);
    // limit and offset.
    const page = await c.api('GET', '/compute/v2.1/os-server-groups?all_projects=True&limit=1&offset=1', { token: c.adminToken });
    expect(page.body.server_groups.map((g: any) => g.name)).toEqual(['admins']);
    expect((await c.api('GET', '/compute/v2.1/os-server-groups?limit=-1', { token: demo })).status).toBe(400);
    expect((await c.api('GET', '/compute/v2.1/os-server-groups?offset=x', { token: demo })).status).toBe(400);
    // Admins may show and delete any project's group.
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${mine.id}`, { token: c.adminToken })).status).toBe(200);
    expect((await c.api('DELETE', `/compute/v2.1/os-server-groups/${mine.id}`, { token: c.adminToken })).status).toBe(204);
    await c.api('DELETE', `/compute/v2.1/os-server-groups/${admins.id}`, { token: c.adminToken });
  });

  it('enforces the server_groups quota (default 10, 403), one winner for the last group', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await post(demo, { name: `g${i}`, policies: ['anti-affinity'] });
      expect(r.status).toBe(200);
      ids.push(r.body.server_group.id);
    }
    const race = await Promise.all(['last-a', 'last-b'].map((name) => post(demo, { name, policies: ['affinity'] })));
    expect(race.map((r) => r.status).sort()).toEqual([200, 403]);
    expect(race.find((r) => r.status === 403)!.body.forbidden.message).toBe('Quota exceeded, too many server groups.');
    ids.push(race.find((r) => r.status === 200)!.body.server_group.id);
    expect((await c.api('GET', '/compute/v2.1/os-server-groups', { token: demo })).body.server_groups).toHaveLength(10);
    const limits = (await c.api('GET', '/compute/v2.1/limits', { token: demo })).body.limits.absolute;
    expect(limits).toMatchObject({ maxServerGroups: 10, totalServerGroupsUsed: 10 });
    // Deleting one frees a place.
    await c.api('DELETE', `/compute/v2.1/os-server-groups/${ids.pop()}`, { token: demo });
    expect((await post(demo, { name: 'again', policies: ['affinity'] })).status).toBe(200);
    const all = (await c.api('GET', '/compute/v2.1/os-server-groups', { token: demo })).body.server_groups;
    for (const g of all) await c.api('DELETE', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo });
  });

  it('lists the group\'s live servers as members', async () => {
    const g = (await post(demo, { name: 'members', policies: ['anti-affinity'] })).body.server_group;
    const img = (await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'tiny', disk_format: 'raw', container_format: 'bare' } })).body;
    await c.api('PUT', `/image/v2/images/${img.id}/file`, { token: demo, body: 'x'.repeat(1024), headers: { 'content-type': 'application/octet-stream' } });
    const flavor = (await c.api('GET', '/compute/v2.1/flavors/detail', { token: demo })).body.flavors
      .filter((f: any) => f.disk > 0).sort((a: any, b: any) => a.vcpus - b.vcpus || a.ram - b.ram)[0];
    const boot = await c.api('POST', '/compute/v2.1/servers', {
      token: demo, headers: v('2.37'),
      body: { server: { name: 'member1', imageRef: img.id, flavorRef: flavor.id, networks: 'none' }, 'os:scheduler_hints': { group: g.id } },
    });
    expect(boot.status, boot.text).toBe(202);
    const sid = boot.body.server.id;
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo })).body.server_group.members).toEqual([sid]);
    await c.api('DELETE', `/compute/v2.1/servers/${sid}`, { token: demo });
    for (let i = 0; i < 100; i++) {
      if ((await c.api('GET', `/compute/v2.1/servers/${sid}`, { token: demo })).status === 404) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await c.api('GET', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo })).body.server_group.members).toEqual([]);
    await c.api('DELETE', `/compute/v2.1/os-server-groups/${g.id}`, { token: demo });
  });

  it('works with the openstack CLI: server group create --policy, list, show, delete', async () => {
    const cli = clients(c.dataDir);
    const g = await cli.json(['server', 'group', 'create', '--policy', 'anti-affinity', 'cli-group']);
    expect(g.name).toBe('cli-group');
    expect(JSON.stringify(g.policy ?? g.policies)).toContain('anti-affinity');
    const list = await cli.json(['server', 'group', 'list']);
    expect(list.map((x: any) => x.Name)).toEqual(['cli-group']);
    const shown = await cli.json(['server', 'group', 'show', 'cli-group']);
    expect(shown.id).toBe(g.id);
    expect((await cli.os(['server', 'group', 'delete', 'cli-group'])).code).toBe(0);
    expect(await cli.json(['server', 'group', 'list'])).toEqual([]);
  });
});
