import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { badRequest, conflict, notFound } from '../../../platform/http/errors.js';
import { hexId } from '../../../platform/ids.js';
import type { EndpointRow, RegionRow, ServiceRow } from '../store.js';
import { endpointView, listBody, regionView, serviceView } from '../views.js';
import { check, extras, mergeExtras, query, queryBool, selfUrl, v3Base, wrapped, type IdentityDeps } from './common.js';

/** Regions, services and endpoints: the catalog every token carries. */
const INTERFACES = ['public', 'internal', 'admin'];

export async function catalogRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;

  // ---- regions
  const createRegion = async (req: FastifyRequest, id: string | undefined) => {
    enforce('identity:create_region', req.ctx);
    const r = wrapped(req, 'region');
    check(r, { id: 'string', description: 'nullable-string', parent_region_id: 'nullable-string' });
    const regionId = id ?? (r.id as string | undefined) ?? hexId();
    if (id && r.id !== undefined && r.id !== id) throw badRequest('The region id in the URL and the body differ.');
    if (await db.selectFrom('region').select('id').where('id', '=', regionId).executeTakeFirst()) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${regionId}.`);
    if (r.parent_region_id && !(await db.selectFrom('region').select('id').where('id', '=', r.parent_region_id as string).executeTakeFirst())) {
      throw notFound(`Could not find region: ${r.parent_region_id}.`);
    }
    const row: RegionRow = { id: regionId, description: (r.description as string) ?? '', parent_region_id: (r.parent_region_id as string | null) ?? null, extra: extras(r, ['id', 'description', 'parent_region_id']) };
    await db.insertInto('region').values(row).execute();
    return { region: regionView(v3Base(req), row) };
  };
  app.post('/v3/regions', async (req, reply) => { const body = await createRegion(req, undefined); reply.status(201); return body; });
  app.put('/v3/regions/:id', async (req, reply) => { const body = await createRegion(req, (req.params as { id: string }).id); reply.status(201); return body; });
  app.get('/v3/regions', async (req) => {
    enforce('identity:list_regions', req.ctx);
    let sel = db.selectFrom('region').selectAll();
    if (query(req).parent_region_id) sel = sel.where('parent_region_id', '=', query(req).parent_region_id!);
    return listBody('regions', (await sel.orderBy('id').execute()).map((r) => regionView(v3Base(req), r)), selfUrl(req));
  });
  const getRegion = async (id: string) => {
    const r = await db.selectFrom('region').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`Could not find region: ${id}.`);
    return r;
  };
  app.get('/v3/regions/:id', async (req) => {
    enforce('identity:get_region', req.ctx);
    return { region: regionView(v3Base(req), await getRegion((req.params as { id: string }).id)) };
  });
  app.patch('/v3/regions/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_region', req.ctx);
    const r = wrapped(req, 'region');
    check(r, { description: 'nullable-string', parent_region_id: 'nullable-string' });
    const row = await getRegion(id);
    const set: Partial<RegionRow> = {};
    if (r.description !== undefined) set.description = (r.description as string) ?? '';
    if (r.parent_region_id !== undefined) {
      if (r.parent_region_id === id) throw badRequest('A region cannot be its own parent.');
      if (r.parent_region_id !== null) await getRegion(r.parent_region_id as string);
      set.parent_region_id = r.parent_region_id as string | null;
    }
    const extra = mergeExtras(row.extra, r, ['id', 'description', 'parent_region_id']);
    if (extra) set.extra = extra;
    if (Object.keys(set).length) await db.updateTable('region').set(set).where('id', '=', id).execute();
    identity.changed();
    return { region: regionView(v3Base(req), await getRegion(id)) };
  });
  app.delete('/v3/regions/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_region', req.ctx);
    await getRegion(id);
    if (await db.selectFrom('region').select('id').where('parent_region_id', '=', id).executeTakeFirst()) throw badRequest(`Cannot delete region ${id}: it has child regions.`);
    if (await db.selectFrom('endpoint').select('id').where('region_id', '=', id).executeTakeFirst()) throw badRequest(`Cannot delete region ${id}: endpoints still use it.`);
    await db.deleteFrom('region').where('id', '=', id).execute();
    identity.changed();
    reply.status(204).send();
  });

  // ---- services
  const getService = async (id: string) => {
    const s = await db.selectFrom('service').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s) throw notFound(`Could not find service: ${id}.`);
    return s;
  };
  app.post('/v3/services', async (req, reply) => {
    enforce('identity:create_service', req.ctx);
    const s = wrapped(req, 'service');
    check(s, { type: ['string', { required: true, min: 1, max: 255 }], enabled: 'boolean', name: 'nullable-string', description: 'nullable-string' });
    const row: ServiceRow = { id: hexId(), type: s.type as string, enabled: s.enabled === false ? 0 : 1, extra: extras(s, ['type', 'enabled']) };
    await db.insertInto('service').values(row).execute();
    identity.changed();
    reply.status(201);
    return { service: serviceView(v3Base(req), row) };
  });
  app.get('/v3/services', async (req) => {
    enforce('identity:list_services', req.ctx);
    const q = query(req);
    let rows = await (q.type ? db.selectFrom('service').selectAll().where('type', '=', q.type) : db.selectFrom('service').selectAll()).execute();
    if (q.name) rows = rows.filter((r) => JSON.parse(r.extra).name === q.name);
    return listBody('services', rows.map((s) => serviceView(v3Base(req), s)), selfUrl(req));
  });
  app.get('/v3/services/:id', async (req) => {
    enforce('identity:get_service', req.ctx);
    return { service: serviceView(v3Base(req), await getService((req.params as { id: string }).id)) };
  });
  app.patch('/v3/services/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_service', req.ctx);
    const s = wrapped(req, 'service');
    check(s, { type: ['string', { min: 1, max: 255 }], enabled: 'boolean', name: 'nullable-string', description: 'nullable-string' });
    const row = await getService(id);
    const set: Partial<ServiceRow> = {};
    if (s.type !== undefined) set.type = s.type as string;
    if (s.enabled !== undefined) set.enabled = s.enabled ? 1 : 0;
    const extra = mergeExtras(row.extra, s, ['type', 'enabled']);
    if (extra) set.extra = extra;
    if (Object.keys(set).length) await db.updateTable('service').set(set).where('id', '=', id).execute();
    identity.changed();
    return { service: serviceView(v3Base(req), await getService(id)) };
  });
  app.delete('/v3/services/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_service', req.ctx);
    await getService(id);
    await db.deleteFrom('service').where('id', '=', id).execute();
    identity.changed();
    reply.status(204).send();
  });

  // ---- endpoints
  const getEndpoint = async (id: string) => {
    const e = await db.selectFrom('endpoint').selectAll().where('id', '=', id).executeTakeFirst();
    if (!e) throw notFound(`Could not find endpoint: ${id}.`);
    return e;
  };
  const checkEndpoint = async (e: Record<string, unknown>, creating: boolean) => {
    check(e, { service_id: ['string', { required: creating }], interface: ['string', { required: creating }], url: ['string', { required: creating, min: 1 }], region_id: 'nullable-string', region: 'nullable-string', enabled: 'boolean' });
    if (e.interface !== undefined && !INTERFACES.includes(e.interface as string)) throw badRequest(`Invalid input for field 'interface': '${e.interface}' is not one of ${INTERFACES.join(', ')}`);
    if (e.url !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/./i.test(e.url as string)) throw badRequest(`Invalid input for field 'url': '${e.url}' is not a URL`);
    if (e.service_id !== undefined) await getService(e.service_id as string).catch(() => { throw badRequest(`Could not find service: ${e.service_id}.`); });
    const region = (e.region_id ?? e.region) as string | null | undefined;
    if (region && !(await db.selectFrom('region').select('id').where('id', '=', region).executeTakeFirst())) {
      // Keystone creates a region named only through the legacy `region` attribute.
      if (e.region_id !== undefined) throw badRequest(`Could not find region: ${region}.`);
      await db.insertInto('region').values({ id: region, description: '', parent_region_id: null, extra: '{}' }).execute();
    }
    return region;
  };
  app.post('/v3/endpoints', async (req, reply) => {
    enforce('identity:create_endpoint', req.ctx);
    const e = wrapped(req, 'endpoint');
    const region = await checkEndpoint(e, true);
    const row: EndpointRow = {
      id: hexId(), service_id: e.service_id as string, interface: e.interface as string, url: e.url as string, region_id: region ?? null,
      enabled: e.enabled === false ? 0 : 1, extra: extras(e, ['service_id', 'interface', 'url', 'region_id', 'region', 'enabled']),
    };
    await db.insertInto('endpoint').values(row).execute();
    identity.changed();
    reply.status(201);
    return { endpoint: endpointView(v3Base(req), row) };
  });
  app.get('/v3/endpoints', async (req) => {
    enforce('identity:list_endpoints', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('endpoint').selectAll();
    if (q.service_id) sel = sel.where('service_id', '=', q.service_id);
    if (q.interface) sel = sel.where('interface', '=', q.interface);
    if (q.region_id ?? q.region) sel = sel.where('region_id', '=', (q.region_id ?? q.region)!);
    if (q.enabled !== undefined) sel = sel.where('enabled', '=', queryBool(q.enabled) ? 1 : 0);
    return listBody('endpoints', (await sel.execute()).map((e) => endpointView(v3Base(req), e)), selfUrl(req));
  });
  app.get('/v3/endpoints/:id', async (req) => {
    enforce('identity:get_endpoint', req.ctx);
    return { endpoint: endpointView(v3Base(req), await getEndpoint((req.params as { id: string }).id)) };
  });
  app.patch('/v3/endpoints/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_endpoint', req.ctx);
    const e = wrapped(req, 'endpoint');
    const row = await getEndpoint(id);
    const region = await checkEndpoint(e, false);
    const set: Partial<EndpointRow> = {};
    if (e.service_id !== undefined) set.service_id = e.service_id as string;
    if (e.interface !== undefined) set.interface = e.interface as string;
    if (e.url !== undefined) set.url = e.url as string;
    if (e.region_id !== undefined || e.region !== undefined) set.region_id = region ?? null;
    if (e.enabled !== undefined) set.enabled = e.enabled ? 1 : 0;
    const extra = mergeExtras(row.extra, e, ['service_id', 'interface', 'url', 'region_id', 'region', 'enabled']);
    if (extra) set.extra = extra;
    if (Object.keys(set).length) await db.updateTable('endpoint').set(set).where('id', '=', id).execute();
    identity.changed();
    return { endpoint: endpointView(v3Base(req), await getEndpoint(id)) };
  });
  app.delete('/v3/endpoints/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_endpoint', req.ctx);
    await getEndpoint(id);
    await db.deleteFrom('endpoint').where('id', '=', id).execute();
    identity.changed();
    reply.status(204).send();
  });
}
