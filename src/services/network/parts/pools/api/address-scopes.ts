import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { badInput, boolValue, conflictError, neutronError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, sameName, type ListSpec } from '../../../api/listing.js';
import { poolRoot, type AddressScopeRow } from '../store.js';
import { scopeViews } from '../views.js';
import { ACCESS_SHARED, dropPolicies, scopeNotFound, setWildcard, visibleScopes } from '../logic/rbac.js';

/** /v2.0/address-scopes: the address-scope extension. A scope in use by a pool stays. */
const ATTRS = ['name', 'ip_version', 'shared', 'tenant_id', 'project_id'];

export const scopeList: ListSpec = {
  collection: 'address_scopes', table: 'address_scope',
  columns: {
    ...sameName('str', ['id', 'name', 'project_id']), ...sameName('bool', ['shared']), ...sameName('int', ['ip_version']),
  },
  sortable: ['id', 'name', 'project_id', 'ip_version', 'shared'],
};

const forbidden = (rule: string) => neutronError(403, 'HTTPForbidden', `(rule:${rule}) is disallowed by policy`);

export async function addressScopeRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = () => poolRoot(deps.db);
  const load = async (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    const s = await visibleScopes(db(), req.ctx).where('address_scope.id', '=', id).executeTakeFirst();
    if (!s) throw scopeNotFound(id);
    return s;
  };
  const show = async (req: FastifyRequest, id: string) =>
    pickFields(req, (await scopeViews(db(), req.ctx, [(await db().selectFrom('address_scope').selectAll().where('id', '=', id).executeTakeFirst())!]))[0]!);

  app.post('/v2.0/address-scopes', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'address_scope', ATTRS);
    if (b.shared !== undefined && !ctx.isAdmin) throw forbidden('create_address_scope:shared');
    const owner = ownerOf(ctx, b);
    const version = Number(b.ip_version);
    if (b.ip_version === undefined) throw badInput("'ip_version' is required");
    if (version !== 4 && version !== 6) throw badInput(`${String(b.ip_version)} is not in [4, 6]`);
    const shared = b.shared === undefined ? false : boolValue(b.shared, 'shared');
    const t = now();
    const row: AddressScopeRow = {
      id: uuid(), project_id: owner, name: b.name === undefined ? '' : strValue(b.name, 'name')!, description: '', created_at: t, updated_at: t,
      revision_number: 0, ip_version: version, shared: shared ? 1 : 0,
    };
    await db().transaction().execute(async (trx) => {
      await trx.insertInto('address_scope').values(row).execute();
      if (shared) await setWildcard(trx, 'address_scope', row.id, owner, ACCESS_SHARED, true);
    });
    reply.status(201);
    return { address_scope: await show(req, row.id) };
  });

  app.get('/v2.0/address-scopes', async (req) => {
    const { rows, links } = await listRows(req, db(), visibleScopes(db(), req.ctx), scopeList);
    const views = await scopeViews(db(), req.ctx, rows as AddressScopeRow[]);
    return { address_scopes: views.map((v) => pickFields(req, v)), ...(links.length ? { address_scopes_links: links } : {}) };
  });

  app.get('/v2.0/address-scopes/:id', async (req) => ({ address_scope: await show(req, (await load(req)).id) }));

  app.put('/v2.0/address-scopes/:id', async (req) => {
    const ctx = req.ctx;
    const scope = await load(req);
    if (!ctx.isAdmin && scope.project_id !== ctx.projectId) throw forbidden('update_address_scope');
    requireWriter(ctx);
    const b = resourceBody(req, 'address_scope', ATTRS);
    const fixed = Object.keys(b).filter((k) => !['name', 'shared'].includes(k));
    if (fixed.length) throw badInput(`Cannot update read-only attribute ${fixed.join(', ')}`);
    if (b.shared !== undefined && !ctx.isAdmin) throw forbidden('update_address_scope:shared');
    const shared = b.shared === undefined ? undefined : boolValue(b.shared, 'shared');
    if (scope.shared === 1 && shared === false) {
      throw neutronError(400, 'AddressScopeUpdateError', `Unable to update address scope ${scope.id} : Shared address scope can't be unshared.`);
    }
    await db().transaction().execute(async (trx) => {
      await trx.updateTable('address_scope').set({
        ...(b.name !== undefined ? { name: strValue(b.name, 'name')! } : {}), updated_at: now(), revision_number: scope.revision_number + 1,
      }).where('id', '=', scope.id).execute();
      if (shared) await setWildcard(trx, 'address_scope', scope.id, scope.project_id, ACCESS_SHARED, true);
    });
    return { address_scope: await show(req, scope.id) };
  });

  app.delete('/v2.0/address-scopes/:id', async (req, reply) => {
    const ctx = req.ctx;
    const scope = await load(req);
    if (!ctx.isAdmin && scope.project_id !== ctx.projectId) throw forbidden('delete_address_scope');
    requireWriter(ctx);
    await db().transaction().execute(async (trx) => {
      if (await trx.selectFrom('subnetpool').select('id').where('address_scope_id', '=', scope.id).limit(1).executeTakeFirst()) {
        throw conflictError('AddressScopeInUse', `Unable to complete operation on address scope ${scope.id}. There are one or more subnet pools in use on the address scope.`);
      }
      await dropPolicies(trx, 'address_scope', scope.id);
      await trx.deleteFrom('resource_tag').where('resource_type', '=', 'address-scopes').where('resource_id', '=', scope.id).execute();
      await trx.deleteFrom('address_scope').where('id', '=', scope.id).execute();
    });
    reply.status(204).send();
  });
}
