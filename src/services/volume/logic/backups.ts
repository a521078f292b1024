import { join } from 'node:path';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { Platform } from '../../../platform/service.js';
import type { BackupStore } from '../drivers/backup/driver.js';
import { fsBackupStore } from '../drivers/backup/fs.js';
import type { BackupRow, VDb, VolumeRow } from '../store.js';
import { canSeeProject, defaultType } from './access.js';
import { checkVolumeQuota, lockQuota } from './quota.js';
import { volumeZones, type VolumeLogicDeps } from './volumes.js';
import { DEFAULT_CHUNK_OPTIONS, type ChunkOptions } from './backup-data.js';
import { runBackupTask } from './backup-manager.js';

/**
 * Volume backups as Cinder has them. A backup copies a volume (or one of its snapshots) out
 * of the volume backend into a backup store: full, or incremental against the volume's
 * latest available backup. The API checks state and quota (`backups`, `backup_gigabytes`)
 * and writes the transitional statuses (backup `creating`, volume `backing-up`) with a task
 * in one transaction; the backup manager moves the bytes and writes the resting statuses.
 * Restores go to a new volume (created here, `restoring-backup`) or to an available one at
 * least as large.
 */
export const BACKUP_TASK = 'volume.backup';

export type BackupTask =
  | { action: 'create'; snapshotId: string | null; previousStatus: string | null }
  | { action: 'delete' }
  | { action: 'restore'; volumeId: string; isNew: boolean }
  | { action: 'import'; sourceId: string };

export interface BackupDeps extends VolumeLogicDeps {
  store: BackupStore;
  chunks: ChunkOptions;
}

const started = new WeakMap<Platform, BackupDeps>();

/**
 * The backup store and manager of a started volume service: made once per platform, which
 * also registers the backup task handler (the API routes call this at registration time).
 */
export function backupDeps(d: VolumeLogicDeps): BackupDeps {
  const known = started.get(d.platform);
  if (known) return known;
  const bd: BackupDeps = {
    platform: d.platform, db: d.db, image: d.image, backend: d.backend, manager: d.manager,
    store: d.backupStore ?? fsBackupStore(join(d.platform.config.dataDir, 'backups')),
    chunks: DEFAULT_CHUNK_OPTIONS,
  };
  started.set(d.platform, bd);
  d.platform.tasks.handle(BACKUP_TASK, (t) => runBackupTask(bd, t.resourceId, t.payload as BackupTask));
  return bd;
}

const enqueue = (bd: BackupDeps, backupId: string, task: BackupTask, trx: VDb) => bd.platform.tasks.enqueue(BACKUP_TASK, backupId, task, trx as never);

export async function visibleBackup(db: VDb, ctx: RequestContext, id: string): Promise<BackupRow> {
  const b = await db.selectFrom('backup').selectAll().where('id', '=', id).executeTakeFirst();
  if (!b || !canSeeProject(ctx, b.project_id)) throw new ApiError(404, `Backup ${id} could not be found.`);
  return b;
}

export interface NewBackup {
  volumeId: string;
  name: string | null;
  description: string | null;
  container: string | null;
  incremental: boolean;
  force: boolean;
  snapshotId: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
}

export async function createBackup(bd: BackupDeps, ctx: RequestContext, req: NewBackup): Promise<BackupRow> {
  const projectId = ctx.projectId!;
  return bd.db.transaction().execute(async (trx) => {
    await lockQuota(trx, bd.platform.dialect, projectId);
    const vol = await trx.selectFrom('volume').selectAll().where('id', '=', req.volumeId).executeTakeFirst();
    if (!vol || !canSeeProject(ctx, vol.project_id)) throw new ApiError(404, `Volume ${req.volumeId} could not be found.`);
    let snapshotCreated: number | null = null;
    if (req.snapshotId) {
      const snap = await trx.selectFrom('snapshot').selectAll().where('id', '=', req.snapshotId).executeTakeFirst();
      if (!snap || !canSeeProject(ctx, snap.project_id)) throw new ApiError(404, `Snapshot ${req.snapshotId} could not be found.`);
      if (snap.volume_id !== vol.id) throw new ApiError(400, `Invalid volume: Volume ${vol.id} does not match with snapshot.volume_id ${snap.volume_id}.`);
      if (snap.status !== 'available') throw new ApiError(400, `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snap.status}".`);
      snapshotCreated = snap.created_at;
    } else if (!['available', 'in-use'].includes(vol.status)) {
      throw new ApiError(400, `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${vol.status}".`);
    } else if (vol.status === 'in-use' && !req.force) {
      throw new ApiError(400, 'Invalid volume: Backing up an in-use volume must use the force flag.');
    }
    await checkVolumeQuota(trx, projectId, { backups: 1, backup_gigabytes: vol.size });

    let parentId: string | null = null;
    if (req.incremental) {
      const candidates = await trx.selectFrom('backup').selectAll().where('volume_id', '=', vol.id).where('project_id', '=', projectId)
        .where('status', '=', 'available').orderBy('data_timestamp', 'desc').orderBy('created_at', 'desc').execute();
      const parent = candidates.find((b) => snapshotCreated === null || b.data_timestamp < snapshotCreated);
      if (!parent) throw new ApiError(400, 'Invalid backup: No backups available to do an incremental backup.');
      parentId = parent.id;
    }

    const t = now();
    const row: BackupRow = {
      id: uuid(), project_id: projectId, user_id: ctx.userId, volume_id: vol.id, snapshot_id: req.snapshotId, parent_id: parentId,
      name: req.name, description: req.description, status: 'creating', fail_reason: null, size: vol.size, object_count: 0,
      container: req.container, availability_zone: req.availabilityZone ?? vol.availability_zone, is_incremental: parentId ? 1 : 0,
      metadata: JSON.stringify(req.metadata), data_timestamp: snapshotCreated ?? t, created_at: t, updated_at: t,
    };
    await trx.insertInto('backup').values(row).execute();
    if (req.snapshotId) {
      await trx.updateTable('snapshot').set({ status: 'backing-up', updated_at: t }).where('id', '=', req.snapshotId).execute();
    } else {
      await trx.updateTable('volume').set({ status: 'backing-up', previous_status: vol.status, updated_at: t }).where('id', '=', vol.id).execute();
    }
    await enqueue(bd, row.id, { action: 'create', snapshotId: req.snapshotId, previousStatus: req.snapshotId ? null : vol.status }, trx);
    return row;
  });
}

