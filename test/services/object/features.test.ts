import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { outsider } from '../../helpers/compute.js';
import { projectId, swiftClient } from './helpers.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

/** A ustar archive of the given files (enough of the format for the tests). */
function tar(files: Record<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257); h.write('00', 263);
    let sum = 0; for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('object storage (Swift API): large objects, versions, expiry, TempURL, bulk, quotas, web', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  let acct: string;
  let demoProject: string;
  const { call } = swiftClient(() => c);

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    other = await outsider(c);
    demoProject = await projectId(c, 'demo');
    acct = `/v1/AUTH_${demoProject}`;
    await call('PUT', `${acct}/big`, { token: demo });
  });
  afterAll(async () => { await c.destroy(); });

  it('assembles a static large object and deletes it with its segments', async () => {
    const s1 = randomBytes(1000); const s2 = randomBytes(500);
    await call('PUT', `${acct}/big/seg/1`, { token: demo, body: s1 });
    await call('PUT', `${acct}/big/seg/2`, { token: demo, body: s2 });
    const manifest = [{ path: '/big/seg/1', etag: md5(s1), size_bytes: 1000 }, { path: 'big/seg/2', etag: null, size_bytes: null }];
    const put = await call('PUT', `${acct}/big/slo?multipart-manifest=put`, { token: demo, body: JSON.stringify(manifest) });
    expect(put.status).toBe(201);
    const etag = md5(md5(s1) + md5(s2));
    expect(put.headers.get('etag')).toBe(`"${etag}"`);
    const get = await call('GET', `${acct}/big/slo`, { token: demo });
    expect(get.body.equals(Buffer.concat([s1, s2]))).toBe(true);
    expect(get.headers.get('x-static-large-object')).toBe('True');
    expect(get.headers.get('content-length')).toBe('1500');
    const part = await call('GET', `${acct}/big/slo`, { token: demo, headers: { range: 'bytes=990-1009' } });
    expect(part.body.equals(Buffer.concat([s1, s2]).subarray(990, 1010))).toBe(true);
    const m = await call('GET', `${acct}/big/slo?multipart-manifest=get`, { token: demo });
    expect(m.json.map((s: { name: string; bytes: number }) => [s.name, s.bytes])).toEqual([['/big/seg/1', 1000], ['/big/seg/2', 500]]);
    const bad = await call('PUT', `${acct}/big/bad?multipart-manifest=put`, { token: demo, body: JSON.stringify([{ path: '/big/seg/1', etag: 'x' }]) });
    expect(bad.status).toBe(400);
    expect((await call('PUT', `${acct}/big/bad?multipart-manifest=put`, { token: demo, body: '{nope' })).status).toBe(400);
    const del = await call('DELETE', `${acct}/big/slo?multipart-manifest=delete`, { token: demo, headers: { accept: 'application/json' } });
    expect(del.status).toBe(200);
    expect(del.json['Number Deleted']).toBe(3);
    expect((await call('HEAD', `${acct}/big`, { token: demo })).headers.get('x-container-object-count')).toBe('0');
  });

  it('assembles a dynamic large object from the segments under its prefix', async () => {
    for (const [i, s] of ['aaa', 'bbb', 'cc'].entries()) await call('PUT', `${acct}/big/dlo-seg/${i}`, { token: demo, body: Buffer.from(s) });
    const put = await call('PUT', `${acct}/big/dlo`, { token: demo, body: Buffer.alloc(0), headers: { 'x-object-manifest': 'big/dlo-seg/' } });
    expect(put.status).toBe(201);
    const get = await call('GET', `${acct}/big/dlo`, { token: demo });
    expect(get.text).toBe('aaabbbcc');
    expect(get.headers.get('x-object-manifest')).toBe('big/dlo-seg/');
    expect(get.headers.get('etag')).toBe(`"${md5(md5('aaa') + md5('bbb') + md5('cc'))}"`);
    expect((await call('GET', `${acct}/big/dlo`, { token: demo, headers: { range: 'bytes=2-4' } })).text).toBe('abb');
    await call('PUT', `${acct}/big/dlo-seg/3`, { token: demo, body: Buffer.from('d') });
    expect((await call('GET', `${acct}/big/dlo`, { token: demo })).text).toBe('aaabbbccd');
  });

  it('keeps old versions with X-Versions-Location and brings them back on delete', async () => {
    await call('PUT', `${acct}/archive`, { token: demo });
    expect((await call('PUT', `${acct}/docs`, { token: demo, headers: { 'x-versions-location': 'archive' } })).status).toBe(201);
    expect((await call('HEAD', `${acct}/docs`, { token: demo })).headers.get('x-versions-location')).toBe('archive');
    await call('PUT', `${acct}/docs/note`, { token: demo, body: Buffer.from('v1') });
    await call('PUT', `${acct}/docs/note`, { token: demo, body: Buffer.from('v2') });
    await call('PUT', `${acct}/docs/note`, { token: demo, body: Buffer.from('v3') });
    const archived = (await call('GET', `${acct}/archive?format=json`, { token: demo })).json;
    expect(archived).toHaveLength(2);
    expect(archived[0].name).toMatch(/^004note\/\d+\.\d{5}$/);
    expect((await call('GET', `${acct}/docs/note`, { token: demo })).text).toBe('v3');
    await call('DELETE', `${acct}/docs/note`, { token: demo });
    expect((await call('GET', `${acct}/docs/note`, { token: demo })).text).toBe('v2');
    await call('DELETE', `${acct}/docs/note`, { token: demo });
    expect((await call('GET', `${acct}/docs/note`, { token: demo })).text).toBe('v1');
    await call('DELETE', `${acct}/docs/note`, { token: demo });
    expect((await call('GET', `${acct}/docs/note`, { token: demo })).status).toBe(404);
    expect((await call('HEAD', `${acct}/archive`, { token: demo })).headers.get('x-container-object-count')).toBe('0');
  });

  it('archives on delete with X-History-Location', async () => {
    await call('PUT', `${acct}/hist`, { token: demo, headers: { 'x-history-location': 'archive' } });
    await call('PUT', `${acct}/hist/f`, { token: demo, body: Buffer.from('one') });
    await call('PUT', `${acct}/hist/f`, { token: demo, body: Buffer.from('two') });
    await call('DELETE', `${acct}/hist/f`, { token: demo });
    expect((await call('GET', `${acct}/hist/f`, { token: demo })).status).toBe(404);
    expect((await call('GET', `${acct}/archive?prefix=001f/`, { token: demo })).text.trim().split('\n')).toHaveLength(2);
    expect((await call('PUT', `${acct}/both`, { token: demo, headers: { 'x-history-location': 'a', 'x-versions-location': 'b' } })).status).toBe(400);
  });

  it('keeps versions with ids when X-Versions-Enabled is on', async () => {
    expect((await call('PUT', `${acct}/vers`, { token: demo, headers: { 'x-versions-enabled': 'true' } })).status).toBe(201);
    expect((await call('HEAD', `${acct}/vers`, { token: demo })).headers.get('x-versions-enabled')).toBe('True');
    const v1 = (await call('PUT', `${acct}/vers/o`, { token: demo, body: Buffer.from('first') })).headers.get('x-object-version-id')!;
    const v2 = (await call('PUT', `${acct}/vers/o`, { token: demo, body: Buffer.from('second') })).headers.get('x-object-version-id')!;
    expect(v1).not.toBe(v2);
    expect((await call('GET', `${acct}/vers/o`, { token: demo })).text).toBe('second');
    expect((await call('GET', `${acct}/vers/o?version-id=${v1}`, { token: demo })).text).toBe('first');
    expect((await call('DELETE', `${acct}/vers/o`, { token: demo })).status).toBe(204);
    expect((await call('GET', `${acct}/vers/o`, { token: demo })).status).toBe(404);
    expect((await call('GET', `${acct}/vers/o?version-id=${v2}`, { token: demo })).text).toBe('second');
    expect((await call('GET', acct, { token: demo })).text).not.toContain('versions');
  });

  it('expires objects: 404 at once, then removed', async () => {
    await call('PUT', `${acct}/big/short`, { token: demo, body: Buffer.from('bye'), headers: { 'x-delete-after': '1' } });
    const h = await call('HEAD', `${acct}/big/short`, { token: demo });
    expect(Number(h.headers.get('x-delete-at'))).toBeGreaterThan(Date.now() / 1000 - 1);
    await call('PUT', `${acct}/big/later`, { token: demo, body: Buffer.from('x') });
    expect((await call('POST', `${acct}/big/later`, { token: demo, headers: { 'x-delete-at': String(Math.floor(Date.now() / 1000) + 1) } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call('GET', `${acct}/big/short`, { token: demo })).status).toBe(404);
    expect((await call('GET', `${acct}/big/later`, { token: demo })).status).toBe(404);
    const listed = (await call('GET', `${acct}/big?format=json`, { token: demo })).json.map((o: { name: string }) => o.name);
    expect(listed).not.toContain('big/short');
    expect(listed).not.toContain('later');
  });

  it('serves TempURLs signed with sha1, sha256 and sha512, and refuses bad ones', async () => {
    await call('POST', acct, { token: demo, headers: { 'x-account-meta-temp-url-key': 'secret-key' } });
    await call('PUT', `${acct}/big/temp`, { token: demo, body: Buffer.from('temporary') });
    const path = `/object-store${acct}/big/temp`;
    const expires = Math.floor(Date.now() / 1000) + 60;
    for (const alg of ['sha1', 'sha256', 'sha512']) {
      const sig = createHmac(alg, 'secret-key').update(`GET\n${expires}\n${path}`).digest('hex');
      const r = await call('GET', `${acct}/big/temp?temp_url_sig=${sig}&temp_url_expires=${expires}`);
      expect(r.status, alg).toBe(200);
      expect(r.text).toBe('temporary');
    }
    // Signed over Swift's own path (/v1/...) too.
    const bare = createHmac('sha256', 'secret-key').update(`GET\n${expires}\n${acct}/big/temp`).digest('hex');
    expect((await call('HEAD', `${acct}/big/temp?temp_url_sig=${bare}&temp_url_expires=${expires}`)).status).toBe(200);
    const sig = createHmac('sha256', 'secret-key').update(`GET\n${expires}\n${path}`).digest('hex');
    expect((await call('PUT', `${acct}/big/temp?temp_url_sig=${sig}&temp_url_expires=${expires}`, { body: Buffer.from('x') })).status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 10;
    const expired = createHmac('sha256', 'secret-key').update(`GET\n${old}\n${path}`).digest('hex');
    expect((await call('GET', `${acct}/big/temp?temp_url_sig=${expired}&temp_url_expires=${old}`)).status).toBe(401);
    const putSig = createHmac('sha256', 'secret-key').update(`PUT\n${expires}\n/object-store${acct}/big/uploaded`).digest('hex');
    expect((await call('PUT', `${acct}/big/uploaded?temp_url_sig=${putSig}&temp_url_expires=${expires}`, { body: Buffer.from('via temp url') })).status).toBe(201);
    expect((await call('GET', `${acct}/big/uploaded`, { token: demo })).text).toBe('via temp url');
    // The keys stay hidden from anyone but the account holder.
    expect((await call('HEAD', acct, { token: demo })).headers.get('x-account-meta-temp-url-key')).toBe('secret-key');
  });

  it('uploads through a signed FormPost form', async () => {
    const path = `/object-store${acct}/big/form/`;
    const expires = Math.floor(Date.now() / 1000) + 60;
    const sig = createHmac('sha256', 'secret-key').update(`${path}\n\n1024\n2\n${expires}`).digest('hex');
    const fd = new FormData();
    for (const [k, v] of Object.entries({ redirect: '', max_file_size: '1024', max_file_count: '2', expires: String(expires), signature: sig })) fd.append(k, v);
    fd.append('file1', new Blob(['form bytes']), 'a.txt');
    const r = await fetch(`${c.url}${path}`, { method: 'POST', body: fd });
    expect(r.status).toBe(201);
    expect((await call('GET', `${acct}/big/form/a.txt`, { token: demo })).text).toBe('form bytes');
    const bad = new FormData();
    for (const [k, v] of Object.entries({ redirect: '', max_file_size: '1024', max_file_count: '2', expires: String(expires), signature: 'ab'.repeat(32) })) bad.append(k, v);
    bad.append('file1', new Blob(['x']), 'b.txt');
    const denied = await fetch(`${c.url}${path}`, { method: 'POST', body: bad });
    expect(denied.status).toBe(401);
    expect(await denied.text()).toContain('FormPost: Invalid Signature');
  });

  it('deletes in bulk and extracts tar archives', async () => {
    await call('PUT', `${acct}/bulk`, { token: demo });
    for (const n of ['x', 'y', 'z']) await call('PUT', `${acct}/bulk/${n}`, { token: demo, body: Buffer.from(n) });
    const del = await call('POST', `${acct}?bulk-delete`, { token: demo, headers: { accept: 'application/json', 'content-type': 'text/plain' }, body: '/bulk/x\n/bulk/y\n/bulk/missing\n/bulk\n' });
    expect(del.status).toBe(200);
    expect(del.json['Number Deleted']).toBe(2);
    expect(del.json['Number Not Found']).toBe(1);
    expect(del.json.Errors).toEqual([['/bulk', '409 Conflict']]);
    const plain = await call('DELETE', `${acct}?bulk-delete`, { token: demo, headers: { 'content-type': 'text/plain' }, body: '/bulk/z\n/bulk\n' });
    expect(plain.text).toContain('Number Deleted: 2');
    const archive = tar({ 'one.txt': Buffer.from('1'), 'sub/two.txt': Buffer.from('22') });
    const ex = await call('PUT', `${acct}/unpacked?extract-archive=tar.gz`, { token: demo, body: gzipSync(archive), headers: { accept: 'application/json' } });
    expect(ex.status).toBe(200);
    expect(ex.json['Number Files Created']).toBe(2);
    expect((await call('GET', `${acct}/unpacked/sub/two.txt`, { token: demo })).text).toBe('22');
    const toAccount = await call('PUT', `${acct}?extract-archive=tar`, { token: demo, body: tar({ 'made/f': Buffer.from('f') }), headers: { accept: 'application/json' } });
    expect(toAccount.json['Number Files Created']).toBe(1);
    expect((await call('GET', `${acct}/made/f`, { token: demo })).text).toBe('f');
    const denied = await call('POST', `${acct}?bulk-delete`, { token: other, headers: { accept: 'application/json' }, body: '/made/f\n' });
    expect(denied.json.Errors).toEqual([['/made/f', '403 Forbidden']]);
  });

  it('enforces container quotas and admin-set account quotas', async () => {
    await call('PUT', `${acct}/quota`, { token: demo, headers: { 'x-container-meta-quota-bytes': '10', 'x-container-meta-quota-count': '2' } });
    expect((await call('PUT', `${acct}/quota/a`, { token: demo, body: Buffer.from('12345') })).status).toBe(201);
    expect((await call('PUT', `${acct}/quota/b`, { token: demo, body: Buffer.from('123456') })).status).toBe(413);
    expect((await call('PUT', `${acct}/quota/b`, { token: demo, body: Buffer.from('1') })).status).toBe(201);
    expect((await call('PUT', `${acct}/quota/c`, { token: demo, body: Buffer.from('1') })).status).toBe(413);
    expect((await call('POST', `${acct}/quota`, { token: demo, headers: { 'x-container-meta-quota-bytes': 'lots' } })).status).toBe(400);
    expect((await call('POST', acct, { token: demo, headers: { 'x-account-meta-quota-bytes': '100' } })).status).toBe(403);
    expect((await call('POST', acct, { token: c.adminToken, headers: { 'x-account-meta-quota-bytes': '1' } })).status).toBe(204);
    expect((await call('PUT', `${acct}/big/over`, { token: demo, body: Buffer.from('too much') })).status).toBe(413);
    expect((await call('POST', acct, { token: demo, headers: { 'x-remove-account-meta-quota-bytes': 'x' } })).status).toBe(403);
    expect((await call('POST', acct, { token: c.adminToken, headers: { 'x-remove-account-meta-quota-bytes': 'x' } })).status).toBe(204);
    expect((await call('PUT', `${acct}/big/over`, { token: demo, body: Buffer.from('fine now') })).status).toBe(201);
  });

  it('serves a public container as a static website, with CORS', async () => {
    await call('PUT', `${acct}/site`, { token: demo, headers: {
      'x-container-read': '.r:*,.rlistings', 'x-container-meta-web-index': 'index.html', 'x-container-meta-web-error': 'error.html',
      'x-container-meta-access-control-allow-origin': 'https://app.example',
    } });
    await call('PUT', `${acct}/site/index.html`, { token: demo, body: Buffer.from('<h1>home</h1>'), headers: { 'content-type': 'text/html' } });
    await call('PUT', `${acct}/site/404error.html`, { token: demo, body: Buffer.from('<h1>missing</h1>'), headers: { 'content-type': 'text/html' } });
    await call('PUT', `${acct}/site/docs/index.html`, { token: demo, body: Buffer.from('docs'), headers: { 'content-type': 'text/html' } });
    const redirect = await fetch(`${c.url}/object-store${acct}/site`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect((await call('GET', `${acct}/site/`)).text).toBe('<h1>home</h1>');
    expect((await call('GET', `${acct}/site/docs/`)).text).toBe('docs');
    const missing = await call('GET', `${acct}/site/nothing.html`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('<h1>missing</h1>');
    // With a token it is the plain API again.
    expect((await call('GET', `${acct}/site`, { token: demo })).text).toContain('index.html');
    const pre = await call('OPTIONS', `${acct}/site/index.html`, { headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await call('OPTIONS', `${acct}/site/index.html`, { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })).status).toBe(401);
    const cors = await call('GET', `${acct}/site/index.html`, { headers: { origin: 'https://app.example' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(cors.headers.get('access-control-expose-headers')).toContain('etag');
  });

  it('offers a typed interface to other services, with the same access rules', async () => {
    const ctx = await c.identity.authenticate(demo);
    await c.object.ensureContainer(ctx, 'backups', { policy: 'gp.archive' });
    const data = randomBytes(300_000);
    const info = await c.object.putObject(ctx, 'backups', 'vol-1/chunk-0', Readable.from([data]), { metadata: { Volume: 'vol-1' } });
    expect(info).toMatchObject({ size: data.length, etag: md5(data), metadata: { volume: 'vol-1' } });
    const got = await c.object.getObject(ctx, 'backups', 'vol-1/chunk-0', { range: { start: 10, end: 19 } });
    const chunks: Buffer[] = [];
    for await (const ch of got.data) chunks.push(ch as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(10, 20))).toBe(true);
    expect((await c.object.listObjects(ctx, 'backups', { prefix: 'vol-1/' })).map((o) => ('name' in o ? o.name : o.subdir))).toEqual(['vol-1/chunk-0']);
    expect((await c.object.getContainer(ctx, 'backups')).policy).toBe('gp.archive');
    const stranger = await c.identity.authenticate(other);
    await expect(c.object.getObject(stranger, 'backups', 'vol-1/chunk-0', { account: demoProject })).rejects.toMatchObject({ status: 403 });
    await c.object.deleteObject(ctx, 'backups', 'vol-1/chunk-0');
    await c.object.deleteContainer(ctx, 'backups');
    await expect(c.object.getContainer(ctx, 'backups')).rejects.toMatchObject({ status: 404 });
  });
});
