import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { ApiError, badRequest, notFound } from '../../../platform/http/errors.js';
import { authenticate, type AuthRequest } from '../logic/authenticate.js';
import { listBody, projectView, domainView, substituteCatalog, tokenView } from '../views.js';
import { queryBool, query, v3Base, selfUrl, type IdentityDeps } from './common.js';
import type { TokenInfo } from '../logic/identity.js';
import { assignedProjectIds, assignedDomainIds, hasSystemRole } from '../logic/scopes.js';

/** /v3/auth/*: issue, validate, check and revoke tokens; what a token may be scoped to. */
export async function authRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  app.post('/v3/auth/tokens', { config: { public: true } }, async (req, reply) => {
    const body = req.body as { auth?: AuthRequest } | undefined;
    const receipt = req.headers['openstack-auth-receipt'];
    const { token, info } = await authenticate(identity, body?.auth, typeof receipt === 'string' ? receipt : undefined);
    const catalog = queryBool(query(req).nocatalog) ? null : await identity.catalog();
    reply.header('x-subject-token', token).status(201);
    return tokenView(info, catalog);
  });

  const subject = async (req: FastifyRequest, rule: string): Promise<TokenInfo> => {
    const token = req.headers['x-subject-token'];
    if (typeof token !== 'string' || !token) throw badRequest('X-Subject-Token header is required');
    const info = await identity.validate(token, { allowExpired: queryBool(query(req).allow_expired) });
    // The policy target is the subject token's owner; a caller may always inspect their own token.
    enforce(rule, req.ctx, { token_user_id: info?.user.id ?? req.ctx.userId });
    if (!info) throw notFound('Failed to validate token');
    return info;
  };

  app.get('/v3/auth/tokens', { exposeHeadRoute: false }, async (req, reply) => {
    const info = await subject(req, 'identity:validate_token');
    reply.header('x-subject-token', info.token);
    return tokenView(info, queryBool(query(req).nocatalog) ? null : await identity.catalog());
  });
  app.head('/v3/auth/tokens', async (req, reply) => {
    await subject(req, 'identity:check_token');
    reply.status(200).send();
  });
  app.delete('/v3/auth/tokens', async (req, reply) => {
    const info = await subject(req, 'identity:revoke_token');
    await identity.revoke({ audit_id: info.payload.auditIds[0]! });
    identity.changed();
    reply.status(204).send();
  });

  app.get('/v3/auth/catalog', async (req) => {
    enforce('identity:get_auth_catalog', req.ctx);
    if (!req.ctx.projectId && !req.ctx.domainId && !req.ctx.system) throw new ApiError(403, 'A scoped token is required to view the catalog.');
    return { catalog: substituteCatalog(await identity.catalog(), req.ctx.projectId), links: { self: selfUrl(req), previous: null, next: null } };
  });
  app.get('/v3/auth/projects', async (req) => {
    enforce('identity:get_auth_projects', req.ctx);
    const ids = await assignedProjectIds(identity.db, req.ctx.userId);
    const rows = ids.length ? await identity.db.selectFrom('project').selectAll().where('id', 'in', ids).where('enabled', '=', 1).orderBy('name').execute() : [];
    return listBody('projects', rows.map((p) => projectView(v3Base(req), p)), selfUrl(req));
  });
  app.get('/v3/auth/domains', async (req) => {
    enforce('identity:get_auth_domains', req.ctx);
    const ids = await assignedDomainIds(identity.db, req.ctx.userId);
    const rows = ids.length ? await identity.db.selectFrom('project').selectAll().where('id', 'in', ids).where('enabled', '=', 1).execute() : [];
    return listBody('domains', rows.map((d) => domainView(v3Base(req), d)), selfUrl(req));
  });
  app.get('/v3/auth/system', async (req) => {
    enforce('identity:get_auth_system', req.ctx);
    return { system: (await hasSystemRole(identity.db, req.ctx.userId)) ? [{ all: true }] : [], links: { self: selfUrl(req) } };
  });
}
