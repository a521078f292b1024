import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import type { RequestContext } from '../../platform/auth/context.js';
import { novaError } from '../../platform/http/errors.js';
import type { ImageService } from '../image/index.js';
import type { ObjectService } from '../object/index.js';
import { objectBackupStore } from './drivers/backup/object.js';
import { volumeMigrations } from './migrations.js';
import { volumeDb, type VolumeRow } from './store.js';
import { bootstrapVolume } from './bootstrap.js';
import { fileBackend } from './drivers/backend/file.js';
import { VolumeManager, type VolumeExtended } from './logic/manager.js';
import { visibleSnapshot, visibleVolume } from './logic/access.js';
import { createVolume, deleteVolume, type NewVolume } from './logic/volumes.js';
import { createSnapshot, deleteSnapshot } from './logic/snapshots.js';
import { volumeViewInputs, type VolumeViewInput } from './views.js';
import { attachmentsOfInstance, completeAttachment, connectionInfo, createAttachment, deleteAttachment, type AttachMode } from './logic/attachments.js';
import type { SnapshotRow } from './store.js';
import { microversions, type VolumeDeps } from './api/common.js';
import { VOLUME_ROUTES } from './api/registry.js';

/**
 * The block storage service (Cinder v3, microversions 3.0–3.71): api → manager → backend
 * driver. The file backend keeps sparse raw files in the data directory. Compute calls the
 * public interface below to boot from, attach and detach volumes, on its caller's behalf.
 */
export interface VolumeService extends ServiceModule {
  /** A volume the caller may see (404 otherwise). */
  getVolume(ctx: RequestContext, volumeId: string): Promise<VolumeRow>;
  /** Creates a volume (`creating`, quota checked) and queues its build. */
  createVolume(ctx: RequestContext, req: NewVolume): Promise<VolumeRow>;
  /** Deletes a volume the caller owns (refused while attached or with snapshots). */
  deleteVolume(ctx: RequestContext, volumeId: string): Promise<void>;
  /** Where a hypervisor finds a volume's bytes. */
  locate(volumeId: string): string;
  /** Calls `listener` after an attached volume grew, with the servers it is attached to (Nova's `volume-extended`). */
  onVolumeExtended(listener: (e: VolumeExtended) => Promise<void>): void;
  /** How many servers a volume is attached to now. */
  attachmentCount(volumeId: string): Promise<number>;

  // ---- what compute needs to boot from, attach and detach volumes ----
  /**
   * Reserves a volume for a server (Cinder's attachment_create without a connector): the
   * volume is `reserved` at once, so a second server cannot take it. A volume in another
   * availability zone than `zone` is refused (400), as is one that is not `available`
   * (unless it is multi-attach).
   */
  reserveAttachment(ctx: RequestContext, volumeId: string, req: { instanceId: string; zone?: string | null; mode?: AttachMode | null }): Promise<{ attachmentId: string; volume: VolumeRow }>;
  /** The hypervisor has connected it: the attachment is `attached`, the volume `in-use`. */
  completeAttachment(attachmentId: string, where: { host?: string | null; mountpoint?: string | null }): Promise<void>;
  /** Detaches (idempotent): the attachment goes, the volume is `available` once none remain. */
  deleteAttachment(attachmentId: string): Promise<void>;
  /** Reserve and complete in one: an attached volume and its attachment id. */
  attachVolume(ctx: RequestContext, volumeId: string, req: { instanceId: string; host?: string | null; mountpoint?: string | null; zone?: string | null }): Promise<string>;
  /** Removes every attachment of the volume to the server. */
  detachVolume(ctx: RequestContext, volumeId: string, instanceId: string): Promise<void>;
  /** How a hypervisor opens the volume (driver_volume_type `file`, the path in data.device_path). */
  connectionInfo(volumeId: string): Promise<Record<string, unknown>>;
  /** A snapshot of the volume (quota checked; `force` takes an in-use volume), queued for the backend. */
  snapshotVolume(ctx: RequestContext, volumeId: string, req: { name: string | null; description?: string | null; force: boolean; metadata?: Record<string, string> }): Promise<SnapshotRow>;
  /** A snapshot the caller may see (404 otherwise). */
  getSnapshot(ctx: RequestContext, snapshotId: string): Promise<SnapshotRow>;
  /** Waits until a volume reaches one of `statuses`; rejects when it ends in an error status, disappears, or the time is up. */
  waitForVolume(volumeId: string, statuses: string[], timeoutMs?: number): Promise<VolumeRow>;
  /** As waitForVolume, for a snapshot. */
  waitForSnapshot(snapshotId: string, statuses: string[], timeoutMs?: number): Promise<SnapshotRow>;

  // ---- Nova's os-volumes and os-snapshots proxies (before 2.36) ----
  /** The caller's project's volumes, newest first, with type name, metadata and attachments. */
  listVolumes(ctx: RequestContext): Promise<VolumeViewInput[]>;
  /** One volume the caller may see, with the same details. */
  volumeDetail(ctx: RequestContext, volumeId: string): Promise<VolumeViewInput>;
  /** The caller's project's snapshots, newest first. */
  listSnapshots(ctx: RequestContext): Promise<SnapshotRow[]>;
  /** Deletes a snapshot the caller may see (available or error only). */
  deleteSnapshot(ctx: RequestContext, snapshotId: string): Promise<void>;
}

