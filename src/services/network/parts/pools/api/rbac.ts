import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { uuid } from '../../../../../platform/ids.js';
import { badInput, conflictError, neutronError, ownerOf, requireWriter, resourceBody, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, sameName, type ListSpec } from '../../../api/listing.js';
import { getNetwork } from '../../../api/networks.js';
import { checkQuota } from '../../../logic/quota.js';
import { poolRoot, type PoolDb, type RbacPolicyRow } from '../store.js';
import { rbacView } from '../views.js';
import { ACCESS_SHARED, ACTIONS, mayUnshare, poolNotFound, scopeNotFound, syncFlag, type ObjectType } from '../logic/rbac.js';

/**
 * /v2.0/rbac-policies: an object's owner (or an admin) shares it with one project or with
 * all. Policies are seen and changed by the project that made them.
 */
const ATTRS = ['object_type', 'object_id', 'action', 'target_tenant', 'target_project', 'tenant_id', 'project_id'];

export const rbacList: ListSpec = {
  collection: 'rbac_policies', table: 'rbac_policy',
  columns: {
    ...sameName('str', ['id', 'project_id', 'object_type', 'object_id', 'action', 'target_project']),
    target_tenant: { col: 'target_project', kind: 'str' },
  },
  sortable: ['id', 'project_id', 'object_type', 'object_id', 'action', 'target_tenant', 'target_project'],
};

const notFound = (id: string, type = 'unknown') => neutronError(404, 'RbacPolicyNotFound', `RBAC policy of type ${type} with ID ${id} not found`);
const inUse = (objectId: string, target: string) =>
  conflictError('RbacPolicyInUse', `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: project_id=${target}`);
const duplicate = () => conflictError('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');

function targetOf(v: unknown): string {
  // A project id as Keystone writes it (32 hex digits, or a dashed UUID), or '*' for every project.
  if (v === '*' || (typeof v === 'string' && /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.test(v))) return v as string;
  throw badInput(`'${String(v)}' is not a valid target project ID; expected a UUID or '*'`);
}

function visiblePolicies(db: PoolDb, ctx: RequestContext) {
  let q = db.selectFrom('rbac_policy').selectAll('rbac_policy');
  if (!ctx.isAdmin) q = q.where('rbac_policy.project_id', '=', ctx.projectId ?? '');
  return q;
}

/** The shared object's owner, or null if it is gone. */
async function objectOwner(db: PoolDb, type: string, id: string): Promise<string | null> {
  const table = type === 'network' ? 'network' : type === 'subnetpool' ? 'subnetpool' : 'address_scope';
  const row = await db.selectFrom(table).select('project_id').where('id', '=', id).executeTakeFirst();
  return row ? (row.project_id as string) : null;
}

