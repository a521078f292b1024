import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { forbidden, glanceError, notFound } from '../../platform/http/errors.js';
import type { RequestContext } from '../../platform/auth/context.js';
import { FsBlobStore } from '../../platform/blobs/fs.js';
import { now } from '../../platform/clock.js';
import { uuid } from '../../platform/ids.js';
import { imageMigrations } from './migrations.js';
import { imageDb, type ImageRow } from './store.js';
import { imageKey, stagingKey, type ImageDeps } from './logic/deps.js';
import { canSee, isOwner, requireWrite, visibleImage } from './logic/access.js';
import { CORE, READ_ONLY, checkProperty } from './logic/properties.js';
import { writeImageData } from './logic/upload.js';
import { checkCount, lockProject } from './logic/quota.js';
import { IMPORT_TASK, runImport, type ImportPayload } from './logic/import.js';
import { discoveryRoutes } from './api/discovery.js';
import { imageRoutes } from './api/images.js';
import { dataRoutes } from './api/data.js';
import { memberRoutes } from './api/members.js';
import { tagRoutes } from './api/tags.js';
import { actionRoutes } from './api/actions.js';
import { importRoutes } from './api/import.js';

/**
 * The image service (Glance v2). Other services use `open` (an image's bytes, e.g. to
 * boot or to create a volume) and `createFromStream` (server snapshots, shelving, volume
 * upload), always on behalf of a caller whose visibility rules apply.
 */
export interface NewImage {
  name: string; disk_format: string; container_format: string; visibility?: 'private' | 'shared';
  min_disk?: number; min_ram?: number; properties?: Record<string, string>;
}

export interface ImageService extends ServiceModule {
  /** An image the caller may see, in any status (404 otherwise). */
  getImage(ctx: RequestContext, imageId: string): Promise<ImageRow>;
  open(ctx: RequestContext, imageId: string): Promise<{ image: ImageRow; data: Readable }>;
  createFromStream(ctx: RequestContext, attrs: NewImage, data: Readable): Promise<ImageRow>;
  /** A queued image record, counted against the quota; its bytes come later (server snapshots). */
  createQueued(ctx: RequestContext, attrs: NewImage): Promise<ImageRow>;
  /** Streams the bytes of a queued image the caller owns; it becomes active. */
  uploadData(ctx: RequestContext, imageId: string, data: Readable | NodeJS.ReadableStream, diskFormat?: string): Promise<ImageRow>;
  /** Deletes an image the caller owns (protected images refuse). */
  deleteImage(ctx: RequestContext, imageId: string): Promise<void>;
  /** The images a plain listing shows the caller (own, public, accepted shared; admins: all), newest first. */
  listImages(ctx: RequestContext): Promise<ImageRow[]>;
  /** Replaces an image's free-form properties (Nova's image metadata proxy); the caller must own it. */
  setImageProperties(ctx: RequestContext, imageId: string, properties: Record<string, string>): Promise<ImageRow>;
}

