import type { Readable } from 'node:stream';
import { ApiError, badRequest, conflict } from '../../../platform/http/errors.js';
import { BlobTooLarge } from '../../../platform/blobs/store.js';
import { now } from '../../../platform/clock.js';
import type { ImageRow, ImageStatus } from '../store.js';
import { imageKey, stagingKey, type ImageDeps } from './deps.js';
import { lockProject, overQuota, usedBytes } from './quota.js';
import { virtualSize } from './formats.js';

/**
 * Writing an image's bytes, shared by upload (PUT /file), stage (PUT /stage), web-download
 * and other services (snapshots). The status moves to saving (or uploading) in one
 * transaction that also reserves quota, the bytes stream to the blob store, and only a
 * complete, hashed write makes the image active. Any failure puts the image back in
 * `queued`, releases the reservation and leaves no bytes behind.
 */
export interface WriteOptions {
  /** Where the bytes go: the final location, or the staging area of interoperable import. */
  target: 'image' | 'staging';
  contentLength: number | null;
  /** Status the image must be in before the write. */
  from: ImageStatus[];
}

export async function writeImageData(deps: ImageDeps, imageId: string, data: Readable, opts: WriteOptions): Promise<ImageRow> {
  const { db, platform } = deps;
  const limits = platform.config.image;
  const during: ImageStatus = opts.target === 'image' ? 'saving' : 'uploading';
  const limit = opts.target === 'image' ? limits.imageSizeTotalBytes : limits.imageStageTotalBytes;
  const started = await db.transaction().execute(async (trx) => {
    const img = await trx.selectFrom('image').selectAll().where('id', '=', imageId).executeTakeFirst();
    if (!img) throw new ApiError(404, `No image found with ID ${imageId}`);
    await lockProject(trx, platform.dialect, img.owner);
    const fresh = (await trx.selectFrom('image').selectAll().where('id', '=', imageId).executeTakeFirst())!;
    if (!opts.from.includes(fresh.status)) throw conflict(`Image status transition from ${fresh.status} to ${during} is not allowed`);
    if (opts.target === 'image' && (!fresh.disk_format || !fresh.container_format)) {
      throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
    }
    const used = await usedBytes(trx, fresh.owner);
    const promised = opts.contentLength ?? 0;
    if (used + promised > limit) throw overQuota(limit);
    await trx.updateTable('image').set({ status: during, reserved_bytes: promised, updated_at: now() }).where('id', '=', imageId).execute();
    return { img: fresh, remaining: limit - used };
  });
  const key = opts.target === 'image' ? imageKey(imageId) : stagingKey(imageId);
  let info;
  try {
    info = await deps.blobs.put(key, data, { maxBytes: started.remaining });
    if (opts.contentLength !== null && info.size !== opts.contentLength) throw badRequest(`Expected ${opts.contentLength} bytes, received ${info.size}.`);
  } catch (err) {
    await deps.blobs.delete(key).catch(() => undefined);
    await db.updateTable('image').set({ status: started.img.status, reserved_bytes: 0, updated_at: now() })
      .where('id', '=', imageId).where('status', '=', during).execute();
    if (err instanceof BlobTooLarge) throw overQuota(limit);
    throw err;
  }
  const done = await db.transaction().execute(async (trx) => {
    const cur = await trx.selectFrom('image').selectAll().where('id', '=', imageId).executeTakeFirst();
    // Deleted while the bytes were arriving: nothing to keep.
    if (!cur || cur.status !== during) return null;
    const set = {
      status: (opts.target === 'image' ? 'active' : 'uploading') as ImageStatus, reserved_bytes: opts.target === 'image' ? 0 : info.size,
      size: info.size, checksum: info.md5, os_hash_algo: 'sha512', os_hash_value: info.sha512,
      virtual_size: virtualSize(cur.disk_format, info.head, info.size), updated_at: now(),
    };
    await trx.updateTable('image').set(set).where('id', '=', imageId).execute();
    return { ...cur, ...set };
  });
  if (!done) {
    await deps.blobs.delete(key).catch(() => undefined);
    throw conflict(`Image ${imageId} was deleted during the upload.`);
  }
  return done;
}
