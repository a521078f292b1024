import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { ApiError, badRequest, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId } from '../../../platform/ids.js';
import type { UserRow } from '../store.js';
import { getProjectOr404, getUserOr404 } from '../logic/lookup.js';
import { deleteUserCascade } from '../logic/cascade.js';
import { verifySecret } from '../logic/passwords.js';
import { checkMinimumAge, currentPassword, lockedUntil, recordFailure, setPassword } from '../logic/security.js';
import { assignedProjectIds } from '../logic/scopes.js';
import { groupView, listBody, projectView, userView } from '../views.js';
import { check, extras, mergeExtras, query, queryBool, selfUrl, storing, v3Base, wrapped, type IdentityDeps } from './common.js';

/** Users, their self-service password change, and the projects and groups they belong to. */
const KNOWN = ['name', 'domain_id', 'enabled', 'default_project_id', 'password', 'options'];
const OPTIONS = ['ignore_change_password_upon_first_use', 'ignore_password_expiry', 'ignore_lockout_failure_attempts',
  'lock_password', 'multi_factor_auth_enabled', 'multi_factor_auth_rules', 'ignore_user_inactivity'];

function checkOptions(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw badRequest("Invalid input for field 'options': must be an object");
  for (const [k, v] of Object.entries(options)) {
    if (!OPTIONS.includes(k)) throw badRequest(`Invalid input for field 'options': unknown option '${k}'`);
    if (k === 'multi_factor_auth_rules') {
      if (v !== null && !(Array.isArray(v) && v.every((r) => Array.isArray(r) && r.every((m) => typeof m === 'string')))) {
        throw badRequest("Invalid input for field 'options/multi_factor_auth_rules': must be a list of lists of method names");
      }
    } else if (v !== null && typeof v !== 'boolean') throw badRequest(`Invalid input for field 'options/${k}': must be a boolean or null`);
  }
  return options as Record<string, unknown>;
}

