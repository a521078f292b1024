import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { swiftClient, projectId } from '../object/helpers.js';
import { ec2Credentials, s3Client, xmlAll, xmlText, type Keys } from './helpers.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('S3 API: buckets, objects, listings, authentication', () => {
  let c: TestCloud;
  let keys: Keys;
  let demoToken: string;
  const s3 = s3Client(() => c, () => keys);
  const swift = swiftClient(() => c);

  beforeAll(async () => {
    c = await testCloud();
    demoToken = await c.login('demo', 'demo-secret', 'demo');
    keys = await ec2Credentials(c, demoToken);
  });
  afterAll(async () => { await c.destroy(); });

  it('lists no buckets at first, creates one with a LocationConstraint naming a storage policy, and Swift sees it', async () => {
    const empty = await s3.request('GET', '/');
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('<Buckets></Buckets>');
    const body = '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>europe-se-1:hp.intensive</LocationConstraint></CreateBucketConfiguration>';
    const made = await s3.request('PUT', '/b-hp', [], { body });
    expect(made.status, made.text).toBe(200);
    expect((await s3.request('PUT', '/b-plain')).status).toBe(200);
    const listed = await s3.request('GET', '/');
    expect(xmlAll(listed.text, 'Name')).toEqual(['b-hp', 'b-plain']);
    const pid = await projectId(c, 'demo');
    expect((await swift.call('HEAD', `/v1/AUTH_${pid}/b-hp`, { token: demoToken })).headers.get('x-storage-policy')).toBe('hp.intensive');
    expect((await swift.call('HEAD', `/v1/AUTH_${pid}/b-plain`, { token: demoToken })).headers.get('x-storage-policy')).toBe('gp.recurring');
    expect((await s3.request('HEAD', '/b-hp')).status).toBe(200);
    expect(xmlText((await s3.request('GET', '/b-hp', [['location', '']])).text, 'LocationConstraint') ?? (await s3.request('GET', '/b-hp', [['location', '']])).text).toContain('europe-se-1');
    const again = await s3.request('PUT', '/b-plain');
    expect(again.status).toBe(409);
    expect(xmlText(again.text, 'Code')).toBe('BucketAlreadyOwnedByYou');
    const bad = await s3.request('PUT', '/b-bad', [], { body: body.replace('hp.intensive', 'no.such') });
    expect(bad.status).toBe(400);
    expect(xmlText(bad.text, 'Code')).toBe('InvalidLocationConstraint');
    expect(xmlText((await s3.request('PUT', '/Bad_Name!')).text, 'Code')).toBe('InvalidBucketName');
  });

  it('puts, heads and gets objects with user metadata, ranges and conditions; NoSuchKey and NoSuchBucket', async () => {
    const data = randomBytes(100_000);
    const put = await s3.request('PUT', '/b-plain/dir/obj one.bin', [], { body: data, headers: { 'x-amz-meta-color': 'blue', 'content-type': 'application/x-test' } });
    expect(put.status, put.text).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5(data)}"`);
    const head = await s3.request('HEAD', '/b-plain/dir/obj one.bin');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('x-amz-meta-color')).toBe('blue');
    expect(head.headers.get('content-type')).toBe('application/x-test');
    const got = await s3.request('GET', '/b-plain/dir/obj one.bin');
    expect(got.body.equals(data)).toBe(true);
    const part = await s3.request('GET', '/b-plain/dir/obj one.bin', [], { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`);
    expect(part.body.equals(data.subarray(10, 20))).toBe(true);
    expect((await s3.request('GET', '/b-plain/dir/obj one.bin', [], { headers: { 'if-none-match': `"${md5(data)}"` } })).status).toBe(304);
    const pre = await s3.request('GET', '/b-plain/dir/obj one.bin', [], { headers: { 'if-match': '"0000"' } });
    expect(pre.status).toBe(412);
    expect(xmlText(pre.text, 'Code')).toBe('PreconditionFailed');
    const none = await s3.request('GET', '/b-plain/nope');
    expect(none.status).toBe(404);
    expect(xmlText(none.text, 'Code')).toBe('NoSuchKey');
    expect(xmlText(none.text, 'Resource')).toBe('/b-plain/nope');
    expect(xmlText(none.text, 'RequestId')).toBeTruthy();
    const nob = await s3.request('GET', '/no-such-bucket/x');
    expect(nob.status).toBe(404);
    expect(xmlText(nob.text, 'Code')).toBe('NoSuchBucket');
    expect((await s3.request('HEAD', '/b-plain/nope')).status).toBe(404);
    const range416 = await s3.request('GET', '/b-plain/dir/obj one.bin', [], { headers: { range: 'bytes=999999-' } });
    expect(range416.status).toBe(416);
    expect(xmlText(range416.text, 'Code')).toBe('InvalidRange');
  });

  it('refuses to delete a bucket that is not empty, then deletes it once emptied', async () => {
    await s3.request('PUT', '/b-hp/k', [], { body: 'x' });
    const refused = await s3.request('DELETE', '/b-hp');
    expect(refused.status).toBe(409);
    expect(xmlText(refused.text, 'Code')).toBe('BucketNotEmpty');
    expect((await s3.request('DELETE', '/b-hp/k')).status).toBe(204);
    expect((await s3.request('DELETE', '/b-hp/k')).status).toBe(204);
    expect((await s3.request('DELETE', '/b-hp')).status).toBe(204);
    expect((await s3.request('HEAD', '/b-hp')).status).toBe(404);
  });

  it('lists with ListObjects V1 and V2: prefix, delimiter, CommonPrefixes, max-keys, markers, continuation tokens, start-after', async () => {
    await s3.request('PUT', '/lst');
    for (const k of ['a/1', 'a/2', 'b/1', 'c', 'd', 'e+f g']) await s3.request('PUT', `/lst/${k}`, [], { body: k });
    const v2 = await s3.request('GET', '/lst', [['list-type', '2'], ['delimiter', '/']]);
    expect(xmlAll(v2.text, 'Key')).toEqual(['c', 'd', 'e+f g']);
    expect(xmlAll(v2.text, 'Prefix').filter((p) => p)).toEqual(['a/', 'b/']);
    expect(xmlText(v2.text, 'KeyCount')).toBe('5');
    const pages: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s3.request('GET', '/lst', [['list-type', '2'], ['max-keys', '2'], ...(token ? [['continuation-token', token] as [string, string]] : [])]);
      pages.push(...xmlAll(r.text, 'Key'));
      if (xmlText(r.text, 'IsTruncated') !== 'true') break;
      token = xmlText(r.text, 'NextContinuationToken');
    }
    expect(pages).toEqual(['a/1', 'a/2', 'b/1', 'c', 'd', 'e+f g']);
    const grouped: string[] = [];
    token = undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s3.request('GET', '/lst', [['list-type', '2'], ['max-keys', '1'], ['delimiter', '/'], ...(token ? [['continuation-token', token] as [string, string]] : [])]);
      grouped.push(...xmlAll(r.text, 'Key'), ...xmlAll(r.text, 'Prefix').filter(Boolean));
      if (xmlText(r.text, 'IsTruncated') !== 'true') break;
      token = xmlText(r.text, 'NextContinuationToken');
    }
    expect(grouped).toEqual(['a/', 'b/', 'c', 'd', 'e+f g']);
    const after = await s3.request('GET', '/lst', [['list-type', '2'], ['start-after', 'b/1']]);
    expect(xmlAll(after.text, 'Key')).toEqual(['c', 'd', 'e+f g']);
    const v1 = await s3.request('GET', '/lst', [['prefix', 'a/'], ['marker', 'a/1']]);
    expect(xmlAll(v1.text, 'Key')).toEqual(['a/2']);
    expect(v1.text).toContain('<Owner>');
    const url = await s3.request('GET', '/lst', [['list-type', '2'], ['encoding-type', 'url'], ['prefix', 'e']]);
    expect(xmlAll(url.text, 'Key')).toEqual(['e%2Bf%20g']);
  });

  it('copies objects (metadata COPY and REPLACE) and deletes many at once', async () => {
    await s3.request('PUT', '/lst/src', [], { body: 'copy me', headers: { 'x-amz-meta-one': '1' } });
    const cp = await s3.request('PUT', '/b-plain/copied', [], { headers: { 'x-amz-copy-source': '/lst/src' } });
    expect(cp.status, cp.text).toBe(200);
    expect(xmlText(cp.text, 'ETag')).toBe(`&quot;${md5('copy me')}&quot;`);
    const h = await s3.request('HEAD', '/b-plain/copied');
    expect(h.headers.get('x-amz-meta-one')).toBe('1');
    await s3.request('PUT', '/b-plain/replaced', [], { headers: { 'x-amz-copy-source': 'lst/src', 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-two': '2' } });
    const h2 = await s3.request('HEAD', '/b-plain/replaced');
    expect(h2.headers.get('x-amz-meta-one')).toBeNull();
    expect(h2.headers.get('x-amz-meta-two')).toBe('2');
    const self = await s3.request('PUT', '/lst/src', [], { headers: { 'x-amz-copy-source': '/lst/src' } });
    expect(xmlText(self.text, 'Code')).toBe('InvalidRequest');
    const del = '<Delete><Object><Key>a/1</Key></Object><Object><Key>a/2</Key></Object><Object><Key>missing</Key></Object></Delete>';
    const r = await s3.request('POST', '/lst', [['delete', '']], { body: del, headers: { 'content-md5': createHash('md5').update(del).digest('base64') } });
    expect(r.status, r.text).toBe(200);
    expect(xmlAll(r.text, 'Key')).toEqual(['a/1', 'a/2', 'missing']);
    const left = await s3.request('GET', '/lst', [['list-type', '2'], ['prefix', 'a/']]);
    expect(xmlAll(left.text, 'Key')).toEqual([]);
  });

  it('shares one store with Swift: S3 writes read through Swift and the other way round, metadata and ETags included', async () => {
    const pid = await projectId(c, 'demo');
    const data = randomBytes(5000);
    await s3.request('PUT', '/b-plain/cross', [], { body: data, headers: { 'x-amz-meta-origin': 's3' } });
    const sw = await swift.call('GET', `/v1/AUTH_${pid}/b-plain/cross`, { token: demoToken });
    expect(sw.status).toBe(200);
    expect(sw.body.equals(data)).toBe(true);
    expect(sw.headers.get('x-object-meta-origin')).toBe('s3');
    expect(sw.headers.get('etag')).toBe(md5(data));
    const back = randomBytes(3000);
    await swift.call('PUT', `/v1/AUTH_${pid}/b-plain/from-swift`, { token: demoToken, body: back, headers: { 'x-object-meta-origin': 'swift' } });
    const got = await s3.request('GET', '/b-plain/from-swift');
    expect(got.body.equals(back)).toBe(true);
    expect(got.headers.get('x-amz-meta-origin')).toBe('swift');
    expect(got.headers.get('etag')).toBe(`"${md5(back)}"`);
    await swift.call('PUT', `/v1/AUTH_${pid}/swift-made`, { token: demoToken });
    expect(xmlAll((await s3.request('GET', '/')).text, 'Name')).toContain('swift-made');
  });

  it('authenticates: wrong signature, unknown key, skewed clock, anonymous and another project\'s bucket are refused', async () => {
    const wrong = s3Client(() => c, () => ({ ...keys, secret: 'not-the-secret' }));
    const r1 = await wrong.request('GET', '/');
    expect(r1.status).toBe(403);
    expect(xmlText(r1.text, 'Code')).toBe('SignatureDoesNotMatch');
    const unknown = s3Client(() => c, () => ({ access: 'AKIDONTEXIST', secret: 'x' }));
    const r2 = await unknown.request('GET', '/');
    expect(r2.status).toBe(403);
    expect(xmlText(r2.text, 'Code')).toBe('InvalidAccessKeyId');
    const skew = await s3.request('GET', '/', [], { date: new Date(Date.now() - 3600_000) });
    expect(xmlText(skew.text, 'Code')).toBe('RequestTimeTooSkewed');
    // The admin project's user: the demo project's bucket is not theirs (admin role aside, a plain member of another project).
    const other = await c.api('POST', '/identity/v3/projects', { token: c.adminToken, body: { project: { name: 'other' } } });
    const user = (await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name: 'olga', password: 'olga-secret' } } })).body.user;
    const member = (await c.api('GET', '/identity/v3/roles?name=member', { token: c.adminToken })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${other.body.project.id}/users/${user.id}/roles/${member.id}`, { token: c.adminToken });
    const olgaKeys = await ec2Credentials(c, await c.login('olga', 'olga-secret', 'other'));
    const olga = s3Client(() => c, () => olgaKeys);
    const denied = await olga.request('GET', '/b-plain/cross');
    expect(denied.status).toBe(403);
    expect(xmlText(denied.text, 'Code')).toBe('AccessDenied');
    expect(xmlText((await olga.request('PUT', '/b-plain/x', [], { body: 'x' })).text, 'Code')).toBe('AccessDenied');
    expect(xmlAll((await olga.request('GET', '/')).text, 'Name')).toEqual([]);
    const anon = await fetch(`${c.url}/s3/b-plain/cross`);
    expect(anon.status).toBe(403);
  });

  it('accepts presigned URLs until they expire', async () => {
    await s3.request('PUT', '/b-plain/shared', [], { body: 'hello presigned' });
    const ok = await fetch(s3.presign('GET', '/b-plain/shared', 300));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello presigned');
    const old = await fetch(s3.presign('GET', '/b-plain/shared', 60, { date: new Date(Date.now() - 120_000) }));
    expect(old.status).toBe(403);
    expect(xmlText(await old.text(), 'Message')).toBe('Request has expired');
    const tampered = s3.presign('GET', '/b-plain/shared', 300).replace('/shared', '/cross');
    expect(xmlText(await (await fetch(tampered)).text(), 'Code')).toBe('SignatureDoesNotMatch');
    const put = await fetch(s3.presign('PUT', '/b-plain/uploaded', 300), { method: 'PUT', body: 'via presigned PUT' });
    expect(put.status).toBe(200);
    expect((await s3.request('GET', '/b-plain/uploaded')).text).toBe('via presigned PUT');
  });

  it('decodes aws-chunked uploads: signed chunks, unsigned chunks with a CRC32 trailer; bad chunk signatures and digests are refused', async () => {
    const data = randomBytes(200_000);
    const signed = await s3.request('PUT', '/b-plain/chunked', [], { body: data, payload: 'chunked', chunkSize: 65536 });
    expect(signed.status, signed.text).toBe(200);
    expect((await s3.request('GET', '/b-plain/chunked')).body.equals(data)).toBe(true);
    const trailer = await s3.request('PUT', '/b-plain/trailer', [], { body: data, payload: 'trailer', chunkSize: 50_000 });
    expect(trailer.status, trailer.text).toBe(200);
    expect(trailer.headers.get('x-amz-checksum-crc32')).toBeTruthy();
    const got = await s3.request('GET', '/b-plain/trailer');
    expect(got.body.equals(data)).toBe(true);
    expect(got.headers.get('content-encoding')).toBeNull();
    const bad = await s3.request('PUT', '/b-plain/badchunk', [], { body: data, payload: 'chunked', badChunk: true });
    expect(bad.status).toBe(403);
    expect(xmlText(bad.text, 'Code')).toBe('SignatureDoesNotMatch');
    expect((await s3.request('HEAD', '/b-plain/badchunk')).status).toBe(404);
    const mismatch = await s3.request('PUT', '/b-plain/badsha', [], { body: 'abc', claimedSha256: 'f'.repeat(64) });
    expect(xmlText(mismatch.text, 'Code')).toBe('XAmzContentSHA256Mismatch');
    expect((await s3.request('HEAD', '/b-plain/badsha')).status).toBe(404);
    const badMd5 = await s3.request('PUT', '/b-plain/badmd5', [], { body: 'abc', headers: { 'content-md5': createHash('md5').update('xyz').digest('base64') } });
    expect(xmlText(badMd5.text, 'Code')).toBe('BadDigest');
    const unsigned = await s3.request('PUT', '/b-plain/unsigned', [], { body: 'unsigned body', payload: 'unsigned' });
    expect(unsigned.status).toBe(200);
  });

  it('answers virtual-host-style requests (<bucket>.s3.<domain>)', async () => {
    const port = new URL(c.url).port;
    const r = await s3.request('GET', '/shared', [], { host: `b-plain.s3.example.test:${port}` });
    expect(r.status, r.text).toBe(200);
    expect(r.text).toBe('hello presigned');
    const list = await s3.request('GET', '/', [['list-type', '2'], ['prefix', 'sha']], { host: `b-plain.s3.example.test:${port}` });
    expect(xmlAll(list.text, 'Key')).toEqual(['shared']);
  });
});
