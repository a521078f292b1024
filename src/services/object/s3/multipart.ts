import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { abortUpload, completeUpload, createUpload, findUpload, listParts, listUploads, MAX_PARTS, PartError, putPart } from '../logic/uploads.js';
import { versionIdOf } from '../logic/object-versions.js';
import { sysmetaOf, type PartRow, type UploadRow } from '../store.js';
import { errors, S3Error } from './errors.js';
import { children, doc, el, parseXml, text, textOf } from './xml.js';
import { guard, isoDate, owner, quoteEtag, resolveBucket, sendXml, type Bucket, type S3Request } from './request.js';
import { readSmallBody, requestBody } from './body.js';
import { checkKey, customerKey, encryptor, newIv, sealParams, sseHeaders, type StoredSse } from './ssec.js';
import { copySource, link, lockForNewVersion, objectHeadersOf, type ObjectSysmeta } from './objects.js';
import { versioningStatus, versionIdFor } from './buckets.js';

/**
 * Multipart uploads: Create, UploadPart (and UploadPartCopy), ListParts, Complete, Abort,
 * ListMultipartUploads. The upload remembers the object's metadata, lock settings and,
 * with SSE-C, the key's salted hash; each part is encrypted with its own IV and the
 * completed object keeps the list, so it decrypts part by part.
 */
interface UploadSysmeta { lock?: ObjectSysmeta['lock']; sse?: Omit<StoredSse, 'segments'> }
interface PartSysmeta { iv?: string }

async function upload(s: S3Request, b: Bucket): Promise<UploadRow> {
  const id = s.query.get('uploadId')!;
  try { return await findUpload(s.deps, b.container, s.key!, id); } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw errors.noSuchUpload({ UploadId: id });
    throw err;
  }
}

export async function createMultipart(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const h = s.headers;
  if (h['x-amz-server-side-encryption'] !== undefined) throw errors.notImplemented();
  const sse = customerKey(h);
  const lock = lockForNewVersion(s, b);
  const sysmeta: UploadSysmeta = {};
  if (lock) sysmeta.lock = lock;
  if (sse) sysmeta.sse = sealParams(sse);
  const u = await guard(() => createUpload(s.deps, b.container, s.key!, {
    contentType: h['content-type'] || 'binary/octet-stream', headers: objectHeadersOf(h), sysmeta: sysmeta as Record<string, unknown>, owner: s.ctx?.userId ?? '',
  }));
  if (sse) s.reply.headers(sseHeaders(sse.keyMd5));
  return sendXml(s, 200, doc('InitiateMultipartUploadResult', [text('Bucket', b.container.name), text('Key', s.key!), text('UploadId', u.id)]));
}

class Md5 extends Transform {
  private h = createHash('md5');
  hex = '';
  override _transform(c: Buffer, _e: BufferEncoding, done: TransformCallback): void { this.h.update(c); done(null, c); }
  override _flush(done: TransformCallback): void { this.hex = this.h.digest('hex'); done(); }
}

function partNumberOf(s: S3Request): number {
  const v = s.query.get('partNumber') ?? '';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_PARTS) throw errors.invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: v });
  return n;
}

export async function uploadPart(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const n = partNumberOf(s);
  const u = await upload(s, b);
  const meta = sysmetaOf<UploadSysmeta>(u.sysmeta);
  const sse = customerKey(s.headers);
  checkKey(meta.sse, sse);
  let data: Readable;
  let length: number | null;
  let checksum: { algorithm: string; value: () => string | undefined } | undefined;
  let copied: { row: { created_at: number } } | null = null;
  if (s.headers['x-amz-copy-source'] !== undefined) {
    const spec = s.headers['x-amz-copy-source-range'];
    let range: { start: number; end: number } | null = null;
    if (spec !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(spec.trim());
      if (!m) throw errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range' });
      range = { start: Number(m[1]), end: Number(m[2]) };
    }
    const src = await copySource(s, range);
    data = src.data; length = src.size; copied = src;
  } else {
    const body = requestBody(s.req.raw, s.auth, s.headers);
    data = body.stream; length = body.length; checksum = body.checksum;
    const md5 = s.headers['content-md5'];
    if (md5 !== undefined) {
      const expected = md5.trim();
      const check = new (class extends Transform {
        private h = createHash('md5');
        override _transform(c: Buffer, _e: BufferEncoding, done: TransformCallback) { this.h.update(c); done(null, c); }
        override _flush(done: TransformCallback) { done(this.h.digest('base64') === expected ? null : errors.badDigest()); }
      })();
      data = link(data, check);
    }
  }
  const partMeta: PartSysmeta = {};
  const tap = new Md5();
  if (sse) {
    data = link(data, tap);
    const iv = newIv();
    partMeta.iv = iv.toString('base64');
    const enc = encryptor(sse, iv);
    data = link(data, enc);
  }
  const part = await guard(() => putPart(s.deps, u, n, data, { contentLength: length, sysmeta: partMeta as Record<string, unknown>, etagOf: sse ? () => tap.hex : undefined }))
    .catch((err) => { if (err instanceof S3Error && err.code === 'NoSuchKey') throw errors.noSuchUpload(); throw err; });
  if (sse) s.reply.headers(sseHeaders(sse.keyMd5));
  if (copied) return sendXml(s, 200, doc('CopyPartResult', [text('LastModified', isoDate(part.created_at)), text('ETag', quoteEtag(part.etag))]));
  s.reply.header('etag', quoteEtag(part.etag));
  if (checksum) { const v = checksum.value(); if (v) s.reply.header(`x-amz-checksum-${checksum.algorithm}`, v); }
  return s.reply.status(200).header('content-length', 0).send();
}

