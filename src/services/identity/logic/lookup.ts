import { sql } from 'kysely';
import { ApiError, badRequest, notFound } from '../../../platform/http/errors.js';
import type { IdentityDb, ProjectRow, UserRow } from '../store.js';
import { ROOT } from '../migrations.js';

/**
 * Finding users, projects and domains by the id-or-name-plus-domain references the
 * Keystone API accepts in auth bodies and filters.
 */
export interface DomainRef { id?: string; name?: string }
export interface UserRef { id?: string; name?: string; domain?: DomainRef }
export interface ProjectRef { id?: string; name?: string; domain?: DomainRef }

export async function findDomain(db: IdentityDb, ref: DomainRef | undefined, err = (m: string) => new ApiError(401, m)): Promise<ProjectRow> {
  if (!ref || (typeof ref.id !== 'string' && typeof ref.name !== 'string')) throw badRequest('A domain must be given by id or name.');
  const q = db.selectFrom('project').selectAll().where('is_domain', '=', 1);
  const row = typeof ref.id === 'string'
    ? await q.where('id', '=', ref.id).executeTakeFirst()
    // Domain names match case-insensitively, as on Keystone's usual MySQL collation: the
    // product documents write `user_domain_name: default` for the `Default` domain.
    : await q.where(sql`lower(name)`, '=', ref.name!.toLowerCase()).where('domain_id', '=', ROOT).executeTakeFirst();
  if (!row) throw err(`Could not find domain: ${ref.id ?? ref.name}.`);
  return row;
}

export async function findUser(db: IdentityDb, ref: UserRef | undefined): Promise<UserRow | undefined> {
  if (!ref || typeof ref !== 'object') throw badRequest("Invalid input for field 'user': a user reference is required.");
  if (typeof ref.id === 'string') return db.selectFrom('identity_user').selectAll().where('id', '=', ref.id).executeTakeFirst();
  if (typeof ref.name !== 'string') throw badRequest("Invalid input for field 'user': give 'id', or 'name' and 'domain'.");
  if (!ref.domain) throw badRequest("Invalid input for field 'user': 'domain' is required with 'name'.");
  const domain = await findDomain(db, ref.domain).catch(() => undefined);
  if (!domain) return undefined;
  return db.selectFrom('identity_user').selectAll().where('domain_id', '=', domain.id).where('name', '=', ref.name).executeTakeFirst();
}

export async function findProject(db: IdentityDb, ref: ProjectRef): Promise<ProjectRow> {
  const q = db.selectFrom('project').selectAll().where('is_domain', '=', 0);
  if (typeof ref.id === 'string') {
    const row = await q.where('id', '=', ref.id).executeTakeFirst();
    if (!row) throw new ApiError(401, `Could not find project: ${ref.id}.`);
    return row;
  }
  if (typeof ref.name !== 'string') throw badRequest("Invalid input for field 'project': give 'id', or 'name' and 'domain'.");
  if (!ref.domain) throw badRequest("Invalid input for field 'project': 'domain' is required with 'name'.");
  const domain = await findDomain(db, ref.domain);
  const row = await q.where('domain_id', '=', domain.id).where('name', '=', ref.name).executeTakeFirst();
  if (!row) throw new ApiError(401, `Could not find project: ${ref.name}.`);
  return row;
}

/** Projects and domains by id, for APIs whose 404 names the kind. */
export async function getProjectOr404(db: IdentityDb, id: string, isDomain: boolean): Promise<ProjectRow> {
  const row = await db.selectFrom('project').selectAll().where('id', '=', id).where('is_domain', '=', isDomain ? 1 : 0).executeTakeFirst();
  if (!row) throw notFound(`Could not find ${isDomain ? 'domain' : 'project'}: ${id}.`);
  return row;
}

export async function getUserOr404(db: IdentityDb, id: string): Promise<UserRow> {
  const row = await db.selectFrom('identity_user').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Could not find user: ${id}.`);
  return row;
}