export function imageService(): ImageService {
  let deps: ImageDeps | null = null;
  const need = () => { if (!deps) throw new Error('image service not started'); return deps; };
  return {
    name: 'glance',
    type: 'image',
    prefix: '/image',
    endpointPath: '/image',
    errorFormat: glanceError,
    migrations: imageMigrations,
    async start(platform: Platform) {
      deps = { platform, db: imageDb(platform.db), blobs: new FsBlobStore(join(platform.config.dataDir, 'blobs')) };
      platform.tasks.handle(IMPORT_TASK, (t) => runImport(need(), t.resourceId, t.payload as ImportPayload));
      // An upload interrupted by a crash never finished: the image goes back to queued.
      await deps.db.updateTable('image').set({ status: 'queued', reserved_bytes: 0, updated_at: now() }).where('status', '=', 'saving').execute();
    },
    async routes(app: FastifyInstance) {
      const d = { get platform() { return need().platform; }, get db() { return need().db; }, get blobs() { return need().blobs; } } as ImageDeps;
      for (const routes of [discoveryRoutes, imageRoutes, dataRoutes, memberRoutes, tagRoutes, actionRoutes, importRoutes]) await routes(app, d);
    },
    async open(ctx, imageId) {
      const d = need();
      const image = await d.db.selectFrom('image').selectAll().where('id', '=', imageId).executeTakeFirst();
      if (!image || !(await canSee(d.db, ctx, image)) || image.status !== 'active') throw notFound(`No active image found with ID ${imageId}`);
      return { image, data: await d.blobs.open(imageKey(imageId)) };
    },
    async getImage(ctx, imageId) {
      return visibleImage(need().db, ctx, imageId);
    },
    async createFromStream(ctx, attrs, data) {
      const row = await this.createQueued(ctx, attrs);
      return writeImageData(need(), row.id, data as Readable, { target: 'image', contentLength: null, from: ['queued'] });
    },
    async createQueued(ctx, attrs) {
      const d = need();
      const t = now();
      const row: ImageRow = {
        id: uuid(), name: attrs.name, status: 'queued', visibility: attrs.visibility ?? 'private', protected: 0, os_hidden: 0,
        owner: ctx.projectId!, size: null, virtual_size: null, checksum: null, os_hash_algo: null, os_hash_value: null,
        container_format: attrs.container_format, disk_format: attrs.disk_format, min_ram: attrs.min_ram ?? 0, min_disk: attrs.min_disk ?? 0,
        properties: JSON.stringify(attrs.properties ?? {}), reserved_bytes: 0, created_at: t, updated_at: t,
      };
      await d.db.transaction().execute(async (trx) => {
        await lockProject(trx, d.platform.dialect, row.owner);
        await checkCount(trx, row.owner, d.platform.config.image.imageCountTotal);
        await trx.insertInto('image').values(row).execute();
      });
      return row;
    },
    async uploadData(ctx, imageId, data, diskFormat) {
      const d = need();
      const img = await visibleImage(d.db, ctx, imageId);
      requireWrite(ctx, img);
      if (diskFormat && diskFormat !== img.disk_format) await d.db.updateTable('image').set({ disk_format: diskFormat }).where('id', '=', imageId).execute();
      const stream = typeof (data as Readable).pipe === 'function' && data instanceof Readable ? data : Readable.from(data as AsyncIterable<Buffer>);
      return writeImageData(d, imageId, stream, { target: 'image', contentLength: null, from: ['queued'] });
    },
    async deleteImage(ctx, imageId) {
      const d = need();
      const img = await visibleImage(d.db, ctx, imageId);
      requireWrite(ctx, img, 'delete this image');
      if (img.protected) throw forbidden(`Image ${imageId} is protected and cannot be deleted.`);
      await d.db.deleteFrom('image').where('id', '=', imageId).execute();
      await d.blobs.delete(imageKey(imageId));
      await d.blobs.delete(stagingKey(imageId));
    },
    async listImages(ctx) {
      const d = need();
      const rows = await d.db.selectFrom('image').selectAll().where('status', '!=', 'deleted').where('os_hidden', '=', 0)
        .orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      const accepted = new Set(ctx.projectId ? (await d.db.selectFrom('image_member').select('image_id').where('member', '=', ctx.projectId)
        .where('status', '=', 'accepted').execute()).map((m) => m.image_id) : []);
      return rows.filter((img) => ctx.isAdmin || isOwner(ctx, img) || img.visibility === 'public' || (img.visibility === 'shared' && accepted.has(img.id)));
    },
    async setImageProperties(ctx, imageId, properties) {
      const d = need();
      const img = await visibleImage(d.db, ctx, imageId);
      requireWrite(ctx, img);
      for (const [k, v] of Object.entries(properties)) {
        if (CORE.includes(k) || READ_ONLY.includes(k)) throw forbidden(`Attribute '${k}' is reserved.`);
        checkProperty(k, v, ctx.isAdmin);
      }
      const t = now();
      await d.db.updateTable('image').set({ properties: JSON.stringify(properties), updated_at: t }).where('id', '=', imageId).execute();
      return { ...img, properties: JSON.stringify(properties), updated_at: t };
    },
  };
}
