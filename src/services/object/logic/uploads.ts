import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { ApiError } from '../../../platform/http/errors.js';
import type { Dialect } from '../../../platform/db/index.js';
import type { ContainerRow, ObjectRow, PartRow, UploadRow } from '../store.js';
import { newBlobKey, stamp, type ObjectDeps } from './deps.js';
import { checkObjectName, checkMetadata, CONSTRAINTS } from './constraints.js';
import { commitObject, dropBlobs } from './objects.js';
import { streamPieces, type Piece } from './large.js';

/**
 * Multipart uploads (S3's way to write a large object): an upload is opened for a name,
 * parts arrive in any order (each a blob of its own, replaceable), and completion joins
 * the chosen parts, in order, into one stored object whose ETag is the MD5 of the parts'
 * MD5s with the part count (`<hex>-<n>`), as S3 clients expect. Aborting or completing
 * frees the parts' blobs.
 */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PARTS = 10000;

export async function createUpload(deps: ObjectDeps, c: ContainerRow, name: string, o: { contentType: string; headers: Record<string, string>; sysmeta?: Record<string, unknown>; owner: string }): Promise<UploadRow> {
  checkObjectName(name);
  checkMetadata(o.headers, 'x-object-meta-');
  const row: UploadRow = {
    id: randomBytes(24).toString('base64url'), container_id: c.id, name, content_type: o.contentType, headers: JSON.stringify(o.headers),
    sysmeta: o.sysmeta && Object.keys(o.sysmeta).length ? JSON.stringify(o.sysmeta) : null, owner: o.owner, created_at: stamp(),
  };
  await deps.db.insertInto('object_upload').values(row).execute();
  return row;
}

export async function findUpload(deps: ObjectDeps, c: ContainerRow, name: string, id: string): Promise<UploadRow> {
  const row = await deps.db.selectFrom('object_upload').selectAll().where('id', '=', id).where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
  if (!row) throw new ApiError(404, 'No such upload');
  return row;
}

/** Stores one part (replacing an earlier part of the same number). */
export async function putPart(deps: ObjectDeps, upload: UploadRow, partNumber: number, data: Readable, o: { contentLength: number | null; sysmeta?: Record<string, unknown>; etagOf?: (md5: string) => string }): Promise<PartRow> {
  if (o.contentLength !== null && o.contentLength > CONSTRAINTS.max_file_size) throw new ApiError(413, 'Your request is too large.');
  const key = newBlobKey();
  const info = await deps.blobs.put(key, data, { maxBytes: CONSTRAINTS.max_file_size, hashes: ['md5'] });
  const row: PartRow = {
    upload_id: upload.id, part_number: partNumber, size: info.size, etag: o.etagOf ? o.etagOf(info.md5) : info.md5, blob_key: key,
    sysmeta: o.sysmeta && Object.keys(o.sysmeta).length ? JSON.stringify(o.sysmeta) : null, created_at: stamp(),
  };
  let old: PartRow | undefined;
  try {
    await deps.db.transaction().execute(async (trx) => {
      const live = await trx.selectFrom('object_upload').select('id').where('id', '=', upload.id).executeTakeFirst();
      if (!live) throw new ApiError(404, 'No such upload');
      old = await trx.selectFrom('object_upload_part').selectAll().where('upload_id', '=', upload.id).where('part_number', '=', partNumber).executeTakeFirst();
      if (old) await trx.deleteFrom('object_upload_part').where('upload_id', '=', upload.id).where('part_number', '=', partNumber).execute();
      await trx.insertInto('object_upload_part').values(row).execute();
    });
  } catch (err) {
    await dropBlobs(deps, [key]);
    throw err;
  }
  await dropBlobs(deps, [old?.blob_key]);
  return row;
}

export async function listParts(deps: ObjectDeps, upload: UploadRow, after = 0, limit = 1000): Promise<PartRow[]> {
  return deps.db.selectFrom('object_upload_part').selectAll().where('upload_id', '=', upload.id).where('part_number', '>', after)
    .orderBy('part_number', 'asc').limit(limit).execute();
}

