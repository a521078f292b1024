import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { callerOf } from '../../../platform/auth/caller.js';
import { now } from '../../../platform/clock.js';
import {
  badRequest, bool, cinderTime, forbidden, invalid, isUuid, metadataMap, mv, notFound, optString, requireAdmin, requireMember, requireVersion, route, size,
  type VolumeDeps,
} from './common.js';
import { resolveType, typeIsMultiattach, visibleSnapshot, visibleVolume } from '../logic/access.js';
import { checkVolumeQuota, lockQuota } from '../logic/quota.js';
import { deleteVolume } from '../logic/volumes.js';
import { toMap, writeMetadata, type VolumeRow } from '../store.js';

/**
 * `POST /volumes/{id}/action`: one route, one handler per action key (`os-extend`,
 * `os-attach`, …). Modules register their actions here; the body must hold exactly one.
 */
export type VolumeAction = (req: FastifyRequest, reply: FastifyReply, vol: VolumeRow, args: unknown, d: VolumeDeps) => Promise<unknown>;
const actions = new Map<string, VolumeAction>();
export function registerVolumeAction(name: string, handler: VolumeAction): void { actions.set(name, handler); }

export async function volumeActionRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  route(app, 'post', '/volumes/:id/action', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
    const keys = Object.keys(body);
    const name = keys.find((k) => actions.has(k));
    if (!name || keys.length !== 1) throw badRequest(`There is no such action: ${keys.join(', ') || '(none)'}`);
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    return actions.get(name)!(req, reply, vol, body[name], d);
  });
}

// ---- the volume's own actions (attach/detach actions live in attach-actions.ts) ---------

/** An action's argument object (`{"os-extend": {...}}`); absent or null is an empty one. */
export const actionArgs = (v: unknown, action: string): Record<string, unknown> => {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${action}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  return v as Record<string, unknown>;
};

/** Statuses an admin may reset a volume to (Cinder's list). */
const RESET_STATUSES = ['available', 'error', 'creating', 'deleting', 'in-use', 'attaching', 'detaching', 'error_deleting', 'maintenance', 'reserved', 'extending', 'error_extending', 'uploading', 'downloading', 'retyping', 'backing-up', 'restoring-backup', 'error_restoring', 'awaiting-transfer'];

registerVolumeAction('os-extend', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:extend');
  const a = actionArgs(raw, 'os-extend');
  const newSize = size(a.new_size, 'new_size');
  const attached = vol.status === 'in-use';
  if (vol.status !== 'available' && !(attached && mv(req, '3.42'))) {
    throw invalid(`Invalid volume: Volume status must be ${mv(req, '3.42') ? "'available' or 'in-use'" : "'available'"} to extend, but current status is: ${vol.status}.`);
  }
  if (newSize <= vol.size) throw invalid(`Invalid input received: New size for extend must be greater than current size. (current: ${vol.size}, extended: ${newSize}).`);
  await d.db.transaction().execute(async (trx) => {
    await lockQuota(trx, d.platform.dialect, vol.project_id);
    const cur = await trx.selectFrom('volume').select('status').where('id', '=', vol.id).executeTakeFirst();
    if (cur?.status !== vol.status) throw invalid(`Invalid volume: Volume status changed to ${cur?.status} during the request.`);
    await checkVolumeQuota(trx, vol.project_id, { gigabytes: newSize - vol.size });
    await trx.updateTable('volume').set({ status: 'extending', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
    await d.manager.enqueue(vol.id, { action: 'extend', size: newSize, ctx: callerOf(req.ctx) }, trx);
  });
  reply.status(202);
  return reply.send();
});

registerVolumeAction('os-set_bootable', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:update');
  const a = actionArgs(raw, 'os-set_bootable');
  if (a.bootable === undefined) throw badRequest("Invalid input for field/attribute os-set_bootable. 'bootable' is a required property");
  const bootable = bool(a.bootable, 'bootable');
  await d.db.updateTable('volume').set({ bootable: bootable ? 1 : 0, updated_at: now() }).where('id', '=', vol.id).execute();
  return reply.send();
});

registerVolumeAction('os-update_readonly_flag', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:update_readonly_flag');
  const a = actionArgs(raw, 'os-update_readonly_flag');
  if (a.readonly === undefined) throw badRequest("Invalid input for field/attribute os-update_readonly_flag. 'readonly' is a required property");
  const readonly = bool(a.readonly, 'readonly');
  if (!['available', 'in-use'].includes(vol.status)) throw invalid(`Invalid volume: Volume status must be available or in-use to update its read-only flag, but current status is: ${vol.status}.`);
  await d.db.transaction().execute(async (trx) => {
    await trx.updateTable('volume').set({ readonly: readonly ? 1 : 0, updated_at: now() }).where('id', '=', vol.id).execute();
    await writeMetadata(trx, 'volume_admin_metadata', vol.id, { readonly: readonly ? 'True' : 'False' }, false);
  });
  reply.status(202);
  return reply.send();
});

