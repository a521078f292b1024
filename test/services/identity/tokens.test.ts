import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAuth, testCloud, type TestCloud } from '../../helpers/cloud.js';

describe('identity: tokens', () => {
  let c: TestCloud;
  beforeAll(async () => { c = await testCloud(); });
  afterAll(async () => { await c.destroy(); });

  it('issues a project-scoped token with roles, catalog and a request id', async () => {
    const r = await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('demo', 'demo-secret', 'demo') });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-subject-token')).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    expect(r.headers.get('x-openstack-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
    const t = r.body.token;
    expect(t.project.name).toBe('demo');
    expect(t.roles.map((x: { name: string }) => x.name).sort()).toEqual(['member', 'reader']);
    expect(t.catalog.find((s: { type: string }) => s.type === 'identity').endpoints[0].region_id).toBe('europe-se-1');
    const lifetime = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    expect(lifetime).toBe(3600_000);
  });

  it('validates, checks and revokes a token', async () => {
    const tok = await c.login('demo', 'demo-secret');
    const v = await c.api('GET', '/identity/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': tok } });
    expect(v.status).toBe(200);
    expect(v.body.token.user.name).toBe('demo');
    expect((await c.api('HEAD', '/identity/v3/auth/tokens', { token: tok, headers: { 'x-subject-token': tok } })).status).toBe(200);
    expect((await c.api('DELETE', '/identity/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': tok } })).status).toBe(204);
    expect((await c.api('GET', '/identity/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': tok } })).status).toBe(404);
    const denied = await c.api('GET', '/identity/v3/auth/projects', { token: tok });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Keystone uri=');
  });

  it('a user cannot validate another user\'s token', async () => {
    const demo = await c.login('demo', 'demo-secret');
    const r = await c.api('GET', '/identity/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': c.adminToken } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe(403);
  });

  it('rescopes with the token method, keeping expiry and audit chain', async () => {
    const unscoped = await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('admin', 'admin-secret', null) });
    expect(unscoped.status).toBe(201);
    const first = unscoped.body.token;
    // admin has a default project, so "no scope" means that project (as Keystone does)
    expect(first.project.name).toBe('admin');
    const r = await c.api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: unscoped.headers.get('x-subject-token') } }, scope: { domain: { id: 'default' } } } },
    });
    expect(r.status).toBe(401); // admin holds no role on the domain itself
    const r2 = await c.api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: unscoped.headers.get('x-subject-token') } }, scope: 'unscoped' } },
    });
    expect(r2.status).toBe(201);
    expect(r2.body.token.expires_at).toBe(first.expires_at);
    expect(r2.body.token.audit_ids[1]).toBe(first.audit_ids[0]);
    expect(r2.body.token.roles).toBeUndefined();
  });

  it('refuses bad credentials and bad input with Keystone errors, never 500', async () => {
    const wrong = await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('demo', 'nope', 'demo') });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 401, title: 'Unauthorized' });
    for (const body of ['{not json', '{}', JSON.stringify({ auth: { identity: { methods: 'password' } } }), JSON.stringify({ auth: { identity: { methods: ['password'] } } }),
      JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', password: 5 } } } } })]) {
      const r = await c.api('POST', '/identity/v3/auth/tokens', { body });
      expect(r.status, body).toBe(400);
      expect(r.body.error.code).toBe(400);
    }
    const unknown = await c.api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['kerberos'], kerberos: {} } } } });
    expect(unknown.status).toBe(401);
    const huge = await c.api('POST', '/identity/v3/auth/tokens', { body: JSON.stringify({ pad: 'x'.repeat(200_000) }) });
    expect(huge.status).toBe(413);
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: 'garbage' })).status).toBe(401);
    expect((await c.api('GET', '/identity/v3/users', {})).status).toBe(401);
  });

  it('serves the catalog, projects and domains a token may use', async () => {
    const demo = await c.login('demo', 'demo-secret');
    const cat = await c.api('GET', '/identity/v3/auth/catalog', { token: demo });
    expect(cat.status).toBe(200);
    expect(cat.body.catalog.map((s: { type: string }) => s.type)).toContain('identity');
    const projects = await c.api('GET', '/identity/v3/auth/projects', { token: demo });
    expect(projects.body.projects.map((p: { name: string }) => p.name)).toEqual(['demo']);
  });

  it('answers version discovery', async () => {
    const root = await c.api('GET', '/identity/');
    expect(root.status).toBe(300);
    expect(root.body.versions.values[0].id).toMatch(/^v3\./);
    const v3 = await c.api('GET', '/identity/v3');
    expect(v3.body.version.status).toBe('stable');
  });

  it('issues v2.0 tokens for older tools', async () => {
    const r = await c.api('POST', '/identity/v2.0/tokens', { body: { auth: { tenantName: 'demo', passwordCredentials: { username: 'demo', password: 'demo-secret' } } } });
    expect(r.status).toBe(200);
    expect(r.body.access.token.tenant.name).toBe('demo');
    const identity = r.body.access.serviceCatalog.find((s: { type: string }) => s.type === 'identity');
    expect(identity.endpoints[0].publicURL).toContain('/identity');
    const bad = await c.api('POST', '/identity/v2.0/tokens', { body: { auth: { passwordCredentials: { username: 'demo', password: 'x' } } } });
    expect(bad.status).toBe(401);
  });
});
