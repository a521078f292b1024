import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordAuth, testCloud, type TestCloud } from '../../helpers/cloud.js';
import { base32Encode, totpAt } from '../../../src/services/identity/logic/totp.js';
import { ec2Signature } from '../../../src/services/identity/logic/credentials.js';

async function newUser(c: TestCloud, name: string, password: string, role = 'member', project = 'demo') {
  const u = await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name, password, domain_id: 'default' } } });
  expect(u.status).toBe(201);
  const projects = await c.api('GET', `/identity/v3/projects?name=${project}`, { token: c.adminToken });
  const roles = await c.api('GET', `/identity/v3/roles?name=${role}`, { token: c.adminToken });
  const g = await c.api('PUT', `/identity/v3/projects/${projects.body.projects[0].id}/users/${u.body.user.id}/roles/${roles.body.roles[0].id}`, { token: c.adminToken });
  expect(g.status).toBe(204);
  return u.body.user.id as string;
}

describe('identity: security compliance, MFA, application and EC2 credentials', () => {
  let c: TestCloud;
  beforeAll(async () => { c = await testCloud(); });
  afterAll(async () => { await c.destroy(); });

  it('locks an account after 5 failed logins, and an admin reset unlocks it', async () => {
    const id = await newUser(c, 'lock-me', 'Passw0rd!');
    for (let i = 0; i < 5; i++) expect((await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('lock-me', 'wrong', 'demo') })).status).toBe(401);
    const locked = await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('lock-me', 'Passw0rd!', 'demo') });
    expect(locked.status).toBe(401);
    expect(locked.body.error.message).toContain('locked');
    expect((await c.api('PATCH', `/identity/v3/users/${id}`, { token: c.adminToken, body: { user: { password: 'N3w-Passw0rd!' } } })).status).toBe(200);
    expect((await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('lock-me', 'N3w-Passw0rd!', 'demo') })).status).toBe(201);
  });

  it('changes its own password, revokes old tokens and keeps a history of 3', async () => {
    const id = await newUser(c, 'changer', 'first-pw');
    const old = await c.login('changer', 'first-pw', 'demo');
    const change = (from: string, to: string, token: string) => c.api('POST', `/identity/v3/users/${id}/password`, { token, body: { user: { original_password: from, password: to } } });
    expect((await change('wrong', 'x', old)).status).toBe(401);
    expect((await change('first-pw', 'second-pw', old)).status).toBe(204);
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: old })).status).toBe(401);
    const t2 = await c.login('changer', 'second-pw', 'demo');
    const reuse = await change('second-pw', 'first-pw', t2);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.message).toContain('identical to a previous password');
    expect((await change('second-pw', 'third-pw', t2)).status).toBe(204);
    const t3 = await c.login('changer', 'third-pw', 'demo');
    expect((await change('third-pw', 'first-pw', t3)).status).toBe(204); // first-pw has left the history
    // Without the current password nobody changes it, token or not.
    const demo = await c.login('demo', 'demo-secret');
    expect((await change('third-pw', 'evil', demo)).status).toBe(401);
    expect((await c.api('POST', `/identity/v3/users/${id}/password`, { body: { user: { original_password: 'nope', password: 'evil' } } })).status).toBe(401);
  });

  it('enforces TOTP as a second factor with multi_factor_auth_rules', async () => {
    const id = await newUser(c, 'mfa-user', 'mfa-pw');
    const before = await c.login('mfa-user', 'mfa-pw', 'demo');
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    const self = await c.api('POST', '/identity/v3/credentials', { token: before, body: { credential: { type: 'totp', user_id: id, blob: secret } } });
    expect(self.status).toBe(201);
    expect((await c.api('PATCH', `/identity/v3/users/${id}`, { token: c.adminToken, body: { user: { options: { multi_factor_auth_enabled: true, multi_factor_auth_rules: [['password', 'totp']] } } } })).status).toBe(200);
    // Enabling MFA invalidates tokens issued without it.
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: before })).status).toBe(401);
    const half = await c.api('POST', '/identity/v3/auth/tokens', { body: passwordAuth('mfa-user', 'mfa-pw', 'demo') });
    expect(half.status).toBe(401);
    const receipt = half.headers.get('openstack-auth-receipt');
    expect(receipt).toBeTruthy();
    expect(half.body.required_auth_methods).toEqual([['password', 'totp']]);
    const passcode = totpAt(Buffer.from('12345678901234567890'), Date.now());
    const both = await c.api('POST', '/identity/v3/auth/tokens', {
      body: passwordAuth('mfa-user', 'mfa-pw', 'demo', { methods: ['password', 'totp'], totp: { user: { name: 'mfa-user', domain: { id: 'default' }, passcode } } }),
    });
    expect(both.status).toBe(201);
    expect(both.body.token.methods.sort()).toEqual(['password', 'totp']);
    // Finishing with the receipt and only the missing method also works.
    const viaReceipt = await c.api('POST', '/identity/v3/auth/tokens', {
      headers: { 'openstack-auth-receipt': receipt! },
      body: { auth: { identity: { methods: ['totp'], totp: { user: { id, passcode } } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } },
    });
    expect(viaReceipt.status).toBe(201);
    const badCode = await c.api('POST', '/identity/v3/auth/tokens', {
      body: passwordAuth('mfa-user', 'mfa-pw', 'demo', { methods: ['password', 'totp'], totp: { user: { id, passcode: passcode === '000000' ? '111111' : '000000' } } }),
    });
    expect(badCode.status).toBe(401);
  });

  it('authenticates with an application credential limited to a subset of roles', async () => {
    const id = await newUser(c, 'app-owner', 'owner-pw');
    const token = await c.login('app-owner', 'owner-pw', 'demo');
    const created = await c.api('POST', `/identity/v3/users/${id}/application_credentials`, { token, body: { application_credential: { name: 'ci', roles: [{ name: 'reader' }] } } });
    expect(created.status).toBe(201);
    const { id: credId, secret } = created.body.application_credential;
    expect(secret).toBeTruthy();
    const shown = await c.api('GET', `/identity/v3/users/${id}/application_credentials/${credId}`, { token });
    expect(shown.body.application_credential.secret).toBeUndefined();
    const auth = await c.api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: credId, secret } } } } });
    expect(auth.status).toBe(201);
    expect(auth.body.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    expect(auth.body.token.application_credential.restricted).toBe(true);
    const appToken = auth.headers.get('x-subject-token')!;
    // A restricted credential cannot mint more credentials.
    expect((await c.api('POST', `/identity/v3/users/${id}/application_credentials`, { token: appToken, body: { application_credential: { name: 'more' } } })).status).toBe(403);
    // Roles the owner lacks cannot be delegated.
    expect((await c.api('POST', `/identity/v3/users/${id}/application_credentials`, { token, body: { application_credential: { name: 'x', roles: [{ name: 'admin' }] } } })).status).toBe(403);
    const wrong = await c.api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: credId, secret: 'nope' } } } } });
    expect(wrong.status).toBe(401);
    expect((await c.api('DELETE', `/identity/v3/users/${id}/application_credentials/${credId}`, { token })).status).toBe(204);
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: appToken })).status).toBe(401);
  });

  it('honours application credential access rules', async () => {
    const id = await newUser(c, 'rules-owner', 'rules-pw');
    const token = await c.login('rules-owner', 'rules-pw', 'demo');
    const created = await c.api('POST', `/identity/v3/users/${id}/application_credentials`, {
      token, body: { application_credential: { name: 'only-projects', access_rules: [{ service: 'identity', method: 'GET', path: '/v3/auth/projects' }] } },
    });
    expect(created.status).toBe(201);
    const auth = await c.api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: created.body.application_credential.id, secret: created.body.application_credential.secret } } } } });
    const appToken = auth.headers.get('x-subject-token')!;
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: appToken })).status).toBe(200);
    expect((await c.api('GET', '/identity/v3/auth/catalog', { token: appToken })).status).toBe(401);
  });

  it('issues tokens for signed EC2 and S3 requests', async () => {
    const ec2 = await c.api('POST', `/identity/v3/users/${(await c.api('GET', '/identity/v3/users?name=demo', { token: c.adminToken })).body.users[0].id}/credentials/OS-EC2`, {
      token: await c.login('demo', 'demo-secret'), body: { tenant_id: (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id },
    });
    expect(ec2.status).toBe(201);
    const { access, secret } = ec2.body.credential;
    const req = { access, host: 'ec2.example', verb: 'GET', path: '/', params: { Action: 'DescribeInstances', SignatureMethod: 'HmacSHA256', SignatureVersion: '2', AWSAccessKeyId: access } };
    const signed = { ...req, signature: ec2Signature(secret, { ...req, signature: '' }) };
    const ok = await c.api('POST', '/identity/v3/ec2tokens', { body: { credentials: signed } });
    expect(ok.status).toBe(200);
    expect(ok.body.token.project.name).toBe('demo');
    expect((await c.api('POST', '/identity/v3/ec2tokens', { body: { credentials: { ...signed, signature: 'forged' } } })).status).toBe(401);
    const stringToSign = 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/bucket/key';
    const s3sig = createHmac('sha1', secret).update(stringToSign).digest('base64');
    const s3 = await c.api('POST', '/identity/v3/s3tokens', { body: { credentials: { access, token: Buffer.from(stringToSign).toString('base64'), signature: s3sig } } });
    expect(s3.status).toBe(200);
    expect(s3.body.token.user.name).toBe('demo');
    // Deleting the credential revokes the tokens it minted, and only those.
    const owner = await c.login('demo', 'demo-secret');
    const ec2Token = ok.headers.get('x-subject-token')!;
    const demoId = ok.body.token.user.id;
    expect((await c.api('DELETE', `/identity/v3/users/${demoId}/credentials/OS-EC2/${access}`, { token: owner })).status).toBe(204);
    expect((await c.api('GET', '/identity/v3/auth/tokens', { token: c.adminToken, headers: { 'x-subject-token': ec2Token } })).status).toBe(404);
    expect((await c.api('GET', '/identity/v3/auth/projects', { token: owner })).status).toBe(200);
  });
});