/** Deletes a backup (from `available`/`error` unless forced); refused while an incremental backup depends on it. */
export async function deleteBackup(bd: BackupDeps, backup: BackupRow, force = false): Promise<void> {
  await bd.db.transaction().execute(async (trx) => {
    const cur = await trx.selectFrom('backup').selectAll().where('id', '=', backup.id).executeTakeFirst();
    if (!cur) throw new ApiError(404, `Backup ${backup.id} could not be found.`);
    if (!force && !['available', 'error'].includes(cur.status)) throw new ApiError(400, 'Invalid backup: Backup status must be available or error');
    const child = await trx.selectFrom('backup').select('id').where('parent_id', '=', backup.id).executeTakeFirst();
    if (child) throw new ApiError(400, 'Invalid backup: Incremental backups exist for this backup.');
    await trx.updateTable('backup').set({ status: 'deleting', updated_at: now() }).where('id', '=', backup.id).execute();
    await enqueue(bd, backup.id, { action: 'delete' }, trx);
  });
}

export interface RestoreResult { backup_id: string; volume_id: string; volume_name: string | null }

/** Restores into `volumeId` (available, at least as large) or into a new volume of the backup's size. */
export async function restoreBackup(bd: BackupDeps, ctx: RequestContext, backup: BackupRow, req: { volumeId: string | null; name: string | null }): Promise<RestoreResult> {
  return bd.db.transaction().execute(async (trx) => {
    const cur = await trx.selectFrom('backup').selectAll().where('id', '=', backup.id).executeTakeFirst();
    if (!cur) throw new ApiError(404, `Backup ${backup.id} could not be found.`);
    if (cur.status !== 'available') throw new ApiError(400, 'Invalid backup: Backup status must be available');
    let vol: VolumeRow;
    const isNew = !req.volumeId;
    const t = now();
    if (req.volumeId) {
      const found = await trx.selectFrom('volume').selectAll().where('id', '=', req.volumeId).executeTakeFirst();
      if (!found || !canSeeProject(ctx, found.project_id)) throw new ApiError(404, `Volume ${req.volumeId} could not be found.`);
      vol = found;
      if (vol.status !== 'available') throw new ApiError(400, 'Invalid volume: Volume to be restored to must be available');
      if (cur.size > vol.size) throw new ApiError(400, `Invalid volume: volume size ${vol.size} is too small to restore backup of size ${cur.size}.`);
      await trx.updateTable('volume').set({ status: 'restoring-backup', previous_status: vol.status, updated_at: t }).where('id', '=', vol.id).execute();
    } else {
      const projectId = ctx.projectId!;
      await lockQuota(trx, bd.platform.dialect, projectId);
      await checkVolumeQuota(trx, projectId, { volumes: 1, gigabytes: cur.size });
      const zones = volumeZones(bd.platform);
      vol = {
        id: uuid(), project_id: projectId, user_id: ctx.userId, name: req.name ?? `restore_backup_${cur.id}`,
        description: 'auto-created_from_restore_from_backup', size: cur.size, status: 'restoring-backup', previous_status: null,
        attach_status: 'detached', migration_status: null,
        availability_zone: cur.availability_zone && zones.includes(cur.availability_zone) ? cur.availability_zone : zones[0]!,
        volume_type_id: (await defaultType(trx)).id, snapshot_id: null, source_volid: null, backup_id: null, image_id: null, bootable: 0,
        multiattach: 0, readonly: 0, host: bd.backend.host, provider_location: null, fault: null, launched_at: null, created_at: t, updated_at: t,
      };
      await trx.insertInto('volume').values(vol).execute();
    }
    await trx.updateTable('backup').set({ status: 'restoring', updated_at: t }).where('id', '=', cur.id).execute();
    await enqueue(bd, cur.id, { action: 'restore', volumeId: vol.id, isNew }, trx);
    return { backup_id: cur.id, volume_id: vol.id, volume_name: vol.name };
  });
}

