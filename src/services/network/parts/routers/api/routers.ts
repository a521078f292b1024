import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { now } from '../../../../../platform/clock.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from '../../../api/listing.js';
import { badInput, neutronError, ownerOf, requireWriter, resourceBody, type NetDeps } from '../../../api/common.js';
import { cidrText, normaliseIp, parseCidr } from '../../../logic/ip.js';
import { rdb, type RDb, type RouterRow } from '../store.js';
import { routerViews } from '../views.js';
import {
  addInterface, applyGateway, checkRoutes, createRouter, currentRoutes, deleteRouter, getRouter, parseGatewayInfo, parseRouterFields,
  removeInterface, replaceRoutes, type Deps,
} from '../logic/routers.js';

/** /v2.0/routers with the interface and extra-route actions. */
const CREATE = ['name', 'description', 'admin_state_up', 'external_gateway_info', 'availability_zone_hints', 'ha', 'distributed', 'tenant_id', 'project_id'];
const UPDATE = ['name', 'description', 'admin_state_up', 'external_gateway_info', 'routes', 'ha', 'distributed'];

export const routerList: ListSpec = {
  collection: 'routers', table: 'router', tagType: 'routers',
  columns: {
    ...standardColumns, ...sameName('str', ['status', 'flavor_id']), ...sameName('bool', ['admin_state_up']),
  },
  sortable: ['id', 'name', 'project_id', 'status', 'admin_state_up', 'created_at', 'updated_at'],
};
const adminColumns: ListSpec = { ...routerList, columns: { ...routerList.columns, ha: { col: 'ha', kind: 'bool' }, distributed: { col: 'distributed', kind: 'bool' } } };

export function visibleRouters(db: RDb, ctx: RequestContext) {
  let q = db.selectFrom('router').selectAll('router');
  if (!ctx.isAdmin) q = q.where('router.project_id', '=', ctx.projectId ?? '');
  return q;
}

function routesBody(req: FastifyRequest): unknown {
  const b = resourceBody(req, 'router', ['routes']);
  if (!Array.isArray(b.routes)) throw badInput("'routes' must be a list");
  return b.routes;
}

