import { authorize } from '../logic/access.js';
import { deleteContainer, findContainer, putContainer, setContainerSysmeta } from '../logic/containers.js';
import { listContainers, listObjects } from '../logic/listing.js';
import { allVersions, setVersioning, versionsContainerName, versioningEnabled } from '../logic/object-versions.js';
import { abortAll } from '../logic/uploads.js';
import { policyNamed } from '../logic/policies.js';
import { headersOf, type ContainerRow, type ObjectRow } from '../store.js';
import { errors, S3Error } from './errors.js';
import { child, doc, el, parseXml, text, textOf } from './xml.js';
import { guard, isoDate, isTrue, owner, quoteEtag, resolveBucket, sendXml, type Bucket, type BucketSysmeta, type S3Request } from './request.js';
import { readSmallBody } from './body.js';
import { uriEncode } from './sigv4.js';

/** Service and bucket operations: ListBuckets, Create/Delete/HeadBucket, location, versioning, object lock configuration, listings. */

const BUCKET_NAME = /^[a-z0-9]([a-z0-9.\-_]{0,61}[a-z0-9])?$/;

export async function listBuckets(s: S3Request): Promise<unknown> {
  if (!s.ctx?.projectId) throw errors.accessDenied();
  const account = s.ctx.projectId;
  authorizeS3(s, account, 'list');
  const entries = await listContainers(s.deps.db, s.deps.platform.dialect, account, { limit: 10000 });
  const buckets = entries.filter((e): e is { row: ContainerRow } => 'row' in e)
    .map((e) => el('Bucket', text('Name', e.row.name), text('CreationDate', isoDate(e.row.created_at))));
  return sendXml(s, 200, doc('ListAllMyBucketsResult', [owner(account, s.ctx.projectName), el('Buckets', buckets)]));
}

function authorizeS3(s: S3Request, account: string, op: 'list' | 'manage'): void {
  try { authorize({ ctx: s.ctx }, account, op); } catch { throw errors.accessDenied(); }
}

/** `<zonegroup>[:<storage policy>]`: the zonegroup is this cloud's region; the policy one of the four. */
export function policyFromLocation(location: string | undefined, region: string): string | undefined {
  if (!location) return undefined;
  const [zone, policy, ...rest] = location.split(':');
  if (rest.length || (zone !== '' && zone !== region)) {
    throw new S3Error('InvalidLocationConstraint', 400, `The specified location-constraint is not valid: use ${region} or ${region}:<storage policy>.`, { LocationConstraint: location });
  }
  if (policy === undefined || policy === '') return undefined;
  const p = policyNamed(policy);
  if (!p) throw new S3Error('InvalidLocationConstraint', 400, `Unknown storage policy '${policy}' (gp.archive, gp.intermittent, gp.recurring or hp.intensive).`, { LocationConstraint: location });
  return p;
}

export async function createBucket(s: S3Request): Promise<unknown> {
  if (!s.ctx?.projectId) throw errors.accessDenied();
  const account = s.ctx.projectId;
  authorizeS3(s, account, 'manage');
  const name = s.bucket!;
  if (!BUCKET_NAME.test(name) || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes('..')) throw errors.invalidBucketName({ BucketName: name });
  const body = (await readSmallBody(s.req.raw, s.auth, s.headers)).toString('utf8').trim();
  let location: string | undefined;
  if (body) location = textOf(parseXml(body), 'LocationConstraint');
  const policy = policyFromLocation(location, s.region);
  if (await findContainer(s.deps.db, account, name)) throw errors.bucketAlreadyOwnedByYou({ BucketName: name });
  const { container } = await guard(() => putContainer(s.deps, account, name, { policy, changes: { set: {}, remove: [] } }), 'bucket');
  if (isTrue(s.headers['x-amz-bucket-object-lock-enabled'])) {
    await setVersioning(s.deps, container, true);
    await setContainerSysmeta(s.deps, container, { objectLock: { enabled: true } } satisfies BucketSysmeta);
  }
  return s.reply.status(200).header('location', `/${name}`).header('content-length', 0).send();
}

