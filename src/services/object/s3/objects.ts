import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { deleteObject, findObject, putObject, setObjectSysmeta } from '../logic/objects.js';
import { contentOf, streamPieces, slice, type Content } from '../logic/large.js';
import { deleteVersion, findVersion, versionIdOf, versionsOf, versioningEnabled } from '../logic/object-versions.js';
import { evaluate } from '../logic/conditions.js';
import { parseRanges } from '../logic/ranges.js';
import { lockOf, type RetentionMode, type VersionLock } from '../logic/retention.js';
import { sysmetaOf, headersOf, type ObjectRow } from '../store.js';
import { errors, S3Error } from './errors.js';
import { child, children, doc, el, parseXml, text, textOf } from './xml.js';
import { guard, httpDate, isoDate, isTrue, quoteEtag, resolveBucket, sendXml, type Bucket, type S3Request } from './request.js';
import { readSmallBody, requestBody, type Body } from './body.js';
import { checkKey, customerKey, decryptRange, encryptor, newIv, sealParams, sseHeaders, type CustomerKey, type StoredSse } from './ssec.js';
import { versioningStatus, versionIdFor, aclXml } from './buckets.js';

/** Objects: Put, Get, Head, Delete (one or many), Copy; retention and legal hold of a version. */

/** What S3 keeps per version, out of Swift's sight. */
export interface ObjectSysmeta { lock?: VersionLock; sse?: StoredSse; parts?: number[] }

export const sysmetaOfRow = (row: Pick<ObjectRow, 'sysmeta'>): ObjectSysmeta => sysmetaOf<ObjectSysmeta>(row.sysmeta);

/** Headers Swift stores besides user metadata; S3 sets them the same way. */
const STORED = ['content-disposition', 'content-encoding', 'cache-control', 'content-language', 'expires'];

/** x-amz-meta-* → X-Object-Meta-* and the other stored headers; aws-chunked is framing, not an encoding to keep. */
export function objectHeadersOf(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('x-amz-meta-')) out[`x-object-meta-${k.slice(11)}`] = v.trim();
  for (const k of STORED) {
    let v = h[k];
    if (k === 'content-encoding' && v !== undefined) v = v.split(',').map((x) => x.trim()).filter((x) => x && x !== 'aws-chunked').join(', ');
    if (v) out[k] = v;
  }
  return out;
}

/** MD5 of the bytes passing through (the plaintext, before encryption); checks Content-MD5 when given. */
class Md5Tap extends Transform {
  private h = createHash('md5');
  hex = '';
  constructor(private expected?: string) { super(); }
  override _transform(c: Buffer, _e: BufferEncoding, done: TransformCallback): void { this.h.update(c); done(null, c); }
  override _flush(done: TransformCallback): void {
    const d = this.h.digest();
    this.hex = d.toString('hex');
    if (this.expected !== undefined && this.expected !== d.toString('base64')) return done(errors.badDigest());
    done();
  }
}

export const link = (a: Readable, b: Transform): Transform => { a.on('error', (e) => b.destroy(e)); b.on('error', () => undefined); return a.pipe(b); };

function contentMd5(h: Record<string, string>): string | undefined {
  const v = h['content-md5'];
  if (v === undefined) return undefined;
  if (Buffer.from(v, 'base64').length !== 16) throw errors.invalidDigest();
  return v.trim();
}

/** Retention and legal hold for a new version: from the request's headers, else the bucket's default rule. */
export function lockForNewVersion(s: S3Request, b: Bucket): VersionLock | undefined {
  const h = s.headers;
  const mode = h['x-amz-object-lock-mode'];
  const until = h['x-amz-object-lock-retain-until-date'];
  const hold = h['x-amz-object-lock-legal-hold'];
  const enabled = !!b.settings.objectLock?.enabled;
  if ((mode || until || hold) && !enabled) throw errors.invalidRequest('Bucket is missing Object Lock Configuration');
  if (!enabled) return undefined;
  const lock: VersionLock = {};
  if (mode || until) {
    if (!mode || !until) throw errors.invalidArgument('x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.invalidArgument('Unknown wormMode directive.');
    const t = Date.parse(until);
    if (Number.isNaN(t)) throw errors.invalidArgument('The retain until date must be a valid date');
    if (t <= Date.now()) throw errors.invalidArgument('The retain until date must be in the future!');
    lock.retention = { mode, until: t };
  } else if (b.settings.objectLock?.rule) {
    const r = b.settings.objectLock.rule;
    const days = r.days ?? (r.years ?? 0) * 365;
    lock.retention = { mode: r.mode, until: Date.now() + days * 86_400_000 };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') throw errors.invalidArgument('Legal Hold must be either of \'ON\' or \'OFF\'');
    lock.legalHold = hold === 'ON';
  }
  return Object.keys(lock).length ? lock : undefined;
}

