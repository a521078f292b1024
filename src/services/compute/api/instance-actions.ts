import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InstanceActionEventRow, InstanceActionRow } from '../store.js';
import { hostId } from '../views.js';
import { badRequest, computeRoot, mv, notFound, paging, type ComputeDeps } from './common.js';
import { naive, parseIsoQuery } from './compute-services.js';
import { isUuid } from './server-request.js';

/**
 * os-instance-actions: what was done to a server, newest first, and each action's events
 * as the manager recorded them. Project readers see their own servers' actions (from 2.21
 * also those of deleted servers); events reach non-admins from 2.51, without tracebacks;
 * the event's host is for admins (2.62), its hostId for all.
 */
export async function instanceActionRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const server = async (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    let sel = db.selectFrom('instance').select(['id', 'project_id']).where('id', '=', id);
    if (!mv(req, '2.21')) sel = sel.where('deleted', '=', 0);
    const inst = isUuid(id) ? await sel.executeTakeFirst() : undefined;
    if (!inst || (!req.ctx.isAdmin && inst.project_id !== req.ctx.projectId)) throw notFound(`Instance ${id} could not be found.`);
    return inst;
  };

  const actionView = (req: FastifyRequest, a: InstanceActionRow) => ({
    action: a.action, instance_uuid: a.instance_id, request_id: a.request_id, user_id: a.user_id, project_id: a.project_id,
    start_time: naive(a.start_time), message: a.message, ...(mv(req, '2.58') ? { updated_at: naive(a.updated_at) } : {}),
  });

  app.get('/v2.1/servers/:id/os-instance-actions', async (req) => {
    const inst = await server(req);
    let sel = db.selectFrom('instance_action').selectAll().where('instance_id', '=', inst.id);
    let limit: number | null = null;
    let marker: string | null = null;
    if (mv(req, '2.58')) {
      const q = req.query as Record<string, string | undefined>;
      const allowed = ['limit', 'marker', 'changes-since', ...(mv(req, '2.66') ? ['changes-before'] : [])];
      for (const k of Object.keys(q)) if (!allowed.includes(k)) throw badRequest(`Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
      const since = q['changes-since'] !== undefined ? parseIsoQuery(q['changes-since'], 'changes-since') : null;
      const before = q['changes-before'] !== undefined ? parseIsoQuery(q['changes-before'], 'changes-before') : null;
      if (since !== null && before !== null && before < since) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
      if (since !== null) sel = sel.where('updated_at', '>=', since);
      if (before !== null) sel = sel.where('updated_at', '<=', before);
      ({ limit, marker } = paging(req));
    }
    let rows = await sel.orderBy('start_time', 'desc').orderBy('request_id', 'desc').execute();
    if (marker !== null) {
      const at = rows.findIndex((a) => a.request_id === marker);
      if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
      rows = rows.slice(at + 1);
    }
    if (limit !== null) rows = rows.slice(0, limit);
    const out: Record<string, unknown> = { instanceActions: rows.map((a) => actionView(req, a)) };
    if (limit !== null && limit > 0 && rows.length === limit) {
      const q = new URLSearchParams(req.query as Record<string, string>);
      q.set('marker', rows[rows.length - 1]!.request_id);
      out.links = [{ rel: 'next', href: `${computeRoot(req, platform)}/v2.1/servers/${inst.id}/os-instance-actions?${q.toString()}` }];
    }
    return out;
  });

  app.get('/v2.1/servers/:id/os-instance-actions/:requestId', async (req) => {
    const inst = await server(req);
    const requestId = (req.params as { requestId: string }).requestId;
    const a = await db.selectFrom('instance_action').selectAll().where('instance_id', '=', inst.id).where('request_id', '=', requestId).executeTakeFirst();
    if (!a) throw notFound(`Action ${requestId} not found`);
    const admin = req.ctx.isAdmin;
    const out: Record<string, unknown> = actionView(req, a);
    if (admin || mv(req, '2.51')) {
      const events = await db.selectFrom('instance_action_event').selectAll().where('request_id', '=', a.request_id).orderBy('start_time', 'desc').orderBy('event', 'desc').execute();
      out.events = events.map((e: InstanceActionEventRow) => ({
        event: e.event, start_time: naive(e.start_time), finish_time: naive(e.finish_time), result: e.result,
        ...(admin ? { traceback: e.traceback } : {}),
        ...(admin && mv(req, '2.62') ? { host: e.host ?? '' } : {}),
        ...(mv(req, '2.62') ? { hostId: hostId(a.project_id || inst.project_id, e.host) } : {}),
        ...(admin && mv(req, '2.84') ? { details: null } : {}),
      }));
    }
    return { instanceAction: out };
  });
}
