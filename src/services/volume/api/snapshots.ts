import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import {
  badRequest, bodyOf, bool, cinderTime, isUuid, metadataMap, mv, notFound, optString, projectScope, requireAdmin, requireMember, route,
  type VolumeDeps,
} from './common.js';
import { listQuery, metadataFilter, nextLinks, pageOf, refuseUnknownFilters } from './listing.js';
import { visibleSnapshot } from '../logic/access.js';
import {
  createSnapshot, deleteSnapshot, SNAPSHOT_STATUS_UPDATES, SNAPSHOT_STATUSES, snapshotMetadata, snapshotMetadataOf, writeSnapshotMetadata,
} from '../logic/snapshots.js';
import type { SnapshotRow } from '../store.js';

/**
 * Volume snapshots (`/snapshots`): create, list (summary and detail, Cinder's filters,
 * paging and sorting), show, update, delete, the metadata sub-resource and the snapshot
 * actions (`os-reset_status`, `os-update_snapshot_status`, `os-force_delete`).
 */

/** Sort keys Cinder accepts for snapshots (`display_name` is read as `name`). */
const SORT_KEYS = ['id', 'name', 'description', 'status', 'size', 'volume_id', 'project_id', 'user_id', 'progress', 'created_at', 'updated_at'] as const;
/** Query keys a snapshot list understands (3.34+ refuses any other, as Cinder's resource filters do). */
const QUERY_KEYS = new Set(['name', 'display_name', 'status', 'volume_id', 'metadata', 'all_tenants', 'project_id', 'limit', 'marker', 'offset', 'sort', 'sort_key',
  'sort_dir', 'with_count', 'consumes_quota', 'availability_zone']);
/** Snapshot metadata keys (Cinder's schema for the metadata sub-resource). */
const META_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

export interface SnapshotViewInput { snap: SnapshotRow; metadata: Record<string, string> }

/** The summary Cinder lists in `GET /snapshots`. */
function snapshotSummary(s: SnapshotViewInput): Record<string, unknown> {
  const { snap } = s;
  return {
    id: snap.id, created_at: cinderTime(snap.created_at), updated_at: cinderTime(snap.updated_at), name: snap.name, description: snap.description,
    volume_id: snap.volume_id, status: snap.status, size: snap.size, metadata: s.metadata,
  };
}

/**
 * One snapshot on the wire: the summary plus, per microversion, `group_snapshot_id` (3.14),
 * `user_id` (3.41) and `consumes_quota` (3.65). `extended` adds the
 * os-extended-snapshot-attributes (project and progress) that show and the detail list carry;
 * Cinder's policy for them is the project's readers, so every caller who sees the snapshot
 * sees them (Tempest's show schema requires them for the owner).
 */
export function snapshotView(req: FastifyRequest, s: SnapshotViewInput, extended: boolean): Record<string, unknown> {
  const out = snapshotSummary(s);
  if (mv(req, '3.14')) out.group_snapshot_id = null;
  if (mv(req, '3.41')) out.user_id = s.snap.user_id;
  if (mv(req, '3.65')) out.consumes_quota = true;
  if (extended) {
    out['os-extended-snapshot-attributes:project_id'] = s.snap.project_id;
    out['os-extended-snapshot-attributes:progress'] = s.snap.progress;
  }
  return out;
}

const trimmed = (v: string | null) => (v === null ? null : v.trim());

function noOthers(b: Record<string, unknown>, allowed: string[], what: string): void {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length) throw badRequest(`Invalid input for field/attribute ${what}. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
}

function snapshotMetaMap(v: unknown, field: string): Record<string, string> {
  const map = metadataMap(v, field);
  for (const k of Object.keys(map)) {
    if (!META_KEY.test(k)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. '${k}' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'`);
  }
  return map;
}

/** Snapshot actions, one handler per body key. */
type SnapshotAction = (req: FastifyRequest, reply: FastifyReply, snap: SnapshotRow, args: unknown) => Promise<unknown>;