export async function rbacRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = () => poolRoot(deps.db);
  const load = async (req: FastifyRequest) => {
    const id = (req.params as { id: string }).id;
    const p = await visiblePolicies(db(), req.ctx).where('rbac_policy.id', '=', id).executeTakeFirst();
    if (!p) throw notFound(id);
    return p;
  };

  app.post('/v2.0/rbac-policies', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'rbac_policy', ATTRS);
    const type = typeof b.object_type === 'string' ? b.object_type.trim().toLowerCase() : '';
    if (!(type in ACTIONS)) throw badInput(`'${String(b.object_type)}' is not a valid RBAC object type`);
    const objectType = type as ObjectType;
    if (typeof b.object_id !== 'string' || !b.object_id) throw badInput("'object_id' is required");
    const objectId = b.object_id;
    if (typeof b.action !== 'string' || !ACTIONS[objectType].includes(b.action)) {
      throw badInput(`Invalid action '${String(b.action)}' for object type '${objectType}'. Valid actions: ${JSON.stringify(ACTIONS[objectType])}`);
    }
    const action = b.action;
    const target = targetOf(b.target_tenant ?? b.target_project);
    const owner = ownerOf(ctx, b);
    let objOwner: string | null;
    if (objectType === 'network') objOwner = (await getNetwork(deps.db, ctx, objectId)).project_id;
    else {
      objOwner = await objectOwner(db(), objectType, objectId);
      if (objOwner === null) throw objectType === 'subnetpool' ? poolNotFound(objectId) : scopeNotFound(objectId);
    }
    if (!ctx.isAdmin && objOwner !== ctx.projectId) throw badInput('Only admins can manipulate policies on objects they do not own');
    const row: RbacPolicyRow = { id: uuid(), project_id: owner, object_type: objectType, object_id: objectId, action, target_project: target };
    await db().transaction().execute(async (trx) => {
      await checkQuota(trx, deps.platform.dialect, owner, 'rbac_policy');
      const dup = await trx.selectFrom('rbac_policy').select('id').where('object_type', '=', objectType).where('object_id', '=', objectId)
        .where('action', '=', action).where('target_project', '=', target).executeTakeFirst();
      if (dup) throw duplicate();
      await trx.insertInto('rbac_policy').values(row).execute();
      if (target === '*') await syncFlag(trx, objectType, objectId, action);
    });
    reply.status(201);
    return { rbac_policy: pickFields(req, rbacView(row)) };
  });

  app.get('/v2.0/rbac-policies', async (req) => {
    const { rows, links } = await listRows(req, db(), visiblePolicies(db(), req.ctx), rbacList);
    return { rbac_policies: (rows as RbacPolicyRow[]).map((r) => pickFields(req, rbacView(r))), ...(links.length ? { rbac_policies_links: links } : {}) };
  });

  app.get('/v2.0/rbac-policies/:id', async (req) => ({ rbac_policy: pickFields(req, rbacView(await load(req))) }));

  app.put('/v2.0/rbac-policies/:id', async (req) => {
    requireWriter(req.ctx);
    const p = await load(req);
    const b = resourceBody(req, 'rbac_policy', ATTRS);
    const fixed = Object.keys(b).filter((k) => k !== 'target_tenant' && k !== 'target_project');
    if (fixed.length) throw badInput(`Cannot update read-only attribute ${fixed.join(', ')}`);
    if (b.target_tenant === undefined && b.target_project === undefined) return { rbac_policy: rbacView(p) };
    const target = targetOf(b.target_tenant ?? b.target_project);
    if (target === p.target_project) return { rbac_policy: rbacView(p) };
    const updated = await db().transaction().execute(async (trx) => {
      const objOwner = await objectOwner(trx, p.object_type, p.object_id);
      // Widening to '*' takes access from no one; anything else takes it from the old target.
      if (p.action === ACCESS_SHARED && target !== '*' && objOwner !== null
        && !(await mayUnshare(trx, p.object_type as ObjectType, p.object_id, objOwner, p.target_project, p.id))) throw inUse(p.object_id, p.target_project);
      const dup = await trx.selectFrom('rbac_policy').select('id').where('object_type', '=', p.object_type).where('object_id', '=', p.object_id)
        .where('action', '=', p.action).where('target_project', '=', target).executeTakeFirst();
      if (dup) throw duplicate();
      await trx.updateTable('rbac_policy').set({ target_project: target }).where('id', '=', p.id).execute();
      if (target === '*' || p.target_project === '*') await syncFlag(trx, p.object_type as ObjectType, p.object_id, p.action);
      return { ...p, target_project: target };
    });
    return { rbac_policy: pickFields(req, rbacView(updated)) };
  });

  app.delete('/v2.0/rbac-policies/:id', async (req, reply) => {
    requireWriter(req.ctx);
    const p = await load(req);
    await db().transaction().execute(async (trx) => {
      const objOwner = await objectOwner(trx, p.object_type, p.object_id);
      if (p.action === ACCESS_SHARED && objOwner !== null
        && !(await mayUnshare(trx, p.object_type as ObjectType, p.object_id, objOwner, p.target_project, p.id))) throw inUse(p.object_id, p.target_project);
      await trx.deleteFrom('rbac_policy').where('id', '=', p.id).execute();
      if (p.target_project === '*') await syncFlag(trx, p.object_type as ObjectType, p.object_id, p.action);
    });
    reply.status(204).send();
  });
}