registerVolumeAction('os-volume_upload_image', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:upload_image');
  const a = actionArgs(raw, 'os-volume_upload_image');
  const imageName = optString(a.image_name, 'image_name');
  if (!imageName) throw badRequest("Invalid input for field/attribute os-volume_upload_image. 'image_name' is a required property");
  const force = a.force === undefined ? false : bool(a.force, 'force');
  if (vol.status !== 'available' && !(vol.status === 'in-use' && force)) {
    throw invalid(`Invalid volume: Volume ${vol.id} status must be available or in-use with force, but current status is: ${vol.status}.`);
  }
  const diskFormat = (a.disk_format as string | undefined) ?? 'raw';
  if (!UPLOAD_FORMATS.includes(diskFormat)) throw badRequest(`Invalid input received: Invalid disk-format '${diskFormat}' is specified. Allowed disk-formats are ${UPLOAD_FORMATS.join(', ')}.`);
  const containerFormat = (a.container_format as string | undefined) ?? 'bare';
  if (containerFormat !== 'bare') throw badRequest(`Invalid input received: Invalid container-format '${containerFormat}' is specified. Allowed container-formats are bare.`);
  let visibility: 'private' | 'shared' = 'private';
  if (a.visibility !== undefined && mv(req, '3.1')) {
    if (a.visibility === 'public' || a.visibility === 'community') {
      if (!req.ctx.isAdmin) throw forbidden(`Policy doesn't allow volume_extension:volume_actions:upload_public to be performed.`);
    } else if (a.visibility !== 'private' && a.visibility !== 'shared') throw badRequest(`Invalid input received: Invalid visibility ${String(a.visibility)}.`);
    visibility = a.visibility === 'shared' ? 'shared' : 'private';
  }
  // The image carries the volume's image metadata (what it was made from), as Cinder copies it.
  const imageMeta = toMap(await d.db.selectFrom('volume_image_metadata').select(['key', 'value']).where('volume_id', '=', vol.id).execute());
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(imageMeta)) if (!IMAGE_CORE.has(k)) properties[k] = v;
  const image = await d.image.createQueued(req.ctx, { name: imageName, disk_format: diskFormat, container_format: containerFormat, visibility, min_disk: vol.size, properties });
  await d.db.transaction().execute(async (trx) => {
    await trx.updateTable('volume').set({ status: 'uploading', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
    await d.manager.enqueue(vol.id, { action: 'upload', imageId: image.id, diskFormat, ctx: callerOf(req.ctx) }, trx);
  });
  reply.status(202);
  const typeName = (await d.db.selectFrom('volume_type').select('name').where('id', '=', vol.volume_type_id).executeTakeFirst())?.name ?? null;
  return {
    'os-volume_upload_image': {
      id: vol.id, updated_at: cinderTime(now()), status: 'uploading', display_description: vol.description, size: vol.size,
      volume_type: typeName ? { name: typeName, id: vol.volume_type_id } : null, image_id: image.id, container_format: containerFormat,
      disk_format: diskFormat, image_name: imageName, ...(mv(req, '3.1') ? { visibility, protected: false } : {}),
    },
  };
});

registerVolumeAction('os-reset_status', async (req, reply, vol, raw, d) => {
  requireAdmin(req.ctx, 'volume_extension:volume_admin_actions:reset_status');
  const a = actionArgs(raw, 'os-reset_status');
  const values: Partial<VolumeRow> = { updated_at: now() };
  if (a.status !== undefined) {
    if (typeof a.status !== 'string' || !RESET_STATUSES.includes(a.status)) throw badRequest(`Invalid input received: Must specify a valid status (got ${JSON.stringify(a.status)}).`);
    values.status = a.status;
  }
  if (a.attach_status !== undefined) {
    if (a.attach_status !== 'attached' && a.attach_status !== 'detached') throw badRequest(`Invalid input received: Must specify a valid attach status (got ${JSON.stringify(a.attach_status)}).`);
    values.attach_status = a.attach_status;
  }
  if (a.migration_status !== undefined) values.migration_status = a.migration_status === 'none' ? null : String(a.migration_status);
  if (Object.keys(values).length === 1) throw badRequest('Invalid input received: Must specify status, attach_status or migration_status.');
  await d.db.updateTable('volume').set(values).where('id', '=', vol.id).execute();
  reply.status(202);
  return reply.send();
});

