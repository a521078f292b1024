import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import { ApiError } from '../../../platform/http/errors.js';
import { BlobTooLarge } from '../../../platform/blobs/store.js';
import { headersOf, objectPage, type ContainerRow, type ObjectDb, type ObjectKind, type ObjectRow } from '../store.js';
import { newBlobKey, stamp, type ObjectDeps } from './deps.js';
import { getContainer } from './containers.js';
import { CONSTRAINTS, checkMetadata, checkObjectName } from './constraints.js';
import { archiveOnOverwrite, restoreOnDelete } from './versions.js';
import { keepVersion, markDeleted } from './object-versions.js';

/**
 * Objects: writing (bytes to the blob store first, then one transaction that swaps the
 * row, keeps the container's counters and archives the previous version when the
 * container keeps versions), reading, metadata updates and deletion. Nothing here knows
 * HTTP: the Swift API (and later S3) translate their wire formats to these calls.
 */
export interface PutObject {
  account: string;
  container: string;
  name: string;
  data: Readable;
  /** Bytes announced by the client (Content-Length), null when chunked. */
  contentLength: number | null;
  /** MD5 the client expects (hex); a mismatch is a 422 and nothing is stored. */
  etag?: string;
  contentType: string;
  /** Stored object headers, lower-cased (x-object-meta-*, content-disposition, x-object-manifest, ...). */
  headers: Record<string, string>;
  deleteAt: number | null;
  kind?: ObjectKind;
  /** For a static large object: size and ETag of the whole, not of the stored manifest. */
  describe?: { size: number; etag: string };
  /** Per-version settings kept out of Swift's sight (S3 retention, SSE-C parameters, ...). */
  sysmeta?: Record<string, unknown>;
  /** The ETag to record given the stored bytes' MD5 (S3 records an encrypted object's plaintext MD5). */
  etagOf?: (storedMd5: string) => string;
}

/** An object's row, with the container it lives in. */
export interface Located { container: ContainerRow; object: ObjectRow }

export const isExpired = (o: ObjectRow, at = Date.now()): boolean => o.delete_at !== null && o.delete_at <= at;

/** Bytes and objects still allowed in a container, from its quota and its account's. */
async function room(db: ObjectDb, account: string, c: ContainerRow): Promise<{ bytes: number; count: number }> {
  const h = headersOf(c.headers);
  let bytes = CONSTRAINTS.max_file_size;
  let count = Number.MAX_SAFE_INTEGER;
  const qb = Number(h['x-container-meta-quota-bytes']);
  if (h['x-container-meta-quota-bytes'] !== undefined && Number.isFinite(qb)) bytes = Math.min(bytes, qb - Number(c.bytes_used));
  const qc = Number(h['x-container-meta-quota-count']);
  if (h['x-container-meta-quota-count'] !== undefined && Number.isFinite(qc)) count = qc - Number(c.object_count);
  const acct = await db.selectFrom('object_account').select('headers').where('project_id', '=', account).executeTakeFirst();
  const aq = Number(acct ? headersOf(acct.headers)['x-account-meta-quota-bytes'] : NaN);
  if (Number.isFinite(aq)) {
    const used = await db.selectFrom('object_container').select(sql<number>`coalesce(sum(bytes_used), 0)`.as('used')).where('project_id', '=', account).executeTakeFirst();
    bytes = Math.min(bytes, aq - Number(used?.used ?? 0));
  }
  return { bytes, count };
}

const overQuota = () => new ApiError(413, 'Upload exceeds quota.');
const tooLarge = () => new ApiError(413, 'Your request is too large.');

async function adjust(db: ObjectDb, containerId: string, objects: number, bytes: number): Promise<void> {
  if (objects === 0 && bytes === 0) return;
  await db.updateTable('object_container')
    .set({ object_count: sql`object_count + ${objects}`, bytes_used: sql`bytes_used + ${bytes}`, updated_at: stamp() })
    .where('id', '=', containerId).execute();
}

