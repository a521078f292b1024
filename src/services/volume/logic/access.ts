import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { SnapshotRow, VDb, VolumeRow, VolumeTypeRow } from '../store.js';

/**
 * What a caller may see. Volumes, snapshots and backups belong to a project: its members
 * and readers see them, admins see all, anyone else gets 404 (never a hint that it exists).
 * Private volume types are visible to admins and to the projects on their access list.
 */
export const canSeeProject = (ctx: RequestContext, projectId: string): boolean => ctx.isAdmin || ctx.projectId === projectId;

export async function visibleVolume(db: VDb, ctx: RequestContext, id: string): Promise<VolumeRow> {
  const vol = await db.selectFrom('volume').selectAll().where('id', '=', id).executeTakeFirst();
  if (!vol || !canSeeProject(ctx, vol.project_id)) throw new ApiError(404, `Volume ${id} could not be found.`);
  return vol;
}

export async function visibleSnapshot(db: VDb, ctx: RequestContext, id: string): Promise<SnapshotRow> {
  const snap = await db.selectFrom('snapshot').selectAll().where('id', '=', id).executeTakeFirst();
  if (!snap || !canSeeProject(ctx, snap.project_id)) throw new ApiError(404, `Snapshot ${id} could not be found.`);
  return snap;
}

export async function typeVisible(db: VDb, ctx: RequestContext, t: VolumeTypeRow): Promise<boolean> {
  if (t.is_public || ctx.isAdmin) return true;
  if (!ctx.projectId) return false;
  return !!(await db.selectFrom('volume_type_access').select('type_id').where('type_id', '=', t.id).where('project_id', '=', ctx.projectId).executeTakeFirst());
}

/** A volume type by id or name that the caller may use (404 VolumeTypeNotFound otherwise). */
export async function resolveType(db: VDb, ctx: RequestContext, idOrName: string): Promise<VolumeTypeRow> {
  const t = await db.selectFrom('volume_type').selectAll().where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)])).executeTakeFirst();
  if (!t || !(await typeVisible(db, ctx, t))) throw new ApiError(404, `Volume type with name ${idOrName} could not be found.`);
  return t;
}

/** The default volume type (`ssd`, as documented). */
export const DEFAULT_TYPE = 'ssd';
export async function defaultType(db: VDb): Promise<VolumeTypeRow> {
  return (await db.selectFrom('volume_type').selectAll().where('name', '=', DEFAULT_TYPE).executeTakeFirst())
    ?? (await db.selectFrom('volume_type').selectAll().orderBy('created_at').executeTakeFirstOrThrow());
}

/** Whether a type allows multi-attach (extra spec `multiattach="<is> True"`). */
export async function typeIsMultiattach(db: VDb, typeId: string): Promise<boolean> {
  const spec = await db.selectFrom('volume_type_extra_spec').select('value').where('type_id', '=', typeId).where('key', '=', 'multiattach').executeTakeFirst();
  return !!spec && /true/i.test(spec.value);
}
