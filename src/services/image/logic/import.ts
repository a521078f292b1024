import { Readable } from 'node:stream';
import { badRequest, conflict } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import type { Db } from '../../../platform/db/index.js';
import type { ImageRow } from '../store.js';
import { imageKey, stagingKey, type ImageDeps } from './deps.js';
import { writeImageData } from './upload.js';

/**
 * Interoperable image import. The API call moves the image to `importing` and writes a
 * task in the same transaction; the worker finishes it. The worker is idempotent: a crash
 * between moving the staged bytes and marking the image active is finished by the rerun.
 */
export const IMPORT_TASK = 'image.import';
export const IMPORT_METHODS = ['glance-direct', 'web-download'];

/** What Glance leaves on an image after an import: which stores are pending, which failed. */
const importResult = (failed: boolean) => ({ os_glance_importing_to_stores: '', os_glance_failed_import: failed ? 'local' : '' });

async function setImportProperties(deps: ImageDeps, imageId: string, failed: boolean): Promise<void> {
  const row = await deps.db.selectFrom('image').select('properties').where('id', '=', imageId).executeTakeFirst();
  if (!row) return;
  await deps.db.updateTable('image').set({ properties: JSON.stringify({ ...JSON.parse(row.properties), ...importResult(failed) }) }).where('id', '=', imageId).execute();
}
export interface ImportPayload { method: 'glance-direct' | 'web-download'; uri?: string }

export function checkWebDownloadUri(uri: unknown, allowedHosts: string[]): string {
  if (typeof uri !== 'string') throw badRequest("web-download needs a 'uri'.");
  let u: URL;
  try { u = new URL(uri); } catch { throw badRequest(`Invalid URI for web-download: ${uri}`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(`web-download only fetches http and https URIs, not ${u.protocol}`);
  if (!allowedHosts.includes(u.hostname) && !allowedHosts.includes(u.host)) {
    throw badRequest(`URI ${uri} is not allowed: web-download may only fetch from hosts the operator allows (STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS).`);
  }
  return u.toString();
}

export async function startImport(deps: ImageDeps, img: ImageRow, payload: ImportPayload): Promise<void> {
  const required = payload.method === 'glance-direct' ? 'uploading' : 'queued';
  await deps.db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('image').set({ status: 'importing', updated_at: now() })
      .where('id', '=', img.id).where('status', '=', required).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      throw conflict(payload.method === 'glance-direct'
        ? `Image ${img.id} has no staged data: stage it first (status is ${img.status}, needs uploading).`
        : `Image ${img.id} must be queued to import by web-download (status is ${img.status}).`);
    }
    await deps.platform.tasks.enqueue(IMPORT_TASK, img.id, payload, trx as unknown as Db);
  });
}

export async function runImport(deps: ImageDeps, imageId: string, payload: ImportPayload): Promise<void> {
  const { db, blobs } = deps;
  const img = await db.selectFrom('image').selectAll().where('id', '=', imageId).executeTakeFirst();
  if (!img) { await blobs.delete(stagingKey(imageId)); return; }
  if (img.status !== 'importing') return;
  if (payload.method === 'glance-direct') {
    if ((await blobs.size(stagingKey(imageId))) !== null) await blobs.move(stagingKey(imageId), imageKey(imageId));
    if ((await blobs.size(imageKey(imageId))) === null) {
      await db.updateTable('image').set({ status: 'queued', reserved_bytes: 0, size: null, checksum: null, os_hash_algo: null, os_hash_value: null, updated_at: now() })
        .where('id', '=', imageId).execute();
      await setImportProperties(deps, imageId, true);
      return;
    }
    await setImportProperties(deps, imageId, false);
    await db.updateTable('image').set({ status: 'active', reserved_bytes: 0, updated_at: now() }).where('id', '=', imageId).where('status', '=', 'importing').execute();
    return;
  }
  try {
    const uri = checkWebDownloadUri(payload.uri, deps.platform.config.image.webDownloadAllowedHosts);
    const res = await fetch(uri, { redirect: 'manual' });
    if (res.status !== 200 || !res.body) throw new Error(`web-download of ${uri} answered ${res.status}`);
    const length = res.headers.get('content-length');
    await writeImageData(deps, imageId, Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), {
      target: 'image', contentLength: length === null ? null : Number(length), from: ['importing'],
    });
    await setImportProperties(deps, imageId, false);
  } catch (err) {
    await setImportProperties(deps, imageId, true);
    deps.platform.log.warn({ err, image: imageId }, 'web-download import failed');
    await db.updateTable('image').set({ status: 'queued', reserved_bytes: 0, updated_at: now() }).where('id', '=', imageId).where('status', 'in', ['importing', 'saving']).execute();
  }
}
