import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import {
  badRequest, bodyOf, bool, isUuid, links, metadataMap, mv, notFound, optString, projectScope, requireMember, route, size, type VolumeDeps,
} from './common.js';
import { listQuery, metadataFilter, nextLinks, pageOf, refuseUnknownFilters } from './listing.js';
import { visibleVolume } from '../logic/access.js';
import { createVolume, deleteVolume } from '../logic/volumes.js';
import { backupDeps, restoreBackup, visibleBackup } from '../logic/backups.js';
import { metadataOf, toMap, writeMetadata, type VolumeRow } from '../store.js';
import { volumeView, volumeViewInputs } from '../views.js';

/** Sort keys Cinder accepts for volumes. */
const SORT_KEYS = ['id', 'name', 'status', 'size', 'availability_zone', 'created_at', 'updated_at', 'bootable', 'volume_type', 'project_id', 'user_id'] as const;
/** Filters Cinder's resource-filter table allows on volumes (3.34+ refuses others). */
const FILTERS = new Set(['name', 'status', 'metadata', 'bootable', 'availability_zone', 'volume_type', 'volume_type_id', 'group_id', 'display_name', 'project_id',
  'all_tenants', 'limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'with_count', 'glance_metadata', 'migration_status', 'size', 'user_id',
  'display_description', 'description', 'created_at', 'updated_at', 'attach_status', 'consumes_quota', 'is_public', 'changes-since']);