/** Cinder's backup statuses an admin may reset to. */
export const BACKUP_RESET_STATUSES = ['available', 'error'];

export async function resetBackupStatus(bd: BackupDeps, backup: BackupRow, status: string): Promise<void> {
  await bd.db.updateTable('backup').set({ status, updated_at: now() }).where('id', '=', backup.id).execute();
}

// ---- export and import of backup records -------------------------------------------------

/** What an exported record holds: the backup's row in Cinder's names, and where its data is. */
interface BackupRecord {
  id: string; volume_id: string; snapshot_id: string | null; parent_id: string | null; display_name: string | null; display_description: string | null;
  container: string | null; availability_zone: string | null; size: number; object_count: number; is_incremental: boolean; status: string;
  data_timestamp: number; created_at: number; metadata: Record<string, string>; service: string;
  driver_info: { backup_id: string };
}

export function exportRecord(bd: BackupDeps, b: BackupRow): { backup_service: string; backup_url: string } {
  if (b.status !== 'available') throw new ApiError(400, `Invalid backup: Backup status must be available and not ${b.status}.`);
  const record: BackupRecord = {
    id: b.id, volume_id: b.volume_id, snapshot_id: b.snapshot_id, parent_id: b.parent_id, display_name: b.name, display_description: b.description,
    container: b.container, availability_zone: b.availability_zone, size: b.size, object_count: b.object_count, is_incremental: !!b.is_incremental,
    status: b.status, data_timestamp: b.data_timestamp, created_at: b.created_at, metadata: JSON.parse(b.metadata) as Record<string, string>,
    service: bd.store.service, driver_info: { backup_id: b.id },
  };
  return { backup_service: bd.store.service, backup_url: Buffer.from(JSON.stringify(record)).toString('base64') };
}

export async function importRecord(bd: BackupDeps, ctx: RequestContext, service: string, url: string): Promise<BackupRow> {
  let rec: Partial<BackupRecord>;
  try {
    rec = JSON.parse(Buffer.from(url, 'base64').toString('utf8')) as Partial<BackupRecord>;
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('not an object');
  } catch {
    throw new ApiError(400, "Invalid input received: Can't parse backup record.");
  }
  if (service !== bd.store.service) throw new ApiError(400, `Invalid backup: Backup service ${service} is not supported here; use ${bd.store.service}.`);
  if (typeof rec.id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(rec.id)) throw new ApiError(400, 'Invalid input received: Provided backup record is missing an id');
  if (typeof rec.size !== 'number' || !Number.isInteger(rec.size) || rec.size < 0) throw new ApiError(400, 'Invalid input received: Provided backup record is missing size attribute');
  const sourceId = typeof rec.driver_info?.backup_id === 'string' ? rec.driver_info.backup_id : rec.id;
  if (!/^[A-Za-z0-9-]+$/.test(sourceId)) throw new ApiError(400, "Invalid input received: Can't parse backup record.");
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const projectId = ctx.projectId!;
  return bd.db.transaction().execute(async (trx) => {
    if (await trx.selectFrom('backup').select('id').where('id', '=', rec.id!).executeTakeFirst()) throw new ApiError(400, 'Invalid backup: Backup already exists in database.');
    await lockQuota(trx, bd.platform.dialect, projectId);
    await checkVolumeQuota(trx, projectId, { backups: 1, backup_gigabytes: rec.size! });
    const t = now();
    const meta = rec.metadata && typeof rec.metadata === 'object' && !Array.isArray(rec.metadata) ? rec.metadata : {};
    const row: BackupRow = {
      id: rec.id!, project_id: projectId, user_id: ctx.userId, volume_id: str(rec.volume_id) ?? '00000000-0000-0000-0000-000000000000',
      snapshot_id: str(rec.snapshot_id), parent_id: null, name: str(rec.display_name), description: str(rec.display_description), status: 'creating',
      fail_reason: null, size: rec.size!, object_count: 0, container: str(rec.container), availability_zone: str(rec.availability_zone),
      is_incremental: rec.is_incremental ? 1 : 0, metadata: JSON.stringify(meta),
      data_timestamp: typeof rec.data_timestamp === 'number' ? rec.data_timestamp : t, created_at: t, updated_at: t,
    };
    await trx.insertInto('backup').values(row).execute();
    await enqueue(bd, row.id, { action: 'import', sourceId }, trx);
    return row;
  });
}

/** How many incremental backups hang off each of `ids`. */
export async function dependentCounts(db: VDb, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!ids.length) return out;
  const rows = await db.selectFrom('backup').select('parent_id').where('parent_id', 'in', ids).execute();
  for (const r of rows) out.set(r.parent_id!, (out.get(r.parent_id!) ?? 0) + 1);
  return out;
}