export async function listUploads(deps: ObjectDeps, dialect: Dialect, c: ContainerRow, o: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; limit: number }): Promise<UploadRow[]> {
  const col = dialect === 'postgres' ? sql`name collate "C"` : sql`name`;
  let q = deps.db.selectFrom('object_upload').selectAll().where('container_id', '=', c.id);
  if (o.prefix) q = q.where(sql<boolean>`substr(name, 1, ${o.prefix.length}) = ${o.prefix}`);
  if (o.keyMarker !== undefined) {
    const km = o.keyMarker;
    q = o.uploadIdMarker
      ? q.where((eb) => eb.or([eb(sql`${col}`, '>', km), eb.and([eb('name', '=', km), eb('created_at', '>', sql<number>`(select created_at from object_upload where id = ${o.uploadIdMarker})`)])]))
      : q.where(sql<boolean>`${col} > ${km}`);
  }
  return q.orderBy(col, 'asc').orderBy('created_at', 'asc').limit(o.limit).execute();
}

export async function abortUpload(deps: ObjectDeps, upload: UploadRow): Promise<void> {
  const parts = await deps.db.selectFrom('object_upload_part').select('blob_key').where('upload_id', '=', upload.id).execute();
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('object_upload_part').where('upload_id', '=', upload.id).execute();
    await trx.deleteFrom('object_upload').where('id', '=', upload.id).execute();
  });
  await dropBlobs(deps, parts.map((p) => p.blob_key));
}

/** Drops every upload of a container (before the container goes). */
export async function abortAll(deps: ObjectDeps, c: ContainerRow): Promise<void> {
  for (const u of await deps.db.selectFrom('object_upload').selectAll().where('container_id', '=', c.id).execute()) await abortUpload(deps, u);
}

export class PartError extends Error {
  constructor(readonly kind: 'missing' | 'order' | 'small', message: string) { super(message); }
}

/**
 * Joins the listed parts into the object. `chosen` is the client's list (part number and
 * ETag), which must be ascending and name stored parts; all but the last must be at least
 * MIN_PART_SIZE. `sysmeta` is given the parts actually used (for per-part settings).
 */
export async function completeUpload(deps: ObjectDeps, upload: UploadRow, account: string, container: string, chosen: { partNumber: number; etag: string }[],
  sysmeta: (parts: PartRow[]) => Record<string, unknown>): Promise<ObjectRow> {
  if (chosen.length === 0) throw new PartError('missing', 'You must specify at least one part');
  const stored = new Map((await deps.db.selectFrom('object_upload_part').selectAll().where('upload_id', '=', upload.id).execute()).map((p) => [Number(p.part_number), p]));
  const parts: PartRow[] = [];
  let last = 0;
  for (const c of chosen) {
    if (c.partNumber <= last) throw new PartError('order', 'The list of parts was not in ascending order.');
    last = c.partNumber;
    const p = stored.get(c.partNumber);
    if (!p || c.etag.replace(/"/g, '').toLowerCase() !== p.etag) throw new PartError('missing', `Part ${c.partNumber} is missing or its ETag does not match.`);
    parts.push(p);
  }
  for (const p of parts.slice(0, -1)) if (Number(p.size) < MIN_PART_SIZE) throw new PartError('small', `Part ${p.part_number} is smaller than the minimum part size.`);
  const md5s = createHash('md5');
  for (const p of parts) md5s.update(Buffer.from(p.etag, 'hex'));
  const etag = `${md5s.digest('hex')}-${parts.length}`;
  // One blob for the whole object: parts joined in order (a single part is just moved).
  let key: string;
  let size: number;
  if (parts.length === 1) {
    key = newBlobKey();
    await deps.blobs.move(parts[0]!.blob_key, key);
    size = Number(parts[0]!.size);
  } else {
    key = newBlobKey();
    const pieces: Piece[] = parts.map((p) => ({ blobKey: p.blob_key, start: 0, length: Number(p.size) }));
    size = (await deps.blobs.put(key, streamPieces(deps, pieces), { hashes: ['md5'] })).size;
  }
  const headers = JSON.parse(upload.headers) as Record<string, string>;
  let row: ObjectRow;
  try {
    row = await commitObject(deps, {
      account, container, name: upload.name, contentType: upload.content_type, headers, deleteAt: null,
      sysmeta: { ...(upload.sysmeta ? JSON.parse(upload.sysmeta) as Record<string, unknown> : {}), ...sysmeta(parts) },
    }, upload.container_id, { size, etag, blobKey: key });
  } catch (err) {
    await dropBlobs(deps, [key]);
    throw err;
  }
  await abortUpload(deps, upload);
  return row;
}
