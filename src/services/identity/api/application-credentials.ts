import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { ApiError, badRequest, forbidden, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId, randomToken } from '../../../platform/ids.js';
import type { AppCredRow, IdentityDb } from '../store.js';
import { json } from '../store.js';
import { getUserOr404 } from '../logic/lookup.js';
import { hashSecret } from '../logic/passwords.js';
import { appCredView, listBody } from '../views.js';
import { check, query, selfUrl, storing, v3Base, wrapped, type IdentityDeps } from './common.js';

/**
 * Application credentials: a secret bound to one user and project with a subset of the
 * user's roles there, optional expiry and access rules. The secret is returned once and
 * stored hashed.
 */
/** ISO 8601 (zone optional, UTC assumed) to epoch microseconds, keeping sub-millisecond digits. */
function parseMicros(text: string): number | null {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,6})\d*)?(Z|[+-]\d\d:?\d\d)?$/i.exec(text.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) return null;
  return ms * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}

async function rulesOf(db: IdentityDb, credIds: string[]) {
  if (!credIds.length) return new Map<string, { id: string; service: string; path: string; method: string }[]>();
  const rows = await db.selectFrom('app_cred_access_rule').innerJoin('access_rule', 'access_rule.id', 'app_cred_access_rule.access_rule_id')
    .select(['application_credential_id', 'access_rule.id', 'service', 'path', 'method']).where('application_credential_id', 'in', credIds).execute();
  const m = new Map<string, { id: string; service: string; path: string; method: string }[]>();
  for (const r of rows) m.set(r.application_credential_id, [...(m.get(r.application_credential_id) ?? []), { id: r.id, service: r.service, path: r.path, method: r.method }]);
  return m;
}

