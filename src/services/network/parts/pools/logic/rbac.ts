import type { RequestContext } from '../../../../../platform/auth/context.js';
import { uuid } from '../../../../../platform/ids.js';
import { conflictError, neutronError } from '../../../api/common.js';
import type { NetDb } from '../../../store.js';
import { poolDb, type PoolDb } from '../store.js';
import { sharedToCaller as sharedToCallerView } from '../../../views.js';

/**
 * RBAC: an object (network, subnet pool, address scope) is shared with a project, or with
 * every project ('*'), by a policy row. The objects' `shared` column mirrors the wildcard
 * access_as_shared policy both ways, so lists can filter on it and views need no join.
 * A project losing access must not still be using the object.
 */
export type ObjectType = 'network' | 'subnetpool' | 'address_scope';
export const ACCESS_SHARED = 'access_as_shared';
export const ACCESS_EXTERNAL = 'access_as_external';
export const ACTIONS: Record<ObjectType, string[]> = {
  network: [ACCESS_SHARED, ACCESS_EXTERNAL],
  subnetpool: [ACCESS_SHARED],
  address_scope: [ACCESS_SHARED],
};

export const poolNotFound = (id: string) => neutronError(404, 'SubnetPoolNotFound', `Subnet pool ${id} could not be found.`);
export const scopeNotFound = (id: string) => neutronError(404, 'AddressScopeNotFound', `Address scope ${id} could not be found.`);

/** Ids of objects of a type shared with a project (directly or through '*'). */
export function sharedWith(db: PoolDb, type: ObjectType, projectId: string, actions: string[] = [ACCESS_SHARED]) {
  return db.selectFrom('rbac_policy').select('rbac_policy.object_id').where('rbac_policy.object_type', '=', type)
    .where('rbac_policy.action', 'in', actions).where('rbac_policy.target_project', 'in', [projectId, '*']);
}

/** Subnet pools a caller sees: its own, shared ones, those shared with it (admins: all). */
export function visiblePools(db: PoolDb, ctx: RequestContext) {
  let q = db.selectFrom('subnetpool').selectAll('subnetpool');
  if (!ctx.isAdmin) {
    const p = ctx.projectId ?? '';
    q = q.where((eb) => eb.or([eb('subnetpool.project_id', '=', p), eb('subnetpool.shared', '=', 1), eb('subnetpool.id', 'in', sharedWith(db, 'subnetpool', p))]));
  }
  return q;
}

export function visibleScopes(db: PoolDb, ctx: RequestContext) {
  let q = db.selectFrom('address_scope').selectAll('address_scope');
  if (!ctx.isAdmin) {
    const p = ctx.projectId ?? '';
    q = q.where((eb) => eb.or([eb('address_scope.project_id', '=', p), eb('address_scope.shared', '=', 1), eb('address_scope.id', 'in', sharedWith(db, 'address_scope', p))]));
  }
  return q;
}

/** Shared with exactly the caller by a targeted policy (one definition serves networks and pools). */
export const sharedToCaller = (db: PoolDb, ctx: RequestContext, type: ObjectType, ids: string[]): Promise<Set<string>> =>
  sharedToCallerView(db as unknown as NetDb, ctx, type, ids);

const TABLE: Record<ObjectType, 'network' | 'subnetpool' | 'address_scope'> = { network: 'network', subnetpool: 'subnetpool', address_scope: 'address_scope' };

/** Projects whose resources depend on access to the object. */
async function boundProjects(db: PoolDb, type: ObjectType, id: string): Promise<Set<string>> {
  let rows: { project_id: string }[];
  if (type === 'network') {
    // Ports the network service itself owns (DHCP, router gateways) do not bind a project.
    rows = [
      ...await db.selectFrom('port').select('project_id').where('network_id', '=', id).where('device_owner', 'not like', 'network:%').where('project_id', '!=', '').execute(),
      ...await db.selectFrom('subnet').select('project_id').where('network_id', '=', id).execute(),
    ];
  } else if (type === 'subnetpool') {
    rows = await db.selectFrom('subnet').select('project_id').where('subnetpool_id', '=', id).execute();
  } else {
    rows = await db.selectFrom('subnetpool').select('project_id').where('address_scope_id', '=', id).execute();
  }
  return new Set(rows.map((r) => r.project_id));
}

