import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { now } from '../../../platform/clock.js';
import { badRequest, conflict, mv, notFound, type ComputeDeps } from './common.js';
import { adminOnly, INTERNAL_ZONE, isInteger, isUp, isUuidLike, naive, onlyQuery, serviceRecords, type ServiceRecord } from './compute-services.js';
import { hypervisorRoutes } from './hypervisors.js';
import { aggregateRoutes } from './aggregates.js';
import { usageRoutes } from './usage.js';
import { migrationRoutes } from './migrations.js';

/**
 * The operator's view of the compute hosts: availability zones and services here;
 * hypervisors, aggregates, usage and migrations in their own files.
 */
export async function hostRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  await availabilityZoneRoutes(app, deps);
  await serviceRoutes(app, deps);
  await hypervisorRoutes(app, deps);
  await aggregateRoutes(app, deps);
  await usageRoutes(app, deps);
  await migrationRoutes(app, deps);
}

/** os-availability-zone: zones are those of the services; a zone whose services are all disabled is unavailable. */
async function availabilityZoneRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db } = deps;
  const zones = (services: ServiceRecord[]) => {
    const available: string[] = [];
    const unavailable: string[] = [];
    for (const s of services) if (!s.disabled && !available.includes(s.zone)) available.push(s.zone);
    for (const s of services) if (s.disabled && !available.includes(s.zone) && !unavailable.includes(s.zone)) unavailable.push(s.zone);
    const byName = (a: string, b: string) => a.localeCompare(b);
    return { available: available.sort(byName), unavailable: unavailable.sort(byName) };
  };

  app.get('/v2.1/os-availability-zone', async () => {
    const z = zones(await serviceRecords(db));
    return {
      availabilityZoneInfo: [
        ...z.available.filter((n) => n !== INTERNAL_ZONE).map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })),
        ...z.unavailable.filter((n) => n !== INTERNAL_ZONE).map((zoneName) => ({ zoneName, zoneState: { available: false }, hosts: null })),
      ],
    };
  });

  app.get('/v2.1/os-availability-zone/detail', async (req) => {
    adminOnly(req, 'os_compute_api:os-availability-zone:detail');
    const services = await serviceRecords(db);
    const z = zones(services);
    const info = z.available.map((zoneName) => {
      const hosts: Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>> = {};
      for (const s of services.filter((x) => x.zone === zoneName && !x.disabled)) {
        (hosts[s.host] ??= {})[s.binary] = { available: isUp(s), active: true, updated_at: naive(s.updatedAt) };
      }
      return { zoneName, zoneState: { available: true }, hosts };
    });
    return { availabilityZoneInfo: [...info, ...z.unavailable.map((zoneName) => ({ zoneName, zoneState: { available: false }, hosts: null }))] };
  });
}

