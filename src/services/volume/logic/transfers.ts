import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../../platform/auth/context.js';
import { lockKey } from '../../../platform/db/locks.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { VolumeTransferRow } from '../store.js';
import { canSeeProject } from './access.js';
import { checkVolumeQuota, lockQuota } from './quota.js';
import type { VolumeLogicDeps } from './volumes.js';

/**
 * Volume transfers: the owner offers an `available` volume (it waits in `awaiting-transfer`)
 * and gets an auth key, shown once; whoever has the transfer's id and key accepts it into
 * their own project, quota permitting there. The volume and, unless `no_snapshots`, its
 * snapshots change owner. Only a salted hash of the key is kept.
 */
const hashKey = (salt: string, key: string) => createHash('sha256').update(`${salt}${key}`).digest('hex');

export async function createTransfer(d: VolumeLogicDeps, ctx: RequestContext, volumeId: string, name: string | null, noSnapshots: boolean): Promise<{ row: VolumeTransferRow; authKey: string }> {
  const authKey = randomBytes(8).toString('hex');
  const salt = randomBytes(8).toString('hex');
  return d.db.transaction().execute(async (trx) => {
    await lockKey(trx, d.platform.dialect, `volume:${volumeId}`);
    const vol = await trx.selectFrom('volume').selectAll().where('id', '=', volumeId).executeTakeFirst();
    if (!vol || !canSeeProject(ctx, vol.project_id)) throw new ApiError(404, `Volume ${volumeId} could not be found.`);
    if (vol.status !== 'available') throw new ApiError(400, `Invalid volume: Status of volume ${vol.id} must be available, but current status is: ${vol.status}.`);
    if (!noSnapshots) {
      const busy = await trx.selectFrom('snapshot').select(['id', 'status']).where('volume_id', '=', vol.id).where('status', '!=', 'available').executeTakeFirst();
      if (busy) throw new ApiError(400, `Invalid snapshot: Snapshot ${busy.id} status must be available, but current status is: ${busy.status}.`);
    }
    const row: VolumeTransferRow = {
      id: uuid(), volume_id: vol.id, name, salt, crypt_hash: hashKey(salt, authKey), source_project_id: vol.project_id,
      destination_project_id: null, accepted: 0, no_snapshots: noSnapshots ? 1 : 0, created_at: now(),
    };
    await trx.insertInto('volume_transfer').values(row).execute();
    await trx.updateTable('volume').set({ status: 'awaiting-transfer', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
    return { row, authKey };
  });
}

/** A pending transfer the caller may see: one of their project's, or any for an admin. */
export async function visibleTransfer(d: VolumeLogicDeps, ctx: RequestContext, id: string): Promise<VolumeTransferRow> {
  const t = await d.db.selectFrom('volume_transfer').selectAll().where('id', '=', id).where('accepted', '=', 0).executeTakeFirst();
  if (!t || !canSeeProject(ctx, t.source_project_id)) throw new ApiError(404, `Transfer ${id} could not be found.`);
  return t;
}

/** Cancels a transfer: the volume is `available` again. */
export async function deleteTransfer(d: VolumeLogicDeps, t: VolumeTransferRow): Promise<void> {
  await d.db.transaction().execute(async (trx) => {
    await lockKey(trx, d.platform.dialect, `volume:${t.volume_id}`);
    await trx.deleteFrom('volume_transfer').where('id', '=', t.id).execute();
    await trx.updateTable('volume').set({ status: 'available', updated_at: now() }).where('id', '=', t.volume_id).where('status', '=', 'awaiting-transfer').execute();
  });
}

/** Accepts a transfer into the caller's project: the key must match and the caller's quota hold the volume (and its snapshots). */
export async function acceptTransfer(d: VolumeLogicDeps, ctx: RequestContext, id: string, authKey: string): Promise<VolumeTransferRow> {
  const projectId = ctx.projectId;
  if (!projectId) throw new ApiError(403, 'Project-scoped token required.');
  return d.db.transaction().execute(async (trx) => {
    await lockQuota(trx, d.platform.dialect, projectId);
    const t = await trx.selectFrom('volume_transfer').selectAll().where('id', '=', id).where('accepted', '=', 0).executeTakeFirst();
    if (!t) throw new ApiError(404, `Transfer ${id} could not be found.`);
    const given = Buffer.from(hashKey(t.salt, authKey));
    const kept = Buffer.from(t.crypt_hash);
    if (given.length !== kept.length || !timingSafeEqual(given, kept)) throw new ApiError(400, `Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    await lockKey(trx, d.platform.dialect, `volume:${t.volume_id}`);
    const vol = await trx.selectFrom('volume').selectAll().where('id', '=', t.volume_id).executeTakeFirst();
    if (!vol) throw new ApiError(404, `Volume ${t.volume_id} could not be found.`);
    if (vol.status !== 'awaiting-transfer') throw new ApiError(400, `Invalid volume: Status of volume ${vol.id} must be awaiting-transfer, but current status is: ${vol.status}.`);
    const snaps = t.no_snapshots ? [] : await trx.selectFrom('snapshot').select(['id', 'size']).where('volume_id', '=', vol.id).execute();
    if (vol.project_id !== projectId) {
      await checkVolumeQuota(trx, projectId, {
        volumes: 1, gigabytes: vol.size + snaps.reduce((n, s) => n + s.size, 0), ...(snaps.length ? { snapshots: snaps.length } : {}),
      });
    }
    const at = now();
    await trx.updateTable('volume').set({ project_id: projectId, user_id: ctx.userId, status: 'available', previous_status: null, updated_at: at }).where('id', '=', vol.id).execute();
    if (snaps.length) {
      await trx.updateTable('snapshot').set({ project_id: projectId, user_id: ctx.userId, updated_at: at }).where('id', 'in', snaps.map((s) => s.id)).execute();
    }
    await trx.updateTable('volume_transfer').set({ accepted: 1, destination_project_id: projectId }).where('id', '=', t.id).execute();
    return { ...t, accepted: 1, destination_project_id: projectId };
  });
}