export async function listPartsRequest(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'read');
  const u = await upload(s, b);
  const marker = Number(s.query.get('part-number-marker') ?? 0) || 0;
  const max = Math.min(Number(s.query.get('max-parts') ?? 1000) || 1000, 1000);
  const parts = await listParts(s.deps, u, marker, max + 1);
  const page = parts.slice(0, max);
  const truncated = parts.length > max;
  return sendXml(s, 200, doc('ListPartsResult', [text('Bucket', b.container.name), text('Key', u.name), text('UploadId', u.id),
    owner(b.account), el('Initiator', text('ID', u.owner || b.account), text('DisplayName', u.owner || b.account)), text('StorageClass', 'STANDARD'),
    text('PartNumberMarker', marker), text('NextPartNumberMarker', page.length ? page[page.length - 1]!.part_number : 0),
    text('MaxParts', max), text('IsTruncated', truncated),
    ...page.map((p) => el('Part', text('PartNumber', p.part_number), text('LastModified', isoDate(p.created_at)), text('ETag', quoteEtag(p.etag)), text('Size', Number(p.size))))]));
}

export async function completeMultipart(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const u = await upload(s, b);
  const root = parseXml((await readSmallBody(s.req.raw, s.auth, s.headers, 4 << 20)).toString('utf8'));
  if (root.name !== 'CompleteMultipartUpload') throw errors.malformedXml();
  const chosen = children(root, 'Part').map((p) => {
    const n = Number(textOf(p, 'PartNumber'));
    const etag = textOf(p, 'ETag');
    if (!Number.isInteger(n) || etag === undefined) throw errors.malformedXml();
    return { partNumber: n, etag };
  });
  if (chosen.length === 0) throw errors.malformedXml();
  const meta = sysmetaOf<UploadSysmeta>(u.sysmeta);
  const row = await guard(() => completeUpload(s.deps, u, b.account, b.container.name, chosen, (parts: PartRow[]) => {
    const sm: ObjectSysmeta = { parts: parts.map((p) => Number(p.size)) };
    if (meta.sse) sm.sse = { ...meta.sse, segments: parts.map((p) => ({ size: Number(p.size), iv: sysmetaOf<PartSysmeta>(p.sysmeta).iv ?? '' })) };
    return sm as Record<string, unknown>;
  })).catch((err) => {
    if (err instanceof PartError) throw err.kind === 'order' ? errors.invalidPartOrder() : err.kind === 'small' ? errors.entityTooSmall() : errors.invalidPart();
    throw err;
  });
  if (versioningStatus(b)) s.reply.header('x-amz-version-id', versionIdFor(b, row, versionIdOf(row)));
  const location = `${s.deps.platform.baseUrl()}/${encodeURIComponent(b.container.name)}/${s.key!.split('/').map(encodeURIComponent).join('/')}`;
  return sendXml(s, 200, doc('CompleteMultipartUploadResult', [text('Location', location), text('Bucket', b.container.name), text('Key', u.name), text('ETag', quoteEtag(row.etag))]));
}

export async function abortMultipart(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'write');
  const u = await upload(s, b);
  await abortUpload(s.deps, u);
  return s.reply.status(204).send();
}

export async function listMultipartUploads(s: S3Request): Promise<unknown> {
  const b = await resolveBucket(s, 'list');
  const prefix = s.query.get('prefix') ?? '';
  const keyMarker = s.query.get('key-marker') ?? undefined;
  const uploadIdMarker = s.query.get('upload-id-marker') ?? undefined;
  const max = Math.min(Number(s.query.get('max-uploads') ?? 1000) || 1000, 1000);
  const rows = await listUploads(s.deps, s.deps.platform.dialect, b.container, { prefix, keyMarker, uploadIdMarker, limit: max + 1 });
  const page = rows.slice(0, max);
  const truncated = rows.length > max;
  const last = page[page.length - 1];
  return sendXml(s, 200, doc('ListMultipartUploadsResult', [text('Bucket', b.container.name), text('KeyMarker', keyMarker ?? ''), text('UploadIdMarker', uploadIdMarker ?? ''),
    text('NextKeyMarker', truncated && last ? last.name : ''), text('NextUploadIdMarker', truncated && last ? last.id : ''), text('Prefix', prefix),
    text('MaxUploads', max), text('IsTruncated', truncated),
    ...page.map((u) => el('Upload', text('Key', u.name), text('UploadId', u.id), el('Initiator', text('ID', u.owner || b.account), text('DisplayName', u.owner || b.account)),
      owner(b.account), text('StorageClass', 'STANDARD'), text('Initiated', isoDate(u.created_at))))]));
}