export async function deleteBucket(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'manage');
  const c = b.container;
  const hidden = await findContainer(s.deps.db, b.account, versionsContainerName(c.name));
  if (Number(c.object_count) > 0 || (hidden && Number(hidden.object_count) > 0)) throw errors.bucketNotEmpty({ BucketName: c.name });
  await abortAll(s.deps, c);
  await guard(async () => {
    await deleteContainer(s.deps, b.account, c.name);
    if (hidden) await deleteContainer(s.deps, b.account, hidden.name);
  }, 'bucket').catch((err) => {
    if (err instanceof S3Error && err.status === 409) throw errors.bucketNotEmpty({ BucketName: c.name });
    throw err;
  });
  return s.reply.status(204).send();
}

export async function headBucket(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  return s.reply.status(200).header('x-amz-bucket-region', s.region).header('x-amz-storage-policy', b.container.policy).header('content-length', 0).send();
}

export async function getLocation(s: S3Request): Promise<unknown> {
  await resolveBucket(s, 'list');
  return sendXml(s, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${s.region}</LocationConstraint>`);
}

/** Enabled, Suspended, or undefined when versioning was never turned on. */
export function versioningStatus(b: Pick<Bucket, 'headers'>): 'Enabled' | 'Suspended' | undefined {
  const v = b.headers['x-versions-enabled'];
  return v === 'true' ? 'Enabled' : v === 'false' ? 'Suspended' : undefined;
}

export async function getVersioning(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  const status = versioningStatus(b);
  return sendXml(s, 200, doc('VersioningConfiguration', status ? [text('Status', status)] : []));
}

export async function putVersioning(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'manage');
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers)).toString('utf8'));
  if (root.name !== 'VersioningConfiguration') throw errors.malformedXml();
  const status = textOf(root, 'Status');
  if (status !== 'Enabled' && status !== 'Suspended') throw errors.malformedXml();
  if (status === 'Suspended' && b.settings.objectLock?.enabled) throw errors.invalidBucketState('An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  await guard(() => setVersioning(s.deps, b.container, status === 'Enabled'), 'bucket');
  return s.reply.status(200).header('content-length', 0).send();
}

export async function getObjectLockConfiguration(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  const lock = b.settings.objectLock;
  if (!lock?.enabled) throw errors.noSuchLockConfiguration();
  const rule = lock.rule ? el('Rule', el('DefaultRetention', text('Mode', lock.rule.mode), lock.rule.days !== undefined ? text('Days', lock.rule.days) : undefined,
    lock.rule.years !== undefined ? text('Years', lock.rule.years) : undefined)) : undefined;
  return sendXml(s, 200, doc('ObjectLockConfiguration', [text('ObjectLockEnabled', 'Enabled'), rule ?? '']));
}

export async function putObjectLockConfiguration(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'manage');
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers)).toString('utf8'));
  if (root.name !== 'ObjectLockConfiguration') throw errors.malformedXml();
  if (textOf(root, 'ObjectLockEnabled') !== 'Enabled') throw errors.malformedXml();
  if (!b.settings.objectLock?.enabled && versioningStatus(b) !== 'Enabled') {
    throw errors.invalidBucketState('Versioning must be \'Enabled\' on the bucket to apply a Object Lock configuration');
  }
  const ruleNode = child(child(root, 'Rule'), 'DefaultRetention');
  let rule: NonNullable<BucketSysmeta['objectLock']>['rule'];
  if (child(root, 'Rule')) {
    if (!ruleNode) throw errors.malformedXml();
    const mode = textOf(ruleNode, 'Mode');
    const days = textOf(ruleNode, 'Days');
    const years = textOf(ruleNode, 'Years');
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.malformedXml();
    if ((days === undefined) === (years === undefined)) throw errors.malformedXml();
    const n = Number(days ?? years);
    if (!Number.isInteger(n) || n <= 0) throw errors.invalidArgument('Default retention period must be a positive integer value');
    rule = { mode, ...(days !== undefined ? { days: n } : { years: n }) };
  }
  await setContainerSysmeta(s.deps, b.container, { ...b.settings, objectLock: { enabled: true, ...(rule ? { rule } : {}) } });
  return s.reply.status(200).header('content-length', 0).send();
}

const maxKeysOf = (s: S3Request, name = 'max-keys'): number => {
  const v = s.query.get(name);
  if (v === null) return 1000;
  if (!/^\d+$/.test(v)) throw errors.invalidArgument(`Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: v });
  return Math.min(Number(v), 1000);
};

