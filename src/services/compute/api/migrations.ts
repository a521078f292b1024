import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MigrationRow } from '../store.js';
import { badRequest, computeRoot, links, mv, notFound, paging, requireVersion, type ComputeDeps } from './common.js';
import { adminOnly, isInteger, naive, parseIsoQuery } from './compute-services.js';
import { isUuid } from './server-request.js';

/**
 * os-migrations (every move of every server, admin) and /servers/{id}/migrations (a
 * server's live migrations in progress, 2.23+). Fields follow the microversion: 2.23
 * migration_type and links, 2.59 uuid and paging, 2.80 user_id and project_id.
 */
const LIVE_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating', 'migrating'];
const FINISHED = ['confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done'];

/** Nova's flavor ids here are its internal integers; ours are the flavor ids when they are numbers. */
const flavorNumber = (id: string | null): number | null => (id !== null && /^\d+$/.test(id) ? Number(id) : null);

export async function migrationRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const view = (req: FastifyRequest, m: MigrationRow) => {
    const out: Record<string, unknown> = {
      id: m.id, status: m.status, instance_uuid: m.instance_id, source_node: m.source_compute, source_compute: m.source_compute,
      dest_node: m.dest_compute, dest_compute: m.dest_compute, dest_host: m.dest_compute ? '127.0.0.1' : null,
      old_instance_type_id: flavorNumber(m.old_flavor_id), new_instance_type_id: flavorNumber(m.new_flavor_id),
      created_at: naive(m.created_at), updated_at: naive(m.updated_at),
    };
    if (mv(req, '2.23')) {
      out.migration_type = m.migration_type;
      if (m.migration_type === 'live-migration' && LIVE_IN_PROGRESS.includes(m.status)) out.links = links(req, platform, `servers/${m.instance_id}/migrations`, m.id);
    }
    if (mv(req, '2.59')) out.uuid = m.uuid;
    if (mv(req, '2.80')) { out.user_id = m.user_id; out.project_id = m.project_id; }
    return out;
  };

  app.get('/v2.1/os-migrations', async (req) => {
    adminOnly(req, 'os_compute_api:os-migrations:index');
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (k: string) => { const v = q[k]; return Array.isArray(v) ? v[v.length - 1] : v; };
    let sel = db.selectFrom('migration').selectAll();
    const status = q.status === undefined ? [] : Array.isArray(q.status) ? q.status : [q.status];
    if (status.length) sel = sel.where('status', 'in', status);
    const host = one('host');
    if (host) sel = sel.where((eb) => eb.or([eb('source_compute', '=', host), eb('dest_compute', '=', host)]));
    for (const [param, col] of [['instance_uuid', 'instance_id'], ['migration_type', 'migration_type'], ['source_compute', 'source_compute']] as const) {
      const v = one(param);
      if (v) sel = sel.where(col, '=', v);
    }
    if (mv(req, '2.80')) {
      if (one('user_id')) sel = sel.where('user_id', '=', one('user_id')!);
      if (one('project_id')) sel = sel.where('project_id', '=', one('project_id')!);
    }
    if (mv(req, '2.59')) {
      const since = one('changes-since') !== undefined ? parseIsoQuery(one('changes-since')!, 'changes-since') : null;
      const before = mv(req, '2.66') && one('changes-before') !== undefined ? parseIsoQuery(one('changes-before')!, 'changes-before') : null;
      if (since !== null && before !== null && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      if (since !== null) sel = sel.where('updated_at', '>=', since);
      if (before !== null) sel = sel.where('updated_at', '<=', before);
      sel = sel.orderBy('created_at', 'desc').orderBy('id', 'desc');
    } else {
      sel = sel.orderBy('id');
    }
    let rows = await sel.execute();
    if (!mv(req, '2.59')) return { migrations: rows.map((m) => view(req, m)) };
    const { limit, marker } = paging(req);
    if (marker !== null) {
      const at = rows.findIndex((m) => m.uuid === marker);
      if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
      rows = rows.slice(at + 1);
    }
    if (limit !== null) rows = rows.slice(0, limit);
    const out: Record<string, unknown> = { migrations: rows.map((m) => view(req, m)) };
    if (limit !== null && limit > 0 && rows.length === limit) {
      const params = new URLSearchParams(req.query as Record<string, string>);
      params.set('marker', rows[rows.length - 1]!.uuid);
      out.migrations_links = [{ rel: 'next', href: `${computeRoot(req, platform)}/v2.1/os-migrations?${params.toString()}` }];
    }
    return out;
  });

  // A server's own migrations: live migrations in progress.
  const serverOf = async (req: FastifyRequest) => {
    requireVersion(req, '2.23');
    const id = (req.params as { id: string }).id;
    const inst = isUuid(id) ? await db.selectFrom('instance').select(['id', 'project_id']).where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() : undefined;
    if (!inst || (!req.ctx.isAdmin && inst.project_id !== req.ctx.projectId)) throw notFound(`Instance ${id} could not be found.`);
    return inst;
  };
  const serverView = (req: FastifyRequest, m: MigrationRow) => ({
    created_at: naive(m.created_at), dest_compute: m.dest_compute, dest_host: m.dest_compute ? '127.0.0.1' : null, dest_node: m.dest_compute,
    disk_processed_bytes: null, disk_remaining_bytes: null, disk_total_bytes: null, id: m.id,
    memory_processed_bytes: null, memory_remaining_bytes: null, memory_total_bytes: null, server_uuid: m.instance_id,
    source_compute: m.source_compute, source_node: m.source_compute, status: m.status, updated_at: naive(m.updated_at),
    ...(mv(req, '2.59') ? { uuid: m.uuid } : {}),
    ...(mv(req, '2.80') ? { user_id: m.user_id, project_id: m.project_id } : {}),
  });

  app.get('/v2.1/servers/:id/migrations', async (req) => {
    const inst = await serverOf(req);
    adminOnly(req, 'os_compute_api:servers:migrations:index');
    const rows = await db.selectFrom('migration').selectAll().where('instance_id', '=', inst.id).where('migration_type', '=', 'live-migration')
      .where('status', 'not in', FINISHED).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return { migrations: rows.map((m) => serverView(req, m)) };
  });

  app.get('/v2.1/servers/:id/migrations/:mid', async (req) => {
    const inst = await serverOf(req);
    adminOnly(req, 'os_compute_api:servers:migrations:show');
    const mid = (req.params as { mid: string }).mid;
    const m = isInteger(mid) ? await db.selectFrom('migration').selectAll().where('id', '=', Number(mid)).where('instance_id', '=', inst.id).executeTakeFirst() : undefined;
    if (!m) throw notFound(`In-progress live migration ${mid} is not found for server ${inst.id}.`);
    if (m.migration_type !== 'live-migration') throw notFound(`Migration ${mid} for server ${inst.id} is not live-migration.`);
    if (!LIVE_IN_PROGRESS.includes(m.status)) throw notFound(`Live migration ${mid} for server ${inst.id} is not in progress.`);
    return { migration: serverView(req, m) };
  });
}