/**
 * May `target` lose its access_as_shared access to the object? Returns false when a project
 * that would lose access still uses the object. `ignoreId` is the policy being removed.
 */
export async function mayUnshare(db: PoolDb, type: ObjectType, id: string, owner: string, target: string, ignoreId?: string): Promise<boolean> {
  if (target === owner) return true;
  let others = db.selectFrom('rbac_policy').select('target_project').where('object_type', '=', type).where('object_id', '=', id).where('action', '=', ACCESS_SHARED);
  if (ignoreId) others = others.where('id', '!=', ignoreId);
  const remaining = new Set((await others.execute()).map((r) => r.target_project));
  if (target !== '*' && remaining.has('*')) return true;
  const bound = await boundProjects(db, type, id);
  if (target !== '*') return !bound.has(target);
  remaining.add(owner);
  return [...bound].every((p) => remaining.has(p));
}

/** The wildcard policy for (type, id, action): present ⇔ `on`. Keeps the object's flag column in step. */
export async function setWildcard(db: PoolDb, type: ObjectType, id: string, owner: string, action: string, on: boolean): Promise<void> {
  const existing = await db.selectFrom('rbac_policy').select('id').where('object_type', '=', type).where('object_id', '=', id)
    .where('action', '=', action).where('target_project', '=', '*').executeTakeFirst();
  if (on && !existing) {
    await db.insertInto('rbac_policy').values({ id: uuid(), project_id: owner, object_type: type, object_id: id, action, target_project: '*' }).execute();
  }
  if (!on && existing) await db.deleteFrom('rbac_policy').where('id', '=', existing.id).execute();
  await syncFlag(db, type, id, action);
}

/** Re-derives the object's shared (or, for networks, external) column from its wildcard policy. */
export async function syncFlag(db: PoolDb, type: ObjectType, id: string, action: string): Promise<void> {
  const wildcard = await db.selectFrom('rbac_policy').select('id').where('object_type', '=', type).where('object_id', '=', id)
    .where('action', '=', action).where('target_project', '=', '*').executeTakeFirst();
  const column = action === ACCESS_EXTERNAL ? 'external' : 'shared';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await (db as any).updateTable(TABLE[type]).set({ [column]: wildcard ? 1 : 0 }).where('id', '=', id).execute();
}

/**
 * The network core's hook: a network created or updated with shared/router:external gets
 * (or loses) the wildcard policies Neutron keeps for those flags.
 */
export async function networkSharing(trx: NetDb, ctx: RequestContext, net: { id: string; project_id: string }, change: { shared?: boolean; external?: boolean }): Promise<void> {
  void ctx;
  const db = poolDb(trx);
  if (change.shared === false && !(await mayUnshare(db, 'network', net.id, net.project_id, '*'))) {
    throw conflictError('InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${net.id}. Multiple projects are using it.`);
  }
  if (change.shared !== undefined) await setWildcard(db, 'network', net.id, net.project_id, ACCESS_SHARED, change.shared);
  if (change.external === true) await setWildcard(db, 'network', net.id, net.project_id, ACCESS_EXTERNAL, true);
  if (change.external === false) {
    // Neutron drops every access_as_external policy when a network stops being external.
    await db.deleteFrom('rbac_policy').where('object_type', '=', 'network').where('object_id', '=', net.id).where('action', '=', ACCESS_EXTERNAL).execute();
    await syncFlag(db, 'network', net.id, ACCESS_EXTERNAL);
  }
}

/** Policies go with the object they share. */
export async function dropPolicies(trx: NetDb, type: ObjectType, id: string): Promise<void> {
  await poolDb(trx).deleteFrom('rbac_policy').where('object_type', '=', type).where('object_id', '=', id).execute();
}
