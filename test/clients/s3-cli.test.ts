import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';
import { projectId, swiftClient } from '../services/object/helpers.js';

const has = (bin: string) => { try { execFileSync('which', [bin], { stdio: 'ignore' }); return true; } catch { return false; } };

/** The real `aws` (s3 and s3api) and `s3cmd` clients against the S3 API, with EC2 credentials from `openstack ec2 credentials create`. */
describe.skipIf(!has('aws') || !has('openstack'))('aws and s3cmd CLIs against the S3 API', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  let access = '';
  let secret = '';
  let awsEnv: NodeJS.ProcessEnv = {};
  const aws = async (args: string[]) => cli.sh('aws', ['--endpoint-url', c.url, ...args], awsEnv);
  const awsJson = async (args: string[]) => {
    const r = await aws([...args, '--output', 'json']);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };
  const file = (name: string, data: Buffer) => { const p = join(c.dataDir, name); writeFileSync(p, data); return p; };

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
    const cred = await cli.json(['ec2', 'credentials', 'create']);
    access = cred.access; secret = cred.secret;
    awsEnv = {
      AWS_ACCESS_KEY_ID: access, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(c.dataDir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(c.dataDir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
    };
  });
  afterAll(async () => { await c.destroy(); });

  it('makes buckets (with a LocationConstraint policy), copies small and multipart files both ways, lists and removes', async () => {
    const mb = await aws(['s3', 'mb', 's3://b1']);
    expect(mb.code, mb.stderr).toBe(0);
    const hp = await aws(['s3api', 'create-bucket', '--bucket', 'b-hp', '--create-bucket-configuration', 'LocationConstraint=europe-se-1:hp.intensive']);
    expect(hp.code, hp.stderr).toBe(0);
    const buckets = await awsJson(['s3api', 'list-buckets']);
    expect(buckets.Buckets.map((b: { Name: string }) => b.Name)).toEqual(['b-hp', 'b1']);
    const small = randomBytes(1000);
    const big = randomBytes(9 * 1024 * 1024 + 123);
    const up1 = await aws(['s3', 'cp', file('small.bin', small), 's3://b1/small.bin']);
    expect(up1.code, up1.stderr).toBe(0);
    const up2 = await aws(['s3', 'cp', file('big.bin', big), 's3://b1/dir/big.bin']);
    expect(up2.code, up2.stderr).toBe(0);
    const head = await awsJson(['s3api', 'head-object', '--bucket', 'b1', '--key', 'dir/big.bin']);
    expect(head.ETag).toMatch(/-2"$/);
    expect(head.ContentLength).toBe(big.length);
    const ls = await aws(['s3', 'ls', 's3://b1']);
    expect(ls.stdout).toContain('small.bin');
    expect(ls.stdout).toContain('PRE dir/');
    const rec = await aws(['s3', 'ls', '--recursive', 's3://b1']);
    expect(rec.stdout).toContain('dir/big.bin');
    const down = join(c.dataDir, 'big.down');
    const d = await aws(['s3', 'cp', 's3://b1/dir/big.bin', down]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(down).equals(big)).toBe(true);
    const full = await aws(['s3api', 'delete-bucket', '--bucket', 'b1']);
    expect(full.code).not.toBe(0);
    expect(full.stderr).toContain('BucketNotEmpty');
    expect((await aws(['s3', 'rm', '--recursive', 's3://b1'])).code).toBe(0);
    expect((await aws(['s3', 'rb', 's3://b1'])).code).toBe(0);
  });

  it('follows the versioning walk-through with s3api and sets object retention', async () => {
    expect((await aws(['s3api', 'create-bucket', '--bucket', 'versioning-demo'])).code).toBe(0);
    const none = await aws(['s3api', 'get-bucket-versioning', '--bucket', 'versioning-demo']);
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe('');
    const txt = file('test.txt', Buffer.from('hello versions'));
    expect((await aws(['s3api', 'put-bucket-versioning', '--bucket', 'versioning-demo', '--versioning-configuration', 'Status=Enabled'])).code).toBe(0);
    expect((await aws(['s3', 'cp', txt, 's3://versioning-demo/test.txt'])).code).toBe(0);
    expect((await aws(['s3', 'rm', 's3://versioning-demo/test.txt'])).code).toBe(0);
    const versions = await awsJson(['s3api', 'list-object-versions', '--bucket', 'versioning-demo']);
    expect(versions.Versions).toHaveLength(1);
    expect(versions.DeleteMarkers).toHaveLength(1);
    expect((await aws(['s3', 'ls', 's3://versioning-demo'])).stdout).not.toContain('test.txt');
    const del = await aws(['s3api', 'delete-object', '--bucket', 'versioning-demo', '--key', 'test.txt', '--version-id', versions.DeleteMarkers[0].VersionId]);
    expect(del.code, del.stderr).toBe(0);
    expect((await aws(['s3', 'ls', 's3://versioning-demo'])).stdout).toContain('test.txt');
    expect((await aws(['s3api', 'delete-object', '--bucket', 'versioning-demo', '--key', 'test.txt', '--version-id', versions.Versions[0].VersionId])).code).toBe(0);
    const after = await awsJson(['s3api', 'list-object-versions', '--bucket', 'versioning-demo']);
    expect(after?.Versions ?? []).toHaveLength(0);

    const lockMade = await aws(['s3api', 'create-bucket', '--bucket', 'locked', '--create-bucket-configuration', 'LocationConstraint=europe-se-1:gp.recurring', '--object-lock-enabled-for-bucket']);
    expect(lockMade.code, lockMade.stderr).toBe(0);
    expect((await awsJson(['s3api', 'get-bucket-versioning', '--bucket', 'locked'])).Status).toBe('Enabled');
    const cfg = await aws(['s3api', 'put-object-lock-configuration', '--bucket', 'locked', '--object-lock-configuration', '{ "ObjectLockEnabled": "Enabled", "Rule": { "DefaultRetention": { "Mode": "COMPLIANCE", "Days": 1 }}}']);
    expect(cfg.code, cfg.stderr).toBe(0);
    const put = await awsJson(['s3api', 'put-object', '--bucket', 'locked', '--key', 'doc', '--body', txt]);
    const until = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const ret = await aws(['s3api', 'put-object-retention', '--bucket', 'locked', '--key', 'doc', '--version-id', put.VersionId, '--retention', `Mode=COMPLIANCE,RetainUntilDate=${until}`]);
    expect(ret.code, ret.stderr).toBe(0);
    const got = await awsJson(['s3api', 'get-object-retention', '--bucket', 'locked', '--key', 'doc', '--version-id', put.VersionId]);
    expect(got.Retention.Mode).toBe('COMPLIANCE');
    const refused = await aws(['s3api', 'delete-object', '--bucket', 'locked', '--key', 'doc', '--version-id', put.VersionId]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('AccessDenied');
  });

  it('uploads and downloads with SSE-C (--sse-c AES256 --sse-c-key); a download without the key fails', async () => {
    expect((await aws(['s3', 'mb', 's3://demo'])).code).toBe(0);
    const keyFile = file('ssec.key', randomBytes(32));
    const data = randomBytes(20_000);
    const up = await aws(['s3', 'cp', file('text.txt', data), 's3://demo/text.txt', '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    expect(up.code, up.stderr).toBe(0);
    const out = join(c.dataDir, 'text.down');
    const down = await aws(['s3', 'cp', 's3://demo/text.txt', out, '--sse-c', 'AES256', '--sse-c-key', `fileb://${keyFile}`]);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const nokey = await aws(['s3', 'cp', 's3://demo/text.txt', join(c.dataDir, 'nokey')]);
    expect(nokey.code).not.toBe(0);
  });

  it.skipIf(!has('s3cmd'))('puts, lists and gets with s3cmd', async () => {
    const host = new URL(c.url).host;
    const cfg = join(c.dataDir, 's3cfg');
    writeFileSync(cfg, [
      '[default]', `access_key = ${access}`, `secret_key = ${secret}`, `host_base = ${host}`, `host_bucket = ${host}`,
      'use_https = False', 'signature_v2 = False', 'bucket_location = US', 'check_ssl_certificate = False', '',
    ].join('\n'));
    const s3cmd = (args: string[]) => cli.sh('s3cmd', ['-c', cfg, ...args]);
    const mb = await s3cmd(['mb', 's3://cmd-bucket']);
    expect(mb.code, mb.stderr).toBe(0);
    const data = randomBytes(30_000);
    const put = await s3cmd(['put', file('cmd.bin', data), 's3://cmd-bucket/cmd.bin']);
    expect(put.code, put.stderr).toBe(0);
    const ls = await s3cmd(['ls', 's3://cmd-bucket']);
    expect(ls.stdout).toContain('s3://cmd-bucket/cmd.bin');
    const out = join(c.dataDir, 'cmd.down');
    const get = await s3cmd(['get', 's3://cmd-bucket/cmd.bin', out]);
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const la = await s3cmd(['ls']);
    expect(la.stdout).toContain('s3://cmd-bucket');
  });

  it('shares data with Swift: put through aws, read through Swift, and back', async () => {
    const swift = swiftClient(() => c);
    const token = await c.login('demo', 'demo-secret', 'demo');
    const pid = await projectId(c, 'demo');
    expect((await aws(['s3', 'mb', 's3://cross'])).code).toBe(0);
    const data = randomBytes(4096);
    expect((await aws(['s3', 'cp', file('x.bin', data), 's3://cross/x.bin', '--metadata', 'origin=aws'])).code).toBe(0);
    const sw = await swift.call('GET', `/v1/AUTH_${pid}/cross/x.bin`, { token });
    expect(sw.body.equals(data)).toBe(true);
    expect(sw.headers.get('x-object-meta-origin')).toBe('aws');
    expect(sw.headers.get('etag')).toBe(createHash('md5').update(data).digest('hex'));
    const back = randomBytes(2048);
    await swift.call('PUT', `/v1/AUTH_${pid}/cross/from-swift.bin`, { token, body: back });
    const out = join(c.dataDir, 'from-swift.down');
    expect((await aws(['s3', 'cp', 's3://cross/from-swift.bin', out])).code).toBe(0);
    expect(readFileSync(out).equals(back)).toBe(true);
  });
});