/**
 * Writes a version from a request body (or any plaintext stream): user metadata, the
 * customer's encryption, object lock; the shared logic does the rest (quota, versioning).
 */
export async function storeObject(s: S3Request, b: Bucket, key: string, data: Readable, o: {
  length: number | null; contentType: string; headers: Record<string, string>; md5?: string; sse: CustomerKey | null; lock?: VersionLock;
}): Promise<ObjectRow> {
  const sysmeta: ObjectSysmeta = {};
  if (o.lock) sysmeta.lock = o.lock;
  let stream = data;
  let tap: Md5Tap | null = null;
  if (o.sse || o.md5 !== undefined) { tap = new Md5Tap(o.md5); stream = link(stream, tap); }
  if (o.sse) {
    const iv = newIv();
    stream = link(stream, encryptor(o.sse, iv));
    sysmeta.sse = { ...sealParams(o.sse), segments: [{ size: o.length ?? 0, iv: iv.toString('base64') }] };
  }
  const sized = sysmeta.sse;
  const row = await guard(() => putObject(s.deps, {
    account: b.account, container: b.container.name, name: key, data: stream, contentLength: o.length,
    contentType: o.contentType, headers: o.headers, deleteAt: null, sysmeta: sysmeta as Record<string, unknown>,
    etagOf: o.sse ? () => tap!.hex : undefined,
  }));
  if (sized && o.length === null) {
    // Chunked upload of unknown length: record the real size of the single segment.
    sized.segments[0]!.size = Number(row.size);
    await setObjectSysmeta(s.deps, row, sysmeta as Record<string, unknown>);
  }
  return row;
}

export async function putObjectRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  if (s.headers['x-amz-copy-source'] !== undefined) return copyObjectRequest(s, b);
  const h = s.headers;
  if (h['x-amz-server-side-encryption'] !== undefined) throw errors.notImplemented();
  const sse = customerKey(h);
  const lock = lockForNewVersion(s, b);
  if (h['if-none-match'] === '*') {
    const exists = await findObject(s.deps, b.account, b.container.name, s.key!).then(() => true, () => false);
    if (exists) throw errors.preconditionFailed();
  }
  const body: Body = requestBody(s.req.raw, s.auth, h);
  const row = await storeObject(s, b, s.key!, body.stream, {
    length: body.length, contentType: h['content-type'] || 'binary/octet-stream', headers: objectHeadersOf(h), md5: contentMd5(h), sse, lock,
  });
  s.reply.header('etag', quoteEtag(row.etag));
  if (versioningStatus(b)) s.reply.header('x-amz-version-id', versionIdFor(b, row, versionIdOf(row)));
  if (sse) s.reply.headers(sseHeaders(sse.keyMd5));
  if (body.checksum) { const v = body.checksum.value(); if (v) s.reply.header(`x-amz-checksum-${body.checksum.algorithm}`, v); }
  return s.reply.status(200).header('content-length', 0).send();
}