export async function userRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;
  const sc = identity.config.identity.security;
  const cost = identity.config.identity.passwordHashCost;

  const view = async (req: FastifyRequest, u: UserRow) => userView(v3Base(req), u, (await currentPassword(db, u.id))?.expires_at ?? null);

  app.post('/v3/users', async (req, reply) => {
    enforce('identity:create_user', req.ctx);
    const u = wrapped(req, 'user');
    check(u, { name: ['string', { required: true, min: 1, max: 255 }], domain_id: 'string', enabled: 'boolean', default_project_id: 'nullable-string', password: 'nullable-string', description: 'nullable-string', email: 'nullable-string' });
    const options = checkOptions(u.options);
    const domainId = (u.domain_id as string | undefined) ?? req.ctx.domainId ?? req.ctx.projectDomainId ?? 'default';
    await getProjectOr404(db, domainId, true);
    const row: UserRow = {
      id: hexId(), name: u.name as string, domain_id: domainId, enabled: u.enabled === false ? 0 : 1,
      default_project_id: (u.default_project_id as string | null) ?? null, extra: extras(u, KNOWN), options: JSON.stringify(options),
      failed_auth_count: 0, failed_auth_at: null, last_active_at: null, created_at: now(),
    };
    await storing('user', u.name, () => db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_user').values(row).execute();
      if (typeof u.password === 'string') await setPassword(trx, row, u.password, sc, cost, false);
    }));
    identity.changed();
    reply.status(201);
    return { user: await view(req, row) };
  });

  app.get('/v3/users', async (req) => {
    enforce('identity:list_users', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('identity_user').selectAll();
    if (q.name) sel = sel.where('name', '=', q.name);
    if (q.domain_id) sel = sel.where('domain_id', '=', q.domain_id);
    if (q.enabled !== undefined) sel = sel.where('enabled', '=', queryBool(q.enabled) ? 1 : 0);
    const rows = await sel.orderBy('name').execute();
    // One pass over the password table (a few rows per user) instead of an IN list that
    // would outgrow SQLite's bound-parameter limit on a large cloud.
    const pw = rows.length ? await db.selectFrom('password').select(['user_id', 'expires_at', 'created_at']).orderBy('created_at').execute() : [];
    const expiry = new Map(pw.map((p) => [p.user_id, p.expires_at]));
    return listBody('users', rows.map((u) => userView(v3Base(req), u, expiry.get(u.id) ?? null)), selfUrl(req));
  });

  app.get('/v3/users/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:get_user', req.ctx, { user_id: id });
    return { user: await view(req, await getUserOr404(db, id)) };
  });

  app.patch('/v3/users/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_user', req.ctx, { user_id: id });
    const u = wrapped(req, 'user');
    check(u, { name: ['string', { min: 1, max: 255 }], enabled: 'boolean', default_project_id: 'nullable-string', password: 'nullable-string', description: 'nullable-string', email: 'nullable-string' });
    const row = await getUserOr404(db, id);
    if (u.domain_id !== undefined && u.domain_id !== row.domain_id) throw badRequest('Cannot change the domain_id of a user.');
    const set: Partial<UserRow> = {};
    if (u.name !== undefined) set.name = u.name as string;
    if (u.enabled !== undefined) set.enabled = u.enabled ? 1 : 0;
    if (u.default_project_id !== undefined) set.default_project_id = u.default_project_id as string | null;
    if (u.options !== undefined) {
      const merged: Record<string, unknown> = { ...JSON.parse(row.options), ...checkOptions(u.options) };
      for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
      set.options = JSON.stringify(merged);
    }
    const extra = mergeExtras(row.extra, u, [...KNOWN, 'id']);
    if (extra) set.extra = extra;
    // An admin password reset also clears a lockout.
    if (typeof u.password === 'string') { set.failed_auth_count = 0; set.failed_auth_at = null; }
    await storing('user', u.name, () => db.transaction().execute(async (trx) => {
      if (Object.keys(set).length) await trx.updateTable('identity_user').set(set).where('id', '=', id).execute();
      if (typeof u.password === 'string') await setPassword(trx, { ...row, ...set }, u.password, sc, cost, false);
    }));
    const mfaTurnedOn = (u.options as Record<string, unknown> | undefined)?.multi_factor_auth_enabled === true && !JSON.parse(row.options).multi_factor_auth_enabled;
    if (u.enabled === false || typeof u.password === 'string' || mfaTurnedOn) await identity.revoke({ user_id: id });
    identity.changed();
    return { user: await view(req, await getUserOr404(db, id)) };
  });

  app.delete('/v3/users/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_user', req.ctx, { user_id: id });
    await getUserOr404(db, id);
    await deleteUserCascade(identity, id);
    reply.status(204).send();
  });

  // As in Keystone, no token is needed: the original password is the proof, and a user
  // whose password has expired cannot get a token anyway.
  app.post('/v3/users/:id/password', { config: { public: true } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const u = wrapped(req, 'user');
    check(u, { password: ['string', { required: true }], original_password: ['string', { required: true }] });
    const row = await getUserOr404(db, id);
    if (JSON.parse(row.options).lock_password) throw new ApiError(403, `You are not allowed to change the password of user ${id}.`);
    // The endpoint takes no token, so it gets the login's brute-force protection.
    if (lockedUntil(row, sc)) throw new ApiError(401, `The account is locked for user: ${id}.`);
    const current = await currentPassword(db, id);
    if (!current || !(await verifySecret(u.original_password as string, current.hash))) {
      await recordFailure(db, row, sc);
      throw new ApiError(401, 'The request you have made requires authentication.');
    }
    checkMinimumAge(current, row, sc);
    await db.transaction().execute((trx) => setPassword(trx, row, u.password as string, sc, cost, true));
    await identity.revoke({ user_id: id });
    identity.changed();
    reply.status(204).send();
  });

  app.get('/v3/users/:id/projects', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:list_user_projects', req.ctx, { user_id: id });
    await getUserOr404(db, id);
    const ids = await assignedProjectIds(db, id);
    const q = query(req);
    let sel = db.selectFrom('project').selectAll().where('is_domain', '=', 0);
    if (q.name) sel = sel.where('name', '=', q.name);
    if (q.enabled !== undefined) sel = sel.where('enabled', '=', queryBool(q.enabled) ? 1 : 0);
    const rows = ids.length ? await sel.where('id', 'in', ids).orderBy('name').execute() : [];
    return listBody('projects', rows.map((p) => projectView(v3Base(req), p)), selfUrl(req));
  });

  app.get('/v3/users/:id/groups', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:list_groups_for_user', req.ctx, { user_id: id });
    await getUserOr404(db, id);
    const rows = await db.selectFrom('identity_group').innerJoin('group_membership', 'group_membership.group_id', 'identity_group.id')
      .selectAll('identity_group').where('group_membership.user_id', '=', id).orderBy('name').execute();
    return listBody('groups', rows.map((g) => groupView(v3Base(req), g)), selfUrl(req));
  });
}