/** Inserts or replaces a row, keeping the counters; returns the blob the replaced row held, if any. */
export async function writeRow(db: ObjectDb, row: ObjectRow): Promise<string | null> {
  const old = await db.selectFrom('object_object').selectAll().where('container_id', '=', row.container_id).where('name', '=', row.name).executeTakeFirst();
  if (old) {
    await db.deleteFrom('object_object').where('container_id', '=', row.container_id).where('name', '=', row.name).execute();
  }
  await db.insertInto('object_object').values(row).execute();
  await adjust(db, row.container_id, old ? 0 : 1, Number(row.size) - Number(old?.size ?? 0));
  return old?.blob_key ?? null;
}

/** Removes a row, keeping the counters; returns its blob key. */
export async function removeRow(db: ObjectDb, row: ObjectRow): Promise<string | null> {
  const gone = await db.deleteFrom('object_object').where('container_id', '=', row.container_id).where('name', '=', row.name)
    .where('created_at', '=', row.created_at).executeTakeFirst();
  if (Number(gone.numDeletedRows) === 0) return null;
  await adjust(db, row.container_id, -1, -Number(row.size));
  return row.blob_key;
}

export async function dropBlobs(deps: ObjectDeps, keys: (string | null | undefined)[]): Promise<void> {
  for (const k of keys) if (k) await deps.blobs.delete(k).catch(() => undefined);
}

export async function putObject(deps: ObjectDeps, req: PutObject): Promise<ObjectRow> {
  checkObjectName(req.name);
  checkMetadata(req.headers, 'x-object-meta-');
  if (req.contentLength !== null && req.contentLength > CONSTRAINTS.max_file_size) throw tooLarge();
  const c = await getContainer(deps.db, req.account, req.container);
  const r = await room(deps.db, req.account, c);
  if (r.count < 1) throw overQuota();
  if (req.contentLength !== null && req.contentLength > r.bytes) throw overQuota();
  const key = newBlobKey();
  let info;
  try {
    info = await deps.blobs.put(key, req.data, { maxBytes: Math.max(0, r.bytes), hashes: ['md5'] });
  } catch (err) {
    if (err instanceof BlobTooLarge) throw r.bytes < CONSTRAINTS.max_file_size ? overQuota() : tooLarge();
    throw err;
  }
  try {
    if (req.contentLength !== null && info.size !== req.contentLength) throw new ApiError(499, 'Client Disconnect');
    if (req.etag !== undefined && req.etag.replace(/^"(.*)"$/, '$1').toLowerCase() !== info.md5) throw new ApiError(422, 'Unprocessable Entity');
    return await commitObject(deps, req, c.id, {
      size: req.describe?.size ?? info.size, etag: req.describe?.etag ?? (req.etagOf ? req.etagOf(info.md5) : info.md5), blobKey: key,
    });
  } catch (err) {
    await dropBlobs(deps, [key]);
    throw err;
  }
}

/** Makes a written blob the object's current version (the second half of a PUT). */
export async function commitObject(deps: ObjectDeps, req: Omit<PutObject, 'data' | 'contentLength'>, containerId: string, stored: { size: number; etag: string; blobKey: string | null }): Promise<ObjectRow> {
  const row: ObjectRow = {
    container_id: containerId, name: req.name, size: stored.size, etag: stored.etag, content_type: req.contentType,
    headers: JSON.stringify(req.headers), blob_key: stored.blobKey, kind: req.kind ?? 'data', delete_at: req.deleteAt, created_at: stamp(),
    sysmeta: req.sysmeta && Object.keys(req.sysmeta).length ? JSON.stringify(req.sysmeta) : null,
  };
  const toDrop: (string | null)[] = [];
  await deps.db.transaction().execute(async (trx) => {
    const c = await trx.selectFrom('object_container').selectAll().where('id', '=', containerId).executeTakeFirst();
    if (!c) throw new ApiError(404, 'Not Found');
    const old = await trx.selectFrom('object_object').selectAll().where('container_id', '=', c.id).where('name', '=', req.name).executeTakeFirst();
    if (old && !isExpired(old)) {
      const archived = await archiveOnOverwrite(trx, deps.platform.dialect, c, old);
      if (archived) toDrop.push(...archived);
      else await keepVersion(trx, c, old);
    }
    toDrop.push(await writeRow(trx, row));
  });
  await dropBlobs(deps, toDrop);
  return row;
}

