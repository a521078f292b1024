import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, conflict, forbidden } from '../../../platform/http/errors.js';
import { isUniqueViolation } from '../../../platform/db/index.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import { parseLimit, toList } from '../../../platform/http/pagination.js';
import { json } from '../../../platform/json.js';
import type { ImageRow, Visibility } from '../store.js';
import { tagsOf } from '../store.js';
import { imageView } from '../views.js';
import { isOwner, requireMemberRole, requireProjectScope, requireWrite, visibleImage } from '../logic/access.js';
import { checkCount, lockProject } from '../logic/quota.js';
import { applyPatch } from '../logic/patch.js';
import { checkProperty, checkTags, CORE, READ_ONLY, validateCore } from '../logic/properties.js';
import { imageKey, stagingKey, type ImageDeps } from '../logic/deps.js';
import { IMPORT_METHODS } from '../logic/import.js';

/** /v2/images: create, list (filters, sort, pages), show, JSON-patch update, delete. */
const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at', 'visibility', 'owner', 'min_ram', 'min_disk', 'virtual_size'];

export async function imageRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  const { db, platform } = deps;

  const view = async (rows: ImageRow[]) => {
    const tags = await tagsOf(db, rows.map((r) => r.id));
    return rows.map((r) => imageView(r, tags.get(r.id) ?? []));
  };

  app.post('/v2/images', async (req, reply) => {
    const ctx = req.ctx;
    const owner = requireProjectScope(ctx);
    requireMemberRole(ctx);
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
    const core = validateCore(body, true);
    if (core.visibility === 'public' && !ctx.isAdmin) throw forbidden('You are not authorized to complete publicize_image action.');
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) {
      if (CORE.includes(k) || k === 'tags') continue;
      if (READ_ONLY.includes(k)) throw forbidden(`Attribute '${k}' is read-only.`);
      properties[k] = checkProperty(k, v, ctx.isAdmin);
    }
    if (body.owner !== undefined && body.owner !== owner && !ctx.isAdmin) throw forbidden("Attribute 'owner' is reserved.");
    const tags = body.tags === undefined ? [] : checkTags(body.tags);
    const t = now();
    const row: ImageRow = {
      id: (body.id as string | undefined) ?? uuid(), name: (core.name as string | null | undefined) ?? null, status: 'queued',
      visibility: (core.visibility as Visibility | undefined) ?? 'shared', protected: core.protected ? 1 : 0, os_hidden: core.os_hidden ? 1 : 0,
      owner: (body.owner as string | undefined) ?? owner, size: null, virtual_size: null, checksum: null, os_hash_algo: null, os_hash_value: null,
      container_format: (core.container_format as string | null | undefined) ?? null, disk_format: (core.disk_format as string | null | undefined) ?? null,
      min_ram: (core.min_ram as number | undefined) ?? 0, min_disk: (core.min_disk as number | undefined) ?? 0,
      properties: JSON.stringify(properties), reserved_bytes: 0, created_at: t, updated_at: t,
    };
    try {
      await db.transaction().execute(async (trx) => {
        await lockProject(trx, platform.dialect, row.owner);
        await checkCount(trx, row.owner, platform.config.image.imageCountTotal);
        await trx.insertInto('image').values(row).execute();
        if (tags.length) await trx.insertInto('image_tag').values(tags.map((value) => ({ image_id: row.id, value }))).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`An image with identifier ${row.id} already exists`);
      throw err;
    }
    reply.status(201).header('location', `/v2/images/${row.id}`).header('openstack-image-import-methods', IMPORT_METHODS.join(','));
    return (await view([row]))[0];
  });

  app.get('/v2/images', async (req) => {
    // `/v2/images/` names an image with an empty id, which does not exist.
    if (req.url.split('?')[0]!.endsWith('/')) throw new ApiError(404, 'No image found with ID ');
    const ctx = req.ctx;
    const q = req.query as Record<string, string | string[]>;
    const one = (k: string) => (Array.isArray(q[k]) ? (q[k] as string[])[0] : (q[k] as string | undefined));
    const visibility = one('visibility');
    if (visibility && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
    const memberStatus = one('member_status') ?? 'accepted';
    if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid member_status value: ${memberStatus}`);
    const project = ctx.projectId;
    const memberships = project ? await db.selectFrom('image_member').selectAll().where('member', '=', project).execute() : [];
    const memberOf = new Map(memberships.map((m) => [m.image_id, m.status]));
    let sel = db.selectFrom('image').selectAll().where('status', '!=', 'deleted');
    for (const k of ['name', 'status', 'container_format', 'disk_format', 'owner', 'id', 'checksum', 'os_hash_value'] as const) {
      const v = one(k);
      if (v !== undefined) sel = v.startsWith('in:') ? sel.where(k, 'in', v.slice(3).split(',')) : sel.where(k, '=', v);
    }
    if (one('size') !== undefined) {
      if (!/^\d+$/.test(one('size')!)) throw badRequest(`Invalid value for size: ${one('size')}`);
      sel = sel.where('size', '=', Number(one('size')));
    }
    for (const k of ['created_at', 'updated_at'] as const) {
      const v = one(k);
      if (v === undefined) continue;
      const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(v);
      const t = m ? Date.parse(m[2]!) : NaN;
      if (!m || Number.isNaN(t)) throw badRequest(`Invalid ${k} filter '${v}': use gt:, gte:, lt:, lte:, eq: or neq: with an ISO 8601 time`);
      const op = ({ gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '!=' } as const)[m[1] as 'gt'];
      sel = sel.where(k, op, t);
    }
    const hidden = one('os_hidden');
    if (hidden === undefined) sel = sel.where('os_hidden', '=', 0);
    else if (hidden !== 'all') sel = sel.where('os_hidden', '=', hidden === 'true' ? 1 : 0);
    if (one('protected') !== undefined) sel = sel.where('protected', '=', one('protected') === 'true' ? 1 : 0);
    for (const [k, op] of [['size_min', '>='], ['size_max', '<=']] as const) {
      const v = one(k);
      if (v !== undefined) {
        if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for ${k}: ${v}`);
        sel = sel.where('size', op, Number(v));
      }
    }
    let rows = await sel.execute();
    const visibleByDefault = (img: ImageRow) => ctx.isAdmin || isOwner(ctx, img) || img.visibility === 'public'
      || (img.visibility === 'shared' && (memberStatus === 'all' ? memberOf.has(img.id) : memberOf.get(img.id) === memberStatus));
    rows = rows.filter((img) => {
      switch (visibility) {
        case 'public': return img.visibility === 'public';
        case 'community': return img.visibility === 'community';
        case 'private': return img.visibility === 'private' && (ctx.isAdmin || isOwner(ctx, img));
        case 'shared': return img.visibility === 'shared' && (isOwner(ctx, img) ? memberStatus === 'accepted' || ctx.isAdmin : (memberStatus === 'all' ? memberOf.has(img.id) : memberOf.get(img.id) === memberStatus) || ctx.isAdmin);
        case 'all': return visibleByDefault(img) || img.visibility === 'community';
        default: return img.visibility === 'community' ? ctx.isAdmin || isOwner(ctx, img) : visibleByDefault(img);
      }
    });
    const tagFilter = toList(q.tag);
    if (tagFilter.length) {
      const tags = await tagsOf(db, rows.map((r) => r.id));
      rows = rows.filter((r) => tagFilter.every((t) => (tags.get(r.id) ?? []).includes(t)));
    }
    // Any other query key is a free-form property filter, as Glance allows.
    if (q['changes-since'] !== undefined) throw badRequest('The changes-since filter is not part of the v2 API.');
    const known = new Set(['visibility', 'member_status', 'name', 'status', 'container_format', 'disk_format', 'owner', 'id', 'os_hidden', 'protected',
      'size_min', 'size_max', 'size', 'checksum', 'os_hash_value', 'tag', 'limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'created_at', 'updated_at']);
    for (const [k, v] of Object.entries(q)) {
      if (known.has(k)) continue;
      rows = rows.filter((r) => json<Record<string, unknown>>(r.properties, {})[k] === (Array.isArray(v) ? v[0] : v));
    }
    rows = sortImages(rows, q);
    // Glance pages by 25 unless asked; a full page carries a `next` link (relative, /v2/...).
    const limit = parseLimit(one('limit'), 1000) ?? 25;
    const marker = one('marker');
    let start = 0;
    if (marker) {
      start = rows.findIndex((r) => r.id === marker) + 1;
      if (start === 0) throw badRequest(`marker ${marker} could not be found.`);
    }
    const pageRows = rows.slice(start, start + limit);
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    params.delete('marker');
    const query = params.toString();
    const body: Record<string, unknown> = { images: await view(pageRows), first: `/v2/images${query ? `?${query}` : ''}`, schema: '/v2/schemas/images' };
    if (pageRows.length === limit && limit > 0) {
      params.set('marker', pageRows[pageRows.length - 1]!.id);
      body.next = `/v2/images?${params.toString()}`;
    }
    return body;
  });

  app.get('/v2/images/:id', async (req) => {
    const img = await visibleImage(db, req.ctx, (req.params as { id: string }).id);
    return (await view([img]))[0];
  });

  app.patch('/v2/images/:id', async (req) => {
    const ctype = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (ctype !== 'application/openstack-images-v2.1-json-patch' && ctype !== 'application/openstack-images-v2.0-json-patch') {
      throw new ApiError(415, `Unsupported Content-Type ${ctype || '(none)'}: use application/openstack-images-v2.1-json-patch`,
        { 'accept-patch': 'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch' });
    }
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img);
    const tags = (await tagsOf(db, [id])).get(id) ?? [];
    const next = applyPatch(req.ctx, img, tags, req.body, ctype.includes('v2.0') ? 'v2.0' : 'v2.1');
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('image').set({ ...next.row, updated_at: now() }).where('id', '=', id).execute();
      if (next.tags) {
        await trx.deleteFrom('image_tag').where('image_id', '=', id).execute();
        if (next.tags.length) await trx.insertInto('image_tag').values(next.tags.map((value) => ({ image_id: id, value }))).execute();
      }
    });
    return (await view([(await db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirst())!]))[0];
  });

  app.delete('/v2/images/:id', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img, 'delete this image');
    if (img.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    await db.deleteFrom('image').where('id', '=', id).execute();
    await deps.blobs.delete(imageKey(id));
    await deps.blobs.delete(stagingKey(id));
    reply.status(204).send();
  });
}


