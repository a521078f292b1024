import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { badRequest, bodyOf, conflict, mv, notFound, requireAdmin, route, type VolumeDeps } from './common.js';
import { listQuery, nextLinks, pageOf } from './listing.js';
import { defaultType, typeVisible } from '../logic/access.js';
import { typeQuotaKeys } from '../logic/quota.js';
import { toMap, type VDb, type VolumeTypeRow } from '../store.js';

/**
 * Volume types (os-types-manage), their extra specs (os-types-extra-specs) and access lists
 * (os-volume-type-access). Everyone lists and shows the types they may use: the public ones
 * and the private ones their project is on the access list of; admins see and manage all.
 * Extra specs are the admin's business except the few Cinder lets users see (multiattach,
 * the zones a type is limited to, replication), which is how a user tells a multiattach type.
 */
const USER_VISIBLE_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];
const SORT_KEYS = ['id', 'name', 'is_public', 'description', 'created_at', 'updated_at'] as const;
/** Extra spec keys of a type's create request may hold spaces and slashes; those set later may not (Cinder's two patterns). */
const CREATE_SPEC_KEY = /^[a-zA-Z0-9\-_:. /]{1,255}$/;
const SPEC_KEY = /^[a-zA-Z0-9\-_:.]{1,255}$/;
const BOOLEAN_WORDS: Record<string, boolean> = Object.fromEntries([
  ...['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'].map((w) => [w, true]),
  ...['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'].map((w) => [w, false]),
]);

/** Cinder's strict boolean: true/false or one of its spellings. */
export function strictBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && v in BOOLEAN_WORDS) return BOOLEAN_WORDS[v]!;
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not one of the accepted boolean values`);
}

function refuseExtraKeys(body: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length) throw badRequest(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
}

/** An extra-specs map from a request: keys by `pattern`, string values up to 255 (null values are dropped). */
function specsMap(v: unknown, pattern: RegExp, field = 'extra_specs'): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!pattern.test(k)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. Additional properties are not allowed ('${k}' was unexpected)`);
    if (val === null) continue;
    if (typeof val !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(val)} is not of type 'string'`);
    if (val.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. '${val}' is too long`);
    out[k] = val;
  }
  return out;
}

function description(v: unknown): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute description. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
  if (v.length > 255) throw badRequest(`Invalid input for field/attribute description. Value: ${v}. '${v}' is too long`);
  return v;
}

/** A type by id (private ones only for admins and projects on the access list), or Cinder's 404. */
export async function findType(db: VDb, ctx: RequestContext, id: string): Promise<VolumeTypeRow> {
  const t = await db.selectFrom('volume_type').selectAll().where('id', '=', id).executeTakeFirst();
  if (!t || !(await typeVisible(db, ctx, t))) throw notFound(`Volume type ${id} could not be found.`);
  return t;
}

async function specsOf(db: VDb, typeIds: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(typeIds.map((id) => [id, {}]));
  if (!typeIds.length) return out;
  for (const r of await db.selectFrom('volume_type_extra_spec').selectAll().where('type_id', 'in', typeIds).execute()) out.get(r.type_id)![r.key] = r.value;
  return out;
}

/** What of a type's extra specs the caller may read. */
const readableSpecs = (ctx: RequestContext, specs: Record<string, string>): Record<string, string> =>
  ctx.isAdmin ? specs : Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_SPECS.includes(k)));

/**
 * A type on the wire. Show and list carry the access extension's `os-volume-type-access:is_public`
 * and, for admins, `qos_specs_id`; create answers without the QoS id and update without either,
 * as Cinder's responses (and Tempest's schemas for them) have it.
 */
type TypeViewKind = 'show' | 'create' | 'update';
export function typeView(ctx: RequestContext, t: VolumeTypeRow, specs: Record<string, string>, kind: TypeViewKind = 'show'): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id, name: t.name, is_public: t.is_public === 1, description: t.description, extra_specs: readableSpecs(ctx, specs),
  };
  if (kind !== 'update') out['os-volume-type-access:is_public'] = t.is_public === 1;
  if (kind === 'show' && ctx.isAdmin) out.qos_specs_id = t.qos_specs_id;
  return out;
}

/** Cinder's `extra_specs` list filter: a JSON object or a Python dict literal. */
function specsFilter(raw: string): Record<string, string> {
  for (const text of [raw, raw.replaceAll("'", '"')]) {
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    } catch { /* the next spelling */ }
  }
  throw badRequest(`Invalid input received: extra_specs filter ${raw} is not a dictionary.`);
}