/** An object that exists and has not expired (an expired one is removed on the way). */
export async function findObject(deps: ObjectDeps, account: string, container: string, name: string): Promise<Located> {
  const c = await getContainer(deps.db, account, container);
  const o = await deps.db.selectFrom('object_object').selectAll().where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
  if (!o || o.kind === 'marker') throw new ApiError(404, 'Not Found');
  if (isExpired(o)) {
    await expireObject(deps, o);
    throw new ApiError(404, 'Not Found');
  }
  return { container: c, object: o };
}

/** Removes an expired object (idempotent: a concurrent writer's newer version stays). */
export async function expireObject(deps: ObjectDeps, o: ObjectRow): Promise<void> {
  const key = await deps.db.transaction().execute((trx) => removeRow(trx, o));
  await dropBlobs(deps, [key]);
}

/** POST: replaces the object's metadata (user metadata, content type, expiry). */
export async function updateObject(deps: ObjectDeps, account: string, container: string, name: string,
  update: { headers: Record<string, string>; contentType?: string; deleteAt: number | null | undefined }): Promise<ObjectRow> {
  const { object } = await findObject(deps, account, container, name);
  checkMetadata(update.headers, 'x-object-meta-');
  const set = {
    headers: JSON.stringify(update.headers),
    ...(update.contentType ? { content_type: update.contentType } : {}),
    ...(update.deleteAt !== undefined ? { delete_at: update.deleteAt } : {}),
  };
  await deps.db.updateTable('object_object').set(set).where('container_id', '=', object.container_id).where('name', '=', name).execute();
  return { ...object, ...set };
}

/**
 * DELETE: removes the current version. A container with X-Versions-Location brings the
 * newest archived version back; one with X-History-Location archives the current one first.
 */
export async function deleteObject(deps: ObjectDeps, account: string, container: string, name: string): Promise<ObjectRow> {
  const c = await getContainer(deps.db, account, container);
  const toDrop: (string | null)[] = [];
  const deleted = await deps.db.transaction().execute(async (trx) => {
    const o = await trx.selectFrom('object_object').selectAll().where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
    const live = o && o.kind !== 'marker' && !isExpired(o) ? o : undefined;
    if (o && !live && o.kind !== 'marker') toDrop.push(await removeRow(trx, o));
    if (await markDeleted(trx, c, name, live ?? null)) return live ?? null;
    const restored = await restoreOnDelete(trx, deps.platform.dialect, c, name, live ?? null);
    toDrop.push(...restored.drop);
    if (restored.handled) return live ?? null;
    if (!live) return null;
    toDrop.push(await removeRow(trx, live));
    return live;
  });
  await dropBlobs(deps, toDrop);
  if (!deleted) throw new ApiError(404, 'Not Found');
  return deleted;
}

/** Lists the live objects of a container in name order, a page at a time (large object segments, bulk ops). */
export async function* allObjects(deps: ObjectDeps, c: ContainerRow, prefix = ''): AsyncGenerator<ObjectRow> {
  let marker: string | undefined;
  for (;;) {
    const page = await objectPage(deps.db, deps.platform.dialect, c.id, { prefix, marker, limit: 1000 });
    for (const o of page) {
      if (!o.name.startsWith(prefix)) return;
      if (o.kind !== 'marker' && !isExpired(o)) yield o;
    }
    if (page.length < 1000) return;
    marker = page[page.length - 1]!.name;
  }
}

/** Replaces one stored version's sysmeta (S3 retention, legal hold); the row may be current or archived. */
export async function setObjectSysmeta(deps: ObjectDeps, row: Pick<ObjectRow, 'container_id' | 'name' | 'created_at'>, sysmeta: Record<string, unknown>): Promise<void> {
  await deps.db.updateTable('object_object').set({ sysmeta: Object.keys(sysmeta).length ? JSON.stringify(sysmeta) : null })
    .where('container_id', '=', row.container_id).where('name', '=', row.name).where('created_at', '=', row.created_at).execute();
}
