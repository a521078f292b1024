import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { badRequest, notFound } from '../../../platform/http/errors.js';
import type { AssignmentRow, AssignmentType, IdentityDb } from '../store.js';
import { ROOT } from '../migrations.js';
import { listBody, roleView } from '../views.js';
import { query, queryBool, selfUrl, v3Base, type IdentityDeps } from './common.js';
import { getRoleOr404 } from './roles.js';
import type { Identity } from '../logic/identity.js';

/**
 * Role grants on projects, domains and the system, for users and groups, including
 * OS-INHERIT grants that flow down to projects; and /v3/role_assignments to read them.
 */
type TargetKind = 'projects' | 'domains' | 'system';
type ActorKind = 'users' | 'groups';

const typeOf = (target: TargetKind, actor: ActorKind): AssignmentType =>
  `${actor === 'users' ? 'User' : 'Group'}${target === 'projects' ? 'Project' : target === 'domains' ? 'Domain' : 'System'}` as AssignmentType;

async function checkParties(db: IdentityDb, target: TargetKind, targetId: string, actor: ActorKind, actorId: string): Promise<void> {
  if (target !== 'system') {
    const t = await db.selectFrom('project').select('id').where('id', '=', targetId).where('is_domain', '=', target === 'domains' ? 1 : 0).executeTakeFirst();
    if (!t) throw notFound(`Could not find ${target === 'domains' ? 'domain' : 'project'}: ${targetId}.`);
  }
  const a = actor === 'users'
    ? await db.selectFrom('identity_user').select('id').where('id', '=', actorId).executeTakeFirst()
    : await db.selectFrom('identity_group').select('id').where('id', '=', actorId).executeTakeFirst();
  if (!a) throw notFound(`Could not find ${actor === 'users' ? 'user' : 'group'}: ${actorId}.`);
}

async function revokeFor(identity: Identity, row: AssignmentRow): Promise<void> {
  const users = row.type.startsWith('User') ? [row.actor_id]
    : (await identity.db.selectFrom('group_membership').select('user_id').where('group_id', '=', row.actor_id).execute()).map((m) => m.user_id);
  for (const u of users) {
    await identity.revoke(row.type.endsWith('Project') && !row.inherited ? { user_id: u, project_id: row.target_id } : { user_id: u });
  }
}