export async function appCredentialRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;
  const views = async (req: FastifyRequest, creds: AppCredRow[], secret?: string) => {
    const roles = await db.selectFrom('role').selectAll().execute();
    const rules = await rulesOf(db, creds.map((c) => c.id));
    return creds.map((c) => appCredView(v3Base(req), c, roles.filter((r) => json<string[]>(c.roles, []).includes(r.id)), rules.get(c.id) ?? [], secret));
  };

  app.post('/v3/users/:userId/application_credentials', async (req, reply) => {
    const { userId } = req.params as { userId: string };
    enforce('identity:create_application_credential', req.ctx, { user_id: userId });
    if (req.ctx.applicationCredentialId) {
      const own = await db.selectFrom('application_credential').select('unrestricted').where('id', '=', req.ctx.applicationCredentialId).executeTakeFirst();
      if (!own?.unrestricted) throw forbidden('Using method \'application_credential\' is not allowed for managing additional application credentials.');
    }
    const a = wrapped(req, 'application_credential');
    check(a, { name: ['string', { required: true, min: 1, max: 255 }], description: 'nullable-string', secret: 'nullable-string', expires_at: 'nullable-string', roles: 'array', unrestricted: 'boolean', access_rules: 'array', system: 'nullable-string' });
    if (!req.ctx.projectId) throw badRequest('Application credentials must be created with a project-scoped token.');
    let expiresAt: number | null = null;
    if (typeof a.expires_at === 'string') {
      expiresAt = parseMicros(a.expires_at);
      if (expiresAt === null) throw badRequest(`Invalid input for field 'expires_at': '${a.expires_at}' is not a date-time`);
      if (expiresAt <= now() * 1000) throw badRequest('The expiration date must be in the future.');
    }
    // Roles: a subset of the caller's roles on the project, by id or name; all of them by default.
    let roleIds = req.ctx.roleIds;
    if (Array.isArray(a.roles) && a.roles.length) {
      const all = await db.selectFrom('role').selectAll().execute();
      roleIds = (a.roles as { id?: string; name?: string }[]).map((ref) => {
        const r = all.find((x) => (ref.id && x.id === ref.id) || (!ref.id && ref.name && x.name === ref.name));
        if (!r) throw notFound(`Could not find role: ${ref.id ?? ref.name}.`);
        if (!req.ctx.roleIds.includes(r.id)) throw forbidden(`You cannot delegate role ${r.name}: you do not have it on this project.`);
        return r.id;
      });
    }
    const secret = typeof a.secret === 'string' && a.secret ? a.secret : randomToken(64);
    const row: AppCredRow = {
      id: hexId(), name: a.name as string, user_id: userId, project_id: req.ctx.projectId, system: null,
      secret_hash: await hashSecret(secret, identity.config.identity.passwordHashCost), description: (a.description as string | null) ?? null,
      expires_at_us: expiresAt, unrestricted: a.unrestricted === true ? 1 : 0, roles: JSON.stringify([...new Set(roleIds)]), created_at: now(),
    };
    const rules = (a.access_rules as Record<string, unknown>[] | undefined) ?? [];
    for (const r of rules) {
      if (r.id === undefined && (typeof r.service !== 'string' || typeof r.path !== 'string' || typeof r.method !== 'string')) {
        throw badRequest("Invalid input for field 'access_rules': each rule needs service, path and method (or an existing id)");
      }
      if (typeof r.method === 'string' && !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)) throw badRequest(`Invalid input for field 'access_rules': method '${r.method}'`);
    }
    await storing('application_credential', a.name, () => db.transaction().execute(async (trx) => {
      await trx.insertInto('application_credential').values(row).execute();
      for (const r of rules) {
        let ruleId = r.id as string | undefined;
        if (ruleId) {
          const existing = await trx.selectFrom('access_rule').select('id').where('id', '=', ruleId).where('user_id', '=', userId).executeTakeFirst();
          if (!existing) throw notFound(`Could not find access rule: ${ruleId}.`);
        } else {
          const existing = await trx.selectFrom('access_rule').select('id').where('user_id', '=', userId)
            .where('service', '=', r.service as string).where('path', '=', r.path as string).where('method', '=', r.method as string).executeTakeFirst();
          ruleId = existing?.id ?? hexId();
          if (!existing) await trx.insertInto('access_rule').values({ id: ruleId, user_id: userId, service: r.service as string, path: r.path as string, method: r.method as string }).execute();
        }
        await trx.insertInto('app_cred_access_rule').values({ application_credential_id: row.id, access_rule_id: ruleId }).execute();
      }
    }));
    reply.status(201);
    return { application_credential: (await views(req, [row], secret))[0] };
  });

  app.get('/v3/users/:userId/application_credentials', async (req) => {
    const { userId } = req.params as { userId: string };
    enforce('identity:list_application_credentials', req.ctx, { user_id: userId });
    await getUserOr404(db, userId);
    let sel = db.selectFrom('application_credential').selectAll().where('user_id', '=', userId);
    if (query(req).name) sel = sel.where('name', '=', query(req).name!);
    return listBody('application_credentials', await views(req, await sel.orderBy('name').execute()), selfUrl(req));
  });

  const getCred = async (req: FastifyRequest, rule: string) => {
    const { userId, id } = req.params as { userId: string; id: string };
    enforce(rule, req.ctx, { user_id: userId });
    const row = await db.selectFrom('application_credential').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`Could not find Application Credential: ${id}.`);
    return row;
  };
  app.get('/v3/users/:userId/application_credentials/:id', async (req) => ({
    application_credential: (await views(req, [await getCred(req, 'identity:get_application_credential')]))[0],
  }));
  app.delete('/v3/users/:userId/application_credentials/:id', async (req, reply) => {
    const row = await getCred(req, 'identity:delete_application_credential');
    if (req.ctx.applicationCredentialId && req.ctx.applicationCredentialId !== row.id) {
      const own = await db.selectFrom('application_credential').select('unrestricted').where('id', '=', req.ctx.applicationCredentialId).executeTakeFirst();
      if (!own?.unrestricted) throw forbidden('A restricted application credential cannot delete other application credentials.');
    }
    await db.deleteFrom('application_credential').where('id', '=', row.id).execute();
    await identity.revoke({ application_credential_id: row.id });
    identity.changed();
    reply.status(204).send();
  });

  // ---- access rules (owned by the user, shared by their application credentials)
  app.get('/v3/users/:userId/access_rules', async (req) => {
    const { userId } = req.params as { userId: string };
    enforce('identity:list_access_rules', req.ctx, { user_id: userId });
    const q = query(req);
    let sel = db.selectFrom('access_rule').selectAll().where('user_id', '=', userId);
    for (const k of ['service', 'path', 'method'] as const) if (q[k]) sel = sel.where(k, '=', q[k]!);
    const rows = await sel.execute();
    return listBody('access_rules', rows.map((r) => ({ id: r.id, service: r.service, path: r.path, method: r.method, links: { self: `${v3Base(req)}/users/${userId}/access_rules/${r.id}` } })), selfUrl(req));
  });
  const getRule = async (req: FastifyRequest, rule: string) => {
    const { userId, id } = req.params as { userId: string; id: string };
    enforce(rule, req.ctx, { user_id: userId });
    const row = await db.selectFrom('access_rule').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound(`Could not find access rule: ${id}.`);
    return row;
  };
  app.get('/v3/users/:userId/access_rules/:id', async (req) => {
    const r = await getRule(req, 'identity:get_access_rule');
    return { access_rule: { id: r.id, service: r.service, path: r.path, method: r.method, links: { self: `${v3Base(req)}/users/${r.user_id}/access_rules/${r.id}` } } };
  });
  app.delete('/v3/users/:userId/access_rules/:id', async (req, reply) => {
    const r = await getRule(req, 'identity:delete_access_rule');
    const used = await db.selectFrom('app_cred_access_rule').select('application_credential_id').where('access_rule_id', '=', r.id).limit(1).executeTakeFirst();
    if (used) throw new ApiError(403, `Cannot delete access rule ${r.id}: it is used by application credential ${used.application_credential_id}.`);
    await db.deleteFrom('access_rule').where('id', '=', r.id).execute();
    reply.status(204).send();
  });
}
