import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest } from '../../../platform/http/errors.js';
import { isoSeconds } from '../../../platform/clock.js';
import { passwordMethod, issueFor } from '../logic/authenticate.js';
import { findProject } from '../logic/lookup.js';
import { substituteCatalog } from '../views.js';
import type { IdentityDeps } from './common.js';

/**
 * The read-only v2.0 token API, for older tools (Vagrant, Docker Machine, elasticluster)
 * that still ask for a token this way. Users and projects are looked up in the Default
 * domain, as Keystone's v2.0 layer did.
 */
export async function v2Routes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  app.get('/v2.0', { config: { public: true } }, async (req) => ({
    version: {
      id: 'v2.0', status: 'deprecated', updated: '2016-08-04T00:00:00Z',
      links: [{ rel: 'self', href: `${req.protocol}://${req.headers.host}/identity/v2.0/` }],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v2.0+json' }],
    },
  }));

  app.post('/v2.0/tokens', { config: { public: true } }, async (req) => {
    const auth = (req.body as { auth?: Record<string, unknown> } | undefined)?.auth;
    const pc = auth?.passwordCredentials as { username?: unknown; password?: unknown; userId?: unknown } | undefined;
    if (!auth || !pc) throw badRequest('Expecting to find passwordCredentials in auth.');
    const userRef = typeof pc.userId === 'string' ? { id: pc.userId } : { name: pc.username as string, domain: { id: 'default' } };
    const { user } = await passwordMethod(identity, { user: { ...userRef, password: pc.password } });
    const tenantRef = typeof auth.tenantId === 'string' ? { id: auth.tenantId } : typeof auth.tenantName === 'string' ? { name: auth.tenantName, domain: { id: 'default' } } : null;
    const project = tenantRef ? await findProject(identity.db, tenantRef) : null;
    const { token, info } = await issueFor(identity, user, project ? { kind: 'project', id: project.id } : { kind: 'unscoped' }, ['password']);
    if (project && info.roles.length === 0) throw new ApiError(401, `User ${user.id} has no access to project ${project.id}`);
    const catalog = project ? substituteCatalog(await identity.catalog(), project.id) : [];
    return {
      access: {
        token: {
          id: token, issued_at: new Date(info.payload.issuedAt).toISOString(), expires: isoSeconds(info.payload.expiresAt), audit_ids: info.payload.auditIds,
          ...(project ? { tenant: { id: project.id, name: project.name, enabled: true, description: project.description } } : {}),
        },
        serviceCatalog: catalog.map((s) => {
          const regions = [...new Set(s.endpoints.map((e) => e.region_id))];
          return {
            type: s.type, name: s.name, endpoints_links: [],
            endpoints: regions.map((region) => {
              const url = (i: string) => s.endpoints.find((e) => e.region_id === region && e.interface === i)?.url;
              return { id: s.endpoints.find((e) => e.region_id === region)?.id, region, publicURL: url('public'), internalURL: url('internal'), adminURL: url('admin') };
            }),
          };
        }),
        user: { id: user.id, name: user.name, username: user.name, roles: info.roles.map((r) => ({ name: r.name })), roles_links: [] },
        metadata: { is_admin: 0, roles: info.roles.map((r) => r.id) },
      },
    };
  });
}
