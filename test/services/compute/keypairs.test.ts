import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';
import { tempestErrors } from '../../helpers/tempest-schemas.js';
import { sshFingerprint } from '../../../src/services/compute/logic/keypairs.js';

/** ssh-keygen's own key and MD5 fingerprint, to check ours against. */
function sshKeygen(type: string, bits?: number): { pub: string; md5: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kp-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test@stratus', '-f', join(dir, 'k')]);
    const pub = readFileSync(join(dir, 'k.pub'), 'utf8').trim();
    const md5 = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', join(dir, 'k.pub')]).toString().split(' ')[1]!.replace(/^MD5:/, '');
    return { pub, md5 };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}


describe('compute key pairs (os-keypairs)', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  const v = (mv: string) => ({ 'OpenStack-API-Version': `compute ${mv}` });
  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    // A second user of the demo project.
    const t = c.adminToken;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'colleague', password: 'cpw' } } })).body.user;
    const project = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0];
    const member = (await c.api('GET', '/identity/v3/roles?name=member', { token: t })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member.id}`, { token: t });
    other = await c.login('colleague', 'cpw', 'demo');
  });
  afterAll(async () => { await c.destroy(); });

  it('fingerprints every key type as ssh-keygen -E md5 does', () => {
    for (const [type, bits] of [['rsa', 2048], ['ed25519', undefined], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521]] as const) {
      const k = sshKeygen(type, bits);
      expect(sshFingerprint(k.pub), `${type} ${bits}`).toBe(k.md5);
    }
  });

  it('generates an RSA key at v2.1: private key once, 200, no type; show, list, delete 202', async () => {
    const r = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'gen1' } } });
    expect(r.status, r.text).toBe(200);
    const kp = r.body.keypair;
    expect(Object.keys(kp).sort()).toEqual(['fingerprint', 'name', 'private_key', 'public_key', 'user_id']);
    expect(kp.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(kp.public_key).toMatch(/^ssh-rsa AAAA\S+ Generated-by-Nova$/);
    expect(kp.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    // The public key really is the private key's, and the fingerprint its blob's MD5.
    const blob = Buffer.from(kp.public_key.split(' ')[1], 'base64');
    expect(createHash('md5').update(blob).digest('hex').replace(/(..)(?!$)/g, '$1:')).toBe(kp.fingerprint);
    const show = await c.api('GET', '/compute/v2.1/os-keypairs/gen1', { token: demo });
    expect(show.status).toBe(200);
    expect(Object.keys(show.body.keypair).sort()).toEqual(['created_at', 'deleted', 'deleted_at', 'fingerprint', 'id', 'name', 'public_key', 'updated_at', 'user_id']);
    expect(show.body.keypair).toMatchObject({ deleted: false, deleted_at: null, updated_at: null, name: 'gen1', fingerprint: kp.fingerprint });
    expect(Number.isInteger(show.body.keypair.id)).toBe(true);
    expect(show.body.keypair).not.toHaveProperty('private_key');
    const list = await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo });
    expect(list.body).toEqual({ keypairs: [{ keypair: { name: 'gen1', public_key: kp.public_key, fingerprint: kp.fingerprint } }] });
    const del = await c.api('DELETE', '/compute/v2.1/os-keypairs/gen1', { token: demo });
    expect(del.status).toBe(202);
    expect(del.text).toBe('');
    expect((await c.api('DELETE', '/compute/v2.1/os-keypairs/gen1', { token: demo })).status).toBe(404);
  });

  it('imports ssh-rsa, ssh-ed25519 and ECDSA keys with types from 2.2 (201, delete 204)', async () => {
    for (const [i, [type, bits]] of ([['rsa', 2048], ['ed25519', undefined], ['ecdsa', 384], ['ecdsa', 521]] as const).entries()) {
      const k = sshKeygen(type, bits);
      const r = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2'), body: { keypair: { name: `imp${i}`, public_key: k.pub } } });
      expect(r.status, r.text).toBe(201);
      expect(r.body.keypair).toEqual({ name: `imp${i}`, public_key: k.pub, fingerprint: k.md5, type: 'ssh', user_id: expect.any(String) });
    }
    const list = await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2') });
    expect(list.body.keypairs.map((x: any) => Object.keys(x.keypair).sort().join())).toEqual(Array(4).fill('fingerprint,name,public_key,type'));
    const show = await c.api('GET', '/compute/v2.1/os-keypairs/imp1', { token: demo, headers: v('2.2') });
    expect(show.body.keypair.type).toBe('ssh');
    expect(show.body.keypair.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    for (let i = 0; i < 4; i++) {
      const d = await c.api('DELETE', `/compute/v2.1/os-keypairs/imp${i}`, { token: demo, headers: v('2.2') });
      expect(d.status).toBe(204);
    }
  });

  it('generates and imports x509 certificates (2.2), fingerprinted by SHA-1 of the DER', async () => {
    const r = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2'), body: { keypair: { name: 'cert1', type: 'x509' } } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.keypair.type).toBe('x509');
    expect(r.body.keypair.public_key).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(r.body.keypair.private_key).toMatch(/^[A-Za-z0-9+/=]+$/);
    const der = Buffer.from(r.body.keypair.public_key.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(r.body.keypair.fingerprint).toBe(createHash('sha1').update(der).digest('hex').replace(/(..)(?!$)/g, '$1:'));
    const imp = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2'), body: { keypair: { name: 'cert2', type: 'x509', public_key: r.body.keypair.public_key } } });
    expect(imp.status, imp.text).toBe(201);
    expect(imp.body.keypair.fingerprint).toBe(r.body.keypair.fingerprint);
    expect(imp.body.keypair).not.toHaveProperty('private_key');
    const bad = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2'), body: { keypair: { name: 'cert3', type: 'x509', public_key: 'not a cert' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/^Keypair data is invalid: failed to generate X509 fingerprint/);
    const list = await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.2') });
    expect(list.body.keypairs.map((x: any) => `${x.keypair.name}:${x.keypair.type}`)).toEqual(['cert1:x509', 'cert2:x509']);
    // type is not a field before 2.2.
    expect((await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'cert4', type: 'x509' } } })).status).toBe(400);
    for (const n of ['cert1', 'cert2']) await c.api('DELETE', `/compute/v2.1/os-keypairs/${n}`, { token: demo });
  });

  it('refuses bad names, bad keys and duplicates with Nova\'s errors, creating nothing', async () => {
    const post = (keypair: unknown, headers: Record<string, string> = {}) => c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers, body: { keypair } });
    const ok = sshKeygen('ed25519').pub;
    for (const name of ['', 'x'.repeat(256), 'key_/.\\@:', ' lead', 'a.b']) expect((await post({ name, public_key: ok })).status, name).toBe(400);
    for (const pk of ['ssh-rsa JUNK nova@ubuntu', ' ', `ssh-rsa ${'A'.repeat(2048)} openstack@ubuntu`, ok.replace('ssh-ed25519', 'ssh-rsa'), '']) {
      const r = await post({ name: 'badkey', public_key: pk });
      expect(r.status, pk).toBe(400);
      expect(r.body.badRequest.message).toBe('Keypair data is invalid: failed to generate fingerprint');
    }
    expect((await post({ name: 'extra', public_key: ok, user_id: 'x' })).status).toBe(400); // user_id only from 2.10
    expect((await post({ name: 'dup', public_key: ok })).status).toBe(200);
    const dup = await post({ name: 'dup', public_key: ok });
    expect(dup.status).toBe(409);
    expect(dup.body.conflictingRequest.message).toBe("Key pair 'dup' already exists.");
    // 2.92: '@' and '.' are allowed in names, but Nova no longer generates keys.
    expect((await post({ name: 'me@host.example' }, v('2.92'))).status).toBe(400);
    expect((await post({ name: 'me@host.example', public_key: ok }, v('2.92'))).status).toBe(201);
    const names = (await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo })).body.keypairs.map((k: any) => k.keypair.name);
    expect(names).toEqual(['dup', 'me@host.example']);
    for (const n of names) await c.api('DELETE', `/compute/v2.1/os-keypairs/${n}`, { token: demo });
  });

  it('keeps key pairs per user: a colleague in the same project sees 404; admins act for others at 2.10', async () => {
    const ok = sshKeygen('ed25519').pub;
    await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'mine', public_key: ok } } });
    expect((await c.api('GET', '/compute/v2.1/os-keypairs/mine', { token: other })).status).toBe(404);
    expect((await c.api('DELETE', '/compute/v2.1/os-keypairs/mine', { token: other })).status).toBe(404);
    expect((await c.api('GET', '/compute/v2.1/os-keypairs', { token: other })).body.keypairs).toEqual([]);
    // The colleague may use the same name for their own key.
    expect((await c.api('POST', '/compute/v2.1/os-keypairs', { token: other, body: { keypair: { name: 'mine', public_key: ok } } })).status).toBe(200);
    const demoUser = (await c.api('GET', '/compute/v2.1/os-keypairs/mine', { token: demo })).body.keypair.user_id;
    // Non-admins may not name another user.
    expect((await c.api('GET', `/compute/v2.1/os-keypairs?user_id=${demoUser}`, { token: other, headers: v('2.10') })).status).toBe(403);
    // Admins list, show, create and delete for another user from 2.10.
    const adm = v('2.10');
    expect((await c.api('GET', `/compute/v2.1/os-keypairs?user_id=${demoUser}`, { token: c.adminToken, headers: adm })).body.keypairs.map((k: any) => k.keypair.name)).toEqual(['mine']);
    const made = await c.api('POST', '/compute/v2.1/os-keypairs', { token: c.adminToken, headers: adm, body: { keypair: { name: 'given', public_key: ok, user_id: demoUser } } });
    expect(made.status, made.text).toBe(201);
    expect(made.body.keypair.user_id).toBe(demoUser);
    expect((await c.api('GET', '/compute/v2.1/os-keypairs/given', { token: demo })).status).toBe(200);
    expect((await c.api('DELETE', `/compute/v2.1/os-keypairs/given?user_id=${demoUser}`, { token: c.adminToken, headers: adm })).status).toBe(204);
    expect((await c.api('GET', '/compute/v2.1/os-keypairs/given', { token: demo })).status).toBe(404);
    await c.api('DELETE', '/compute/v2.1/os-keypairs/mine', { token: demo });
    await c.api('DELETE', '/compute/v2.1/os-keypairs/mine', { token: other });
  });

  it('answers in the exact shapes of Tempest\'s schemas at 2.1 and 2.2', async () => {
    const ed = sshKeygen('ed25519').pub;
    const gen = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 's1' } } });
    const imp = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 's2', public_key: ed } } });
    const show = await c.api('GET', '/compute/v2.1/os-keypairs/s1', { token: demo });
    const list = await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo });
    const del = await c.api('DELETE', '/compute/v2.1/os-keypairs/s1', { token: demo });
    const h = v('2.2');
    const gen2 = await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, headers: h, body: { keypair: { name: 's3' } } });
    const show2 = await c.api('GET', '/compute/v2.1/os-keypairs/s3', { token: demo, headers: h });
    const list2 = await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo, headers: h });
    const del2 = await c.api('DELETE', '/compute/v2.1/os-keypairs/s3', { token: demo, headers: h });
    await c.api('DELETE', '/compute/v2.1/os-keypairs/s2', { token: demo });
    expect(tempestErrors([
      ['v2_1.keypairs', 'create_keypair', gen.status, gen.body], ['v2_1.keypairs', 'create_keypair', imp.status, imp.body],
      ['v2_1.keypairs', 'get_keypair', show.status, show.body], ['v2_1.keypairs', 'list_keypairs', list.status, list.body],
      ['v2_1.keypairs', 'delete_keypair', del.status, del.text],
      ['v2_2.keypairs', 'create_keypair', gen2.status, gen2.body], ['v2_2.keypairs', 'get_keypair', show2.status, show2.body],
      ['v2_2.keypairs', 'list_keypairs', list2.status, list2.body], ['v2_2.keypairs', 'delete_keypair', del2.status, del2.text],
    ])).toEqual([]);
  });

  it('pages with limit and marker from 2.35, with a next link', async () => {
    const ok = sshKeygen('ed25519').pub;
    for (const n of ['p3', 'p1', 'p2']) await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: n, public_key: ok } } });
    const h = v('2.35');
    const first = await c.api('GET', '/compute/v2.1/os-keypairs?limit=2', { token: demo, headers: h });
    expect(first.body.keypairs.map((k: any) => k.keypair.name)).toEqual(['p1', 'p2']);
    expect(first.body.keypairs_links[0].rel).toBe('next');
    expect(first.body.keypairs_links[0].href).toMatch(/\/compute\/v2\.1\/os-keypairs\?limit=2&marker=p2$/);
    const second = await c.api('GET', '/compute/v2.1/os-keypairs?limit=2&marker=p2', { token: demo, headers: h });
    expect(second.body).toEqual({ keypairs: [expect.objectContaining({ keypair: expect.objectContaining({ name: 'p3' }) })] });
    expect((await c.api('GET', '/compute/v2.1/os-keypairs?marker=nope', { token: demo, headers: h })).status).toBe(400);
    // Before 2.35 the paging parameters are ignored.
    expect((await c.api('GET', '/compute/v2.1/os-keypairs?limit=1', { token: demo })).body.keypairs).toHaveLength(3);
    for (const n of ['p1', 'p2', 'p3']) await c.api('DELETE', `/compute/v2.1/os-keypairs/${n}`, { token: demo });
  });

  it('enforces the key_pairs quota per user (403), racing creates included', async () => {
    const project = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0];
    expect((await c.api('PUT', `/compute/v2.1/os-quota-sets/${project.id}`, { token: c.adminToken, body: { quota_set: { key_pairs: 2 } } })).status).toBe(200);
    try {
      const ok = sshKeygen('ed25519').pub;
      expect((await c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'q1', public_key: ok } } })).status).toBe(200);
      const race = await Promise.all(['q2', 'q3'].map((name) => c.api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair: { name, public_key: ok } } })));
      expect(race.map((r) => r.status).sort()).toEqual([200, 403]);
      expect(race.find((r) => r.status === 403)!.body.forbidden.message).toBe('Quota exceeded, too many key pairs.');
      // Another user of the project has their own allowance.
      expect((await c.api('POST', '/compute/v2.1/os-keypairs', { token: other, body: { keypair: { name: 'q1', public_key: ok } } })).status).toBe(200);
      expect((await c.api('GET', '/compute/v2.1/os-keypairs', { token: demo })).body.keypairs).toHaveLength(2);
    } finally {
      await c.api('DELETE', `/compute/v2.1/os-quota-sets/${project.id}`, { token: c.adminToken });
      for (const n of ['q1', 'q2', 'q3']) await c.api('DELETE', `/compute/v2.1/os-keypairs/${n}`, { token: demo });
      await c.api('DELETE', '/compute/v2.1/os-keypairs/q1', { token: other });
    }
  });

  it('works with the openstack CLI: keypair create, list, show, delete', async () => {
    const cli = clients(c.dataDir);
    const created = await cli.os(['keypair', 'create', 'k1']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/-----BEGIN (RSA )?PRIVATE KEY-----/);
    const k = sshKeygen('ecdsa', 384);
    const dir = mkdtempSync(join(tmpdir(), 'kp-'));
    try {
      execFileSync('sh', ['-c', `printf '%s\\n' "$1" > "$2"`, 'sh', k.pub, join(dir, 'k.pub')]);
      const imported = await cli.json(['keypair', 'create', '--public-key', join(dir, 'k.pub'), 'k2']);
      expect(imported.fingerprint).toBe(k.md5);
    } finally { rmSync(dir, { recursive: true, force: true }); }
    const list = await cli.json(['keypair', 'list']);
    expect(list.map((x: any) => x.Name).sort()).toEqual(['k1', 'k2']);
    const shown = await cli.json(['keypair', 'show', 'k2']);
    expect(shown.fingerprint).toBe(k.md5);
    expect((await cli.os(['keypair', 'delete', 'k1', 'k2'])).code).toBe(0);
    expect(await cli.json(['keypair', 'list'])).toEqual([]);
  });
});
