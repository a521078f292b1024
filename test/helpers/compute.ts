import { expect } from 'vitest';
import type { TestCloud } from './cloud.js';

/** Calls to a test cloud's Compute API: `nova` answers as it comes, `ok` asserts the status and returns the body. */
export function computeClient(c: () => TestCloud) {
  const nova = (method: string, path: string, token: string, body?: unknown, version?: string) =>
    c().api(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'X-OpenStack-Nova-API-Version': version } : {} });
  const ok = async (method: string, path: string, token: string, body?: unknown, status = 200, version?: string) => {
    const r = await nova(method, path, token, body, version);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  return { nova, ok };
}

/** A user with the member role in a new project of its own: someone who must see none of the test's resources. Returns their token. */
export async function outsider(c: TestCloud, name = 'other', password = 'other-secret'): Promise<string> {
  const project = (await c.api('POST', '/identity/v3/projects', { token: c.adminToken, body: { project: { name } } })).body.project;
  const user = (await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name, password } } })).body.user;
  const member = (await c.api('GET', '/identity/v3/roles?name=member', { token: c.adminToken })).body.roles[0];
  await c.api('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`, { token: c.adminToken });
  return c.login(name, password, name);
}

/** A user with only the reader role in an existing project: someone who may look but not change. Returns their token. */
export async function readerOf(c: TestCloud, project: string, name = `${project}-reader`, password = 'reader-secret'): Promise<string> {
  const t = c.adminToken;
  const projectId = (await c.api('GET', `/identity/v3/projects?name=${project}`, { token: t })).body.projects[0].id;
  const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name, password } } })).body.user;
  const role = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
  await c.api('PUT', `/identity/v3/projects/${projectId}/users/${user.id}/roles/${role.id}`, { token: t });
  return c.login(name, password, project);
}