/** `encoding-type=url`: names in the answer %-encoded (clients decode them; keys may hold any byte). */
const encoder = (s: S3Request) => {
  const et = s.query.get('encoding-type');
  if (et !== null && et !== 'url') throw errors.invalidArgument('Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  return et === 'url' ? (v: string) => uriEncode(v, true) : (v: string) => v;
};

function objectEntry(row: ObjectRow, enc: (v: string) => string, withOwner: string | null): string {
  return el('Contents', text('Key', enc(row.name)), text('LastModified', isoDate(row.created_at)), text('ETag', quoteEtag(row.etag)),
    text('Size', Number(row.size)), text('StorageClass', 'STANDARD'), withOwner ?? undefined);
}

/** ListObjects (V1) and ListObjectsV2. */
export async function listObjectsRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  const v2 = s.query.get('list-type') === '2';
  const enc = encoder(s);
  const prefix = s.query.get('prefix') ?? '';
  const delimiter = s.query.get('delimiter') ?? '';
  const maxKeys = maxKeysOf(s);
  let marker: string | undefined;
  const token = s.query.get('continuation-token');
  if (v2) {
    if (token !== null) {
      try { marker = Buffer.from(token, 'base64url').toString('utf8'); } catch { marker = undefined; }
      if (!marker) throw errors.invalidArgument('The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    } else marker = s.query.get('start-after') ?? undefined;
  } else marker = s.query.get('marker') ?? undefined;
  // A marker inside a rolled-up group: the group was answered already, continue after all of it.
  if (marker !== undefined && delimiter && marker.startsWith(prefix)) {
    const at = marker.indexOf(delimiter, prefix.length);
    if (at >= 0) marker = `${marker.slice(0, at + delimiter.length)}\u{10FFFF}`;
  }
  const entries = maxKeys === 0 ? [] : await listObjects(s.deps.db, s.deps.platform.dialect, b.container.id, { prefix, delimiter: delimiter || undefined, marker, limit: maxKeys + 1 });
  const truncated = entries.length > maxKeys;
  const page = entries.slice(0, maxKeys);
  const lastName = page.length ? ('row' in page[page.length - 1]! ? (page[page.length - 1] as { row: ObjectRow }).row.name : (page[page.length - 1] as { subdir: string }).subdir) : undefined;
  const ownerXml = !v2 || s.query.get('fetch-owner') === 'true' ? owner(b.account) : null;
  const contents = page.filter((e): e is { row: ObjectRow } => 'row' in e).map((e) => objectEntry(e.row, enc, ownerXml));
  const prefixes = page.filter((e): e is { subdir: string } => 'subdir' in e).map((e) => el('CommonPrefixes', text('Prefix', enc(e.subdir))));
  const et = s.query.get('encoding-type');
  const common = [text('Name', b.container.name), text('Prefix', enc(prefix))];
  const tail = [text('MaxKeys', maxKeys), delimiter ? text('Delimiter', enc(delimiter)) : '', et ? text('EncodingType', et) : '', text('IsTruncated', truncated)];
  if (v2) {
    return sendXml(s, 200, doc('ListBucketResult', [...common, ...tail,
      token !== null ? text('ContinuationToken', token) : '', s.query.get('start-after') !== null ? text('StartAfter', enc(s.query.get('start-after')!)) : '',
      truncated && lastName ? text('NextContinuationToken', Buffer.from(lastName).toString('base64url')) : '',
      text('KeyCount', page.length), ...contents, ...prefixes]));
  }
  return sendXml(s, 200, doc('ListBucketResult', [...common, text('Marker', enc(s.query.get('marker') ?? '')), ...tail,
    truncated && delimiter && lastName ? text('NextMarker', enc(lastName)) : '', ...contents, ...prefixes]));
}

/** The version id S3 shows: the version's timestamp once the bucket has had versioning, else "null". */
export const versionIdFor = (b: Pick<Bucket, 'headers'>, row: ObjectRow, id: string): string => (versioningStatus(b) ? id : 'null');

export async function listObjectVersions(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  const enc = encoder(s);
  const prefix = s.query.get('prefix') ?? '';
  const delimiter = s.query.get('delimiter') ?? '';
  const maxKeys = maxKeysOf(s);
  const keyMarker = s.query.get('key-marker') ?? '';
  const vidMarker = s.query.get('version-id-marker') ?? '';
  if (vidMarker && !keyMarker) throw errors.invalidArgument('A version-id marker cannot be specified without a key marker.');
  const items: string[] = [];
  const prefixes: string[] = [];
  let count = 0;
  let truncated = false;
  let next: { key: string; vid?: string } | null = null;
  let after: { name: string; versionId?: string } | undefined = keyMarker ? { name: keyMarker, ...(vidMarker && vidMarker !== 'null' ? { versionId: vidMarker } : {}) } : undefined;
  const ownerXml = owner(b.account);
  outer: for (;;) {
    for await (const v of allVersions(s.deps, b.container, { prefix, after })) {
      if (delimiter) {
        const at = v.row.name.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const cp = v.row.name.slice(0, at + delimiter.length);
          if (count >= maxKeys) { truncated = true; break outer; }
          prefixes.push(el('CommonPrefixes', text('Prefix', enc(cp))));
          count++;
          next = { key: cp };
          after = { name: `${cp}\u{10FFFF}` };
          continue outer;
        }
      }
      if (count >= maxKeys) { truncated = true; break outer; }
      const vid = versionIdFor(b, v.row, v.versionId);
      const common = [text('Key', enc(v.row.name)), text('VersionId', vid), text('IsLatest', v.latest), text('LastModified', isoDate(v.row.created_at))];
      items.push(v.row.kind === 'marker'
        ? el('DeleteMarker', ...common, ownerXml)
        : el('Version', ...common, text('ETag', quoteEtag(v.row.etag)), text('Size', Number(v.row.size)), text('StorageClass', 'STANDARD'), ownerXml));
      count++;
      next = { key: v.row.name, vid };
    }
    break;
  }
  return sendXml(s, 200, doc('ListVersionsResult', [text('Name', b.container.name), text('Prefix', enc(prefix)), text('KeyMarker', enc(keyMarker)),
    text('VersionIdMarker', vidMarker), text('MaxKeys', maxKeys), delimiter ? text('Delimiter', enc(delimiter)) : '',
    s.query.get('encoding-type') ? text('EncodingType', 'url') : '', text('IsTruncated', truncated),
    truncated && next ? text('NextKeyMarker', enc(next.key)) : '', truncated && next?.vid ? text('NextVersionIdMarker', next.vid) : '',
    ...items, ...prefixes]));
}

/** A default ACL document: the owner has full control (ACLs beyond Swift's container ACLs are not offered). */
export async function getBucketAcl(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  return sendXml(s, 200, aclXml(b.account));
}

export const aclXml = (account: string): string => doc('AccessControlPolicy', [owner(account), el('AccessControlList', el('Grant',
  `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${text('ID', account)}${text('DisplayName', account)}</Grantee>`,
  text('Permission', 'FULL_CONTROL')))]);

export { versioningEnabled, headersOf };
