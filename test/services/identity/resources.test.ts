import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAuth, testCloud, type TestCloud } from '../../helpers/cloud.js';

describe('identity: resources, isolation and persistence', () => {
  let c: TestCloud;
  beforeAll(async () => { c = await testCloud(); });
  afterAll(async () => { await c.destroy(); });

  it('bootstraps the documented defaults', async () => {
    const roles = await c.api('GET', '/identity/v3/roles', { token: c.adminToken });
    expect(roles.body.roles.map((r: { name: string }) => r.name)).toEqual(['admin', 'creator', 'member', 'reader']);
    const inferences = await c.api('GET', '/identity/v3/role_inferences', { token: c.adminToken });
    const pairs = inferences.body.role_inferences.flatMap((i: any) => i.implies.map((x: any) => `${i.prior_role.name}>${x.name}`)).sort();
    expect(pairs).toEqual(['admin>member', 'member>reader']);
    const regions = await c.api('GET', '/identity/v3/regions', { token: c.adminToken });
    expect(regions.body.regions.map((r: { id: string }) => r.id)).toEqual(['europe-se-1']);
    const domain = await c.api('GET', '/identity/v3/domains/default', { token: c.adminToken });
    expect(domain.body.domain.name).toBe('Default');
  });

  it('keeps readers and members out of admin APIs, and other users\' data', async () => {
    const demo = await c.login('demo', 'demo-secret');
    expect((await c.api('GET', '/identity/v3/users', { token: demo })).status).toBe(403);
    expect((await c.api('POST', '/identity/v3/projects', { token: demo, body: { project: { name: 'sneaky' } } })).status).toBe(403);
    const admin = (await c.api('GET', '/identity/v3/users?name=admin', { token: c.adminToken })).body.users[0];
    expect((await c.api('GET', `/identity/v3/users/${admin.id}`, { token: demo })).status).toBe(403);
    const adminProject = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0];
    expect((await c.api('GET', `/identity/v3/projects/${adminProject.id}`, { token: demo })).status).toBe(403);
    // A credential of another user is invisible (404), not merely forbidden.
    const cred = await c.api('POST', '/identity/v3/credentials', { token: c.adminToken, body: { credential: { type: 'cert', user_id: admin.id, blob: 'x' } } });
    expect((await c.api('GET', `/identity/v3/credentials/${cred.body.credential.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('GET', '/identity/v3/credentials', { token: demo })).body.credentials).toEqual([]);
    expect((await c.api('GET', '/identity/v3/projects?name=sneaky', { token: c.adminToken })).body.projects).toEqual([]);
  });

  it('gives a reader read-only access to its own project', async () => {
    const t = c.adminToken;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'auditor', password: 'apw' } } })).body.user;
    const demo = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0];
    const reader = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${demo.id}/users/${user.id}/roles/${reader.id}`, { token: t });
    const tok = await c.login('auditor', 'apw', 'demo');
    const v = await c.api('GET', '/identity/v3/auth/tokens', { token: tok, headers: { 'x-subject-token': tok } });
    expect(v.body.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    expect((await c.api('GET', `/identity/v3/projects/${demo.id}`, { token: tok })).status).toBe(200);
    expect((await c.api('PATCH', `/identity/v3/projects/${demo.id}`, { token: tok, body: { project: { description: 'mine now' } } })).status).toBe(403);
    expect((await c.api('PUT', `/identity/v3/projects/${demo.id}/users/${user.id}/roles/${reader.id}`, { token: tok })).status).toBe(403);
    expect((await c.api('POST', '/identity/v3/roles', { token: tok, body: { role: { name: 'superuser' } } })).status).toBe(403);
    expect((await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0].description).toBe(demo.description);
  });

  it('manages projects with hierarchy, tags and conflicts', async () => {
    const t = c.adminToken;
    const parent = await c.api('POST', '/identity/v3/projects', { token: t, body: { project: { name: 'parent', tags: ['blue'] } } });
    expect(parent.status).toBe(201);
    expect(parent.body.project.parent_id).toBe('default');
    const child = await c.api('POST', '/identity/v3/projects', { token: t, body: { project: { name: 'child', parent_id: parent.body.project.id } } });
    expect(child.body.project.parent_id).toBe(parent.body.project.id);
    expect((await c.api('POST', '/identity/v3/projects', { token: t, body: { project: { name: 'parent' } } })).status).toBe(409);
    expect((await c.api('POST', '/identity/v3/projects', { token: t, body: { project: { name: 5 } } })).status).toBe(400);
    expect((await c.api('GET', '/identity/v3/projects?tags=blue', { token: t })).body.projects.map((p: any) => p.name)).toEqual(['parent']);
    expect((await c.api('DELETE', `/identity/v3/projects/${parent.body.project.id}`, { token: t })).status).toBe(403);
    const subtree = await c.api('GET', `/identity/v3/projects/${parent.body.project.id}?subtree_as_ids`, { token: t });
    expect(subtree.body.project.subtree).toEqual({ [child.body.project.id]: null });
    expect((await c.api('DELETE', `/identity/v3/projects/${child.body.project.id}`, { token: t })).status).toBe(204);
    expect((await c.api('DELETE', `/identity/v3/projects/${parent.body.project.id}`, { token: t })).status).toBe(204);
    expect((await c.api('GET', `/identity/v3/projects/${parent.body.project.id}`, { token: t })).status).toBe(404);
  });

  it('grants through groups and inheritance, and revokes with the grant', async () => {
    const t = c.adminToken;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'grouped', password: 'gpw' } } })).body.user;
    const group = (await c.api('POST', '/identity/v3/groups', { token: t, body: { group: { name: 'devs' } } })).body.group;
    const project = (await c.api('POST', '/identity/v3/projects', { token: t, body: { project: { name: 'team' } } })).body.project;
    const reader = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
    expect((await c.api('PUT', `/identity/v3/groups/${group.id}/users/${user.id}`, { token: t })).status).toBe(204);
    expect((await c.api('PUT', `/identity/v3/OS-INHERIT/domains/default/groups/${group.id}/roles/${reader.id}/inherited_to_projects`, { token: t })).status).toBe(204);
    const tok = await c.login('grouped', 'gpw', 'team');
    const eff = await c.api('GET', `/identity/v3/role_assignments?effective&user.id=${user.id}&include_names`, { token: t });
    expect(eff.body.role_assignments.some((a: any) => a.scope.project?.id === project.id && a.role.name === 'reader')).toBe(true);
    expect((await c.api('DELETE', `/identity/v3/groups/${group.id}/users/${user.id}`, { token: t })).status).toBe(204);
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: tok })).status).toBe(401);
    expect((await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('grouped', 'gpw', 'team') })).status).toBe(401);
  });

  it('lets exactly one of two racing creates of the same name win', async () => {
    const make = () => c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name: 'racer', password: 'p' } } });
    const results = await Promise.all([make(), make(), make()]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
  });

  it('keeps users, credentials and revocations across a restart, and refuses a second process', async () => {
    const t = c.adminToken;
    await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'persistent', password: 'ppw' } } });
    const revoked = await c.login('demo', 'demo-secret');
    await c.api('DELETE', '/identity/v3/auth/tokens', { token: t, headers: { 'x-subject-token': revoked } });
    const second = spawnSync('npx', ['tsx', 'src/cli.ts', 'start', '--data-dir', c.dataDir, '--port', '0'], { encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/in use by another Stratus process/);
    c = await c.restart();
    expect((await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('persistent', 'ppw', null) })).status).toBe(201);
    expect((await c.api('GET', '/identity/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': revoked } })).status).toBe(404);
    // A token issued before the restart still validates (keys persist).
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: t })).status).toBe(200);
  });
});