export async function snapshotRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const views = async (req: FastifyRequest, snaps: SnapshotRow[], extended: boolean) => {
    const meta = await snapshotMetadataOf(d.db, snaps.map((s) => s.id));
    return snaps.map((snap) => snapshotView(req, { snap, metadata: meta.get(snap.id) ?? {} }, extended));
  };
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  route(app, 'post', '/snapshots', async (req, reply) => {
    requireMember(req.ctx, 'volume:create_snapshot');
    const b = bodyOf(req, 'snapshot');
    noOthers(b, ['name', 'display_name', 'description', 'volume_id', 'force', 'metadata'], 'snapshot');
    if (!('volume_id' in b)) throw badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
    if (b.volume_id === null) throw notFound('Volume None could not be found.');
    if (!isUuid(b.volume_id)) throw badRequest(`Invalid input for field/attribute volume_id. Value: ${JSON.stringify(b.volume_id)}. ${JSON.stringify(b.volume_id)} is not a 'uuid'`);
    const name = trimmed(optString(b.name ?? b.display_name, 'name'));
    const description = trimmed(optString(b.description, 'description'));
    const metadata = b.metadata === undefined || b.metadata === null ? {} : metadataMap(b.metadata);
    let allowInUse = mv(req, '3.66');
    if (b.force !== undefined && b.force !== null) {
      const force = bool(b.force, 'force');
      if (force) allowInUse = true;
      else if (mv(req, '3.66')) {
        throw badRequest("Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatibility, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.");
      }
    }
    const snap = await createSnapshot(d, req.ctx, { volumeId: b.volume_id, name, description, metadata, allowInUse });
    reply.status(202);
    return { snapshot: snapshotView(req, { snap, metadata }, false) };
  });

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    refuseUnknownFilters(req, QUERY_KEYS);
    const lq = listQuery(req, SORT_KEYS);
    const project = projectScope(req);
    let sel = d.db.selectFrom('snapshot').selectAll();
    if (project) sel = sel.where('project_id', '=', project);
    const name = q.name ?? q.display_name;
    if (name !== undefined) sel = sel.where('name', '=', name);
    if (q.status !== undefined) sel = sel.where('status', '=', q.status);
    if (q.volume_id !== undefined) sel = sel.where('volume_id', '=', q.volume_id);
    let rows = await sel.execute();
    const meta = mv(req, '3.22') ? metadataFilter(q.metadata) : null;
    if (meta) {
      const maps = await snapshotMetadataOf(d.db, rows.map((r) => r.id));
      rows = rows.filter((r) => Object.entries(meta).every(([k, v]) => maps.get(r.id)?.[k] === v));
    }
    const items = pageOf(rows, lq, (r, k) => (r as unknown as Record<string, unknown>)[k]);
    const meta2 = await snapshotMetadataOf(d.db, items.map((s) => s.id));
    const snapshots = items.map((snap) => {
      const input = { snap, metadata: meta2.get(snap.id) ?? {} };
      return detail ? snapshotView(req, input, true) : snapshotSummary(input);
    });
    const out: Record<string, unknown> = { snapshots, ...nextLinks(req, d.platform, 'snapshots', items, lq.limit) };
    if (mv(req, '3.45') && q.with_count !== undefined && bool(q.with_count, 'with_count')) out.count = rows.length;
    return out;
  };
  route(app, 'get', '/snapshots', list(false));
  route(app, 'get', '/snapshots/detail', list(true));

  route(app, 'get', '/snapshots/:id', async (req) => {
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    return { snapshot: (await views(req, [snap], true))[0] };
  });

  route(app, 'put', '/snapshots/:id', async (req) => {
    const b = bodyOf(req, 'snapshot');
    const allowed = ['name', 'description', 'display_name', 'display_description'];
    noOthers(b, allowed, 'snapshot');
    if (!allowed.some((k) => k in b)) throw badRequest(`Invalid input for field/attribute snapshot. Value: ${JSON.stringify(b)}. ${JSON.stringify(b)} is not valid under any of the given schemas`);
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'volume:update_snapshot');
    const values: Partial<SnapshotRow> = { updated_at: now() };
    if ('name' in b || 'display_name' in b) values.name = trimmed(optString('name' in b ? b.name : b.display_name, 'name'));
    if ('description' in b || 'display_description' in b) values.description = trimmed(optString('description' in b ? b.description : b.display_description, 'description'));
    await d.db.updateTable('snapshot').set(values).where('id', '=', snap.id).execute();
    return { snapshot: (await views(req, [{ ...snap, ...values }], false))[0] };
  });

  route(app, 'delete', '/snapshots/:id', async (req, reply) => {
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'volume:delete_snapshot');
    await deleteSnapshot(d, req.ctx, snap);
    return reply.status(202).send();
  });

  // ---- metadata -------------------------------------------------------------------
  route(app, 'get', '/snapshots/:id/metadata', async (req) => {
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    return { metadata: await snapshotMetadata(d.db, snap.id) };
  });
  const writeAll = (replace: boolean) => async (req: FastifyRequest) => {
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || !('metadata' in b)) throw badRequest("Invalid input for field/attribute metadata. 'metadata' is a required property");
    const map = snapshotMetaMap(b.metadata, 'metadata');
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'volume:update_snapshot_metadata');
    await d.db.transaction().execute((trx) => writeSnapshotMetadata(trx, snap.id, map, replace));
    return { metadata: await snapshotMetadata(d.db, snap.id) };
  };
  route(app, 'post', '/snapshots/:id/metadata', writeAll(false));
  route(app, 'put', '/snapshots/:id/metadata', writeAll(true));
  route(app, 'get', '/snapshots/:id/metadata/:key', async (req) => {
    const { key } = req.params as { key: string };
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    const m = await snapshotMetadata(d.db, snap.id);
    if (!(key in m)) throw notFound(`Metadata with key ${key} for snapshot ${snap.id} could not be found.`);
    return { meta: { [key]: m[key] } };
  });
  route(app, 'put', '/snapshots/:id/metadata/:key', async (req) => {
    const { key } = req.params as { key: string };
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || !('meta' in b)) throw badRequest("Invalid input for field/attribute meta. 'meta' is a required property");
    const map = snapshotMetaMap(b.meta, 'meta');
    if (Object.keys(map).length === 0) throw badRequest('Invalid input for field/attribute meta. {} does not have enough properties');
    if (!(key in map)) throw badRequest('Request body and URI mismatch');
    if (Object.keys(map).length > 1) throw badRequest('Request body contains too many items');
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'volume:update_snapshot_metadata');
    await d.db.transaction().execute((trx) => writeSnapshotMetadata(trx, snap.id, map, false));
    return { meta: map };
  });
  route(app, 'delete', '/snapshots/:id/metadata/:key', async (req, reply) => {
    const { key } = req.params as { key: string };
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'volume:delete_snapshot_metadata');
    const r = await d.db.deleteFrom('snapshot_metadata').where('snapshot_id', '=', snap.id).where('key', '=', key).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Metadata with key ${key} for snapshot ${snap.id} could not be found.`);
    return reply.status(200).send();
  });

  // ---- actions --------------------------------------------------------------------
  const actions: Record<string, SnapshotAction> = {
    'os-reset_status': async (req, reply, snap, args) => {
      requireAdmin(req.ctx, 'volume_extension:snapshot_admin_actions:reset_status');
      const a = args as Record<string, unknown> | null;
      if (!a || typeof a !== 'object' || Array.isArray(a)) throw badRequest("Invalid input for field/attribute os-reset_status. 'status' is a required property");
      noOthers(a, ['status'], 'os-reset_status');
      const status = typeof a.status === 'string' ? a.status.toLowerCase() : null;
      if (!status || !SNAPSHOT_STATUSES.includes(status)) {
        throw badRequest(`Invalid input received: Snapshot status: ${String(a.status)} is invalid, valid statuses are: ${SNAPSHOT_STATUSES.join(', ')}.`);
      }
      await d.db.updateTable('snapshot').set({ status, updated_at: now() }).where('id', '=', snap.id).execute();
      return reply.status(202).send();
    },
    'os-update_snapshot_status': async (req, reply, snap, args) => {
      requireMember(req.ctx, 'snapshot_extension:snapshot_actions:update_snapshot_status');
      const a = args as Record<string, unknown> | null;
      if (!a || typeof a !== 'object' || Array.isArray(a) || typeof a.status !== 'string') {
        throw badRequest("Invalid input for field/attribute os-update_snapshot_status. 'status' is a required property");
      }
      noOthers(a, ['status', 'progress'], 'os-update_snapshot_status');
      const progress = a.progress;
      if (progress !== undefined && progress !== null && progress !== '') {
        const m = typeof progress === 'string' ? /^(\d+)%$/.exec(progress) : null;
        if (!m || Number(m[1]) > 100) throw badRequest('Invalid input received: progress must be an integer percentage between 0 and 100');
      }
      const allowed = SNAPSHOT_STATUS_UPDATES[snap.status];
      if (!allowed) throw badRequest(`Snapshot status ${snap.status} not allowed for update_snapshot_status`);
      if (!allowed.includes(a.status)) throw badRequest(`Provided snapshot status ${a.status} not allowed for snapshot with status ${snap.status}.`);
      const values: Partial<SnapshotRow> = { status: a.status, updated_at: now() };
      if (typeof progress === 'string' && progress) values.progress = progress;
      await d.db.updateTable('snapshot').set(values).where('id', '=', snap.id).execute();
      return reply.status(202).send();
    },
    'os-force_delete': async (req, reply, snap) => {
      requireAdmin(req.ctx, 'volume_extension:snapshot_admin_actions:force_delete');
      await deleteSnapshot(d, req.ctx, snap, true);
      return reply.status(202).send();
    },
  };
  route(app, 'post', '/snapshots/:id/action', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
    const keys = Object.keys(body);
    const name = keys.find((k) => k in actions);
    if (!name || keys.length !== 1) throw badRequest(`There is no such action: ${keys.join(', ') || '(none)'}`);
    const snap = await visibleSnapshot(d.db, req.ctx, idOf(req));
    return actions[name]!(req, reply, snap, body[name]);
  });
}
