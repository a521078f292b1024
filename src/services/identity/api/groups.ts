import type { FastifyInstance } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { badRequest, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId } from '../../../platform/ids.js';
import type { GroupRow, IdentityDb } from '../store.js';
import { getProjectOr404, getUserOr404 } from '../logic/lookup.js';
import { deleteGroupCascade } from '../logic/cascade.js';
import { currentPassword } from '../logic/security.js';
import { groupView, listBody, userView } from '../views.js';
import { check, extras, mergeExtras, query, selfUrl, storing, v3Base, wrapped, type IdentityDeps } from './common.js';

/** Groups and membership. Membership changes what roles a user holds, so tokens follow. */
async function getGroupOr404(db: IdentityDb, id: string): Promise<GroupRow> {
  const g = await db.selectFrom('identity_group').selectAll().where('id', '=', id).executeTakeFirst();
  if (!g) throw notFound(`Could not find group: ${id}.`);
  return g;
}

export async function groupRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;

  app.post('/v3/groups', async (req, reply) => {
    enforce('identity:create_group', req.ctx);
    const g = wrapped(req, 'group');
    check(g, { name: ['string', { required: true, min: 1, max: 64 }], domain_id: 'string', description: 'nullable-string' });
    const domainId = (g.domain_id as string | undefined) ?? req.ctx.domainId ?? req.ctx.projectDomainId ?? 'default';
    await getProjectOr404(db, domainId, true);
    const row: GroupRow = { id: hexId(), name: g.name as string, domain_id: domainId, description: (g.description as string) ?? '', extra: extras(g, ['name', 'domain_id', 'description']), created_at: now() };
    await storing('group', g.name, () => db.insertInto('identity_group').values(row).execute());
    reply.status(201);
    return { group: groupView(v3Base(req), row) };
  });

  app.get('/v3/groups', async (req) => {
    enforce('identity:list_groups', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('identity_group').selectAll();
    if (q.name) sel = sel.where('name', '=', q.name);
    if (q.domain_id) sel = sel.where('domain_id', '=', q.domain_id);
    return listBody('groups', (await sel.orderBy('name').execute()).map((g) => groupView(v3Base(req), g)), selfUrl(req));
  });

  app.get('/v3/groups/:id', async (req) => {
    enforce('identity:get_group', req.ctx);
    return { group: groupView(v3Base(req), await getGroupOr404(db, (req.params as { id: string }).id)) };
  });

  app.patch('/v3/groups/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_group', req.ctx);
    const g = wrapped(req, 'group');
    check(g, { name: ['string', { min: 1, max: 64 }], description: 'nullable-string' });
    const row = await getGroupOr404(db, id);
    if (g.domain_id !== undefined && g.domain_id !== row.domain_id) throw badRequest('Cannot change the domain_id of a group.');
    const set: Partial<GroupRow> = {};
    if (g.name !== undefined) set.name = g.name as string;
    if (g.description !== undefined) set.description = (g.description as string | null) ?? '';
    const extra = mergeExtras(row.extra, g, ['name', 'domain_id', 'description']);
    if (extra) set.extra = extra;
    if (Object.keys(set).length) await storing('group', g.name, () => db.updateTable('identity_group').set(set).where('id', '=', id).execute());
    return { group: groupView(v3Base(req), await getGroupOr404(db, id)) };
  });

  app.delete('/v3/groups/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_group', req.ctx);
    await getGroupOr404(db, id);
    await deleteGroupCascade(identity, id);
    reply.status(204).send();
  });

  app.get('/v3/groups/:id/users', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:list_users_in_group', req.ctx);
    await getGroupOr404(db, id);
    const rows = await db.selectFrom('identity_user').innerJoin('group_membership', 'group_membership.user_id', 'identity_user.id')
      .selectAll('identity_user').where('group_membership.group_id', '=', id).orderBy('name').execute();
    const out = [];
    for (const u of rows) out.push(userView(v3Base(req), u, (await currentPassword(db, u.id))?.expires_at ?? null));
    return listBody('users', out, selfUrl(req));
  });

  const member = async (groupId: string, userId: string) => {
    await getGroupOr404(db, groupId);
    await getUserOr404(db, userId);
  };

  app.put('/v3/groups/:id/users/:userId', async (req, reply) => {
    const { id, userId } = req.params as { id: string; userId: string };
    enforce('identity:add_user_to_group', req.ctx);
    await member(id, userId);
    const exists = await db.selectFrom('group_membership').select('user_id').where('group_id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!exists) await db.insertInto('group_membership').values({ group_id: id, user_id: userId }).execute();
    identity.changed();
    reply.status(204).send();
  });

  const checkMember = async (req: { params: unknown; ctx: Parameters<typeof enforce>[1] }) => {
    const { id, userId } = req.params as { id: string; userId: string };
    enforce('identity:check_user_in_group', req.ctx);
    await member(id, userId);
    const exists = await db.selectFrom('group_membership').select('user_id').where('group_id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!exists) throw notFound(`User ${userId} is not a member of group ${id}.`);
  };
  app.head('/v3/groups/:id/users/:userId', async (req, reply) => { await checkMember(req); reply.status(204).send(); });
  app.get('/v3/groups/:id/users/:userId', { exposeHeadRoute: false }, async (req, reply) => { await checkMember(req); reply.status(204).send(); });

  app.delete('/v3/groups/:id/users/:userId', async (req, reply) => {
    const { id, userId } = req.params as { id: string; userId: string };
    enforce('identity:remove_user_from_group', req.ctx);
    await member(id, userId);
    const r = await db.deleteFrom('group_membership').where('group_id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`User ${userId} is not a member of group ${id}.`);
    await identity.revoke({ user_id: userId });
    identity.changed();
    reply.status(204).send();
  });
}