/** os-services: list, enable/disable (with a reason), force down, delete. */
async function serviceRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db } = deps;
  const view = (req: FastifyRequest, s: ServiceRecord) => ({
    binary: s.binary, host: s.host, id: mv(req, '2.53') ? s.uuid : s.id, zone: s.zone, status: s.disabled ? 'disabled' : 'enabled',
    state: isUp(s) ? 'up' : 'down', updated_at: naive(s.updatedAt), disabled_reason: s.disabledReason,
    ...(mv(req, '2.11') ? { forced_down: s.forcedDown } : {}),
  });

  app.get('/v2.1/os-services', async (req) => {
    adminOnly(req, 'os_compute_api:os-services:list');
    if (mv(req, '2.75')) onlyQuery(req, ['host', 'binary']);
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (k: string) => { const v = q[k]; return Array.isArray(v) ? v[v.length - 1] : v; };
    let services = await serviceRecords(db);
    const host = one('host');
    const binary = one('binary');
    if (host) services = services.filter((s) => s.host === host);
    if (binary) services = services.filter((s) => s.binary === binary);
    return { services: services.map((s) => view(req, s)) };
  });

  const setNode = async (host: string, set: { status?: string; disabled_reason?: string | null; forced_down?: number }) => {
    await db.updateTable('compute_node').set({ ...set, updated_at: now() }).where('host', '=', host).execute();
  };

  /** Before 2.53 the action is the path (`/os-services/disable`) and the body names host and binary. */
  const updateV21 = async (req: FastifyRequest, action: string) => {
    const actions = ['enable', 'disable', 'disable-log-reason', ...(mv(req, '2.11') ? ['force-down'] : [])];
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest("Invalid input for field/attribute body. 'host' is a required property");
    const allowed = ['host', 'binary', 'disabled_reason', ...(mv(req, '2.11') ? ['forced_down'] : [])];
    for (const k of Object.keys(b)) if (!allowed.includes(k)) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    for (const k of ['host', 'binary']) {
      if (typeof b[k] !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. '${k}' is a required property`);
      if (!(b[k] as string).length || (b[k] as string).length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${b[k]}.`);
    }
    if (b.disabled_reason !== undefined && (typeof b.disabled_reason !== 'string' || !b.disabled_reason.length || b.disabled_reason.length > 255)) {
      throw badRequest(`Invalid input for field/attribute disabled_reason. Value: ${JSON.stringify(b.disabled_reason)}.`);
    }
    if (!actions.includes(action)) throw notFound('Unknown action');
    const host = b.host as string;
    const binary = b.binary as string;
    let forcedDown: boolean | undefined;
    if (action === 'disable-log-reason' && b.disabled_reason === undefined) throw badRequest('Missing disabled reason field');
    if (action === 'force-down') {
      if (b.forced_down === undefined) throw badRequest('Missing forced_down field');
      if (typeof b.forced_down !== 'boolean') throw badRequest(`Invalid input for field/attribute forced_down. Value: ${JSON.stringify(b.forced_down)}. ${JSON.stringify(b.forced_down)} is not of type 'boolean'`);
      forcedDown = b.forced_down;
    }
    if (binary !== 'nova-compute') throw badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);
    const node = await db.selectFrom('compute_node').select('host').where('host', '=', host).executeTakeFirst();
    if (!node) throw notFound(`Could not find binary ${binary} on host ${host}.`);
    switch (action) {
      case 'enable':
        await setNode(host, { status: 'enabled', disabled_reason: null });
        return { service: { host, binary, status: 'enabled' } };
      case 'disable':
        await setNode(host, { status: 'disabled', disabled_reason: null });
        return { service: { host, binary, status: 'disabled' } };
      case 'disable-log-reason': {
        const reason = b.disabled_reason as string;
        await setNode(host, { status: 'disabled', disabled_reason: reason });
        return { service: { host, binary, status: 'disabled', disabled_reason: reason } };
      }
      default:
        await setNode(host, { forced_down: forcedDown ? 1 : 0 });
        return { service: { host, binary, forced_down: forcedDown } };
    }
  };

  /** From 2.53 the path names the service by uuid and the body says what changes. */
  const updateV253 = async (req: FastifyRequest, id: string) => {
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    adminOnly(req, 'os_compute_api:os-services:update');
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest('Invalid input for field/attribute body. Value: null.');
    for (const k of Object.keys(b)) if (!['status', 'disabled_reason', 'forced_down'].includes(k)) throw badRequest(`Invalid input for field/attribute body. Additional properties are not allowed ('${k}' was unexpected)`);
    if (b.status !== undefined && b.status !== 'enabled' && b.status !== 'disabled') throw badRequest(`Invalid input for field/attribute status. Value: ${JSON.stringify(b.status)}. ${JSON.stringify(b.status)} is not one of ['enabled', 'disabled']`);
    if (b.disabled_reason !== undefined && (typeof b.disabled_reason !== 'string' || !b.disabled_reason.length || b.disabled_reason.length > 255)) {
      throw badRequest(`Invalid input for field/attribute disabled_reason. Value: ${JSON.stringify(b.disabled_reason)}.`);
    }
    if (b.forced_down !== undefined && typeof b.forced_down !== 'boolean') throw badRequest(`Invalid input for field/attribute forced_down. Value: ${JSON.stringify(b.forced_down)}. ${JSON.stringify(b.forced_down)} is not of type 'boolean'`);
    const s = (await serviceRecords(db)).find((x) => x.uuid === id.toLowerCase());
    if (!s) throw notFound(`Service ${id} could not be found.`);
    if (s.binary !== 'nova-compute') throw badRequest(`Updating a ${s.binary} service is not supported. Only nova-compute services can be updated.`);
    const set: { status?: string; disabled_reason?: string | null; forced_down?: number } = {};
    if (b.status === 'enabled') {
      if (b.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
      set.status = 'enabled'; set.disabled_reason = null;
    } else if (b.status === 'disabled') {
      set.status = 'disabled'; set.disabled_reason = (b.disabled_reason as string | undefined) ?? null;
    }
    if (b.forced_down !== undefined) set.forced_down = b.forced_down ? 1 : 0;
    if (!Object.keys(set).length) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    await setNode(s.host, set);
    const fresh = (await serviceRecords(db)).find((x) => x.uuid === s.uuid)!;
    return { service: view(req, fresh) };
  };

  app.put('/v2.1/os-services/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    if (mv(req, '2.53')) return updateV253(req, id);
    adminOnly(req, 'os_compute_api:os-services:update');
    return updateV21(req, id);
  });

  app.delete('/v2.1/os-services/:id', async (req, reply) => {
    adminOnly(req, 'os_compute_api:os-services:delete');
    const id = (req.params as { id: string }).id;
    if (mv(req, '2.53') ? !isUuidLike(id) : !isInteger(id)) throw badRequest(mv(req, '2.53') ? `Invalid uuid ${id}` : `Invalid input for field/attribute id. Value: ${id}. id must be an integer`);
    const s = (await serviceRecords(db)).find((x) => (mv(req, '2.53') ? x.uuid === id.toLowerCase() : x.id === Number(id)));
    if (!s) throw notFound(`Service ${id} could not be found.`);
    if (!s.node) throw conflict(`Unable to delete the ${s.binary} service: it runs inside the API process and would register again at once.`);
    const host = s.host;
    await db.transaction().execute(async (trx) => {
      const count = await trx.selectFrom('instance').select(sql<number>`count(*)`.as('n')).where('host', '=', host).where('deleted', '=', 0).executeTakeFirst();
      if (Number(count?.n ?? 0) > 0) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
      const done = ['confirmed', 'reverted', 'error', 'failed', 'completed', 'cancelled', 'done', 'finished'];
      const moving = await trx.selectFrom('migration').select('id').where('status', 'not in', done)
        .where((eb) => eb.or([eb('source_compute', '=', host), eb('dest_compute', '=', host)])).executeTakeFirst();
      if (moving) throw conflict('Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.');
      await trx.deleteFrom('aggregate_host').where('host', '=', host).execute();
      await trx.deleteFrom('compute_node').where('host', '=', host).execute();
    });
    reply.status(204).send();
  });
}