export async function grantRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;

  const parse = (req: FastifyRequest, target: TargetKind, actor: ActorKind, inherited: boolean) => {
    const p = req.params as { target?: string; actor: string; role: string };
    return { type: typeOf(target, actor), actor_id: p.actor, target_id: target === 'system' ? 'system' : p.target!, role_id: p.role, inherited: inherited ? 1 : 0 } as AssignmentRow;
  };

  const mount = (base: string, target: TargetKind, actor: ActorKind, inherited: boolean, suffix: string) => {
    const one = `${base}/${actor}/:actor/roles/:role${suffix}`;
    const prepare = async (req: FastifyRequest, rule: string) => {
      enforce(rule, req.ctx);
      const row = parse(req, target, actor, inherited);
      await checkParties(db, target, row.target_id, actor, row.actor_id);
      const role = await getRoleOr404(db, row.role_id);
      if (role.domain_id !== ROOT && target === 'projects') {
        const proj = await db.selectFrom('project').select('domain_id').where('id', '=', row.target_id).executeTakeFirst();
        if (proj?.domain_id !== role.domain_id) throw badRequest('A domain-specific role can only be granted within its domain.');
      }
      return row;
    };
    const find = (row: AssignmentRow) => db.selectFrom('assignment').selectAll().where('type', '=', row.type).where('actor_id', '=', row.actor_id)
      .where('target_id', '=', row.target_id).where('role_id', '=', row.role_id).where('inherited', '=', row.inherited).executeTakeFirst();

    app.put(one, async (req, reply) => {
      const row = await prepare(req, 'identity:create_grant');
      if (!(await find(row))) await db.insertInto('assignment').values(row).execute();
      identity.changed();
      reply.status(204).send();
    });
    const checkGrant = async (req: FastifyRequest, reply: { status(n: number): { send(): void } }) => {
      const row = await prepare(req, 'identity:check_grant');
      if (!(await find(row))) throw notFound(`Could not find role assignment with role: ${row.role_id}, ${actor === 'users' ? 'user' : 'group'}: ${row.actor_id}, target: ${row.target_id}.`);
      reply.status(204).send();
    };
    app.head(one, checkGrant);
    app.get(one, { exposeHeadRoute: false }, checkGrant);
    app.delete(one, async (req, reply) => {
      const row = await prepare(req, 'identity:revoke_grant');
      const found = await find(row);
      if (!found) throw notFound(`Could not find role assignment with role: ${row.role_id}, ${actor === 'users' ? 'user' : 'group'}: ${row.actor_id}, target: ${row.target_id}.`);
      await db.deleteFrom('assignment').where('type', '=', row.type).where('actor_id', '=', row.actor_id)
        .where('target_id', '=', row.target_id).where('role_id', '=', row.role_id).where('inherited', '=', row.inherited).execute();
      await revokeFor(identity, row);
      identity.changed();
      reply.status(204).send();
    });
    const listSuffix = inherited ? '/inherited_to_projects' : '';
    app.get(`${base}/${actor}/:actor/roles${listSuffix}`, async (req) => {
      enforce('identity:list_grants', req.ctx);
      const p = req.params as { target?: string; actor: string };
      const targetId = target === 'system' ? 'system' : p.target!;
      await checkParties(db, target, targetId, actor, p.actor);
      const rows = await db.selectFrom('assignment').innerJoin('role', 'role.id', 'assignment.role_id').selectAll('role')
        .where('type', '=', typeOf(target, actor)).where('actor_id', '=', p.actor).where('target_id', '=', targetId)
        .where('inherited', '=', inherited ? 1 : 0).orderBy('role.name').execute();
      return listBody('roles', rows.map((r) => roleView(v3Base(req), r)), selfUrl(req));
    });
  };

  for (const actor of ['users', 'groups'] as const) {
    mount('/v3/projects/:target', 'projects', actor, false, '');
    mount('/v3/domains/:target', 'domains', actor, false, '');
    mount('/v3/system', 'system', actor, false, '');
    mount('/v3/OS-INHERIT/domains/:target', 'domains', actor, true, '/inherited_to_projects');
    mount('/v3/OS-INHERIT/projects/:target', 'projects', actor, true, '/inherited_to_projects');
  }

  app.get('/v3/role_assignments', async (req) => {
    const q = query(req);
    enforce('identity:list_role_assignments', req.ctx, { user_id: q['user.id'] });
    const rows = await listAssignments(db, q);
    const includeNames = queryBool(q.include_names) === true;
    const names = includeNames ? await nameIndex(db) : null;
    return listBody('role_assignments', rows.map((a) => assignmentView(v3Base(req), a, names)), selfUrl(req));
  });
}

interface Expanded extends AssignmentRow { via_group?: string; prior_role?: string; inherited_from?: string }