export async function routerRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = () => rdb(deps.db);
  const d = (trx: RDb, ctx: RequestContext): Deps => ({ trx, dialect: deps.platform.dialect, hooks: deps.hooks, ctx });
  const show = async (req: FastifyRequest, id: string) => {
    const row = (await db().selectFrom('router').selectAll().where('id', '=', id).executeTakeFirst())!;
    return pickFields(req, (await routerViews(db(), req.ctx, [row]))[0]!);
  };
  const writable = async (req: FastifyRequest) => {
    const r = await getRouter(db(), req.ctx, (req.params as { id: string }).id);
    requireWriter(req.ctx);
    return r;
  };

  app.post('/v2.0/routers', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'router', CREATE);
    const owner = ownerOf(ctx, b);
    const gateway = b.external_gateway_info === undefined ? null : parseGatewayInfo(ctx, b.external_gateway_info, 'create');
    const row = await db().transaction().execute((trx) => createRouter(d(trx, ctx), owner, b, gateway));
    reply.status(201);
    return { router: await show(req, row.id) };
  });

  app.get('/v2.0/routers', async (req) => {
    const { rows, links } = await listRows(req, db(), visibleRouters(db(), req.ctx), req.ctx.isAdmin ? adminColumns : routerList);
    const views = await routerViews(db(), req.ctx, rows as RouterRow[]);
    return { routers: views.map((v) => pickFields(req, v)), ...(links.length ? { routers_links: links } : {}) };
  });

  app.get('/v2.0/routers/:id', async (req) => {
    const r = await getRouter(db(), req.ctx, (req.params as { id: string }).id);
    return { router: pickFields(req, (await routerViews(db(), req.ctx, [r]))[0]!) };
  });

  app.put('/v2.0/routers/:id', async (req) => {
    const ctx = req.ctx;
    const router = await writable(req);
    const b = resourceBody(req, 'router', UPDATE);
    const set = parseRouterFields(ctx, b, 'update');
    if (set.ha !== undefined && set.ha !== router.ha && router.admin_state_up) {
      throw neutronError(400, 'BadRequest', 'Bad router request: Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade.');
    }
    if (set.distributed !== undefined && set.distributed !== router.distributed) {
      if (router.distributed) throw neutronError(400, 'BadRequest', 'Bad router request: Migration from distributed router to centralized is not supported.');
      if (router.admin_state_up) throw neutronError(400, 'BadRequest', 'Bad router request: Cannot upgrade active router to distributed. Please set router admin_state_up to False prior to upgrade.');
    }
    const gateway = b.external_gateway_info === undefined ? undefined : parseGatewayInfo(ctx, b.external_gateway_info, 'update');
    await db().transaction().execute(async (trx) => {
      if (gateway !== undefined) Object.assign(set, await applyGateway(d(trx, ctx), router, gateway));
      if (b.routes !== undefined) await replaceRoutes(trx, router.id, await checkRoutes(trx, router.id, b.routes));
      await trx.updateTable('router').set({ ...set, updated_at: now(), revision_number: router.revision_number + 1 }).where('id', '=', router.id).execute();
    });
    return { router: await show(req, router.id) };
  });

  app.delete('/v2.0/routers/:id', async (req, reply) => {
    const router = await writable(req);
    await db().transaction().execute((trx) => deleteRouter(trx, router));
    reply.status(204).send();
  });

  app.put('/v2.0/routers/:id/add_router_interface', async (req) => {
    const router = await writable(req);
    return db().transaction().execute((trx) => addInterface(d(trx, req.ctx), router, req.body));
  });

  app.put('/v2.0/routers/:id/remove_router_interface', async (req) => {
    const router = await writable(req);
    return db().transaction().execute((trx) => removeInterface(d(trx, req.ctx), router, req.body));
  });

  app.put('/v2.0/routers/:id/add_extraroutes', async (req) => {
    const router = await writable(req);
    const asked = routesBody(req);
    await db().transaction().execute(async (trx) => {
      const have = await currentRoutes(trx, router.id);
      const adding = await checkRoutes(trx, router.id, asked);
      const merged = [...have, ...adding.filter((a) => !have.some((h) => h.destination === a.destination && h.nexthop === a.nexthop))]
        .map((x) => ({ destination: x.destination, nexthop: x.nexthop }));
      await replaceRoutes(trx, router.id, await checkRoutes(trx, router.id, merged));
      await trx.updateTable('router').set({ updated_at: now(), revision_number: router.revision_number + 1 }).where('id', '=', router.id).execute();
    });
    return { router: await show(req, router.id) };
  });

  app.put('/v2.0/routers/:id/remove_extraroutes', async (req) => {
    const router = await writable(req);
    const asked = routesBody(req);
    await db().transaction().execute(async (trx) => {
      const have = await currentRoutes(trx, router.id);
      const removing = parseOnly(asked as unknown[]);
      const keep = have.filter((h) => !removing.some((r) => r.destination === h.destination && r.nexthop === h.nexthop));
      await replaceRoutes(trx, router.id, keep.map((k) => ({ router_id: router.id, ...k })));
      await trx.updateTable('router').set({ updated_at: now(), revision_number: router.revision_number + 1 }).where('id', '=', router.id).execute();
    });
    return { router: await show(req, router.id) };
  });
}

/** Routes to remove need only be well formed: the next hop may no longer be reachable. */
function parseOnly(routes: unknown[]): { destination: string; nexthop: string }[] {
  return routes.map((r) => {
    const { destination, nexthop } = (r ?? {}) as { destination?: unknown; nexthop?: unknown };
    const dest = typeof destination === 'string' ? parseCidr(destination) : null;
    const hop = typeof nexthop === 'string' ? normaliseIp(nexthop) : null;
    if (!dest || !hop) throw badInput(`Invalid data format for route: '${JSON.stringify(r)}'`);
    return { destination: cidrText(dest), nexthop: hop };
  });
}
