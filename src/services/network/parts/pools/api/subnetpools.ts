import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { json } from '../../../../../platform/json.js';
import { badInput, boolValue, neutronError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from '../../../api/listing.js';
import { cidrText, parseCidr, type Cidr } from '../../../logic/ip.js';
import { poolRoot, type PoolDb, type SubnetPoolRow } from '../store.js';
import { poolViews } from '../views.js';
import { covers, intersects, rangesOf, subtract, cidrsOf } from '../logic/prefixes.js';
import { poolCidrs } from '../logic/allocate.js';
import { checkNoOtherDefault, checkScope, compact, parsePrefixes, prefixBounds, quotaValue } from '../logic/pools.js';
import { ACCESS_SHARED, dropPolicies, poolNotFound, setWildcard, visiblePools } from '../logic/rbac.js';

/** /v2.0/subnetpools, with the subnetpool-prefix-ops add_prefixes/remove_prefixes actions. */
const ATTRS = ['name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'address_scope_id', 'shared',
  'is_default', 'default_quota', 'tenant_id', 'project_id'];
const UPDATABLE = ['name', 'description', 'prefixes', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'address_scope_id', 'is_default', 'default_quota'];

export const poolList: ListSpec = {
  collection: 'subnetpools', table: 'subnetpool', tagType: 'subnetpools',
  columns: {
    ...standardColumns, ...sameName('str', ['address_scope_id']), ...sameName('bool', ['shared', 'is_default']),
    ...sameName('int', ['ip_version', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'default_quota']),
  },
  sortable: ['id', 'name', 'project_id', 'ip_version', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'shared', 'is_default', 'created_at', 'updated_at'],
};

const forbidden = (rule: string) => neutronError(403, 'HTTPForbidden', `(rule:${rule}) is disallowed by policy`);

export async function getPool(db: PoolDb, ctx: RequestContext, id: string): Promise<SubnetPoolRow> {
  const p = await visiblePools(db, ctx).where('subnetpool.id', '=', id).executeTakeFirst();
  if (!p) throw poolNotFound(id);
  return p;
}

export async function subnetPoolRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = () => poolRoot(deps.db);
  const show = async (req: FastifyRequest, id: string) =>
    pickFields(req, (await poolViews(db(), req.ctx, [(await db().selectFrom('subnetpool').selectAll().where('id', '=', id).executeTakeFirst())!]))[0]!);
  const owned = async (req: FastifyRequest, rule: string) => {
    const pool = await getPool(db(), req.ctx, (req.params as { id: string }).id);
    if (!req.ctx.isAdmin && pool.project_id !== req.ctx.projectId) throw forbidden(rule);
    requireWriter(req.ctx);
    return pool;
  };

  app.post('/v2.0/subnetpools', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'subnetpool', ATTRS);
    for (const a of ['shared', 'is_default']) if (b[a] !== undefined && !ctx.isAdmin) throw forbidden(`create_subnetpool:${a}`);
    const owner = ownerOf(ctx, b);
    if (b.prefixes === undefined) throw badInput("'prefixes' is required");
    const { version, cidrs } = parsePrefixes(b.prefixes);
    const lens = prefixBounds(version, b);
    const shared = b.shared === undefined ? false : boolValue(b.shared, 'shared');
    const isDefault = b.is_default === undefined ? false : boolValue(b.is_default, 'is_default');
    const t = now();
    const row: SubnetPoolRow = {
      id: uuid(), project_id: owner, name: b.name === undefined ? '' : strValue(b.name, 'name')!,
      description: b.description === undefined ? '' : strValue(b.description, 'description')!, created_at: t, updated_at: t, revision_number: 0,
      prefixes: JSON.stringify(compact(cidrs, version)), default_prefixlen: lens.def, min_prefixlen: lens.min, max_prefixlen: lens.max,
      ip_version: version, shared: shared ? 1 : 0, is_default: isDefault ? 1 : 0,
      default_quota: b.default_quota === undefined ? null : quotaValue(b.default_quota),
      address_scope_id: b.address_scope_id === undefined ? null : (b.address_scope_id as string | null),
    };
    await db().transaction().execute(async (trx) => {
      if (isDefault) await checkNoOtherDefault(trx, version);
      await checkScope(trx, ctx, row.address_scope_id, row.id, version, cidrs);
      await trx.insertInto('subnetpool').values(row).execute();
      if (shared) await setWildcard(trx, 'subnetpool', row.id, owner, ACCESS_SHARED, true);
    });
    reply.status(201);
    return { subnetpool: await show(req, row.id) };
  });

  app.get('/v2.0/subnetpools', async (req) => {
    const { rows, links } = await listRows(req, db(), visiblePools(db(), req.ctx), poolList);
    const views = await poolViews(db(), req.ctx, rows as SubnetPoolRow[]);
    return { subnetpools: views.map((v) => pickFields(req, v)), ...(links.length ? { subnetpools_links: links } : {}) };
  });

  app.get('/v2.0/subnetpools/:id', async (req) => {
    const pool = await getPool(db(), req.ctx, (req.params as { id: string }).id);
    return { subnetpool: await show(req, pool.id) };
  });

  app.put('/v2.0/subnetpools/:id', async (req) => {
    const ctx = req.ctx;
    const pool = await owned(req, 'update_subnetpool');
    const b = resourceBody(req, 'subnetpool', ATTRS);
    const fixed = Object.keys(b).filter((k) => !UPDATABLE.includes(k));
    if (fixed.length) throw badInput(`Cannot update read-only attribute ${fixed.join(', ')}`);
    if (b.is_default !== undefined && !ctx.isAdmin) throw forbidden('update_subnetpool:is_default');
    await db().transaction().execute((trx) => updatePool(trx, ctx, pool, b));
    return { subnetpool: await show(req, pool.id) };
  });

  app.delete('/v2.0/subnetpools/:id', async (req, reply) => {
    const pool = await owned(req, 'delete_subnetpool');
    await db().transaction().execute(async (trx) => {
      if (await trx.selectFrom('subnet').select('id').where('subnetpool_id', '=', pool.id).limit(1).executeTakeFirst()) {
        throw neutronError(400, 'SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
      }
      await dropPolicies(trx, 'subnetpool', pool.id);
      await trx.deleteFrom('resource_tag').where('resource_type', '=', 'subnetpools').where('resource_id', '=', pool.id).execute();
      await trx.deleteFrom('subnetpool').where('id', '=', pool.id).execute();
    });
    reply.status(204).send();
  });

  // subnetpool-prefix-ops: the answer is just the pool's resulting prefix list.
  const prefixBody = (req: FastifyRequest): Cidr[] => {
    const p = (req.body as { prefixes?: unknown } | undefined)?.prefixes;
    if (!Array.isArray(p)) throw badInput("'prefixes' must be a list");
    return p.map((x) => {
      const c = typeof x === 'string' ? parseCidr(x) : null;
      if (!c) throw badInput(`'${String(x)}' is not a valid IP subnet`);
      return c;
    });
  };
  app.put('/v2.0/subnetpools/:id/add_prefixes', async (req) => {
    const pool = await owned(req, 'add_prefixes');
    const adding = prefixBody(req);
    if (!adding.length) return { prefixes: json<string[]>(pool.prefixes, []) };
    const current = json<string[]>(pool.prefixes, []);
    await db().transaction().execute((trx) => updatePool(trx, req.ctx, pool, { prefixes: [...current, ...adding.map(cidrText)] }));
    return { prefixes: json<string[]>((await db().selectFrom('subnetpool').select('prefixes').where('id', '=', pool.id).executeTakeFirst())!.prefixes, []) };
  });
  app.put('/v2.0/subnetpools/:id/remove_prefixes', async (req) => {
    const pool = await owned(req, 'remove_prefixes');
    const removing = rangesOf(prefixBody(req));
    const current = rangesOf(poolCidrs(pool));
    if (!removing.length || !intersects(current, removing)) return { prefixes: json<string[]>(pool.prefixes, []) };
    return db().transaction().execute(async (trx) => {
      const subnets = await trx.selectFrom('subnet').select('cidr').where('subnetpool_id', '=', pool.id).execute();
      if (intersects(rangesOf(subnets.map((s) => parseCidr(s.cidr)).filter((c): c is Cidr => c !== null)), removing)) {
        throw neutronError(400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet.');
      }
      const prefixes = cidrsOf(subtract(current, removing), pool.ip_version as 4 | 6);
      await trx.updateTable('subnetpool').set({ prefixes: JSON.stringify(prefixes), updated_at: now(), revision_number: pool.revision_number + 1 }).where('id', '=', pool.id).execute();
      return { prefixes };
    });
  });
}

/** An update as Neutron applies it: the whole pool re-checked with the new values in. */
async function updatePool(trx: PoolDb, ctx: RequestContext, pool: SubnetPoolRow, b: Record<string, unknown>): Promise<void> {
  const version = pool.ip_version as 4 | 6;
  if (pool.address_scope_id && !ctx.isAdmin) {
    const scope = await trx.selectFrom('address_scope').select('project_id').where('id', '=', pool.address_scope_id).executeTakeFirst();
    if (scope && scope.project_id !== ctx.projectId) {
      throw neutronError(400, 'IllegalSubnetPoolUpdate', `Illegal subnetpool update : subnetpool ${pool.id} cannot be updated when associated with shared address scope ${pool.address_scope_id}.`);
    }
  }
  let cidrs = poolCidrs(pool);
  if (b.prefixes !== undefined) {
    const parsed = parsePrefixes(b.prefixes);
    if (parsed.version !== version) throw neutronError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
    if (!covers(rangesOf(parsed.cidrs), rangesOf(cidrs))) {
      throw neutronError(400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.');
    }
    cidrs = parsed.cidrs;
  }
  const lens = prefixBounds(version, b, pool);
  const set: Partial<SubnetPoolRow> = {
    prefixes: JSON.stringify(compact(cidrs, version)), min_prefixlen: lens.min, max_prefixlen: lens.max, default_prefixlen: lens.def,
    updated_at: now(), revision_number: pool.revision_number + 1,
  };
  if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
  if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
  if (b.default_quota !== undefined) set.default_quota = quotaValue(b.default_quota);
  if (b.is_default !== undefined) {
    set.is_default = boolValue(b.is_default, 'is_default') ? 1 : 0;
    if (set.is_default && !pool.is_default) await checkNoOtherDefault(trx, version, pool.id);
  }
  const scopeId = b.address_scope_id !== undefined ? (b.address_scope_id as string | null) : pool.address_scope_id;
  await checkScope(trx, ctx, scopeId, pool.id, version, cidrs);
  set.address_scope_id = scopeId;
  await trx.updateTable('subnetpool').set(set).where('id', '=', pool.id).execute();
}