/** The version a GET/HEAD/DELETE/retention call names: ?versionId, else the current one. */
async function targetVersion(s: S3Request, b: Bucket): Promise<ObjectRow & { hiddenName?: string }> {
  const versionId = s.query.get('versionId');
  if (versionId !== null) {
    const row = await guard(() => findVersion(s.deps, b.container, s.key!, versionId), 'version')
      .catch((err) => { if (err instanceof S3Error && err.code === 'InvalidArgument') throw errors.invalidArgument('Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId }); throw err; });
    if (row.kind === 'marker') {
      const e = errors.methodNotAllowed();
      throw new S3Error(e.code, e.status, e.message, {}, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId });
    }
    return row;
  }
  return (await guard(() => findObject(s.deps, b.account, b.container.name, s.key!))).object;
}

function lockHeaders(lock: VersionLock): Record<string, string> {
  const out: Record<string, string> = {};
  if (lock.retention) { out['x-amz-object-lock-mode'] = lock.retention.mode; out['x-amz-object-lock-retain-until-date'] = isoDate(lock.retention.until); }
  if (lock.legalHold !== undefined) out['x-amz-object-lock-legal-hold'] = lock.legalHold ? 'ON' : 'OFF';
  return out;
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type', 'response-content-language': 'content-language', 'response-expires': 'expires',
  'response-cache-control': 'cache-control', 'response-content-disposition': 'content-disposition', 'response-content-encoding': 'content-encoding',
};

export async function getObjectRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'read');
  const row = await targetVersion(s, b);
  const meta = sysmetaOfRow(row);
  const key = customerKey(s.headers);
  checkKey(meta.sse, key);
  const content: Content = await guard(() => contentOf(s.deps, b.account, row));
  const etag = quoteEtag(row.kind === 'data' ? row.etag : content.etag);
  const reply = s.reply;
  const headers: Record<string, string | number> = {
    'content-type': row.content_type, etag, 'last-modified': httpDate(row.created_at), 'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(headersOf(row.headers))) {
    if (k.startsWith('x-object-meta-')) headers[`x-amz-meta-${k.slice(14)}`] = v;
    else if (STORED.includes(k)) headers[k] = v;
  }
  if (versioningStatus(b)) headers['x-amz-version-id'] = versionIdFor(b, row, versionIdOf(row));
  Object.assign(headers, lockHeaders(meta.lock ?? {}));
  if (meta.sse) Object.assign(headers, sseHeaders(meta.sse.keyMd5));
  if (meta.parts) headers['x-amz-mp-parts-count'] = meta.parts.length;
  if (s.ctx) for (const [q, hname] of Object.entries(RESPONSE_OVERRIDES)) { const v = s.query.get(q); if (v !== null) headers[hname] = v; }
  const verdict = evaluate({
    ifMatch: s.headers['if-match'], ifNoneMatch: s.headers['if-none-match'],
    ifModifiedSince: s.headers['if-modified-since'], ifUnmodifiedSince: s.headers['if-unmodified-since'],
  }, etag, row.created_at, true);
  if (verdict === 412) throw errors.preconditionFailed({ Condition: s.headers['if-match'] !== undefined ? 'If-Match' : 'If-Unmodified-Since' });
  if (verdict === 304) return reply.status(304).headers({ etag, 'last-modified': headers['last-modified']! }).send();
  reply.headers(headers);
  let range: { start: number; end: number } | null = null;
  const partNumber = s.query.get('partNumber');
  if (partNumber !== null) {
    const n = Number(partNumber);
    const parts = meta.parts ?? [content.size];
    if (!Number.isInteger(n) || n < 1 || n > parts.length) throw errors.invalidRange();
    const start = parts.slice(0, n - 1).reduce((a, x) => a + x, 0);
    range = { start, end: start + parts[n - 1]! - 1 };
  } else {
    const ranges = parseRanges(s.headers.range, content.size);
    if (ranges === 'unsatisfiable') throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { ActualObjectSize: String(content.size), RangeRequested: s.headers.range ?? '' }, { 'content-range': `bytes */${content.size}` });
    if (ranges && ranges.length === 1) range = ranges[0]!;
  }
  const length = range ? range.end - range.start + 1 : content.size;
  reply.header('content-length', length);
  if (range) reply.header('content-range', `bytes ${range.start}-${range.end}/${content.size}`);
  const status = range ? 206 : 200;
  if (s.req.method === 'HEAD') return reply.status(status).send();
  if (length === 0) return reply.status(status).send('');
  const stream = meta.sse && key
    ? decryptRange(meta.sse, key, range, content.size, (a, z) => streamPieces(s.deps, slice(content.pieces, a, z)))
    : streamPieces(s.deps, range ? slice(content.pieces, range.start, range.end) : content.pieces);
  return reply.status(status).send(stream);
}

interface Deleted { versionId?: string; deleteMarker?: boolean; markerVersionId?: string }

async function deleteOne(s: S3Request, b: Bucket, key: string, versionId: string | null): Promise<Deleted> {
  const bypass = isTrue(s.headers['x-amz-bypass-governance-retention']);
  if (versionId !== null) {
    let row: ObjectRow;
    try { row = await findVersion(s.deps, b.container, key, versionId); } catch (err) {
      if (err instanceof ApiError && err.status === 404) return { versionId };
      if (err instanceof ApiError && err.status === 400) throw errors.invalidArgument('Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
      throw err;
    }
    const drop = await guard(() => deleteVersion(s.deps, b.container, key, versionId, { bypassGovernance: bypass }), 'version');
    for (const k of drop) if (k) await s.deps.blobs.delete(k).catch(() => undefined);
    return { versionId, ...(row.kind === 'marker' ? { deleteMarker: true } : {}) };
  }
  try { await deleteObject(s.deps, b.account, b.container.name, key); } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err instanceof ApiError ? errors.accessDenied() : err;
  }
  if (versioningEnabled(b.container)) {
    const [newest] = await versionsOf(s.deps, s.deps.db, b.container, key);
    if (newest?.kind === 'marker') return { deleteMarker: true, markerVersionId: versionIdOf(newest) };
  }
  return {};
}