registerVolumeAction('os-force_delete', async (req, reply, vol, _raw, d) => {
  requireAdmin(req.ctx, 'volume_extension:volume_admin_actions:force_delete');
  await deleteVolume(d, req.ctx, vol, { force: true });
  reply.status(202);
  return reply.send();
});

registerVolumeAction('os-retype', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:retype');
  const a = actionArgs(raw, 'os-retype');
  if (typeof a.new_type !== 'string') throw badRequest("Invalid input for field/attribute os-retype. 'new_type' is a required property");
  const policy = a.migration_policy ?? 'never';
  if (policy !== 'never' && policy !== 'on-demand') throw badRequest(`Invalid input received: Invalid migration policy ${String(policy)}.`);
  const t = await resolveType(d.db, req.ctx, a.new_type);
  if (t.id === vol.volume_type_id) throw badRequest('Invalid input received: Retype requires a different type.');
  if (!['available', 'in-use'].includes(vol.status)) throw invalid(`Invalid volume: Volume status must be available or in-use to retype, but current status is: ${vol.status}.`);
  if (vol.status === 'in-use' && vol.multiattach && !(await typeIsMultiattach(d.db, t.id))) {
    throw invalid('Invalid volume: Retyping an attached multiattach volume to a type without multiattach is not allowed.');
  }
  await d.db.transaction().execute(async (trx) => {
    await trx.updateTable('volume').set({ status: 'retyping', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
    await d.manager.enqueue(vol.id, { action: 'retype', typeId: t.id, ctx: callerOf(req.ctx) }, trx);
  });
  reply.status(202);
  return reply.send();
});

// Image metadata carried by a volume made from an image (what Nova reads to boot it).
const imageMetaOf = async (d: VolumeDeps, id: string) => toMap(await d.db.selectFrom('volume_image_metadata').select(['key', 'value']).where('volume_id', '=', id).execute());
registerVolumeAction('os-set_image_metadata', async (req, _reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:update_volume_metadata');
  const a = actionArgs(raw, 'os-set_image_metadata');
  const map = metadataMap(a.metadata);
  await writeMetadata(d.db, 'volume_image_metadata', vol.id, map, false);
  return { metadata: await imageMetaOf(d, vol.id) };
});
registerVolumeAction('os-unset_image_metadata', async (req, reply, vol, raw, d) => {
  requireMember(req.ctx, 'volume:delete_volume_metadata');
  const a = actionArgs(raw, 'os-unset_image_metadata');
  if (typeof a.key !== 'string') throw badRequest("Invalid input for field/attribute os-unset_image_metadata. 'key' is a required property");
  const r = await d.db.deleteFrom('volume_image_metadata').where('volume_id', '=', vol.id).where('key', '=', a.key).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw notFound(`Glance metadata for volume ${vol.id} with key ${a.key} could not be found.`);
  return reply.send();
});
registerVolumeAction('os-show_image_metadata', async (_req, _reply, vol, _raw, d) => ({ metadata: await imageMetaOf(d, vol.id) }));

registerVolumeAction('revert', async (req, reply, vol, raw, d) => {
  requireVersion(req, '3.40');
  requireMember(req.ctx, 'volume:revert_to_snapshot');
  const a = actionArgs(raw, 'revert');
  if (!isUuid(a.snapshot_id)) throw badRequest("Invalid input for field/attribute revert. 'snapshot_id' is a required property");
  const snap = await visibleSnapshot(d.db, req.ctx, a.snapshot_id);
  if (snap.volume_id !== vol.id) throw badRequest(`Invalid input received: Snapshot ${snap.id} does not belong to volume ${vol.id}.`);
  const latest = await d.db.selectFrom('snapshot').select('id').where('volume_id', '=', vol.id).orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
  if (latest?.id !== snap.id) throw badRequest('Invalid input received: The volume can only be reverted to its latest snapshot.');
  if (vol.status !== 'available' || snap.status !== 'available') throw invalid('Invalid volume: The volume must be available and the snapshot available to revert.');
  if (snap.size !== vol.size) throw badRequest('Invalid input received: The volume was extended after the snapshot was taken; it cannot be reverted.');
  await d.db.transaction().execute(async (trx) => {
    await trx.updateTable('volume').set({ status: 'reverting', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
    await d.manager.enqueue(vol.id, { action: 'revert', snapshotId: snap.id, ctx: callerOf(req.ctx) }, trx);
  });
  reply.status(202);
  return reply.send();
});

/** Disk formats an upload may ask for (raw is the volume's own; others go through qemu-img). */
const UPLOAD_FORMATS = ['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx'];
/** Image attributes that are not properties, so never copied from volume_image_metadata. */
const IMAGE_CORE = new Set(['image_id', 'image_name', 'checksum', 'container_format', 'disk_format', 'min_disk', 'min_ram', 'size', 'id', 'name']);
