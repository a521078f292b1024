import type { Kysely } from 'kysely';
import type { RequestContext } from '../../../platform/auth/context.js';
import { callerOf } from '../../../platform/auth/caller.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { Platform } from '../../../platform/service.js';
import type { ImageService } from '../../image/index.js';
import { GiB, type VolumeBackend } from '../drivers/backend/driver.js';
import { writeMetadata, type VolumeRow, type VolumeTables } from '../store.js';
import { defaultType, resolveType, typeIsMultiattach, visibleSnapshot, visibleVolume } from './access.js';
import { checkVolumeQuota, lockQuota } from './quota.js';
import type { VolumeManager, VolumeSource } from './manager.js';
import type { BackupStore } from '../drivers/backup/driver.js';

/** What the volume logic needs; the API and the public interface both hand it over. */
export interface VolumeLogicDeps {
  platform: Platform;
  db: Kysely<VolumeTables>;
  image: ImageService;
  backend: VolumeBackend;
  manager: VolumeManager;
  backupStore?: BackupStore;
}

export interface NewVolume {
  size: number | null;
  name?: string | null;
  description?: string | null;
  volumeType?: string | null;
  availabilityZone?: string | null;
  imageId?: string | null;
  snapshotId?: string | null;
  sourceVolId?: string | null;
  metadata?: Record<string, string>;
  multiattach?: boolean;
  /** The request's own `multiattach` flag counts (Cinder before 3.50); from 3.50 only the type decides. */
  legacyMultiattach?: boolean;
}

/** The availability zones volumes live in: the compute zones (volumes are local to a zone). */
export const volumeZones = (platform: Platform): string[] => platform.config.compute.zones;

/**
 * Creates a volume record (`creating`) and queues its build, in one transaction with the
 * quota check. The source decides defaults Cinder's way: a snapshot or source volume gives
 * its size, type and zone; an image must fit (size ≥ the image's virtual size and min_disk).
 */
