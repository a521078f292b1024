import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import { badRequest, bool, conflict, links, notFound, requireAdmin, route, type VolumeDeps } from './common.js';
import { listQuery, nextLinks, pageOf } from './listing.js';
import type { QosSpecsRow, VDb } from '../store.js';

/**
 * QoS specs (Cinder's qos-specs extension), all admin-only: named sets of limits
 * (`read_iops_sec`, `total_bytes_sec`, …) for a consumer (`front-end`: the hypervisor applies
 * them, `back-end`: the storage does, `both`), associated with volume types. A type has at most
 * one QoS spec (`volume_type.qos_specs_id`); a spec still associated is deleted only with
 * `force`, which drops the associations first.
 */
const CONSUMERS = ['front-end', 'back-end', 'both'];
const SORT_KEYS = ['id', 'name', 'consumer', 'created_at'] as const;

const specsOf = (row: QosSpecsRow): Record<string, string> => JSON.parse(row.specs) as Record<string, string>;

function view(req: FastifyRequest, d: VolumeDeps, row: QosSpecsRow) {
  return {
    qos_specs: { id: row.id, name: row.name, consumer: row.consumer, specs: specsOf(row) },
    links: links(req, d.platform, 'qos-specs', row.id, req.ctx.projectId ?? ''),
  };
}

