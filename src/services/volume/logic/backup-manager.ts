import type { Readable } from 'node:stream';
import { now } from '../../../platform/clock.js';
import { metadataOf, writeMetadata, type BackupRow, type VDb, type VolumeRow } from '../store.js';
import { copyBackupData, manifestKey, readBackupData, readManifest, writeBackupData, type BackupManifest, type VolumeRecord } from './backup-data.js';
import type { BackupDeps, BackupTask } from './backups.js';

/**
 * The backup manager: carries out a backup task the API queued, and writes the resting
 * statuses back. Every step can run again after a crash: chunk objects are rewritten whole,
 * the manifest comes last, temporary clones have fixed names, and a status is only moved on
 * from the transitional status the API wrote (a reset or force delete in between wins).
 */
export async function runBackupTask(bd: BackupDeps, backupId: string, task: BackupTask): Promise<void> {
  const backup = await bd.db.selectFrom('backup').selectAll().where('id', '=', backupId).executeTakeFirst();
  if (!backup) return;
  switch (task.action) {
    case 'create': return createData(bd, backup, task.snapshotId, task.previousStatus);
    case 'delete':
      await bd.store.deleteAll(backup.id);
      await bd.db.deleteFrom('backup').where('id', '=', backup.id).execute();
      return;
    case 'restore': return restoreData(bd, backup, task.volumeId, task.isNew);
    case 'import': return importData(bd, backup, task.sourceId);
  }
}

const fault = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 255);

async function volumeRecord(db: VDb, vol: VolumeRow): Promise<VolumeRecord> {
  const [meta, image] = await Promise.all([metadataOf(db, 'volume_metadata', [vol.id]), metadataOf(db, 'volume_image_metadata', [vol.id])]);
  return { id: vol.id, size: vol.size, bootable: vol.bootable === 1, metadata: meta.get(vol.id) ?? {}, imageMetadata: image.get(vol.id) ?? {} };
}

/** Gives the source back its resting status: the snapshot `available`, the volume what it was before. */
async function releaseSource(db: VDb, backup: BackupRow, snapshotId: string | null, previousStatus: string | null): Promise<void> {
  const t = now();
  if (snapshotId) {
    await db.updateTable('snapshot').set({ status: 'available', updated_at: t }).where('id', '=', snapshotId).where('status', '=', 'backing-up').execute();
  } else {
    await db.updateTable('volume').set({ status: previousStatus ?? 'available', previous_status: 'backing-up', updated_at: t })
      .where('id', '=', backup.volume_id).where('status', '=', 'backing-up').execute();
  }
}

async function createData(bd: BackupDeps, backup: BackupRow, snapshotId: string | null, previousStatus: string | null): Promise<void> {
  if (backup.status !== 'creating') { await releaseSource(bd.db, backup, snapshotId, previousStatus); return; }
  // A snapshot, or a volume a server may be writing to, is read from a temporary clone
  // (a reflink where the filesystem has them), so the backup is one point in time.
  const clone = snapshotId || previousStatus === 'in-use' ? `backup-${backup.id}` : null;
  try {
    const vol = await bd.db.selectFrom('volume').selectAll().where('id', '=', backup.volume_id).executeTakeFirstOrThrow();
    const record = await volumeRecord(bd.db, vol);
    const parent = backup.parent_id ? await readManifest(bd.store, backup.parent_id) : null;
    if (clone) await bd.backend.cloneVolume(snapshotId ? { snapshotId } : { volumeId: vol.id }, clone, backup.size);
    const source = await bd.backend.open(clone ?? vol.id);
    let result;
    try {
      result = await writeBackupData(bd.store, backup.id, source as AsyncIterable<Buffer>, parent, record, bd.chunks);
    } finally {
      (source as Readable).destroy?.();
      if (clone) await bd.backend.delete(clone);
    }
    // The backup turns available and its source is released at once: a client that waited
    // for the backup finds the volume (or snapshot) back in its resting status.
    await bd.db.transaction().execute(async (trx) => {
      await trx.updateTable('backup').set({
        status: 'available', object_count: result.stored, container: backup.container ?? bd.store.defaultContainer, fail_reason: null, updated_at: now(),
      }).where('id', '=', backup.id).where('status', '=', 'creating').execute();
      await releaseSource(trx, backup, snapshotId, previousStatus);
    });
  } catch (err) {
    bd.platform.log.warn({ err, backup: backup.id }, 'backup failed');
    await bd.store.deleteAll(backup.id).catch(() => undefined);
    await bd.db.transaction().execute(async (trx) => {
      await trx.updateTable('backup').set({ status: 'error', fail_reason: fault(err), updated_at: now() })
        .where('id', '=', backup.id).where('status', '=', 'creating').execute();
      await releaseSource(trx, backup, snapshotId, previousStatus);
    });
  } finally {
    if (clone) await bd.backend.delete(clone).catch(() => undefined);
  }
}

