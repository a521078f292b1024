import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { outsider } from '../../helpers/compute.js';
import { projectId, swiftClient } from './helpers.js';
import { readerOf } from '../../helpers/compute.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('object storage (Swift API): accounts, containers, objects', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  let reader: string;
  let acct: string;
  let demoProject: string;
  const { call } = swiftClient(() => c);

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    other = await outsider(c);
    reader = await readerOf(c, 'demo');
    demoProject = await projectId(c, 'demo');
    acct = `/v1/AUTH_${demoProject}`;
  });
  afterAll(async () => { await c.destroy(); });

  it('publishes the object-store endpoint per project and /info without a token', async () => {
    const cat = await c.api('GET', '/identity/v3/auth/catalog', { token: demo });
    const swift = cat.body.catalog.find((s: { type: string }) => s.type === 'object-store');
    expect(swift.name).toBe('swift');
    expect(swift.endpoints[0].url).toBe(`${c.url}/object-store/v1/AUTH_${demoProject}`);
    const info = await call('GET', '/info');
    expect(info.status).toBe(200);
    expect(info.json.swift.policies.map((p: { name: string }) => p.name)).toEqual(['gp.archive', 'gp.intermittent', 'gp.recurring', 'hp.intensive']);
    expect(info.json.swift.policies.find((p: { default?: boolean }) => p.default).name).toBe('gp.recurring');
    expect(info.json).toHaveProperty('slo');
    expect(info.json).toHaveProperty('tempurl');
    expect(info.json).not.toHaveProperty('container_sync');
  });

  it('answers an unused account with zero statistics and Swift headers', async () => {
    const head = await call('HEAD', acct, { token: demo });
    expect(head.status).toBe(204);
    expect(head.headers.get('x-account-container-count')).toBe('0');
    expect(head.headers.get('x-account-object-count')).toBe('0');
    expect(head.headers.get('x-account-bytes-used')).toBe('0');
    expect(head.headers.get('x-trans-id')).toMatch(/^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    expect(head.headers.get('x-openstack-request-id')).toBe(head.headers.get('x-trans-id'));
    expect(head.headers.get('x-timestamp')).toMatch(/^\d+\.\d{5}$/);
    expect(head.headers.get('content-type')).toContain('text/plain');
    expect((await call('GET', acct, { token: demo })).status).toBe(204);
    const json = await call('GET', `${acct}?format=json`, { token: demo });
    expect(json.status).toBe(200);
    expect(json.json).toEqual([]);
  });

  it('creates containers (201, then 202), lists them with every listing parameter', async () => {
    for (const name of ['alpha', 'beta', 'gamma', 'delta/x'.replace('/', '-'), 'epsilon']) {
      expect((await call('PUT', `${acct}/${name}`, { token: demo })).status).toBe(201);
    }
    expect((await call('PUT', `${acct}/alpha`, { token: demo })).status).toBe(202);
    const plain = await call('GET', acct, { token: demo });
    expect(plain.text).toBe('alpha\nbeta\ndelta-x\nepsilon\ngamma\n');
    const q = async (qs: string) => (await call('GET', `${acct}?format=json&${qs}`, { token: demo })).json.map((e: { name: string }) => e.name);
    expect(await q('limit=2')).toEqual(['alpha', 'beta']);
    expect(await q('marker=beta')).toEqual(['delta-x', 'epsilon', 'gamma']);
    expect(await q('end_marker=delta-x')).toEqual(['alpha', 'beta']);
    expect(await q('marker=alpha&end_marker=gamma&limit=2')).toEqual(['beta', 'delta-x']);
    expect(await q('prefix=e')).toEqual(['epsilon']);
    expect(await q('reverse=true&limit=2')).toEqual(['gamma', 'epsilon']);
    const xml = await call('GET', acct, { token: demo, headers: { accept: 'application/xml' } });
    expect(xml.headers.get('content-type')).toContain('application/xml');
    expect(xml.text).toContain('<container><name>alpha</name><count>0</count><bytes>0</bytes>');
    const json = await call('GET', acct, { token: demo, headers: { accept: 'application/json' } });
    expect(json.json[0]).toMatchObject({ name: 'alpha', count: 0, bytes: 0 });
    expect((await call('GET', `${acct}?limit=x`, { token: demo })).status).toBe(412);
    const head = await call('HEAD', acct, { token: demo });
    expect(head.headers.get('x-account-container-count')).toBe('5');
    expect(head.headers.get('x-account-storage-policy-gp.recurring-container-count')).toBe('5');
    for (const name of ['beta', 'gamma', 'delta-x', 'epsilon']) expect((await call('DELETE', `${acct}/${name}`, { token: demo })).status).toBe(204);
    expect((await call('DELETE', `${acct}/beta`, { token: demo })).status).toBe(404);
  });

  it('keeps a container storage policy fixed and refuses unknown ones', async () => {
    const put = await call('PUT', `${acct}/cold`, { token: demo, headers: { 'x-storage-policy': 'gp.archive' } });
    expect(put.status).toBe(201);
    expect((await call('HEAD', `${acct}/cold`, { token: demo })).headers.get('x-storage-policy')).toBe('gp.archive');
    expect((await call('PUT', `${acct}/cold`, { token: demo, headers: { 'x-storage-policy': 'hp.intensive' } })).status).toBe(409);
    expect((await call('PUT', `${acct}/cold`, { token: demo, headers: { 'x-storage-policy': 'gp.archive' } })).status).toBe(202);
    expect((await call('PUT', `${acct}/cold`, { token: demo })).status).toBe(202);
    expect((await call('PUT', `${acct}/hot`, { token: demo, headers: { 'x-storage-policy': 'gold' } })).status).toBe(400);
    expect((await call('HEAD', `${acct}/alpha`, { token: demo })).headers.get('x-storage-policy')).toBe('gp.recurring');
    const acctHead = await call('HEAD', acct, { token: demo });
    expect(acctHead.headers.get('x-account-storage-policy-gp.archive-container-count')).toBe('1');
    expect((await call('DELETE', `${acct}/cold`, { token: demo })).status).toBe(204);
  });

  it('validates container names', async () => {
    expect((await call('PUT', `${acct}/${'x'.repeat(257)}`, { token: demo })).status).toBe(400);
    expect((await call('PUT', `${acct}/${'x'.repeat(256)}`, { token: demo })).status).toBe(201);
    expect((await call('DELETE', `${acct}/${'x'.repeat(256)}`, { token: demo })).status).toBe(204);
  });

  it('sets and removes account and container metadata', async () => {
    expect((await call('POST', acct, { token: demo, headers: { 'x-account-meta-color': 'blue', 'x-account-meta-size': 'L' } })).status).toBe(204);
    let h = (await call('HEAD', acct, { token: demo })).headers;
    expect(h.get('x-account-meta-color')).toBe('blue');
    await call('POST', acct, { token: demo, headers: { 'x-remove-account-meta-color': 'x', 'x-account-meta-size': '' } });
    h = (await call('HEAD', acct, { token: demo })).headers;
    expect(h.get('x-account-meta-color')).toBeNull();
    expect(h.get('x-account-meta-size')).toBeNull();
    expect((await call('POST', `${acct}/alpha`, { token: demo, headers: { 'x-container-meta-owner': 'ops' } })).status).toBe(204);
    expect((await call('HEAD', `${acct}/alpha`, { token: demo })).headers.get('x-container-meta-owner')).toBe('ops');
    await call('POST', `${acct}/alpha`, { token: demo, headers: { 'x-remove-container-meta-owner': '1' } });
    expect((await call('HEAD', `${acct}/alpha`, { token: demo })).headers.get('x-container-meta-owner')).toBeNull();
    expect((await call('POST', `${acct}/nope`, { token: demo, headers: { 'x-container-meta-a': 'b' } })).status).toBe(404);
    expect((await call('POST', `${acct}/alpha`, { token: demo, headers: { [`x-container-meta-${'k'.repeat(129)}`]: 'v' } })).status).toBe(400);
    expect((await call('POST', `${acct}/alpha`, { token: demo, headers: { 'x-container-meta-k': 'v'.repeat(257) } })).status).toBe(400);
  });

  it('stores objects with ETag, metadata and content type, and verifies the ETag (422)', async () => {
    const data = randomBytes(4096);
    const put = await call('PUT', `${acct}/alpha/dir/file.bin`, { token: demo, body: data, headers: { etag: md5(data), 'x-object-meta-tag': 'one', 'content-type': 'application/x-test', 'content-disposition': 'inline' } });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe(md5(data));
    expect(put.headers.get('last-modified')).toBeTruthy();
    const get = await call('GET', `${acct}/alpha/dir/file.bin`, { token: demo });
    expect(get.status).toBe(200);
    expect(get.body.equals(data)).toBe(true);
    expect(get.headers.get('etag')).toBe(md5(data));
    expect(get.headers.get('content-type')).toBe('application/x-test');
    expect(get.headers.get('x-object-meta-tag')).toBe('one');
    expect(get.headers.get('content-disposition')).toBe('inline');
    expect(get.headers.get('accept-ranges')).toBe('bytes');
    const head = await call('HEAD', `${acct}/alpha/dir/file.bin`, { token: demo });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4096');
    const bad = await call('PUT', `${acct}/alpha/bad`, { token: demo, body: data, headers: { etag: md5('other') } });
    expect(bad.status).toBe(422);
    expect((await call('HEAD', `${acct}/alpha/bad`, { token: demo })).status).toBe(404);
    expect((await call('PUT', `${acct}/nope/obj`, { token: demo, body: 'x' })).status).toBe(404);
    const guessed = await call('PUT', `${acct}/alpha/page.html`, { token: demo, body: Buffer.from('<p>hi</p>') });
    expect(guessed.status).toBe(201);
    expect((await call('HEAD', `${acct}/alpha/page.html`, { token: demo })).headers.get('content-type')).toBe('text/html');
    const stats = await call('HEAD', `${acct}/alpha`, { token: demo });
    expect(stats.headers.get('x-container-object-count')).toBe('2');
    expect(stats.headers.get('x-container-bytes-used')).toBe(String(4096 + 9));
    expect((await call('HEAD', acct, { token: demo })).headers.get('x-account-object-count')).toBe('2');
  });

  it('accepts chunked uploads and Expect: 100-continue', async () => {
    const parts = [randomBytes(70_000), randomBytes(1000), randomBytes(33)];
    const stream = new ReadableStream({ start(ctl) { for (const p of parts) ctl.enqueue(new Uint8Array(p)); ctl.close(); } });
    const put = await call('PUT', `${acct}/alpha/chunked`, { token: demo, body: stream });
    expect(put.status).toBe(201);
    expect(put.headers.get('etag')).toBe(md5(Buffer.concat(parts)));
    const u = new URL(`${c.url}/object-store${acct}/alpha/continued`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { 'x-auth-token': demo, 'content-length': 5, expect: '100-continue' } });
      req.on('continue', () => req.end('hello'));
      req.on('response', (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
    });
    expect(status).toBe(201);
    expect((await call('GET', `${acct}/alpha/continued`, { token: demo })).text).toBe('hello');
  });

  it('lists objects with prefix, delimiter, path, markers, reverse and formats', async () => {
    await call('PUT', `${acct}/tree`, { token: demo });
    for (const n of ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd.txt']) await call('PUT', `${acct}/tree/${n}`, { token: demo, body: n });
    const names = async (qs: string) => {
      const r = await call('GET', `${acct}/tree?format=json&${qs}`, { token: demo });
      return r.json.map((e: { name?: string; subdir?: string }) => e.name ?? `[${e.subdir}]`);
    };
    expect(await names('')).toEqual(['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd.txt']);
    expect(await names('delimiter=/')).toEqual(['[a/]', '[b/]', 'c', 'd.txt']);
    expect(await names('prefix=a/&delimiter=/')).toEqual(['a/1', 'a/2', '[a/b/]']);
    expect(await names('path=a')).toEqual(['a/1', 'a/2']);
    expect(await names('marker=a/2&limit=2')).toEqual(['a/b/3', 'b/1']);
    expect(await names('end_marker=b')).toEqual(['a/1', 'a/2', 'a/b/3']);
    expect(await names('reverse=on&delimiter=/')).toEqual(['d.txt', 'c', '[b/]', '[a/]']);
    expect(await names('reverse=true&prefix=a/')).toEqual(['a/b/3', 'a/2', 'a/1']);
    const entry = (await call('GET', `${acct}/tree?format=json&prefix=c`, { token: demo })).json[0];
    expect(entry).toMatchObject({ name: 'c', bytes: 1, hash: md5('c') });
    expect(entry.last_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const plain = await call('GET', `${acct}/tree?delimiter=/`, { token: demo });
    expect(plain.text).toBe('a/\nb/\nc\nd.txt\n');
    const xml = await call('GET', `${acct}/tree?format=xml&prefix=c`, { token: demo });
    expect(xml.text).toContain('<container name="tree"><object><name>c</name>');
    expect((await call('GET', `${acct}/tree?prefix=zzz`, { token: demo })).status).toBe(204);
  });

  it('refuses to delete a container that holds objects (409)', async () => {
    expect((await call('DELETE', `${acct}/tree`, { token: demo })).status).toBe(409);
    for (const n of ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd.txt']) expect((await call('DELETE', `${acct}/tree/${n}`, { token: demo })).status).toBe(204);
    expect((await call('DELETE', `${acct}/tree/c`, { token: demo })).status).toBe(404);
    expect((await call('DELETE', `${acct}/tree`, { token: demo })).status).toBe(204);
  });

  it('serves single and multiple ranges', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    await call('PUT', `${acct}/alpha/range`, { token: demo, body: data });
    const one = await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=2-5' } });
    expect(one.status).toBe(206);
    expect(one.text).toBe('2345');
    expect(one.headers.get('content-range')).toBe('bytes 2-5/20');
    expect((await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=-3' } })).text).toBe('hij');
    expect((await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=18-' } })).text).toBe('ij');
    const multi = await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=0-1,10-11' } });
    expect(multi.status).toBe(206);
    const ctype = multi.headers.get('content-type')!;
    expect(ctype).toMatch(/^multipart\/byteranges;\s*boundary=/);
    const boundary = ctype.split('boundary=')[1]!;
    expect(multi.text).toContain(`--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n`);
    expect(multi.text).toContain('Content-Range: bytes 10-11/20\r\n\r\nab\r\n');
    expect(multi.text.endsWith(`--${boundary}--`)).toBe(true);
    expect(Number(multi.headers.get('content-length'))).toBe(multi.body.length);
    const none = await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=50-60' } });
    expect(none.status).toBe(416);
    expect(none.headers.get('content-range')).toBe('bytes */20');
    expect((await call('GET', `${acct}/alpha/range`, { token: demo, headers: { range: 'bytes=garbage' } })).status).toBe(200);
  });

  it('answers conditional requests with 304 and 412', async () => {
    const data = 'conditional';
    const put = await call('PUT', `${acct}/alpha/cond`, { token: demo, body: data });
    const etag = put.headers.get('etag')!;
    const lm = put.headers.get('last-modified')!;
    const get = (headers: Record<string, string>) => call('GET', `${acct}/alpha/cond`, { token: demo, headers });
    expect((await get({ 'if-match': etag })).status).toBe(200);
    expect((await get({ 'if-match': `"${etag}"` })).status).toBe(200);
    expect((await get({ 'if-match': 'nope' })).status).toBe(412);
    expect((await get({ 'if-none-match': etag })).status).toBe(304);
    expect((await get({ 'if-none-match': 'other' })).status).toBe(200);
    expect((await get({ 'if-modified-since': lm })).status).toBe(304);
    expect((await get({ 'if-modified-since': new Date(Date.now() - 3600_000).toUTCString() })).status).toBe(200);
    expect((await get({ 'if-unmodified-since': new Date(Date.now() - 3600_000).toUTCString() })).status).toBe(412);
    expect((await get({ 'if-unmodified-since': lm })).status).toBe(200);
    const none = await call('PUT', `${acct}/alpha/cond`, { token: demo, body: 'again', headers: { 'if-none-match': '*' } });
    expect(none.status).toBe(412);
  });

  it('updates object metadata with POST and copies with COPY and X-Copy-From', async () => {
    await call('PUT', `${acct}/alpha/src`, { token: demo, body: 'source bytes', headers: { 'x-object-meta-a': '1', 'x-object-meta-b': '2', 'content-type': 'text/plain' } });
    expect((await call('POST', `${acct}/alpha/src`, { token: demo, headers: { 'x-object-meta-c': '3', 'x-object-meta-empty': '' } })).status).toBe(202);
    let h = (await call('HEAD', `${acct}/alpha/src`, { token: demo })).headers;
    expect(h.get('x-object-meta-a')).toBeNull();
    expect(h.get('x-object-meta-c')).toBe('3');
    expect(h.get('x-object-meta-empty')).toBe('');
    expect(h.get('content-type')).toBe('text/plain');
    expect((await call('POST', `${acct}/alpha/none`, { token: demo, headers: { 'x-object-meta-c': '3' } })).status).toBe(404);
    await call('PUT', `${acct}/beta`, { token: demo });
    const copy = await call('COPY', `${acct}/alpha/src`, { token: demo, headers: { destination: 'beta/copied', 'x-object-meta-d': '4' } });
    expect(copy.status).toBe(201);
    expect(copy.headers.get('x-copied-from')).toBe('alpha/src');
    expect(copy.headers.get('x-copied-from-last-modified')).toBeTruthy();
    const got = await call('GET', `${acct}/beta/copied`, { token: demo });
    expect(got.text).toBe('source bytes');
    expect(got.headers.get('x-object-meta-c')).toBe('3');
    expect(got.headers.get('x-object-meta-d')).toBe('4');
    const fresh = await call('PUT', `${acct}/beta/fresh`, { token: demo, headers: { 'x-copy-from': 'alpha/src', 'x-fresh-metadata': 'true', 'content-length': '0' } });
    expect(fresh.status).toBe(201);
    h = (await call('HEAD', `${acct}/beta/fresh`, { token: demo })).headers;
    expect(h.get('x-object-meta-c')).toBeNull();
    expect(h.get('etag')).toBe(md5('source bytes'));
    const self = await call('PUT', `${acct}/alpha/src`, { token: demo, headers: { 'x-copy-from': 'alpha/src', 'content-type': 'text/csv', 'content-length': '0' } });
    expect(self.status).toBe(201);
    expect((await call('GET', `${acct}/alpha/src`, { token: demo })).headers.get('content-type')).toBe('text/csv');
    expect((await call('COPY', `${acct}/alpha/src`, { token: demo })).status).toBe(412);
    expect((await call('PUT', `${acct}/beta/x`, { token: demo, headers: { 'x-copy-from': 'alpha/missing', 'content-length': '0' } })).status).toBe(404);
    for (const n of ['copied', 'fresh']) await call('DELETE', `${acct}/beta/${n}`, { token: demo });
  });

  it('lets a project member in, a reader only read, and keeps other projects out (403)', async () => {
    await call('PUT', `${acct}/alpha/shared`, { token: demo, body: 'secret' });
    expect((await call('GET', `${acct}/alpha/shared`, { token: reader })).status).toBe(200);
    expect((await call('GET', acct, { token: reader })).status).toBe(200);
    expect((await call('PUT', `${acct}/alpha/by-reader`, { token: reader, body: 'x' })).status).toBe(403);
    expect((await call('DELETE', `${acct}/alpha/shared`, { token: reader })).status).toBe(403);
    expect((await call('PUT', `${acct}/readers-box`, { token: reader })).status).toBe(403);
    expect((await call('POST', acct, { token: reader, headers: { 'x-account-meta-a': 'b' } })).status).toBe(403);
    expect((await call('GET', acct, { token: other })).status).toBe(403);
    expect((await call('HEAD', `${acct}/alpha`, { token: other })).status).toBe(403);
    expect((await call('GET', `${acct}/alpha/shared`, { token: other })).status).toBe(403);
    expect((await call('PUT', `${acct}/alpha/intruder`, { token: other, body: 'x' })).status).toBe(403);
    expect((await call('PUT', `${acct}/theirs`, { token: other })).status).toBe(403);
    expect((await call('GET', `${acct}/alpha/shared`)).status).toBe(401);
    expect((await call('GET', `${acct}/alpha/shared`, { token: 'not-a-token' })).status).toBe(401);
    // The admin role reaches every account (Swift's reseller admin).
    expect((await call('GET', `${acct}/alpha/shared`, { token: c.adminToken })).text).toBe('secret');
  });

  it('opens containers to other projects and the public through ACLs', async () => {
    const otherProject = await projectId(c, 'other');
    await call('PUT', `${acct}/acl`, { token: demo });
    await call('PUT', `${acct}/acl/doc`, { token: demo, body: 'shared doc' });
    expect((await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-read': `${otherProject}:*` } })).status).toBe(204);
    expect((await call('GET', `${acct}/acl/doc`, { token: other })).text).toBe('shared doc');
    expect((await call('GET', `${acct}/acl`, { token: other })).text).toBe('doc\n');
    expect((await call('PUT', `${acct}/acl/new`, { token: other, body: 'x' })).status).toBe(403);
    expect((await call('HEAD', `${acct}/acl`, { token: other })).headers.get('x-container-read')).toBeNull();
    expect((await call('HEAD', `${acct}/acl`, { token: demo })).headers.get('x-container-read')).toBe(`${otherProject}:*`);
    await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-write': `${otherProject}:other` } });
    expect((await call('PUT', `${acct}/acl/new`, { token: other, body: 'from other' })).status).toBe(201);
    expect((await call('POST', `${acct}/acl`, { token: other, headers: { 'x-container-read': '.r:*' } })).status).toBe(403);
    // Public read: objects for anyone; listings only with .rlistings.
    await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-read': '.r:*' } });
    expect((await call('GET', `${acct}/acl/doc`)).text).toBe('shared doc');
    expect((await call('GET', `${acct}/acl`)).status).toBe(401);
    await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-read': '.r:*,.rlistings' } });
    expect((await call('GET', `${acct}/acl`)).status).toBe(200);
    expect((await call('PUT', `${acct}/acl/anon`, { body: 'x' })).status).toBe(401);
    // Referrer-restricted read.
    await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-read': '.r:.example.com' } });
    expect((await call('GET', `${acct}/acl/doc`, { headers: { referer: 'https://www.example.com/page' } })).status).toBe(200);
    expect((await call('GET', `${acct}/acl/doc`, { headers: { referer: 'https://evil.test/' } })).status).toBe(401);
    expect((await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-container-write': '.r:*' } })).status).toBe(400);
    await call('POST', `${acct}/acl`, { token: demo, headers: { 'x-remove-container-read': 'x', 'x-remove-container-write': 'x' } });
    expect((await call('GET', `${acct}/acl/doc`, { token: other })).status).toBe(403);
  });

  it('refuses over-long names, bad expiry values and uploads over 5 GiB (413)', async () => {
    expect((await call('PUT', `${acct}/alpha/${'n'.repeat(1025)}`, { token: demo, body: 'x' })).status).toBe(400);
    expect((await call('PUT', `${acct}/alpha/exp`, { token: demo, body: 'x', headers: { 'x-delete-at': 'soon' } })).status).toBe(400);
    expect((await call('PUT', `${acct}/alpha/exp`, { token: demo, body: 'x', headers: { 'x-delete-at': '1000' } })).status).toBe(400);
    expect((await call('PUT', `${acct}/alpha/exp`, { token: demo, body: 'x', headers: { 'x-delete-after': '-5' } })).status).toBe(400);
    const u = new URL(`${c.url}/object-store${acct}/alpha/huge`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { 'x-auth-token': demo, 'content-length': 5 * 1024 ** 3 + 3 } });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode!); req.destroy(); });
      req.on('error', reject);
      req.write('x');
    });
    expect(status).toBe(413);
  });

  it('rejects account PUT/DELETE and unknown accounts', async () => {
    expect((await call('PUT', acct, { token: demo })).status).toBe(405);
    expect((await call('GET', '/v1/NOPE_x', { token: demo })).status).toBe(404);
  });
});
