import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { AggregateRow, CDb } from '../store.js';
import { nextId } from '../store.js';
import { DEFAULT_ZONE } from '../logic/scheduler.js';
import { badRequest, conflict, mv, name as checkName, notFound, type ComputeDeps } from './common.js';
import { adminOnly, isInteger, naive, zonesByHost } from './compute-services.js';

/**
 * os-aggregates: host aggregates, whose `availability_zone` metadata makes the zones. As
 * Nova: a host is in one zone at most, a zone does not change under running servers, and an
 * aggregate goes only when it is empty.
 */
type Action = 'add' | 'update' | 'update_meta' | 'delete';
const INVALID: Record<Action, (id: number, reason: string) => string> = {
  add: (id, r) => `Cannot add host to aggregate ${id}. Reason: ${r}.`,
  delete: (id, r) => `Cannot remove host from aggregate ${id}. Reason: ${r}.`,
  update: (id, r) => `Cannot update aggregate ${id}. Reason: ${r}.`,
  update_meta: (id, r) => `Cannot update metadata of aggregate ${id}. Reason: ${r}.`,
};

function azName(v: unknown, field = 'availability_zone'): string | null {
  if (v === null) return null;
  const s = checkName(v, field);
  if (s.includes(':')) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${s}. '${s}' does not match the availability zone name pattern (no ':')`);
  return s;
}

export async function aggregateRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const hostsOf = async (d: CDb, id: number) => (await d.selectFrom('aggregate_host').select('host').where('aggregate_id', '=', id).orderBy('host').execute()).map((h) => h.host);
  const metadataOf = async (d: CDb, id: number) => {
    const out: Record<string, string> = {};
    for (const m of await d.selectFrom('aggregate_metadata').select(['key', 'value']).where('aggregate_id', '=', id).orderBy('key').execute()) out[m.key] = m.value;
    return out;
  };
  const view = async (req: FastifyRequest, d: CDb, a: AggregateRow, full = true) => {
    const metadata = await metadataOf(d, a.id);
    return {
      availability_zone: metadata.availability_zone ?? null, created_at: naive(a.created_at), deleted: false, deleted_at: null, id: a.id, name: a.name,
      updated_at: a.updated_at === a.created_at ? null : naive(a.updated_at),
      ...(full ? { hosts: await hostsOf(d, a.id), metadata } : {}),
      ...(mv(req, '2.41') ? { uuid: a.uuid } : {}),
    };
  };
  const find = async (d: CDb, raw: string): Promise<AggregateRow> => {
    if (!isInteger(raw)) throw badRequest(`Invalid input for field/attribute id. Value: ${raw}. id must be an integer`);
    const a = await d.selectFrom('aggregate').selectAll().where('id', '=', Number(raw)).executeTakeFirst();
    if (!a) throw notFound(`Aggregate ${raw} could not be found.`);
    return a;
  };
  const touch = async (d: CDb, a: AggregateRow) => {
    // updated_at equal to created_at reads as "never updated", so an update always moves it on.
    const t = Math.max(now(), a.created_at + 1);
    await d.updateTable('aggregate').set({ updated_at: t }).where('id', '=', a.id).execute();
  };
  const instancesOn = async (d: CDb, hosts: string[]) => {
    if (!hosts.length) return 0;
    const r = await d.selectFrom('instance').select(sql<number>`count(*)`.as('n')).where('host', 'in', hosts).where('deleted', '=', 0).executeTakeFirst();
    return Number(r?.n ?? 0);
  };

  /** Nova's is_safe_to_update_az: a zone must have a name, must not split a host between zones, and (on updates) must not move running servers. */
  const checkZoneChange = async (d: CDb, a: AggregateRow, zone: string | null | undefined, action: Action, hosts?: string[], checkInstances = false) => {
    if (zone === undefined) return;
    if (!zone) throw badRequest(INVALID[action](a.id, `Aggregate ${a.name} does not support empty named availability zone`));
    const members = hosts ?? await hostsOf(d, a.id);
    if (!members.length) return;
    const others = await d.selectFrom('aggregate_host').innerJoin('aggregate_metadata', 'aggregate_metadata.aggregate_id', 'aggregate_host.aggregate_id')
      .select(['aggregate_metadata.value', 'aggregate_host.aggregate_id']).where('aggregate_metadata.key', '=', 'availability_zone')
      .where('aggregate_host.host', 'in', members).where('aggregate_host.aggregate_id', '!=', a.id).execute();
    const conflicting = [...new Set(others.map((o) => o.value).filter((z) => z !== zone))];
    if (conflicting.length) {
      const reason = `One or more hosts already in availability zone(s) [${conflicting.map((z) => `'${z}'`).join(', ')}]`;
      throw action === 'add' ? conflict(INVALID.add(a.id, reason)) : badRequest(INVALID[action](a.id, reason));
    }
    const current = (await metadataOf(d, a.id)).availability_zone ?? null;
    if (checkInstances && current !== zone && await instancesOn(d, members)) {
      throw badRequest(INVALID[action](a.id, 'One or more hosts contain instances in this zone'));
    }
  };

  app.get('/v2.1/os-aggregates', async (req) => {
    adminOnly(req, 'os_compute_api:os-aggregates:index');
    const rows = await db.selectFrom('aggregate').selectAll().orderBy('id').execute();
    return { aggregates: await Promise.all(rows.map((a) => view(req, db, a))) };
  });

  app.post('/v2.1/os-aggregates', async (req) => {
    adminOnly(req, 'os_compute_api:os-aggregates:create');
    const b = req.body as Record<string, unknown> | undefined;
    const agg = b?.aggregate as Record<string, unknown> | undefined;
    if (!agg || typeof agg !== 'object' || Array.isArray(agg)) throw badRequest("Invalid input for field/attribute aggregate. 'aggregate' is a required property");
    for (const k of Object.keys(b!)) if (k !== 'aggregate') throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    for (const k of Object.keys(agg)) if (!['name', 'availability_zone'].includes(k)) throw badRequest(`Invalid input for field/attribute aggregate. Additional properties are not allowed ('${k}' was unexpected)`);
    if (agg.name === undefined) throw badRequest("Invalid input for field/attribute aggregate. 'name' is a required property");
    const name = checkName(agg.name);
    const zone = agg.availability_zone === undefined ? null : azName(agg.availability_zone);
    const row = await db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('aggregate').select('id').where('name', '=', name).executeTakeFirst()) throw conflict(`Aggregate ${name} already exists.`);
      const t = now();
      const a: AggregateRow = { id: await nextId(trx, platform.dialect, 'aggregate'), uuid: uuid(), name, created_at: t, updated_at: t };
      await trx.insertInto('aggregate').values(a).execute();
      if (zone) await trx.insertInto('aggregate_metadata').values({ aggregate_id: a.id, key: 'availability_zone', value: zone }).execute();
      return a;
    });
    return { aggregate: await view(req, db, row, false) };
  });

  app.get('/v2.1/os-aggregates/:id', async (req) => {
    adminOnly(req, 'os_compute_api:os-aggregates:show');
    return { aggregate: await view(req, db, await find(db, (req.params as { id: string }).id)) };
  });

  app.put('/v2.1/os-aggregates/:id', async (req) => {
    adminOnly(req, 'os_compute_api:os-aggregates:update');
    const b = req.body as Record<string, unknown> | undefined;
    const upd = b?.aggregate as Record<string, unknown> | undefined;
    if (!upd || typeof upd !== 'object' || Array.isArray(upd)) throw badRequest("Invalid input for field/attribute aggregate. 'aggregate' is a required property");
    for (const k of Object.keys(upd)) if (!['name', 'availability_zone'].includes(k)) throw badRequest(`Invalid input for field/attribute aggregate. Additional properties are not allowed ('${k}' was unexpected)`);
    if (upd.name === undefined && upd.availability_zone === undefined) throw badRequest(`Invalid input for field/attribute aggregate. Value: ${JSON.stringify(upd)}. ${JSON.stringify(upd)} is not valid under any of the given schemas`);
    let name: string | undefined;
    if (upd.name !== undefined) {
      const s = typeof upd.name === 'string' ? upd.name.trim() : upd.name;
      name = checkName(s);
    }
    const zone = upd.availability_zone === undefined ? undefined : azName(upd.availability_zone);
    const id = (req.params as { id: string }).id;
    const row = await db.transaction().execute(async (trx) => {
      const a = await find(trx, id);
      if (name !== undefined && name !== a.name) {
        if (await trx.selectFrom('aggregate').select('id').where('name', '=', name).where('id', '!=', a.id).executeTakeFirst()) throw conflict(`Aggregate ${name} already exists.`);
        await trx.updateTable('aggregate').set({ name }).where('id', '=', a.id).execute();
      }
      await checkZoneChange(trx, { ...a, name: name ?? a.name }, zone, 'update', undefined, true);
      if (zone) await setMeta(trx, a.id, { availability_zone: zone });
      await touch(trx, a);
      return (await trx.selectFrom('aggregate').selectAll().where('id', '=', a.id).executeTakeFirst())!;
    });
    return { aggregate: await view(req, db, row) };
  });

  app.delete('/v2.1/os-aggregates/:id', async (req, reply) => {
    adminOnly(req, 'os_compute_api:os-aggregates:delete');
    const id = (req.params as { id: string }).id;
    await db.transaction().execute(async (trx) => {
      const a = await find(trx, id);
      if ((await hostsOf(trx, a.id)).length) throw badRequest(INVALID.delete(a.id, 'Host aggregate is not empty'));
      await trx.deleteFrom('aggregate_metadata').where('aggregate_id', '=', a.id).execute();
      await trx.deleteFrom('aggregate').where('id', '=', a.id).execute();
    });
    reply.status(200).send();
  });

  const setMeta = async (d: CDb, id: number, metadata: Record<string, string | null>) => {
    for (const [key, value] of Object.entries(metadata)) {
      await d.deleteFrom('aggregate_metadata').where('aggregate_id', '=', id).where('key', '=', key).execute();
      if (value !== null) await d.insertInto('aggregate_metadata').values({ aggregate_id: id, key, value }).execute();
    }
  };

  app.post('/v2.1/os-aggregates/:id/action', async (req) => {
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Array.isArray(b) || Object.keys(b).length !== 1) throw badRequest('Invalid request body: one action expected.');
    const action = Object.keys(b)[0]!;
    const arg = b[action] as Record<string, unknown> | undefined;
    if (!['add_host', 'remove_host', 'set_metadata'].includes(action)) throw badRequest(`There is no such action: ${action}`);
    adminOnly(req, `os_compute_api:os-aggregates:${action}`);
    if (!arg || typeof arg !== 'object' || Array.isArray(arg)) throw badRequest(`Invalid input for field/attribute ${action}. Value: ${JSON.stringify(arg ?? null)}. ${JSON.stringify(arg ?? null)} is not of type 'object'`);
    const allowed = action === 'set_metadata' ? ['metadata'] : ['host'];
    for (const k of Object.keys(arg)) if (!allowed.includes(k)) throw badRequest(`Invalid input for field/attribute ${action}. Additional properties are not allowed ('${k}' was unexpected)`);
    const id = (req.params as { id: string }).id;

    if (action === 'set_metadata') {
      const meta = arg.metadata;
      if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw badRequest(`Invalid input for field/attribute metadata. Value: ${JSON.stringify(meta ?? null)}. 'metadata' is a required property`);
      const m: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
        if (k.length < 1 || k.length > 255 || !/^[a-zA-Z0-9-_:. ]{1,255}$/.test(k)) throw badRequest(`Invalid input for field/attribute metadata. Value: ${JSON.stringify(meta)}. Invalid metadata key '${k}'`);
        if (v !== null && typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
        if (typeof v === 'string' && v.length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${v}. '${v}' is too long`);
        m[k] = v as string | null;
      }
      const row = await db.transaction().execute(async (trx) => {
        const a = await find(trx, id);
        if ('availability_zone' in m) await checkZoneChange(trx, a, m.availability_zone, 'update_meta', undefined, true);
        await setMeta(trx, a.id, m);
        await touch(trx, a);
        return (await trx.selectFrom('aggregate').selectAll().where('id', '=', a.id).executeTakeFirst())!;
      });
      return { aggregate: await view(req, db, row) };
    }

    if (typeof arg.host !== 'string') throw badRequest(`Invalid input for field/attribute host. Value: ${JSON.stringify(arg.host ?? null)}. 'host' is a required property`);
    const host = arg.host;
    if (!host.length || host.length > 255) throw badRequest(`Invalid input for field/attribute host. Value: ${host}.`);
    const row = await db.transaction().execute(async (trx) => {
      if (action === 'add_host') {
        if (!(await trx.selectFrom('compute_node').select('host').where('host', '=', host).executeTakeFirst())) throw notFound(`Compute host ${host} could not be found.`);
        const a = await find(trx, id);
        const members = await hostsOf(trx, a.id);
        const meta = await metadataOf(trx, a.id);
        await checkZoneChange(trx, a, meta.availability_zone, 'add', [host]);
        if (members.includes(host)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
        // A host with servers may not change zone by joining (Nova: shelve and unshelve them to move zones).
        if (meta.availability_zone) {
          const n = await instancesOn(trx, [host]);
          const old = (await zonesByHost(trx)).get(host) ?? null;
          if (n && old !== meta.availability_zone) {
            throw conflict(INVALID.add(a.id, `The host cannot be added to the aggregate as the availability zone of the host would change from '${old}' to '${meta.availability_zone}' but the host already has ${n} instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.`));
          }
        }
        await trx.insertInto('aggregate_host').values({ aggregate_id: a.id, host }).execute();
        await touch(trx, a);
        return a;
      }
      const a = await find(trx, id).catch((e) => { if (e.status === 404) throw notFound(`Cannot remove host ${host} in aggregate ${id}`); throw e; });
      if (!(await hostsOf(trx, a.id)).includes(host)) throw notFound(`Cannot remove host ${host} in aggregate ${id}`);
      const meta = await metadataOf(trx, a.id);
      if (meta.availability_zone && await instancesOn(trx, [host])) {
        await trx.deleteFrom('aggregate_host').where('aggregate_id', '=', a.id).where('host', '=', host).execute();
        const after = (await zonesByHost(trx)).get(host) ?? DEFAULT_ZONE;
        if (after !== meta.availability_zone) {
          throw conflict(INVALID.delete(a.id, `The host cannot be removed from the aggregate as the availability zone of the host would change from '${meta.availability_zone}' to '${after}' but the host already has instance(s). Changing the AZ of an existing instance is not supported by this action. Move the instances away from this host then try again. If you need to move the instances between AZs then you can use shelve_offload and unshelve to achieve this.`));
        }
      } else {
        await trx.deleteFrom('aggregate_host').where('aggregate_id', '=', a.id).where('host', '=', host).execute();
      }
      await touch(trx, a);
      return a;
    });
    const fresh = (await db.selectFrom('aggregate').selectAll().where('id', '=', row.id).executeTakeFirst())!;
    return { aggregate: await view(req, db, fresh) };
  });
}
