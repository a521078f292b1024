import type { IdentityDb } from '../store.js';
import { groupIdsOf } from './roles.js';

/** What a user may scope a token to: projects and domains where they hold some role. */
export async function assignedProjectIds(db: IdentityDb, userId: string): Promise<string[]> {
  const actors = [userId, ...(await groupIdsOf(db, userId))];
  const rows = await db.selectFrom('assignment').select(['target_id', 'inherited', 'type']).where('actor_id', 'in', actors)
    .where('type', 'in', ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain']).execute();
  const ids = new Set<string>();
  const inheritedFrom: string[] = [];
  for (const r of rows) {
    if (r.type.endsWith('Project') && !r.inherited) ids.add(r.target_id);
    if (r.inherited) inheritedFrom.push(r.target_id);
  }
  // Inherited roles reach every project below the domain or project they are granted on.
  let frontier = inheritedFrom;
  for (let depth = 0; frontier.length && depth < 64; depth++) {
    const children = await db.selectFrom('project').select('id').where('is_domain', '=', 0)
      .where((eb) => eb.or([eb('parent_id', 'in', frontier), eb('domain_id', 'in', frontier)])).execute();
    frontier = children.map((c) => c.id).filter((id) => !ids.has(id));
    frontier.forEach((id) => ids.add(id));
  }
  return [...ids];
}

export async function assignedDomainIds(db: IdentityDb, userId: string): Promise<string[]> {
  const actors = [userId, ...(await groupIdsOf(db, userId))];
  const rows = await db.selectFrom('assignment').select('target_id').where('actor_id', 'in', actors)
    .where('type', 'in', ['UserDomain', 'GroupDomain']).where('inherited', '=', 0).execute();
  return [...new Set(rows.map((r) => r.target_id))];
}

export async function hasSystemRole(db: IdentityDb, userId: string): Promise<boolean> {
  const actors = [userId, ...(await groupIdsOf(db, userId))];
  const row = await db.selectFrom('assignment').select('role_id').where('actor_id', 'in', actors)
    .where('type', 'in', ['UserSystem', 'GroupSystem']).limit(1).executeTakeFirst();
  return !!row;
}
