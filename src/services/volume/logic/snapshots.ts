import type { RequestContext } from '../../../platform/auth/context.js';
import { callerOf } from '../../../platform/auth/caller.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { SnapshotRow, VDb } from '../store.js';
import { canSeeProject } from './access.js';
import { checkVolumeQuota, lockQuota } from './quota.js';
import type { VolumeLogicDeps } from './volumes.js';

/**
 * Snapshot rules as Cinder has them: a snapshot is taken of an `available` volume, or of an
 * `in-use` one when the caller says `force` (or, from 3.66, always); it counts one
 * `snapshots` and the volume's size in `gigabytes`, checked in the creating transaction
 * under the project's quota lock; it is deleted from `available` or `error` only, unless
 * an admin forces it.
 */
export interface NewSnapshot {
  volumeId: string;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  /** `force` was given and true, or the microversion allows in-use volumes. */
  allowInUse: boolean;
}

export async function createSnapshot(d: VolumeLogicDeps, ctx: RequestContext, req: NewSnapshot): Promise<SnapshotRow> {
  return d.db.transaction().execute(async (trx) => {
    const projectId = ctx.projectId!;
    await lockQuota(trx, d.platform.dialect, projectId);
    const vol = await trx.selectFrom('volume').selectAll().where('id', '=', req.volumeId).executeTakeFirst();
    if (!vol || !canSeeProject(ctx, vol.project_id)) throw new ApiError(404, `Volume ${req.volumeId} could not be found.`);
    if (vol.migration_status && !['success', 'error'].includes(vol.migration_status)) throw new ApiError(400, 'Invalid volume: Snapshot cannot be created while volume is migrating.');
    if (vol.status === 'error') throw new ApiError(400, 'Invalid volume: The snapshot cannot be created when the volume is in error status.');
    if (vol.status === 'maintenance') throw new ApiError(400, 'Invalid volume: The snapshot cannot be created when the volume is in maintenance mode.');
    const valid = req.allowInUse ? ['available', 'in-use'] : ['available'];
    if (!valid.includes(vol.status)) {
      throw new ApiError(400, `Invalid volume: Volume ${vol.id} status must be ${valid.join(', ')}, but current status is: ${vol.status}.`);
    }
    await checkVolumeQuota(trx, projectId, { snapshots: 1, gigabytes: vol.size });
    const t = now();
    const row: SnapshotRow = {
      id: uuid(), volume_id: vol.id, project_id: projectId, user_id: ctx.userId, name: req.name, description: req.description,
      status: 'creating', progress: '0%', size: vol.size, volume_type_id: vol.volume_type_id, provider_location: null, created_at: t, updated_at: t,
    };
    await trx.insertInto('snapshot').values(row).execute();
    await writeSnapshotMetadata(trx, row.id, req.metadata, true);
    await d.manager.enqueueSnapshot(row.id, { action: 'create', ctx: callerOf(ctx) }, trx);
    return row;
  });
}

/** Moves a snapshot to `deleting` and queues the backend's delete; only from `available`/`error` unless forced. */
export async function deleteSnapshot(d: VolumeLogicDeps, ctx: RequestContext, snap: SnapshotRow, force = false): Promise<void> {
  await d.db.transaction().execute(async (trx) => {
    let upd = trx.updateTable('snapshot').set({ status: 'deleting', updated_at: now() }).where('id', '=', snap.id);
    if (!force) upd = upd.where('status', 'in', ['available', 'error']);
    const r = await upd.executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      const cur = await trx.selectFrom('snapshot').select('status').where('id', '=', snap.id).executeTakeFirst();
      if (!cur) throw new ApiError(404, `Snapshot ${snap.id} could not be found.`);
      throw new ApiError(400, 'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.');
    }
    await d.manager.enqueueSnapshot(snap.id, { action: 'delete', ctx: callerOf(ctx) }, trx);
  });
}

/** Snapshot statuses an admin may reset to (Cinder's SnapshotStatus, less `deleted`). */
export const SNAPSHOT_STATUSES = ['error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', 'unmanaging', 'backing-up', 'restoring'];

/** What `os-update_snapshot_status` may move a snapshot to, from its current status. */
export const SNAPSHOT_STATUS_UPDATES: Record<string, string[]> = {
  creating: ['creating', 'available', 'error'],
  deleting: ['deleting', 'error_deleting'],
};

export async function snapshotMetadata(db: VDb, snapshotId: string): Promise<Record<string, string>> {
  const rows = await db.selectFrom('snapshot_metadata').select(['key', 'value']).where('snapshot_id', '=', snapshotId).execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** Metadata maps of several snapshots, the table read once. */
export async function snapshotMetadataOf(db: VDb, ids: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
  if (!ids.length) return out;
  const rows = await db.selectFrom('snapshot_metadata').selectAll().where('snapshot_id', 'in', ids).execute();
  for (const r of rows) out.get(r.snapshot_id)![r.key] = r.value;
  return out;
}

/** Replaces (or merges into) a snapshot's metadata map. */
export async function writeSnapshotMetadata(db: VDb, snapshotId: string, map: Record<string, string>, replace: boolean): Promise<void> {
  if (replace) await db.deleteFrom('snapshot_metadata').where('snapshot_id', '=', snapshotId).execute();
  else if (Object.keys(map).length) await db.deleteFrom('snapshot_metadata').where('snapshot_id', '=', snapshotId).where('key', 'in', Object.keys(map)).execute();
  const rows = Object.entries(map).map(([key, value]) => ({ snapshot_id: snapshotId, key, value }));
  if (rows.length) await db.insertInto('snapshot_metadata').values(rows).execute();
}
