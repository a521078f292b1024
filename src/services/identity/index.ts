import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { keystoneError } from '../../platform/http/errors.js';
import type { RequestContext } from '../../platform/auth/context.js';
import { identityMigrations } from './migrations.js';
import { identityDb } from './store.js';
import { Identity } from './logic/identity.js';
import { KeyRepository } from './logic/keys.js';
import { registerIdentityPolicies } from './policies.js';
import { bootstrap, syncCatalog, type BootstrapResult } from './bootstrap.js';
import { versionRoutes } from './api/versions.js';
import { authRoutes } from './api/auth.js';
import { projectRoutes } from './api/projects.js';
import { userRoutes } from './api/users.js';
import { groupRoutes } from './api/groups.js';
import { roleRoutes } from './api/roles.js';
import { grantRoutes } from './api/grants.js';
import { appCredentialRoutes } from './api/application-credentials.js';
import { credentialRoutes } from './api/credentials.js';
import { catalogRoutes } from './api/catalog.js';
import { ec2Routes } from './api/ec2tokens.js';
import { v2Routes } from './api/v2.js';
import { policyRoutes } from './api/policies.js';
import { ec2Signer, type Ec2Signer } from './logic/ec2-signer.js';

export type { Ec2Signer } from './logic/ec2-signer.js';

/**
 * The identity service (Keystone v3). Its public interface for other services is
 * `authenticate` (token → caller) and `syncCatalog` (register running services).
 */
export interface IdentityService extends ServiceModule {
  authenticate(token: string): Promise<RequestContext>;
  syncCatalog(baseUrl: string, services: ServiceModule[]): Promise<void>;
  bootstrapResult(): BootstrapResult;
  /** The id of a project of the Default domain by name (bootstrap data of other services). */
  projectIdByName(name: string): Promise<string | null>;
  core(): Identity;
  /**
   * EC2 credential by access key, for services that check AWS signatures themselves (the
   * S3 API): the SigV4 signing key and, after the signature checked out, the caller.
   * Null for an unknown key.
   */
  ec2Signer(access: string): Promise<Ec2Signer | null>;
}

export function identityService(): IdentityService {
  let identity: Identity | null = null;
  let boot: BootstrapResult | null = null;
  const need = () => { if (!identity) throw new Error('identity service not started'); return identity; };
  return {
    name: 'keystone',
    type: 'identity',
    prefix: '/identity',
    endpointPath: '/identity',
    errorFormat: keystoneError,
    migrations: identityMigrations,
    async start(platform: Platform) {
      const keys = new KeyRepository(join(platform.config.dataDir, 'fernet-keys'));
      const credentialKeys = new KeyRepository(join(platform.config.dataDir, 'credential-keys'));
      identity = new Identity(identityDb(platform.db), keys, credentialKeys, platform.config);
      await identity.revocations.load(identity.db);
      registerIdentityPolicies();
      boot = await bootstrap(identity, platform);
    },
    async routes(app: FastifyInstance, platform: Platform) {
      const deps = { platform, get identity() { return need(); } };
      // 401s from Keystone say where to authenticate.
      app.addHook('onSend', async (req, reply) => {
        if (reply.statusCode === 401) reply.header('www-authenticate', `Keystone uri="${req.protocol}://${req.headers.host}/identity"`);
      });
      for (const routes of [versionRoutes, authRoutes, projectRoutes, userRoutes, groupRoutes, roleRoutes, grantRoutes,
        appCredentialRoutes, credentialRoutes, catalogRoutes, ec2Routes, v2Routes, policyRoutes]) {
        await routes(app, deps);
      }
    },
    authenticate: (token) => need().context(token),
    async syncCatalog(baseUrl, services) {
      const id = need();
      await syncCatalog(id.db, id.config.region, baseUrl, services);
      id.changed();
    },
    async projectIdByName(name) {
      const row = await need().db.selectFrom('project').select('id').where('name', '=', name).where('domain_id', '=', 'default').where('is_domain', '=', 0).executeTakeFirst();
      return row?.id ?? null;
    },
    bootstrapResult: () => { if (!boot) throw new Error('identity service not started'); return boot; },
    core: need,
    ec2Signer: (access) => ec2Signer(need(), access),
  };
}
