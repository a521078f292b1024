import type { IdentityDb, RoleRow } from '../store.js';
import type { Scope } from './token-format.js';
import { ROOT } from '../migrations.js';

/**
 * Effective roles of a user on a scope, as Keystone computes them: direct assignments,
 * assignments through groups, inherited assignments from the domain and parent projects
 * (OS-INHERIT), then every role those imply, transitively.
 */
export async function projectLineage(db: IdentityDb, projectId: string): Promise<{ parents: string[]; domainId: string } | null> {
  const parents: string[] = [];
  let cur = await db.selectFrom('project').select(['id', 'parent_id', 'domain_id', 'is_domain']).where('id', '=', projectId).executeTakeFirst();
  if (!cur) return null;
  const domainId = cur.domain_id;
  for (let depth = 0; cur?.parent_id && depth < 64; depth++) {
    const parent = await db.selectFrom('project').select(['id', 'parent_id', 'domain_id', 'is_domain']).where('id', '=', cur.parent_id).executeTakeFirst();
    if (!parent || parent.is_domain) break;
    parents.push(parent.id);
    cur = parent;
  }
  return { parents, domainId };
}

export async function groupIdsOf(db: IdentityDb, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_membership').select('group_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.group_id);
}

/** Role ids directly granted on the scope (no implication expansion). */
export async function grantedRoleIds(db: IdentityDb, userId: string, scope: Scope): Promise<Set<string>> {
  const groups = await groupIdsOf(db, userId);
  const actors = [userId, ...groups];
  const out = new Set<string>();
  if (scope.kind === 'unscoped') return out;
  if (scope.kind === 'system') {
    const rows = await db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors)
      .where('type', 'in', ['UserSystem', 'GroupSystem']).execute();
    rows.forEach((r) => out.add(r.role_id));
    return out;
  }
  if (scope.kind === 'domain') {
    const rows = await db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors)
      .where('type', 'in', ['UserDomain', 'GroupDomain']).where('target_id', '=', scope.id).where('inherited', '=', 0).execute();
    rows.forEach((r) => out.add(r.role_id));
    return out;
  }
  const lineage = await projectLineage(db, scope.id);
  if (!lineage) return out;
  const direct = await db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors)
    .where('type', 'in', ['UserProject', 'GroupProject']).where('target_id', '=', scope.id).where('inherited', '=', 0).execute();
  direct.forEach((r) => out.add(r.role_id));
  const inheritedTargets = [...lineage.parents, lineage.domainId];
  const inherited = await db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors)
    .where('target_id', 'in', inheritedTargets).where('inherited', '=', 1).execute();
  inherited.forEach((r) => out.add(r.role_id));
  return out;
}

/** Adds every implied role, following chains (admin → member → reader). */
export async function expandImplied(db: IdentityDb, roleIds: Iterable<string>): Promise<Set<string>> {
  const all = new Set(roleIds);
  const edges = await db.selectFrom('implied_role').selectAll().execute();
  const byPrior = new Map<string, string[]>();
  for (const e of edges) byPrior.set(e.prior_role_id, [...(byPrior.get(e.prior_role_id) ?? []), e.implied_role_id]);
  const queue = [...all];
  while (queue.length) {
    for (const next of byPrior.get(queue.pop()!) ?? []) {
      if (!all.has(next)) { all.add(next); queue.push(next); }
    }
  }
  return all;
}

export async function effectiveRoles(db: IdentityDb, userId: string, scope: Scope): Promise<RoleRow[]> {
  const ids = await expandImplied(db, await grantedRoleIds(db, userId, scope));
  if (ids.size === 0) return [];
  // Domain-specific roles only carry the global roles they imply, as in Keystone.
  return db.selectFrom('role').selectAll().where('id', 'in', [...ids]).where('domain_id', '=', ROOT).orderBy('name').execute();
}