/** Filters, then (with `effective`) expands groups to members, inherited grants to projects, implied roles. */
async function listAssignments(db: IdentityDb, q: Record<string, string>): Promise<Expanded[]> {
  const effective = q.effective !== undefined && queryBool(q.effective) !== false;
  if (effective && q['group.id']) throw badRequest('Combining effective and group filter will always result in an empty list.');
  let rows: Expanded[] = await db.selectFrom('assignment').selectAll().execute();
  if (effective) {
    const members = await db.selectFrom('group_membership').selectAll().execute();
    rows = rows.flatMap((a) => a.type.startsWith('Group')
      ? members.filter((m) => m.group_id === a.actor_id).map((m) => ({ ...a, type: a.type.replace('Group', 'User') as AssignmentType, actor_id: m.user_id, via_group: a.actor_id }))
      : [a]);
    const projects = await db.selectFrom('project').select(['id', 'parent_id', 'domain_id']).where('is_domain', '=', 0).execute();
    const below = (id: string): string[] => projects.filter((p) => p.parent_id === id).flatMap((p) => [p.id, ...below(p.id)]);
    rows = rows.flatMap((a) => !a.inherited ? [a]
      : below(a.target_id).map((pid) => ({ ...a, type: a.type.replace('Domain', 'Project') as AssignmentType, target_id: pid, inherited: 0, inherited_from: a.target_id })));
    const edges = await db.selectFrom('implied_role').selectAll().execute();
    const expand = (a: Expanded, seen: Set<string>): Expanded[] => edges.filter((e) => e.prior_role_id === a.role_id && !seen.has(e.implied_role_id))
      .flatMap((e) => { seen.add(e.implied_role_id); const x = { ...a, role_id: e.implied_role_id, prior_role: a.role_id }; return [x, ...expand(x, seen)]; });
    rows = rows.flatMap((a) => [a, ...expand(a, new Set([a.role_id]))]);
    const domainRoles = new Set((await db.selectFrom('role').select('id').where('domain_id', '!=', ROOT).execute()).map((r) => r.id));
    rows = rows.filter((a) => !domainRoles.has(a.role_id));
  }
  const has = (k: string) => q[k] !== undefined;
  let subtree: Set<string> | null = null;
  if (has('scope.project.id') && queryBool(q.include_subtree)) {
    const projects = await db.selectFrom('project').select(['id', 'parent_id']).execute();
    subtree = new Set([q['scope.project.id']!]);
    for (let grew = true; grew;) { grew = false; for (const p of projects) if (p.parent_id && subtree.has(p.parent_id) && !subtree.has(p.id)) { subtree.add(p.id); grew = true; } }
  }
  return rows.filter((a) => (!has('user.id') || (a.type.startsWith('User') && a.actor_id === q['user.id']))
    && (!has('group.id') || (a.type.startsWith('Group') && a.actor_id === q['group.id']))
    && (!has('role.id') || a.role_id === q['role.id'])
    && (!has('scope.project.id') || (a.type.endsWith('Project') && (subtree ? subtree.has(a.target_id) : a.target_id === q['scope.project.id'])))
    && (!has('scope.domain.id') || (a.type.endsWith('Domain') && a.target_id === q['scope.domain.id']))
    && (!has('scope.system') || a.type.endsWith('System'))
    && (!has('scope.OS-INHERIT:inherited_to') || a.inherited === 1));
}

async function nameIndex(db: IdentityDb) {
  const [roles, users, groups, projects] = await Promise.all([
    db.selectFrom('role').select(['id', 'name', 'domain_id']).execute(),
    db.selectFrom('identity_user').select(['id', 'name', 'domain_id']).execute(),
    db.selectFrom('identity_group').select(['id', 'name', 'domain_id']).execute(),
    db.selectFrom('project').select(['id', 'name', 'domain_id', 'is_domain']).execute(),
  ]);
  const byId = new Map<string, { name: string; domain_id: string }>();
  for (const r of [...roles, ...users, ...groups, ...projects]) byId.set(r.id, r);
  return byId;
}

function assignmentView(base: string, a: Expanded, names: Map<string, { name: string; domain_id: string }> | null) {
  const ref = (id: string, withDomain = true) => {
    const n = names?.get(id);
    if (!n) return { id };
    const out: Record<string, unknown> = { id, name: n.name };
    if (withDomain && n.domain_id !== ROOT) out.domain = { id: n.domain_id, name: names?.get(n.domain_id)?.name };
    return out;
  };
  const scope = a.type.endsWith('Project') ? { project: ref(a.target_id) } : a.type.endsWith('Domain') ? { domain: ref(a.target_id, false) } : { system: { all: true } };
  if (a.inherited) (scope as Record<string, unknown>)['OS-INHERIT:inherited_to'] = 'projects';
  const actorKey = a.type.startsWith('User') ? 'user' : 'group';
  const targetPath = a.type.endsWith('System') ? 'system' : `${a.type.endsWith('Project') ? 'projects' : 'domains'}/${a.inherited_from ?? a.target_id}`;
  const links: Record<string, string> = {
    assignment: `${base}/${a.inherited || a.inherited_from ? 'OS-INHERIT/' : ''}${targetPath}/${a.via_group ? `groups/${a.via_group}` : `${actorKey}s/${a.actor_id}`}/roles/${a.prior_role ?? a.role_id}${a.inherited || a.inherited_from ? '/inherited_to_projects' : ''}`,
  };
  if (a.via_group) links.membership = `${base}/groups/${a.via_group}/users/${a.actor_id}`;
  if (a.prior_role) links.prior_role = `${base}/roles/${a.prior_role}`;
  const role = ref(a.role_id);
  return { role, [actorKey]: ref(a.actor_id), scope, links };
}