/** Cinder's `is_public` list filter for admins: absent → public (plus own access), `none` → all, else a boolean. */
function isPublicFilter(raw: string | undefined): boolean | null {
  if (raw === undefined) return true;
  if (raw.toLowerCase() === 'none') return null;
  const v = BOOLEAN_WORDS[raw] ?? BOOLEAN_WORDS[raw.toLowerCase()];
  if (v === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
  return v;
}

/** A type no volume or snapshot uses yet, or Cinder's 400. */
async function refuseInUse(db: VDb, typeId: string, message: string): Promise<void> {
  const vol = await db.selectFrom('volume').select('id').where('volume_type_id', '=', typeId).executeTakeFirst();
  const snap = vol ? undefined : await db.selectFrom('snapshot').select('id').where('volume_type_id', '=', typeId).executeTakeFirst();
  if (vol || snap) throw badRequest(message);
}

export async function typeRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const db = d.db;

  route(app, 'get', '/types', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const ctx = req.ctx;
    const isPublic = ctx.isAdmin ? isPublicFilter(q.is_public) : true;
    let rows = await db.selectFrom('volume_type').selectAll().execute();
    if (isPublic !== null) {
      const mine = new Set(ctx.projectId
        ? (await db.selectFrom('volume_type_access').select('type_id').where('project_id', '=', ctx.projectId).execute()).map((r) => r.type_id)
        : []);
      rows = isPublic ? rows.filter((t) => t.is_public === 1 || mine.has(t.id)) : rows.filter((t) => t.is_public === 0);
    }
    const specs = await specsOf(db, rows.map((t) => t.id));
    if (q.extra_specs !== undefined && mv(req, '3.52')) {
      const want = specsFilter(q.extra_specs);
      // Filtering on a spec the caller may not read would leak it: such a filter matches nothing.
      if (!ctx.isAdmin && Object.keys(want).some((k) => !USER_VISIBLE_SPECS.includes(k))) rows = [];
      rows = rows.filter((t) => Object.entries(want).every(([k, v]) => specs.get(t.id)![k] === v));
    }
    const lq = listQuery(req, SORT_KEYS);
    const page = pageOf(rows, lq, (t, k) => (t as unknown as Record<string, unknown>)[k]);
    return { volume_types: page.map((t) => typeView(ctx, t, specs.get(t.id)!)), ...nextLinks(req, d.platform, 'volume_type', page, lq.limit) };
  });

  route(app, 'get', '/types/default', async (req) => {
    const t = await defaultType(db).catch(() => { throw notFound('Default volume type can not be found.'); });
    return { volume_type: typeView(req.ctx, t, (await specsOf(db, [t.id])).get(t.id)!) };
  });

  route(app, 'get', '/types/:id', async (req) => {
    const t = await findType(db, req.ctx, (req.params as { id: string }).id);
    return { volume_type: typeView(req.ctx, t, (await specsOf(db, [t.id])).get(t.id)!) };
  });

  route(app, 'post', '/types', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:type_create');
    const b = bodyOf(req, 'volume_type');
    refuseExtraKeys(b, ['name', 'description', 'extra_specs', 'os-volume-type-access:is_public']);
    const name = b.name;
    if (typeof name !== 'string') throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(name)}. ${JSON.stringify(name ?? null)} is not of type 'string'`);
    if (name.length < 1 || name.length > 255) throw badRequest(`Invalid input for field/attribute name. Value: ${name}. '${name}' ${name.length < 1 ? 'is too short' : 'is too long'}`);
    if (!name.trim()) throw badRequest("Invalid input received: The 'name' can not be empty.");
    const desc = description(b.description) ?? null;
    const specs = b.extra_specs === undefined || b.extra_specs === null ? {} : specsMap(b.extra_specs, CREATE_SPEC_KEY);
    const isPublic = b['os-volume-type-access:is_public'] === undefined ? true : strictBool(b['os-volume-type-access:is_public'], 'os-volume-type-access:is_public');
    const t = now();
    const row: VolumeTypeRow = { id: uuid(), name, description: desc, is_public: isPublic ? 1 : 0, qos_specs_id: null, created_at: t, updated_at: t };
    await db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('volume_type').select('id').where('name', '=', name).executeTakeFirst()) throw conflict(`Volume Type ${name} already exists.`);
      await trx.insertInto('volume_type').values(row).execute();
      const rows = Object.entries(specs).map(([key, value]) => ({ type_id: row.id, key, value }));
      if (rows.length) await trx.insertInto('volume_type_extra_spec').values(rows).execute();
    });
    return { volume_type: typeView(req.ctx, row, specs, 'create') };
  });

  route(app, 'put', '/types/:id', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:type_update');
    const id = (req.params as { id: string }).id;
    const b = bodyOf(req, 'volume_type');
    refuseExtraKeys(b, ['name', 'description', 'is_public']);
    const name = b.name ?? null;
    if (name !== null) {
      if (typeof name !== 'string') throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(name)}. ${JSON.stringify(name)} is not of type 'string', 'null'`);
      if (name.length < 1 || name.length > 255) throw badRequest(`Invalid input for field/attribute name. Value: ${name}. '${name}' ${name.length < 1 ? 'is too short' : 'is too long'}`);
      if (!name.trim()) throw badRequest('Volume type name can not be empty.');
    }
    const desc = description(b.description) ?? null;
    const isPublic = b.is_public === undefined || b.is_public === null ? null : strictBool(b.is_public, 'is_public');
    if (name === null && desc === null && isPublic === null) throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    await db.transaction().execute(async (trx) => {
      const cur = await findType(trx, req.ctx, id);
      if (name !== null && name !== cur.name) {
        if (await trx.selectFrom('volume_type').select('id').where('name', '=', name).executeTakeFirst()) throw conflict(`Volume Type ${name} already exists.`);
      }
      await trx.updateTable('volume_type').set({
        ...(name !== null ? { name } : {}), ...(desc !== null ? { description: desc } : {}), ...(isPublic !== null ? { is_public: isPublic ? 1 : 0 } : {}), updated_at: now(),
      }).where('id', '=', id).execute();
    });
    const t = await findType(db, req.ctx, id);
    return { volume_type: typeView(req.ctx, t, (await specsOf(db, [id])).get(id)!, 'update') };
  });

  route(app, 'delete', '/types/:id', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:type_delete');
    const id = (req.params as { id: string }).id;
    await db.transaction().execute(async (trx) => {
      const t = await findType(trx, req.ctx, id);
      await refuseInUse(trx, id, 'Target volume type is still in use.');
      const def = await defaultType(trx);
      if (def.id === id) throw badRequest(`The volume type ${id} is the default volume type and cannot be deleted.`);
      await trx.deleteFrom('volume_type_extra_spec').where('type_id', '=', id).execute();
      await trx.deleteFrom('volume_type_access').where('type_id', '=', id).execute();
      // Its per-type quota keys (volumes_<name>, …) go with it, so no quota set lists a type that is gone.
      await trx.deleteFrom('volume_quota').where('resource', 'in', typeQuotaKeys([t.name])).execute();
      await trx.deleteFrom('volume_type').where('id', '=', id).execute();
    });
    return reply.status(202).send();
  });

  // Access lists of private types.
  route(app, 'get', '/types/:id/os-volume-type-access', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:volume_type_access:get_all_for_type');
    const t = await findType(db, req.ctx, (req.params as { id: string }).id);
    if (t.is_public) throw notFound('Access list not available for public volume types.');
    const rows = await db.selectFrom('volume_type_access').select('project_id').where('type_id', '=', t.id).orderBy('project_id').execute();
    return { volume_type_access: rows.map((r) => ({ volume_type_id: t.id, project_id: r.project_id })) };
  });

  route(app, 'post', '/types/:id/action', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const b = req.body as Record<string, unknown> | undefined;
    const action = b && typeof b === 'object' ? Object.keys(b)[0] : undefined;
    if (action !== 'addProjectAccess' && action !== 'removeProjectAccess') throw badRequest(`There is no such action: ${action ?? 'None'}`);
    requireAdmin(req.ctx, `volume_extension:volume_type_access:${action}`);
    const args = bodyOf(req, action);
    refuseExtraKeys(args, ['project']);
    const project = args.project;
    if (typeof project !== 'string' || project.length < 1 || project.length > 255) {
      throw badRequest(`Invalid input for field/attribute project. Value: ${JSON.stringify(project ?? null)}. 'project' is a required property`);
    }
    await db.transaction().execute(async (trx) => {
      const t = await findType(trx, req.ctx, id);
      if (t.is_public) throw badRequest('Invalid volume type: Type access modification is not applicable to public volume type.');
      const has = await trx.selectFrom('volume_type_access').select('type_id').where('type_id', '=', id).where('project_id', '=', project).executeTakeFirst();
      if (action === 'addProjectAccess') {
        if (has) throw conflict(`Volume type access for ${id}/${project} combination already exists.`);
        await trx.insertInto('volume_type_access').values({ type_id: id, project_id: project }).execute();
      } else {
        if (!has) throw notFound(`Volume type access not found for ${id}/${project} combination.`);
        await trx.deleteFrom('volume_type_access').where('type_id', '=', id).where('project_id', '=', project).execute();
      }
    });
    return reply.status(202).send();
  });

  // Extra specs.
  const typeId = (req: FastifyRequest) => (req.params as { id: string }).id;
  const specKey = (req: FastifyRequest) => (req.params as { key: string }).key;
  const readSpecs = async (req: FastifyRequest) => {
    const t = await findType(db, req.ctx, typeId(req));
    return readableSpecs(req.ctx, toMap(await db.selectFrom('volume_type_extra_spec').select(['key', 'value']).where('type_id', '=', t.id).execute()));
  };
  const IN_USE = 'Volume Type is currently in use.';
  /** Cinder refuses a type both multiattach and cacheable. */
  const refuseCacheableMultiattach = async (id: string, specs: Record<string, string>) => {
    const cur = toMap(await db.selectFrom('volume_type_extra_spec').select(['key', 'value']).where('type_id', '=', id).execute());
    const merged = { ...cur, ...specs };
    if (merged.multiattach === '<is> True' && merged.cacheable === '<is> True') throw badRequest('cacheable cannot be set with multiattach.');
  };
  const upsertSpecs = async (id: string, specs: Record<string, string>) => {
    await db.transaction().execute(async (trx) => {
      if (Object.keys(specs).length) await trx.deleteFrom('volume_type_extra_spec').where('type_id', '=', id).where('key', 'in', Object.keys(specs)).execute();
      const rows = Object.entries(specs).map(([key, value]) => ({ type_id: id, key, value }));
      if (rows.length) await trx.insertInto('volume_type_extra_spec').values(rows).execute();
      await trx.updateTable('volume_type').set({ updated_at: now() }).where('id', '=', id).execute();
    });
  };

  route(app, 'get', '/types/:id/extra_specs', async (req) => ({ extra_specs: await readSpecs(req) }));

  route(app, 'get', '/types/:id/extra_specs/:key', async (req) => {
    const specs = await readSpecs(req);
    const key = specKey(req);
    if (!(key in specs)) throw notFound(`Volume Type ${typeId(req)} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });

  route(app, 'post', '/types/:id/extra_specs', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:types_extra_specs:create');
    const b = req.body as Record<string, unknown> | undefined | null;
    if (!b || typeof b !== 'object' || Array.isArray(b) || b.extra_specs === undefined) throw badRequest("Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
    refuseExtraKeys(b, ['extra_specs']);
    const given = specsMap(b.extra_specs, SPEC_KEY);
    const t = await findType(db, req.ctx, typeId(req));
    await refuseInUse(db, t.id, IN_USE);
    await refuseCacheableMultiattach(t.id, given);
    await upsertSpecs(t.id, given);
    return { extra_specs: b.extra_specs };
  });

  route(app, 'put', '/types/:id/extra_specs/:key', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:types_extra_specs:update');
    const b = req.body as Record<string, unknown> | undefined | null;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest(`Invalid input for field/attribute body. Value: ${JSON.stringify(b ?? null)}. ${JSON.stringify(b ?? null)} is not of type 'object'`);
    if (Object.keys(b).length !== 1) throw badRequest(`Invalid input for field/attribute body. Value: ${JSON.stringify(b)}. ${JSON.stringify(b)} ${Object.keys(b).length ? 'has too many properties' : 'does not have enough properties'}`);
    const given = specsMap(b, SPEC_KEY, 'body');
    const t = await findType(db, req.ctx, typeId(req));
    await refuseInUse(db, t.id, IN_USE);
    if (!(specKey(req) in b)) throw badRequest('Request body and URI mismatch');
    await refuseCacheableMultiattach(t.id, given);
    await upsertSpecs(t.id, given);
    return b;
  });

  route(app, 'delete', '/types/:id/extra_specs/:key', async (req, reply) => {
    const t = await findType(db, req.ctx, typeId(req));
    requireAdmin(req.ctx, 'volume_extension:types_extra_specs:delete');
    await refuseInUse(db, t.id, IN_USE);
    const key = specKey(req);
    const r = await db.deleteFrom('volume_type_extra_spec').where('type_id', '=', t.id).where('key', '=', key).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw notFound(`Volume Type ${t.id} has no extra specs with key ${key}.`);
    await db.updateTable('volume_type').set({ updated_at: now() }).where('id', '=', t.id).execute();
    return reply.status(202).send();
  });
}