/** Polls `read` until `done`; `failed` ends it early. */
async function pollUntil<T>(what: string, read: () => Promise<T | undefined>, statusOf: (t: T) => string, statuses: string[], timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const row = await read();
    if (!row) throw new Error(`${what} no longer exists`);
    const st = statusOf(row);
    if (statuses.includes(st)) return row;
    if (st.startsWith('error')) throw new Error(`${what} is in status ${st}`);
    if (Date.now() > until) throw new Error(`${what} stayed ${st}, wanted ${statuses.join(' or ')}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export function volumeService(): VolumeService {
  let deps: VolumeDeps | null = null;
  const need = () => { if (!deps) throw new Error('volume service not started'); return deps; };
  return {
    name: 'cinder',
    type: 'block-storage',
    catalogAliases: [{ name: 'cinderv3', type: 'volumev3' }],
    prefix: '/volume',
    endpointPath: '/volume/v3/$(project_id)s',
    errorFormat: novaError,
    migrations: volumeMigrations,
    async start(platform: Platform, services: ServiceModule[]) {
      const image = services.find((s) => s.type === 'image') as ImageService | undefined;
      if (!image) throw new Error('block storage needs the image service');
      const db = volumeDb(platform.db);
      await bootstrapVolume(db);
      const backend = fileBackend(join(platform.config.dataDir, 'volumes'));
      const manager = new VolumeManager(db, platform, backend, image);
      manager.register();
      // Backups go to Object Storage when it runs (Cinder's Swift backup driver), else to files.
      const object = services.find((s) => s.type === 'object-store') as ObjectService | undefined;
      const backupStore = object && platform.config.volume.backupStore === 'object'
        ? objectBackupStore(object, async (id) => (await db.selectFrom('backup').select('project_id').where('id', '=', id).executeTakeFirst())?.project_id ?? null)
        : undefined;
      deps = { platform, db, image, backend, manager, backupStore };
    },
    async routes(app: FastifyInstance) {
      const d = {
        get platform() { return need().platform; }, get db() { return need().db; }, get image() { return need().image; },
        get backend() { return need().backend; }, get manager() { return need().manager; }, get backupStore() { return need().backupStore; },
      } as VolumeDeps;
      microversions(app);
      for (const routes of VOLUME_ROUTES) await routes(app, d);
    },
    getVolume: (ctx, id) => visibleVolume(need().db, ctx, id),
    createVolume: (ctx, req) => createVolume(need(), ctx, req),
    async deleteVolume(ctx, id) {
      const d = need();
      await deleteVolume(d, ctx, await visibleVolume(d.db, ctx, id));
    },
    locate: (id) => need().backend.locate(id),
    onVolumeExtended: (listener) => need().manager.onExtended(listener),
    async attachmentCount(volumeId) {
      const rows = await need().db.selectFrom('volume_attachment').select('id').where('volume_id', '=', volumeId).where('attach_status', '=', 'attached').execute();
      return rows.length;
    },

    async reserveAttachment(ctx, id, req) {
      const d = need();
      await visibleVolume(d.db, ctx, id);
      const att = await createAttachment(d, id, { instanceId: req.instanceId, zone: req.zone ?? null, mode: req.mode ?? null });
      return { attachmentId: att.id, volume: await visibleVolume(d.db, ctx, id) };
    },
    async completeAttachment(attachmentId, where) { await completeAttachment(need(), attachmentId, where); },
    deleteAttachment: (attachmentId) => deleteAttachment(need(), attachmentId),
    async attachVolume(ctx, id, req) {
      const d = need();
      await visibleVolume(d.db, ctx, id);
      const att = await createAttachment(d, id, { instanceId: req.instanceId, zone: req.zone ?? null });
      await completeAttachment(d, att.id, { host: req.host ?? null, mountpoint: req.mountpoint ?? null });
      return att.id;
    },
    async detachVolume(ctx, id, instanceId) {
      const d = need();
      await visibleVolume(d.db, ctx, id);
      for (const a of await attachmentsOfInstance(d, id, instanceId)) await deleteAttachment(d, a.id);
    },
    async connectionInfo(id) {
      const d = need();
      const vol = await d.db.selectFrom('volume').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return connectionInfo(d, vol, null);
    },
    snapshotVolume: (ctx, id, req) => createSnapshot(need(), ctx, {
      volumeId: id, name: req.name, description: req.description ?? null, metadata: req.metadata ?? {}, allowInUse: req.force,
    }),
    getSnapshot: (ctx, id) => visibleSnapshot(need().db, ctx, id),
    waitForVolume: (id, statuses, timeoutMs = 300_000) => pollUntil(`volume ${id}`,
      () => need().db.selectFrom('volume').selectAll().where('id', '=', id).executeTakeFirst(), (v) => v.status, statuses, timeoutMs),
    async listVolumes(ctx) {
      const d = need();
      const vols = await d.db.selectFrom('volume').selectAll().where('project_id', '=', ctx.projectId ?? '').orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return volumeViewInputs(d.db, vols);
    },
    async volumeDetail(ctx, id) {
      const d = need();
      return (await volumeViewInputs(d.db, [await visibleVolume(d.db, ctx, id)]))[0]!;
    },
    listSnapshots: (ctx) => need().db.selectFrom('snapshot').selectAll().where('project_id', '=', ctx.projectId ?? '').orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
    async deleteSnapshot(ctx, id) {
      const d = need();
      await deleteSnapshot(d, ctx, await visibleSnapshot(d.db, ctx, id));
    },
    waitForSnapshot: (id, statuses, timeoutMs = 300_000) => pollUntil(`snapshot ${id}`,
      () => need().db.selectFrom('snapshot').selectAll().where('id', '=', id).executeTakeFirst(), (s) => s.status, statuses, timeoutMs),
  };
}
