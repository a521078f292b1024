import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { swiftClient, projectId } from '../object/helpers.js';
import { ec2Credentials, s3Client, xmlAll, xmlText, type Keys } from './helpers.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('S3 API: multipart uploads, versioning, object lock, SSE-C', () => {
  let c: TestCloud;
  let keys: Keys;
  let demoToken: string;
  const s3 = s3Client(() => c, () => keys);
  const swift = swiftClient(() => c);

  beforeAll(async () => {
    c = await testCloud();
    demoToken = await c.login('demo', 'demo-secret', 'demo');
    keys = await ec2Credentials(c, demoToken);
    await s3.request('PUT', '/mpu');
  });
  afterAll(async () => { await c.destroy(); });

  it('uploads in parts, lists uploads and parts, completes with the md5-of-md5s-N ETag, and Swift reads the whole', async () => {
    const init = await s3.request('POST', '/mpu/big.bin', [['uploads', '']], { headers: { 'x-amz-meta-kind': 'multi', 'content-type': 'application/x-big' } });
    expect(init.status, init.text).toBe(200);
    const id = xmlText(init.text, 'UploadId')!;
    const p1 = randomBytes(5 * MiB); const p2 = randomBytes(5 * MiB); const p3 = randomBytes(1234);
    const etags: string[] = [];
    for (const [n, p] of [[1, p1], [2, p2], [3, p3]] as const) {
      const r = await s3.request('PUT', '/mpu/big.bin', [['partNumber', String(n)], ['uploadId', id]], { body: p, payload: n === 2 ? 'chunked' : 'sha256' });
      expect(r.status, r.text).toBe(200);
      etags.push(r.headers.get('etag')!);
    }
    expect(etags[0]).toBe(`"${md5(p1)}"`);
    expect(xmlAll((await s3.request('GET', '/mpu', [['uploads', '']])).text, 'UploadId')).toEqual([id]);
    const parts = await s3.request('GET', '/mpu/big.bin', [['uploadId', id]]);
    expect(xmlAll(parts.text, 'PartNumber')).toEqual(['1', '2', '3']);
    const tooSmall = await s3.request('POST', '/mpu/small.bin', [['uploads', '']]);
    const sid = xmlText(tooSmall.text, 'UploadId')!;
    await s3.request('PUT', '/mpu/small.bin', [['partNumber', '1'], ['uploadId', sid]], { body: 'tiny' });
    const s2 = await s3.request('PUT', '/mpu/small.bin', [['partNumber', '2'], ['uploadId', sid]], { body: 'tiny' });
    const refuse = await s3.request('POST', '/mpu/small.bin', [['uploadId', sid]], {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${md5('tiny')}"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${s2.headers.get('etag')}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(xmlText(refuse.text, 'Code')).toBe('EntityTooSmall');
    expect((await s3.request('DELETE', '/mpu/small.bin', [['uploadId', sid]])).status).toBe(204);
    expect(xmlText((await s3.request('GET', '/mpu/small.bin', [['uploadId', sid]])).text, 'Code')).toBe('NoSuchUpload');
    const wrongOrder = await s3.request('POST', '/mpu/big.bin', [['uploadId', id]], {
      body: `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>${etags[1]}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>${etags[0]}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(xmlText(wrongOrder.text, 'Code')).toBe('InvalidPartOrder');
    const done = await s3.request('POST', '/mpu/big.bin', [['uploadId', id]], {
      body: `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
    });
    expect(done.status, done.text).toBe(200);
    const expected = `${createHash('md5').update(Buffer.concat([p1, p2, p3].map((p) => createHash('md5').update(p).digest()))).digest('hex')}-3`;
    expect(xmlText(done.text, 'ETag')).toBe(`&quot;${expected}&quot;`);
    const whole = Buffer.concat([p1, p2, p3]);
    const got = await s3.request('GET', '/mpu/big.bin');
    expect(got.headers.get('etag')).toBe(`"${expected}"`);
    expect(got.headers.get('x-amz-meta-kind')).toBe('multi');
    expect(got.headers.get('content-type')).toBe('application/x-big');
    expect(got.body.equals(whole)).toBe(true);
    const ranged = await s3.request('GET', '/mpu/big.bin', [], { headers: { range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` } });
    expect(ranged.body.equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    const pid = await projectId(c, 'demo');
    const sw = await swift.call('GET', `/v1/AUTH_${pid}/mpu/big.bin`, { token: demoToken });
    expect(sw.body.equals(whole)).toBe(true);
    expect(xmlAll((await s3.request('GET', '/mpu', [['uploads', '']])).text, 'UploadId')).toEqual([]);
    // Part copy: a range of the big object becomes part 1 of another upload.
    const cpInit = xmlText((await s3.request('POST', '/mpu/copy.bin', [['uploads', '']])).text, 'UploadId')!;
    const cp = await s3.request('PUT', '/mpu/copy.bin', [['partNumber', '1'], ['uploadId', cpInit]], { headers: { 'x-amz-copy-source': '/mpu/big.bin', 'x-amz-copy-source-range': 'bytes=0-99' } });
    expect(cp.status, cp.text).toBe(200);
    const cpEtag = xmlText(cp.text, 'ETag')!.replace(/&quot;/g, '"');
    expect((await s3.request('POST', '/mpu/copy.bin', [['uploadId', cpInit]], { body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${cpEtag}</ETag></Part></CompleteMultipartUpload>` })).status).toBe(200);
    expect((await s3.request('GET', '/mpu/copy.bin')).body.equals(whole.subarray(0, 100))).toBe(true);
  });

  it('walks through versioning as the user guide does: delete markers, restoring by deleting the marker, deleting versions for good', async () => {
    await s3.request('PUT', '/versioning-demo');
    expect(xmlText((await s3.request('GET', '/versioning-demo', [['versioning', '']])).text, 'Status')).toBeUndefined();
    await s3.request('PUT', '/versioning-demo/test.txt', [], { body: 'v0' });
    await s3.request('DELETE', '/versioning-demo/test.txt');
    expect(xmlAll((await s3.request('GET', '/versioning-demo', [['versions', '']])).text, 'Key')).toEqual([]);
    const bad = await s3.request('PUT', '/versioning-demo', [['versioning', '']], { body: '<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>' });
    expect(xmlText(bad.text, 'Code')).toBe('MalformedXML');
    expect((await s3.request('PUT', '/versioning-demo', [['versioning', '']], { body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>' })).status).toBe(200);
    expect(xmlText((await s3.request('GET', '/versioning-demo', [['versioning', '']])).text, 'Status')).toBe('Enabled');
    const v1 = await s3.request('PUT', '/versioning-demo/test.txt', [], { body: 'one' });
    const v1id = v1.headers.get('x-amz-version-id')!;
    const v2 = await s3.request('PUT', '/versioning-demo/test.txt', [], { body: 'two' });
    const v2id = v2.headers.get('x-amz-version-id')!;
    expect(v1id).not.toBe(v2id);
    expect((await s3.request('GET', '/versioning-demo/test.txt', [['versionId', v1id]])).text).toBe('one');
    const del = await s3.request('DELETE', '/versioning-demo/test.txt');
    expect(del.headers.get('x-amz-delete-marker')).toBe('true');
    const markerId = del.headers.get('x-amz-version-id')!;
    expect((await s3.request('GET', '/versioning-demo/test.txt')).status).toBe(404);
    const listing = await s3.request('GET', '/versioning-demo', [['versions', '']]);
    expect(xmlAll(listing.text, 'VersionId')).toEqual([markerId, v2id, v1id]);
    expect(listing.text).toMatch(/<DeleteMarker><Key>test.txt<\/Key><VersionId>[^<]+<\/VersionId><IsLatest>true<\/IsLatest>/);
    expect(xmlAll((await s3.request('GET', '/versioning-demo', [['list-type', '2']])).text, 'Key')).toEqual([]);
    const restore = await s3.request('DELETE', '/versioning-demo/test.txt', [['versionId', markerId]]);
    expect(restore.headers.get('x-amz-delete-marker')).toBe('true');
    expect((await s3.request('GET', '/versioning-demo/test.txt')).text).toBe('two');
    expect(xmlAll((await s3.request('GET', '/versioning-demo', [['list-type', '2']])).text, 'Key')).toEqual(['test.txt']);
    const refused = await s3.request('DELETE', '/versioning-demo');
    expect(xmlText(refused.text, 'Code')).toBe('BucketNotEmpty');
    for (const id of [v2id, v1id]) expect((await s3.request('DELETE', '/versioning-demo/test.txt', [['versionId', id]])).status).toBe(204);
    expect(xmlAll((await s3.request('GET', '/versioning-demo', [['versions', '']])).text, 'Key')).toEqual([]);
    expect((await s3.request('PUT', '/versioning-demo', [['versioning', '']], { body: '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>' })).status).toBe(200);
    expect(xmlText((await s3.request('GET', '/versioning-demo', [['versioning', '']])).text, 'Status')).toBe('Suspended');
    expect((await s3.request('DELETE', '/versioning-demo')).status).toBe(204);
  });

  it('enforces object lock: default COMPLIANCE retention, GOVERNANCE with bypass, legal hold; locked versions cannot be deleted, through S3 or Swift', async () => {
    const made = await s3.request('PUT', '/locked', [], { headers: { 'x-amz-bucket-object-lock-enabled': 'true' } });
    expect(made.status).toBe(200);
    expect(xmlText((await s3.request('GET', '/locked', [['versioning', '']])).text, 'Status')).toBe('Enabled');
    const cfg = '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>';
    expect((await s3.request('PUT', '/locked', [['object-lock', '']], { body: cfg })).status).toBe(200);
    expect(xmlText((await s3.request('GET', '/locked', [['object-lock', '']])).text, 'Mode')).toBe('COMPLIANCE');
    const put = await s3.request('PUT', '/locked/doc', [], { body: 'keep me' });
    const vid = put.headers.get('x-amz-version-id')!;
    const head = await s3.request('HEAD', '/locked/doc');
    expect(head.headers.get('x-amz-object-lock-mode')).toBe('COMPLIANCE');
    expect(Date.parse(head.headers.get('x-amz-object-lock-retain-until-date')!)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const denied = await s3.request('DELETE', '/locked/doc', [['versionId', vid]], { headers: { 'x-amz-bypass-governance-retention': 'true' } });
    expect(denied.status).toBe(403);
    expect(xmlText(denied.text, 'Code')).toBe('AccessDenied');
    const pid = await projectId(c, 'demo');
    expect((await swift.call('DELETE', `/v1/AUTH_${pid}/locked/doc?version-id=${vid}`, { token: c.adminToken })).status).toBe(403);
    const shorten = await s3.request('PUT', '/locked/doc', [['retention', ''], ['versionId', vid]], {
      body: `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${new Date(Date.now() + 60_000).toISOString()}</RetainUntilDate></Retention>`,
    });
    expect(xmlText(shorten.text, 'Code')).toBe('AccessDenied');
    const marker = await s3.request('DELETE', '/locked/doc');
    expect(marker.status).toBe(204);
    expect(marker.headers.get('x-amz-delete-marker')).toBe('true');
    expect((await s3.request('GET', '/locked/doc', [['versionId', vid]])).text).toBe('keep me');
    // GOVERNANCE: refused without the bypass header, allowed with it.
    const until = new Date(Date.now() + 3600_000).toISOString();
    const g = await s3.request('PUT', '/locked/gov', [], { body: 'g', headers: { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until } });
    const gid = g.headers.get('x-amz-version-id')!;
    expect(xmlText((await s3.request('GET', '/locked/gov', [['retention', '']])).text, 'Mode')).toBe('GOVERNANCE');
    expect((await s3.request('DELETE', '/locked/gov', [['versionId', gid]])).status).toBe(403);
    // Legal hold blocks even the bypass.
    expect((await s3.request('PUT', '/locked/gov', [['legal-hold', '']], { body: '<LegalHold><Status>ON</Status></LegalHold>' })).status).toBe(200);
    expect(xmlText((await s3.request('GET', '/locked/gov', [['legal-hold', '']])).text, 'Status')).toBe('ON');
    expect((await s3.request('DELETE', '/locked/gov', [['versionId', gid]], { headers: { 'x-amz-bypass-governance-retention': 'true' } })).status).toBe(403);
    await s3.request('PUT', '/locked/gov', [['legal-hold', '']], { body: '<LegalHold><Status>OFF</Status></LegalHold>' });
    expect((await s3.request('DELETE', '/locked/gov', [['versionId', gid]], { headers: { 'x-amz-bypass-governance-retention': 'true' } })).status).toBe(204);
    const suspend = await s3.request('PUT', '/locked', [['versioning', '']], { body: '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>' });
    expect(xmlText(suspend.text, 'Code')).toBe('InvalidBucketState');
    await s3.request('PUT', '/plain-bucket');
    const noLock = await s3.request('PUT', '/plain-bucket/x', [], { body: 'x', headers: { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until } });
    expect(xmlText(noLock.text, 'Code')).toBe('InvalidRequest');
  });

  it('encrypts with the customer\'s key (SSE-C): right key reads, no key 400, wrong key 403, bytes at rest are not the plaintext', async () => {
    const key = randomBytes(32);
    const other = randomBytes(32);
    const sse = (k: Buffer, prefix = 'x-amz-server-side-encryption-customer-') => ({
      [`${prefix}algorithm`]: 'AES256', [`${prefix}key`]: k.toString('base64'), [`${prefix}key-md5`]: createHash('md5').update(k).digest('base64'),
    });
    const data = randomBytes(100_000);
    const put = await s3.request('PUT', '/mpu/secret.bin', [], { body: data, headers: sse(key) });
    expect(put.status, put.text).toBe(200);
    expect(put.headers.get('x-amz-server-side-encryption-customer-algorithm')).toBe('AES256');
    const got = await s3.request('GET', '/mpu/secret.bin', [], { headers: sse(key) });
    expect(got.status).toBe(200);
    expect(got.body.equals(data)).toBe(true);
    const part = await s3.request('GET', '/mpu/secret.bin', [], { headers: { ...sse(key), range: 'bytes=1000-1099' } });
    expect(part.body.equals(data.subarray(1000, 1100))).toBe(true);
    const none = await s3.request('GET', '/mpu/secret.bin');
    expect(none.status).toBe(400);
    expect(xmlText(none.text, 'Code')).toBe('InvalidRequest');
    expect((await s3.request('HEAD', '/mpu/secret.bin')).status).toBe(400);
    const wrong = await s3.request('GET', '/mpu/secret.bin', [], { headers: sse(other) });
    expect(wrong.status).toBe(403);
    const badMd5 = await s3.request('GET', '/mpu/secret.bin', [], { headers: { ...sse(key), 'x-amz-server-side-encryption-customer-key-md5': 'AAAA' } });
    expect(badMd5.status).toBe(400);
    const pid = await projectId(c, 'demo');
    const raw = await swift.call('GET', `/v1/AUTH_${pid}/mpu/secret.bin`, { token: demoToken });
    expect(raw.body.length).toBe(data.length);
    expect(raw.body.equals(data)).toBe(false);
    // Copy decrypts with the source key and encrypts with the target's.
    const cp = await s3.request('PUT', '/mpu/secret-copy.bin', [], { headers: { 'x-amz-copy-source': '/mpu/secret.bin', ...sse(key, 'x-amz-copy-source-server-side-encryption-customer-'), ...sse(other) } });
    expect(cp.status, cp.text).toBe(200);
    expect((await s3.request('GET', '/mpu/secret-copy.bin', [], { headers: sse(other) })).body.equals(data)).toBe(true);
    // Multipart with SSE-C: every part under its own IV, read back across the part boundary.
    const init = await s3.request('POST', '/mpu/secret-mp.bin', [['uploads', '']], { headers: sse(key) });
    const id = xmlText(init.text, 'UploadId')!;
    const p1 = randomBytes(5 * MiB); const p2 = randomBytes(777);
    const e1 = (await s3.request('PUT', '/mpu/secret-mp.bin', [['partNumber', '1'], ['uploadId', id]], { body: p1, headers: sse(key) })).headers.get('etag');
    const wrongPart = await s3.request('PUT', '/mpu/secret-mp.bin', [['partNumber', '2'], ['uploadId', id]], { body: p2, headers: sse(other) });
    expect(wrongPart.status).toBe(403);
    const e2 = (await s3.request('PUT', '/mpu/secret-mp.bin', [['partNumber', '2'], ['uploadId', id]], { body: p2, headers: sse(key) })).headers.get('etag');
    const done = await s3.request('POST', '/mpu/secret-mp.bin', [['uploadId', id]], { body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${e2}</ETag></Part></CompleteMultipartUpload>` });
    expect(done.status, done.text).toBe(200);
    const whole = Buffer.concat([p1, p2]);
    expect((await s3.request('GET', '/mpu/secret-mp.bin', [], { headers: sse(key) })).body.equals(whole)).toBe(true);
    const across = await s3.request('GET', '/mpu/secret-mp.bin', [], { headers: { ...sse(key), range: `bytes=${5 * MiB - 5}-${5 * MiB + 5}` } });
    expect(across.body.equals(whole.subarray(5 * MiB - 5, 5 * MiB + 6))).toBe(true);
    expect((await s3.request('GET', '/mpu/secret-mp.bin')).status).toBe(400);
  });
});