export async function deleteObjectRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const d = await deleteOne(s, b, s.key!, s.query.get('versionId'));
  if (d.deleteMarker) s.reply.header('x-amz-delete-marker', 'true');
  const vid = d.versionId ?? d.markerVersionId;
  if (vid) s.reply.header('x-amz-version-id', vid);
  return s.reply.status(204).send();
}

export async function deleteObjectsRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers, 2 << 20)).toString('utf8'));
  if (root.name !== 'Delete') throw errors.malformedXml();
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > 1000) throw errors.malformedXml();
  const quiet = textOf(root, 'Quiet') === 'true';
  const out: string[] = [];
  for (const o of objects) {
    const key = child(o, 'Key')?.text;
    if (key === undefined) throw errors.malformedXml();
    const vid = textOf(o, 'VersionId') ?? null;
    try {
      const d = await deleteOne(s, b, key, vid);
      if (!quiet) {
        out.push(el('Deleted', text('Key', key), vid ? text('VersionId', vid) : '', d.deleteMarker ? text('DeleteMarker', 'true') : '',
          d.markerVersionId ? text('DeleteMarkerVersionId', d.markerVersionId) : ''));
      }
    } catch (err) {
      const e = err instanceof S3Error ? err : new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
      out.push(el('Error', text('Key', key), vid ? text('VersionId', vid) : '', text('Code', e.code), text('Message', e.message)));
    }
  }
  return sendXml(s, 200, doc('DeleteResult', out));
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, %-encoded. */
export function copySourceOf(value: string): { bucket: string; key: string; versionId: string | null } {
  const q = value.indexOf('?');
  const path = q < 0 ? value : value.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : value.slice(q + 1));
  let decoded: string;
  try { decoded = decodeURIComponent(path).replace(/^\//, ''); } catch { throw errors.invalidArgument('Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' }); }
  const i = decoded.indexOf('/');
  if (i <= 0 || i === decoded.length - 1) throw errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  return { bucket: decoded.slice(0, i), key: decoded.slice(i + 1), versionId: params.get('versionId') };
}

/** The source of a copy (object or part copy): its row, bytes (decrypted) and the conditions checked. */
export async function copySource(s: S3Request, range?: { start: number; end: number } | null): Promise<{ row: ObjectRow; bucket: Bucket; data: Readable; size: number; versionId: string | null }> {
  const src = copySourceOf(s.headers['x-amz-copy-source']!);
  const sb = await resolveBucket(s, 'read', src.bucket);
  let row: ObjectRow;
  if (src.versionId !== null) {
    row = await guard(() => findVersion(s.deps, sb.container, src.key, src.versionId!), 'version');
    if (row.kind === 'marker') throw errors.invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
  } else row = (await guard(() => findObject(s.deps, sb.account, sb.container.name, src.key))).object;
  const meta = sysmetaOfRow(row);
  const key = customerKey(s.headers, true);
  checkKey(meta.sse, key);
  const content = await guard(() => contentOf(s.deps, sb.account, row));
  const h = s.headers;
  const verdict = evaluate({
    ifMatch: h['x-amz-copy-source-if-match'], ifNoneMatch: h['x-amz-copy-source-if-none-match'],
    ifModifiedSince: h['x-amz-copy-source-if-modified-since'], ifUnmodifiedSince: h['x-amz-copy-source-if-unmodified-since'],
  }, quoteEtag(row.etag), row.created_at, true);
  if (verdict !== 'ok') throw errors.preconditionFailed();
  if (range && (range.end >= content.size || range.start > range.end)) throw errors.invalidArgument('Range specified is not valid for source object', { ArgumentName: 'x-amz-copy-source-range' });
  const r = range ?? (content.size ? { start: 0, end: content.size - 1 } : null);
  const size = r ? r.end - r.start + 1 : 0;
  const data = !r ? streamPieces(s.deps, [])
    : meta.sse && key ? decryptRange(meta.sse, key, r, content.size, (a, z) => streamPieces(s.deps, slice(content.pieces, a, z)))
      : streamPieces(s.deps, slice(content.pieces, r.start, r.end));
  return { row, bucket: sb, data, size, versionId: versioningStatus(sb) ? versionIdFor(sb, row, versionIdOf(row)) : null };
}

async function copyObjectRequest(s: S3Request, b: Bucket): Promise<unknown> {
  const h = s.headers;
  const directive = (h['x-amz-metadata-directive'] ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw errors.invalidArgument('Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  const srcRef = copySourceOf(h['x-amz-copy-source']!);
  const sse = customerKey(h);
  if (srcRef.bucket === b.container.name && srcRef.key === s.key && directive === 'COPY' && !sse && !customerKey(h, true) && srcRef.versionId === null) {
    throw errors.invalidRequest('This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  const lock = lockForNewVersion(s, b);
  const src = await copySource(s);
  const headers = directive === 'REPLACE' ? objectHeadersOf(h) : headersOf(src.row.headers);
  for (const k of ['x-object-manifest', 'x-static-large-object']) delete headers[k];
  const row = await storeObject(s, b, s.key!, src.data, {
    length: src.size, contentType: directive === 'REPLACE' ? h['content-type'] || 'binary/octet-stream' : src.row.content_type, headers, sse, lock,
  });
  if (versioningStatus(b)) s.reply.header('x-amz-version-id', versionIdFor(b, row, versionIdOf(row)));
  if (src.versionId) s.reply.header('x-amz-copy-source-version-id', src.versionId);
  if (sse) s.reply.headers(sseHeaders(sse.keyMd5));
  return sendXml(s, 200, doc('CopyObjectResult', [text('LastModified', isoDate(row.created_at)), text('ETag', quoteEtag(row.etag))]));
}

/** The row to update for a version's retention or legal hold (an archived version lives under its hidden name). */
async function lockedTarget(s: S3Request, write: boolean): Promise<{ b: Bucket; row: ObjectRow & { hiddenName?: string }; meta: ObjectSysmeta }> {
  const b = await resolveBucket(s, write ? 'write' : 'read');
  if (!b.settings.objectLock?.enabled) throw errors.invalidRequest('Bucket is missing Object Lock Configuration');
  const row = await targetVersion(s, b);
  return { b, row, meta: sysmetaOfRow(row) };
}

const rowRef = (row: ObjectRow & { hiddenName?: string }) => ({ container_id: row.container_id, name: row.hiddenName ?? row.name, created_at: row.created_at });

export async function putRetention(s: S3Request): Promise<unknown> {
  const { row, meta } = await lockedTarget(s, true);
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers)).toString('utf8'));
  if (root.name !== 'Retention') throw errors.malformedXml();
  const mode = textOf(root, 'Mode') as RetentionMode | undefined;
  const untilText = textOf(root, 'RetainUntilDate');
  if ((mode === undefined) !== (untilText === undefined)) throw errors.malformedXml();
  if (mode !== undefined && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw errors.malformedXml();
  const until = untilText !== undefined ? Date.parse(untilText) : NaN;
  if (untilText !== undefined && (Number.isNaN(until) || until <= Date.now())) throw errors.invalidArgument('The retain until date must be in the future!');
  const current = meta.lock?.retention && meta.lock.retention.until > Date.now() ? meta.lock.retention : undefined;
  if (current) {
    const weakening = !mode || mode !== current.mode || until < current.until;
    if (weakening) {
      if (current.mode === 'COMPLIANCE') throw errors.accessDenied();
      if (!isTrue(s.headers['x-amz-bypass-governance-retention'])) throw errors.accessDenied();
    }
  }
  const lock: VersionLock = { ...meta.lock };
  if (mode) lock.retention = { mode, until }; else delete lock.retention;
  await setObjectSysmeta(s.deps, rowRef(row), { ...meta, lock } as Record<string, unknown>);
  return s.reply.status(200).header('content-length', 0).send();
}

export async function getRetention(s: S3Request): Promise<unknown> {
  const { meta } = await lockedTarget(s, false);
  const r = meta.lock?.retention;
  if (!r) throw errors.noSuchRetention();
  return sendXml(s, 200, doc('Retention', [text('Mode', r.mode), text('RetainUntilDate', isoDate(r.until))]));
}

export async function putLegalHold(s: S3Request): Promise<unknown> {
  const { row, meta } = await lockedTarget(s, true);
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers)).toString('utf8'));
  const status = textOf(root, 'Status');
  if (root.name !== 'LegalHold' || (status !== 'ON' && status !== 'OFF')) throw errors.malformedXml();
  await setObjectSysmeta(s.deps, rowRef(row), { ...meta, lock: { ...meta.lock, legalHold: status === 'ON' } } as Record<string, unknown>);
  return s.reply.status(200).header('content-length', 0).send();
}

export async function getLegalHold(s: S3Request): Promise<unknown> {
  const { meta } = await lockedTarget(s, false);
  return sendXml(s, 200, doc('LegalHold', [text('Status', lockOf({ sysmeta: JSON.stringify(meta) }).legalHold ? 'ON' : 'OFF')]));
}

export async function getObjectAcl(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'read');
  await targetVersion(s, b);
  return sendXml(s, 200, aclXml(b.account));
}