export async function createVolume(d: VolumeLogicDeps, ctx: RequestContext, req: NewVolume): Promise<VolumeRow> {
  const zones = volumeZones(d.platform);
  let source: VolumeSource = { kind: 'blank' };
  let size = req.size;
  let typeId: string | null = null;
  let zone = req.availabilityZone ?? null;
  let bootable = 0;
  let inheritedZone: string | null = null;

  if (req.snapshotId) {
    const snap = await visibleSnapshot(d.db, ctx, req.snapshotId).catch(() => { throw new ApiError(404, `Snapshot ${req.snapshotId} could not be found.`); });
    if (snap.status !== 'available') throw new ApiError(400, `Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    size ??= snap.size;
    if (size < snap.size) throw new ApiError(400, `Invalid input received: Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`);
    typeId = snap.volume_type_id;
    const parent = await d.db.selectFrom('volume').select(['availability_zone', 'bootable']).where('id', '=', snap.volume_id).executeTakeFirst();
    inheritedZone = parent?.availability_zone ?? null;
    bootable = parent?.bootable ?? 0;
    source = { kind: 'snapshot', snapshotId: snap.id };
  } else if (req.sourceVolId) {
    const src = await visibleVolume(d.db, ctx, req.sourceVolId).catch(() => { throw new ApiError(404, `Volume ${req.sourceVolId} could not be found.`); });
    if (!['available', 'in-use'].includes(src.status)) throw new ApiError(400, `Invalid volume: Source volume status must be available or in-use, but current status is: ${src.status}.`);
    size ??= src.size;
    if (size < src.size) throw new ApiError(400, `Invalid input received: Volume size '${size}'GB cannot be smaller than original volume size ${src.size}GB. They must be >= original volume size.`);
    typeId = src.volume_type_id;
    inheritedZone = src.availability_zone;
    bootable = src.bootable;
    source = { kind: 'volume', volumeId: src.id };
  } else if (req.imageId) {
    const image = await d.image.getImage(ctx, req.imageId).catch(() => { throw new ApiError(400, `Invalid image identifier or unable to access requested image.`); });
    if (image.status !== 'active') throw new ApiError(400, `Invalid input received: Image ${image.id} is not active.`);
    const needGb = Math.max(Math.ceil((image.virtual_size ?? image.size ?? 0) / GiB), image.min_disk ?? 0, 1);
    size ??= needGb;
    if (size < Math.ceil((image.size ?? 0) / GiB)) throw new ApiError(400, `Invalid input received: Size of specified image ${Math.ceil((image.size ?? 0) / GiB)}GB is larger than volume size ${size}GB.`);
    if (size < needGb) throw new ApiError(400, `Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${needGb}GB.`);
    bootable = 1;
    source = { kind: 'image', imageId: image.id };
  }
  if (size === null) throw new ApiError(400, 'Invalid input received: Size must be specified when creating a blank volume.');

  if (req.volumeType) {
    const t = await resolveType(d.db, ctx, req.volumeType);
    typeId = t.id;
  }
  typeId ??= (await defaultType(d.db)).id;
  if (inheritedZone) {
    if (zone && zone !== inheritedZone) throw new ApiError(400, `Invalid input received: Availability zone '${zone}' is invalid: a volume created from a snapshot or volume stays in its source's zone (${inheritedZone}).`);
    zone = inheritedZone;
  }
  if (zone && !zones.includes(zone)) throw new ApiError(400, `Invalid input received: Availability zone '${zone}' is invalid.`);
  zone ??= zones[0]!;
  let multiattach = await typeIsMultiattach(d.db, typeId);
  if (req.multiattach && !multiattach) {
    // Before 3.50 Cinder took the flag from the request; since then a multiattach type is needed.
    if (!req.legacyMultiattach) throw new ApiError(400, 'Invalid input received: multiattach is set by the volume type: use a multiattach type (ssd-multiattach or hdd-multiattach).');
    multiattach = true;
  }

  const t = now();
  const row: VolumeRow = {
    id: uuid(), project_id: ctx.projectId!, user_id: ctx.userId, name: req.name ?? null, description: req.description ?? null, size,
    status: 'creating', previous_status: null, attach_status: 'detached', migration_status: null, availability_zone: zone,
    volume_type_id: typeId, snapshot_id: req.snapshotId ?? null, source_volid: req.sourceVolId ?? null, backup_id: null,
    image_id: req.imageId ?? null, bootable, multiattach: multiattach ? 1 : 0, readonly: 0, host: d.backend.host,
    provider_location: null, fault: null, launched_at: null, created_at: t, updated_at: t,
  };
  await d.db.transaction().execute(async (trx) => {
    await lockQuota(trx, d.platform.dialect, row.project_id);
    await checkVolumeQuota(trx, row.project_id, { volumes: 1, gigabytes: size });
    await trx.insertInto('volume').values(row).execute();
    if (req.metadata && Object.keys(req.metadata).length) await writeMetadata(trx, 'volume_metadata', row.id, req.metadata, true);
    await d.manager.enqueue(row.id, { action: 'create', source, ctx: callerOf(ctx) }, trx);
  });
  return row;
}

/** Statuses a volume may be deleted from (Cinder's list); `force` also takes the transitional ones. */
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

/**
 * Deletes a volume: refused while attached, migrating or with snapshots (unless `cascade`,
 * which deletes the snapshots first). The row goes to `deleting` now and disappears when the
 * backend has removed the bytes.
 */
export async function deleteVolume(d: VolumeLogicDeps, ctx: RequestContext, vol: VolumeRow, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
  await d.db.transaction().execute(async (trx) => {
    const cur = await trx.selectFrom('volume').selectAll().where('id', '=', vol.id).executeTakeFirst();
    if (!cur) throw new ApiError(404, `Volume ${vol.id} could not be found.`);
    if (!opts.force) {
      if (cur.attach_status === 'attached' || cur.status === 'in-use') throw new ApiError(400, `Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`);
      if (!DELETABLE.includes(cur.status)) throw new ApiError(400, `Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`);
    }
    const snaps = await trx.selectFrom('snapshot').select(['id', 'status']).where('volume_id', '=', vol.id).execute();
    if (snaps.length && !opts.cascade) throw new ApiError(400, `Invalid volume: Volume ${vol.id} still has ${snaps.length} dependent snapshots.`);
    for (const s of snaps) {
      await trx.updateTable('snapshot').set({ status: 'deleting', updated_at: now() }).where('id', '=', s.id).execute();
      await d.manager.enqueueSnapshot(s.id, { action: 'delete', ctx: callerOf(ctx) }, trx);
    }
    await trx.updateTable('volume').set({ status: 'deleting', previous_status: cur.status, updated_at: now() }).where('id', '=', vol.id).execute();
    await d.manager.enqueue(vol.id, { action: 'delete', ctx: callerOf(ctx) }, trx);
  });
}