export async function volumeRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const show = async (req: FastifyRequest, vols: VolumeRow[], extended = true) => (await volumeViewInputs(d.db, vols)).map((v) => volumeView(req, d.platform, v, extended));

  route(app, 'post', '/volumes', async (req, reply) => {
    requireMember(req.ctx, 'volume:create');
    const b = bodyOf(req, 'volume');
    const name = optString(b.name ?? b.display_name, 'name');
    const description = optString(b.description ?? b.display_description, 'description');
    const idOf = (k: string) => {
      const v = b[k];
      if (v === undefined || v === null) return null;
      if (!isUuid(v)) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a 'uuid'`);
      return v;
    };
    const snapshotId = idOf('snapshot_id');
    const sourceVolId = idOf('source_volid');
    const imageRaw = b.imageRef ?? b.image_id;
    if (imageRaw !== undefined && imageRaw !== null && typeof imageRaw !== 'string') throw badRequest(`Invalid input for field/attribute imageRef. Value: ${JSON.stringify(imageRaw)}.`);
    if (b.backup_id !== undefined && b.backup_id !== null) {
      // 3.47: a new volume from a backup is a restore into a new volume.
      if (!mv(req, '3.47')) throw badRequest('Additional properties are not allowed (\'backup_id\' was unexpected)');
      if (!isUuid(b.backup_id)) throw badRequest(`Invalid input for field/attribute backup_id. Value: ${JSON.stringify(b.backup_id)}. ${JSON.stringify(b.backup_id)} is not a 'uuid'`);
      const bd = backupDeps(d);
      const backup = await visibleBackup(d.db, req.ctx, b.backup_id);
      if (b.size !== undefined && b.size !== null && size(b.size) < backup.size) throw badRequest(`Invalid input received: Volume size ${String(b.size)}GB cannot be smaller than the backup size ${backup.size}GB.`);
      const restored = await restoreBackup(bd, req.ctx, backup, { volumeId: null, name: optString(b.name ?? b.display_name, 'name') });
      const row = await visibleVolume(d.db, req.ctx, restored.volume_id);
      reply.status(202);
      return { volume: (await show(req, [row], false))[0] };
    }
    const volSize = b.size === undefined || b.size === null ? null : size(b.size);
    if (volSize === null && !snapshotId && !sourceVolId && !imageRaw) throw badRequest(`Invalid input for field/attribute size. Value: None. None is not of type 'integer', 'string'`);
    const vt = b.volume_type;
    if (vt !== undefined && vt !== null && typeof vt !== 'string') throw badRequest(`Invalid input for field/attribute volume_type. Value: ${JSON.stringify(vt)}.`);
    const az = b.availability_zone;
    if (az !== undefined && az !== null && typeof az !== 'string') throw badRequest(`Invalid input for field/attribute availability_zone. Value: ${JSON.stringify(az)}.`);
    const row = await createVolume(d, req.ctx, {
      size: volSize, name, description, volumeType: (vt as string | null | undefined) ?? null, availabilityZone: (az as string | null | undefined) ?? null,
      imageId: (imageRaw as string | undefined) || null, snapshotId, sourceVolId,
      metadata: b.metadata === undefined || b.metadata === null ? {} : metadataMap(b.metadata),
      multiattach: b.multiattach === undefined ? false : bool(b.multiattach, 'multiattach'), legacyMultiattach: !mv(req, '3.50'),
    });
    reply.status(202);
    return { volume: (await show(req, [row], false))[0] };
  });

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    refuseUnknownFilters(req, FILTERS);
    const lq = listQuery(req, SORT_KEYS);
    const project = projectScope(req);
    let sel = d.db.selectFrom('volume').selectAll();
    if (project) sel = sel.where('project_id', '=', project);
    const name = q.name ?? q.display_name;
    if (name !== undefined) sel = sel.where('name', '=', name);
    if (q.status !== undefined) sel = sel.where('status', '=', q.status);
    if (q.availability_zone !== undefined) sel = sel.where('availability_zone', '=', q.availability_zone);
    if (q.bootable !== undefined) sel = sel.where('bootable', '=', bool(q.bootable, 'bootable') ? 1 : 0);
    if (q.size !== undefined && /^\d+$/.test(q.size)) sel = sel.where('size', '=', Number(q.size));
    if (q.user_id !== undefined) sel = sel.where('user_id', '=', q.user_id);
    let rows = await sel.execute();
    const types = new Map((await d.db.selectFrom('volume_type').select(['id', 'name']).execute()).map((t) => [t.id, t.name]));
    const vt = q.volume_type ?? q.volume_type_id;
    if (vt !== undefined) rows = rows.filter((r) => r.volume_type_id === vt || types.get(r.volume_type_id) === vt);
    const meta = metadataFilter(q.metadata);
    if (meta) {
      const maps = await metadataOf(d.db, 'volume_metadata', rows.map((r) => r.id));
      rows = rows.filter((r) => Object.entries(meta).every(([k, v]) => maps.get(r.id)?.[k] === v));
    }
    const glance = metadataFilter(q.glance_metadata);
    if (glance && mv(req, '3.4')) {
      const maps = await metadataOf(d.db, 'volume_image_metadata', rows.map((r) => r.id));
      rows = rows.filter((r) => Object.entries(glance).every(([k, v]) => maps.get(r.id)?.[k] === v));
    }
    const items = pageOf(rows, lq, (r, k) => (k === 'volume_type' ? types.get(r.volume_type_id) : (r as unknown as Record<string, unknown>)[k]));
    const volumes = detail ? await show(req, items) : items.map((v) => ({ id: v.id, name: v.name, links: links(req, d.platform, 'volumes', v.id, v.project_id) }));
    const out: Record<string, unknown> = { volumes, ...nextLinks(req, d.platform, 'volumes', items, lq.limit) };
    if (mv(req, '3.45') && q.with_count !== undefined && bool(q.with_count, 'with_count')) out.count = rows.length;
    return out;
  };
  route(app, 'get', '/volumes', list(false));
  route(app, 'get', '/volumes/detail', list(true));

  // Summary of the caller's volumes (3.12).
  route(app, 'get', '/volumes/summary', async (req) => {
    if (!mv(req, '3.12')) throw notFound(`Volume summary could not be found.`);
    const project = projectScope(req);
    let sel = d.db.selectFrom('volume').select(['id', 'size']);
    if (project) sel = sel.where('project_id', '=', project);
    const rows = await sel.execute();
    const out: Record<string, unknown> = { total_count: rows.length, total_size: rows.reduce((s, r) => s + r.size, 0) };
    if (mv(req, '3.36')) {
      const maps = await metadataOf(d.db, 'volume_metadata', rows.map((r) => r.id));
      const all: Record<string, string[]> = {};
      for (const m of maps.values()) for (const [k, v] of Object.entries(m)) (all[k] ??= []).includes(v) || all[k]!.push(v);
      out.metadata = all;
    }
    return { 'volume-summary': out };
  });

  route(app, 'get', '/volumes/:id', async (req) => {
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    return { volume: (await show(req, [vol]))[0] };
  });

  route(app, 'put', '/volumes/:id', async (req) => {
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    requireMember(req.ctx, 'volume:update');
    const b = bodyOf(req, 'volume');
    const allowed = ['name', 'description', 'display_name', 'display_description', 'metadata'];
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) throw badRequest(`Invalid input for field/attribute volume. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
    const values: Partial<VolumeRow> = { updated_at: now() };
    if ('name' in b || 'display_name' in b) values.name = optString(b.name ?? b.display_name, 'name');
    if ('description' in b || 'display_description' in b) values.description = optString(b.description ?? b.display_description, 'description');
    const metadata = b.metadata === undefined ? null : metadataMap(b.metadata);
    await d.db.transaction().execute(async (trx) => {
      await trx.updateTable('volume').set(values).where('id', '=', vol.id).execute();
      if (metadata) await writeMetadata(trx, 'volume_metadata', vol.id, metadata, true);
    });
    return { volume: (await show(req, [{ ...vol, ...values }], false))[0] };
  });

  route(app, 'delete', '/volumes/:id', async (req, reply) => {
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    requireMember(req.ctx, 'volume:delete');
    const q = req.query as Record<string, string | undefined>;
    const cascade = q.cascade !== undefined && bool(q.cascade, 'cascade');
    const force = q.force !== undefined && bool(q.force, 'force');
    if (force && !req.ctx.isAdmin) throw notFound(`Volume ${vol.id} could not be found.`);
    await deleteVolume(d, req.ctx, vol, { cascade, force });
    reply.status(202);
    return reply.send();
  });

  // ---- metadata --------------------------------------------------------------------
  const metaOf = async (id: string) => toMap(await d.db.selectFrom('volume_metadata').select(['key', 'value']).where('volume_id', '=', id).execute());
  route(app, 'get', '/volumes/:id/metadata', async (req) => {
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    return { metadata: await metaOf(vol.id) };
  });
  const writeAll = (replace: boolean) => async (req: FastifyRequest) => {
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    requireMember(req.ctx, 'volume:update_volume_metadata');
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || b.metadata === undefined) throw badRequest('Malformed request body');
    const map = metadataMap(b.metadata);
    await writeMetadata(d.db, 'volume_metadata', vol.id, map, replace);
    return { metadata: replace ? map : await metaOf(vol.id) };
  };
  route(app, 'post', '/volumes/:id/metadata', writeAll(false));
  route(app, 'put', '/volumes/:id/metadata', writeAll(true));
  route(app, 'get', '/volumes/:id/metadata/:key', async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const vol = await visibleVolume(d.db, req.ctx, id);
    const m = await metaOf(vol.id);
    if (!(key in m)) throw notFound(`Volume ${vol.id} has no metadata with key ${key}.`);
    return { meta: { [key]: m[key] } };
  });
  route(app, 'put', '/volumes/:id/metadata/:key', async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const vol = await visibleVolume(d.db, req.ctx, id);
    requireMember(req.ctx, 'volume:update_volume_metadata');
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || !b.meta || typeof b.meta !== 'object') throw badRequest('Malformed request body');
    const map = metadataMap(b.meta, 'meta');
    if (Object.keys(map).length !== 1) throw badRequest('Request body contains too many items');
    if (!(key in map)) throw badRequest('Request body and URI mismatch');
    await writeMetadata(d.db, 'volume_metadata', vol.id, map, false);
    return { meta: map };
  });
  route(app, 'delete', '/volumes/:id/metadata/:key', async (req, reply) => {
    const { id, key } = req.params as { id: string; key: string };
    const vol = await visibleVolume(d.db, req.ctx, id);
    requireMember(req.ctx, 'volume:delete_volume_metadata');
    const r = await d.db.deleteFrom('volume_metadata').where('volume_id', '=', vol.id).where('key', '=', key).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Volume ${vol.id} has no metadata with key ${key}.`);
    return reply.send();
  });
}