function sortImages(rows: ImageRow[], q: Record<string, string | string[]>): ImageRow[] {
  const specs: { key: string; dir: string }[] = [];
  if (q.sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined) throw badRequest('The sort and sort_key/sort_dir parameters cannot be combined.');
    for (const part of toList(q.sort).join(',').split(',')) {
      const [key, dir = 'desc'] = part.trim().split(':');
      specs.push({ key: key!, dir });
    }
  } else {
    const keys = toList(q.sort_key);
    const dirs = toList(q.sort_dir);
    keys.forEach((key, i) => specs.push({ key, dir: dirs[i] ?? dirs[0] ?? 'desc' }));
    if (!keys.length && dirs.length) specs.push({ key: 'created_at', dir: dirs[0]! });
  }
  if (!specs.length) specs.push({ key: 'created_at', dir: 'desc' });
  for (const s of specs) {
    if (!SORT_KEYS.includes(s.key)) throw badRequest(`Invalid sort key: ${s.key}.`);
    if (s.dir !== 'asc' && s.dir !== 'desc') throw badRequest(`Invalid sort direction: ${s.dir}.`);
  }
  // id last, so pages are stable when everything else ties.
  if (!specs.some((s) => s.key === 'id')) specs.push({ key: 'id', dir: specs[specs.length - 1]!.dir });
  return [...rows].sort((a, b) => {
    for (const { key, dir } of specs) {
      const x = (a as unknown as Record<string, unknown>)[key];
      const y = (b as unknown as Record<string, unknown>)[key];
      if (x === y) continue;
      const c = x === null || x === undefined ? -1 : y === null || y === undefined ? 1 : x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  });
}

