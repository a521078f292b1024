import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';
import { base32Encode, totpAt } from '../../src/services/identity/logic/totp.js';

/** The Debian `openstack` CLI, unmodified, against a cloud on an ephemeral port. */
describe('openstack CLI against identity', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  // As admin unless the extra variables say otherwise (OS_CLOUD '' : they alone authenticate).
  const cloudOf = (extra: NodeJS.ProcessEnv) => (extra.OS_CLOUD === '' ? '' : 'stratus-admin');
  const os = (args: string[], extra: NodeJS.ProcessEnv = {}) => cli.os(args, cloudOf(extra), extra);
  const json = (args: string[], extra: NodeJS.ProcessEnv = {}) => cli.json(args, cloudOf(extra), extra);

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir, 'stratus-admin');
  });
  afterAll(async () => { await c.destroy(); });

  it('issues tokens for both bootstrap clouds from the written clouds.yaml', async () => {
    const admin = await json(['token', 'issue']);
    expect(admin.id.length).toBeGreaterThan(100);
    const demo = await json(['--os-cloud', 'stratus-demo', 'token', 'issue']);
    expect(demo.project_id).toBeTruthy();
    const catalog = await json(['catalog', 'list']);
    expect(catalog.map((s: { Type: string }) => s.Type)).toContain('identity');
  });

  it('works from the written openrc', async () => {
    const r = await cli.sh('bash', ['-c', `source ${join(c.dataDir, 'demo-openrc.sh')} && openstack token issue -f value -c user_id`]);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('administers projects, users, groups and roles', async () => {
    await json(['project', 'create', '--description', 'customer', 'cust1']);
    await json(['user', 'create', '--password', 'u-pass', '--project', 'cust1', 'alice']);
    await os(['role', 'add', '--user', 'alice', '--project', 'cust1', 'member']);
    await json(['group', 'create', 'ops']);
    expect((await os(['group', 'add', 'user', 'ops', 'alice'])).code).toBe(0);
    const assignments = await json(['role', 'assignment', 'list', '--user', 'alice', '--names']);
    expect(assignments).toEqual([expect.objectContaining({ Role: 'member', User: 'alice@Default', Project: 'cust1@Default' })]);
    const projects = await json(['project', 'list', '--user', 'alice']);
    expect(projects.map((p: { Name: string }) => p.Name)).toEqual(['cust1']);
  });

  it('refuses admin commands to a member', async () => {
    const r = await os(['--os-cloud', 'stratus-demo', 'user', 'list']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/403|not authorized/i);
  });

  it('changes a password with the user\'s own credentials', async () => {
    await json(['user', 'create', '--password', 'old-pass', '--project', 'demo', 'bob']);
    await os(['role', 'add', '--user', 'bob', '--project', 'demo', 'member']);
    const bob = { OS_CLOUD: '', OS_AUTH_URL: c.authUrl, OS_USERNAME: 'bob', OS_PASSWORD: 'old-pass', OS_PROJECT_NAME: 'demo', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3' };
    const r = await os(['user', 'password', 'set', '--original-password', 'old-pass', '--password', 'new-pass'], bob);
    expect(r.code, r.stderr).toBe(0);
    expect((await os(['token', 'issue'], bob)).code).not.toBe(0);
    expect((await os(['token', 'issue'], { ...bob, OS_PASSWORD: 'new-pass' })).code).toBe(0);
  });

  it('authenticates with an application credential and an EC2 credential is listed', async () => {
    const ac = await json(['--os-cloud', 'stratus-demo', 'application', 'credential', 'create', '--role', 'reader', 'pipeline']);
    const r = await os(['token', 'issue'], {
      OS_CLOUD: '', OS_AUTH_TYPE: 'v3applicationcredential', OS_AUTH_URL: c.authUrl,
      OS_APPLICATION_CREDENTIAL_ID: ac.id, OS_APPLICATION_CREDENTIAL_SECRET: ac.secret, OS_IDENTITY_API_VERSION: '3',
    });
    expect(r.code, r.stderr).toBe(0);
    const ec2 = await json(['--os-cloud', 'stratus-demo', 'ec2', 'credentials', 'create']);
    expect(ec2.access).toMatch(/^[0-9a-f]{32}$/);
    const listed = await json(['--os-cloud', 'stratus-demo', 'credential', 'list', '--type', 'ec2']);
    expect(listed).toHaveLength(1);
  });

  it('logs in with v3multifactor (password + TOTP) as the product documents show, then with the token', async () => {
    const user = await json(['user', 'create', '--password', 'mfa-pass', '--project', 'demo', 'carol']);
    await os(['role', 'add', '--user', 'carol', '--project', 'demo', 'member']);
    const raw = Buffer.from('carol-totp-secret-000');
    await json(['credential', 'create', '--type', 'totp', user.id, base32Encode(raw)]);
    await os(['user', 'set', '--enable-multi-factor-auth', '--multi-factor-auth-rule', 'password,totp', 'carol']);
    const file = join(c.dataDir, 'mfa-clouds.yaml');
    const cloud = (passcode: string) => writeFileSync(file, [
      'clouds:', '  mfa:', '    auth_type: v3multifactor', '    auth_methods:', '      - v3password', '      - v3totp', '    auth:',
      `      auth_url: ${c.authUrl}`, '      username: carol', '      password: mfa-pass', `      passcode: "${passcode}"`, '      project_name: demo',
      '      user_domain_name: default', '      project_domain_name: default', '    region_name: europe-se-1', '    interface: public', '    identity_api_version: 3', '',
    ].join('\n'));
    cloud(totpAt(raw, Date.now()));
    const token = await json(['--os-cloud', 'mfa', 'token', 'issue'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: '' });
    expect(token.user_id).toBe(user.id);
    const viaToken = await os(['project', 'show', 'demo', '-f', 'value', '-c', 'name'], {
      OS_CLOUD: '', OS_AUTH_TYPE: 'v3token', OS_TOKEN: token.id, OS_AUTH_URL: c.authUrl, OS_PROJECT_NAME: 'demo', OS_PROJECT_DOMAIN_NAME: 'default', OS_IDENTITY_API_VERSION: '3',
    });
    expect(viaToken.stdout.trim(), viaToken.stderr).toBe('demo');
    cloud('000000');
    expect((await os(['--os-cloud', 'mfa', 'token', 'issue'], { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: '' })).code).not.toBe(0);
  });
});