async function restoreData(bd: BackupDeps, backup: BackupRow, volumeId: string, isNew: boolean): Promise<void> {
  const vol = await bd.db.selectFrom('volume').selectAll().where('id', '=', volumeId).executeTakeFirst();
  const backupDone = (db: VDb) => db.updateTable('backup').set({ status: 'available', updated_at: now() })
    .where('id', '=', backup.id).where('status', '=', 'restoring').execute();
  if (!vol || vol.status !== 'restoring-backup') { await backupDone(bd.db); return; }
  try {
    const manifest: BackupManifest = await readManifest(bd.store, backup.id);
    if (isNew) await bd.backend.create(vol.id, vol.size);
    await bd.backend.overwrite(vol.id, readBackupData(bd.store, manifest));
    const rec = manifest.volume;
    await bd.db.transaction().execute(async (trx) => {
      if (Object.keys(rec.metadata).length) await writeMetadata(trx, 'volume_metadata', vol.id, rec.metadata, false);
      if (Object.keys(rec.imageMetadata).length) await writeMetadata(trx, 'volume_image_metadata', vol.id, rec.imageMetadata, true);
      await trx.updateTable('volume').set({
        status: 'available', previous_status: 'restoring-backup', bootable: rec.bootable ? 1 : vol.bootable, updated_at: now(),
        ...(isNew ? { launched_at: now(), provider_location: bd.backend.locate(vol.id) } : {}),
      }).where('id', '=', vol.id).where('status', '=', 'restoring-backup').execute();
      await backupDone(trx);
    });
  } catch (err) {
    bd.platform.log.warn({ err, backup: backup.id, volume: volumeId }, 'backup restore failed');
    await bd.db.transaction().execute(async (trx) => {
      await trx.updateTable('volume').set({ status: 'error_restoring', fault: fault(err), updated_at: now() })
        .where('id', '=', vol.id).where('status', '=', 'restoring-backup').execute();
      await backupDone(trx);
    });
  }
}

async function importData(bd: BackupDeps, backup: BackupRow, sourceId: string): Promise<void> {
  if (backup.status !== 'creating') return;
  try {
    // The record's own data (a database restored after loss), or a standalone copy of another backup's.
    const { stored } = (await bd.store.has(manifestKey(backup.id)))
      ? { stored: (await readManifest(bd.store, backup.id)).chunks.filter((c) => c && c.object.startsWith(`${backup.id}/`)).length }
      : await copyBackupData(bd.store, sourceId, backup.id);
    await bd.db.updateTable('backup').set({ status: 'available', object_count: stored, container: backup.container ?? bd.store.defaultContainer, updated_at: now() })
      .where('id', '=', backup.id).where('status', '=', 'creating').execute();
  } catch (err) {
    bd.platform.log.warn({ err, backup: backup.id }, 'backup import failed');
    await bd.db.updateTable('backup').set({ status: 'error', fail_reason: fault(err), updated_at: now() })
      .where('id', '=', backup.id).where('status', '=', 'creating').execute();
  }
}