async function findQos(db: VDb, id: string): Promise<QosSpecsRow> {
  const row = await db.selectFrom('qos_specs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`QoS Specs ${id} could not be found.`);
  return row;
}

function consumer(v: unknown): string {
  if (typeof v !== 'string' || !CONSUMERS.includes(v)) {
    throw badRequest(`Invalid input received: Invalid QoS specs: ${JSON.stringify(v)} is not a valid consumer; valid consumers are ${CONSUMERS.join(', ')}.`);
  }
  return v;
}

/** Spec values are strings of at most 255 characters, keys 1–255 characters (Cinder checks both before storing). */
function specValues(specs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid input received: Invalid QoS specs: key '${k}' must be 1 to 255 characters.`);
    if (typeof v !== 'string') throw badRequest(`Invalid input received: Invalid QoS specs: the value of ${k} must be a string.`);
    if (v.length > 255) throw badRequest(`Invalid input received: Invalid QoS specs: the value of ${k} is longer than 255 characters.`);
    out[k] = v;
  }
  return out;
}

function qosBody(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined | null;
  if (!b || typeof b !== 'object' || Array.isArray(b) || b[key] === undefined) throw badRequest(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
  const extra = Object.keys(b).filter((k) => k !== key);
  if (extra.length) throw badRequest(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
  const v = b[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  return v as Record<string, unknown>;
}

const volTypeIdParam = (req: FastifyRequest): string => {
  const v = (req.query as Record<string, string | undefined>).vol_type_id;
  if (!v) throw badRequest('Volume Type id must not be None.');
  return v;
};

export async function qosRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const db = d.db;
  const id = (req: FastifyRequest) => (req.params as { id: string }).id;

  route(app, 'get', '/qos-specs', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:get_all');
    const q = req.query as Record<string, string | undefined>;
    let rows = await db.selectFrom('qos_specs').selectAll().execute();
    for (const f of ['id', 'name', 'consumer'] as const) if (q[f] !== undefined) rows = rows.filter((r) => r[f] === q[f]);
    const lq = listQuery(req, SORT_KEYS);
    const page = pageOf(rows, lq, (r, k) => (r as unknown as Record<string, unknown>)[k]);
    return { qos_specs: page.map((r) => view(req, d, r).qos_specs), ...nextLinks(req, d.platform, 'qos_specs', page, lq.limit) };
  });

  route(app, 'post', '/qos-specs', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:create');
    const b = qosBody(req, 'qos_specs');
    const { name: rawName, consumer: rawConsumer, ...rest } = b;
    if (typeof rawName !== 'string') throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(rawName ?? null)}. 'name' is a required property`);
    const name = rawName.trim();
    if (!name || name.length > 255) throw badRequest(`Invalid input for field/attribute name. Value: ${rawName}. The 'name' must be 1 to 255 characters without leading or trailing spaces.`);
    const row: QosSpecsRow = {
      id: uuid(), name, consumer: rawConsumer === undefined || rawConsumer === null ? 'back-end' : consumer(rawConsumer),
      specs: JSON.stringify(specValues(rest)), created_at: now(),
    };
    await db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('qos_specs').select('id').where('name', '=', name).executeTakeFirst()) throw conflict(`QoS Specs ${name} already exists.`);
      await trx.insertInto('qos_specs').values(row).execute();
    });
    return view(req, d, row);
  });

  route(app, 'get', '/qos-specs/:id', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:get');
    return view(req, d, await findQos(db, id(req)));
  });

  // Sets keys (and the consumer, when given); answers with what was asked.
  route(app, 'put', '/qos-specs/:id', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:update');
    const given = qosBody(req, 'qos_specs');
    const { consumer: rawConsumer, ...rest } = given;
    for (const [k, v] of Object.entries(rest)) if (v === null) rest[k] = '';
    const specs = specValues(rest);
    const newConsumer = rawConsumer === undefined ? undefined : consumer(rawConsumer);
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      await trx.updateTable('qos_specs').set({
        specs: JSON.stringify({ ...specsOf(row), ...specs }), ...(newConsumer ? { consumer: newConsumer } : {}),
      }).where('id', '=', row.id).execute();
    });
    return { qos_specs: given };
  });

  route(app, 'delete', '/qos-specs/:id', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:delete');
    const force = (req.query as Record<string, string | undefined>).force;
    const forced = force === undefined ? false : bool(force, 'force');
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      const used = await trx.selectFrom('volume_type').select('id').where('qos_specs_id', '=', row.id).executeTakeFirst();
      if (used && !forced) throw badRequest('Qos specs still in use.');
      await trx.updateTable('volume_type').set({ qos_specs_id: null, updated_at: now() }).where('qos_specs_id', '=', row.id).execute();
      await trx.deleteFrom('qos_specs').where('id', '=', row.id).execute();
    });
    return reply.status(202).send();
  });

  // Removes keys in the order given, stopping at the first one that is not set (the ones before it stay removed, as in Cinder).
  route(app, 'put', '/qos-specs/:id/delete_keys', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:delete');
    const b = req.body as Record<string, unknown> | undefined | null;
    const keys = b?.keys;
    if (!b || typeof b !== 'object' || !Array.isArray(keys)) throw badRequest("Invalid input for field/attribute keys. 'keys' is a required property");
    if (Object.keys(b).some((k) => k !== 'keys')) throw badRequest('Additional properties are not allowed');
    if (keys.some((k) => typeof k !== 'string' || k.length < 1 || k.length > 255)) throw badRequest(`Invalid input for field/attribute keys. Value: ${JSON.stringify(keys)}. Keys must be strings of 1 to 255 characters.`);
    if (new Set(keys).size !== keys.length) throw badRequest(`Invalid input for field/attribute keys. Value: ${JSON.stringify(keys)}. ${JSON.stringify(keys)} has non-unique elements`);
    let missing: string | null = null;
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      const specs = specsOf(row);
      for (const k of keys as string[]) {
        if (!(k in specs)) { missing = k; break; }
        delete specs[k];
      }
      await trx.updateTable('qos_specs').set({ specs: JSON.stringify(specs) }).where('id', '=', row.id).execute();
    });
    if (missing !== null) throw notFound(`QoS spec ${missing} could not be found in QoS specs ${id(req)}.`);
    return reply.status(202).send();
  });

  route(app, 'get', '/qos-specs/:id/associations', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:get_all');
    const row = await findQos(db, id(req));
    const types = await db.selectFrom('volume_type').select(['id', 'name']).where('qos_specs_id', '=', row.id).orderBy('name').execute();
    return { qos_associations: types.map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id })) };
  });

  route(app, 'get', '/qos-specs/:id/associate', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:update');
    const typeId = volTypeIdParam(req);
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      const t = await trx.selectFrom('volume_type').select(['id', 'qos_specs_id']).where('id', '=', typeId).executeTakeFirst();
      if (!t) throw notFound(`Volume type ${typeId} could not be found.`);
      if (t.qos_specs_id === row.id) return;
      if (t.qos_specs_id) throw badRequest(`Invalid volume type: Type ${typeId} is already associated with another qos specs: ${t.qos_specs_id}`);
      await trx.updateTable('volume_type').set({ qos_specs_id: row.id, updated_at: now() }).where('id', '=', typeId).execute();
    });
    return reply.status(202).send();
  });

  route(app, 'get', '/qos-specs/:id/disassociate', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:update');
    const typeId = volTypeIdParam(req);
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      const t = await trx.selectFrom('volume_type').select(['id', 'qos_specs_id']).where('id', '=', typeId).executeTakeFirst();
      if (!t) throw notFound(`Volume type ${typeId} could not be found.`);
      if (t.qos_specs_id === row.id) await trx.updateTable('volume_type').set({ qos_specs_id: null, updated_at: now() }).where('id', '=', typeId).execute();
    });
    return reply.status(202).send();
  });

  route(app, 'get', '/qos-specs/:id/disassociate_all', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:qos_specs_manage:update');
    await db.transaction().execute(async (trx) => {
      const row = await findQos(trx, id(req));
      await trx.updateTable('volume_type').set({ qos_specs_id: null, updated_at: now() }).where('qos_specs_id', '=', row.id).execute();
    });
    return reply.status(202).send();
  });
}
