import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { neutronError as neutronErrorBody } from '../../platform/http/errors.js';
import type { RequestContext } from '../../platform/auth/context.js';
import type { IdentityService } from '../identity/index.js';
import { networkMigrations } from './migrations.js';
import { networkDb, type NetworkRow, type PortRow } from './store.js';
import { newHooks, type NetworkHooks } from './logic/hooks.js';
import { createPort, deletePortRows } from './logic/ports.js';
import type { FixedIp } from './logic/ipam.js';
import { bootstrapTopology } from './bootstrap.js';
import type { NetDeps } from './api/common.js';
import { discoveryRoutes } from './api/discovery.js';
import { networkRoutes, getNetwork } from './api/networks.js';
import { subnetRoutes } from './api/subnets.js';
import { portRoutes, getPort } from './api/ports.js';
import { tagRoutes } from './api/tags.js';
import { quotaRoutes } from './api/quotas.js';
import { availabilityRoutes } from './api/availability.js';
import { agentRoutes } from './api/agents.js';
import { securityGroupsPart } from './parts/security-groups/index.js';
import { routersPart } from './parts/routers/index.js';
import { poolsPart } from './parts/pools/index.js';

/**
 * The networking service (Neutron v2). Parts that land separately (security groups,
 * routers and floating IPs, subnet pools, RBAC) register routes, migrations and hooks in
 * PARTS. Compute and load balancing use the public interface: ports for a device, and
 * network and port look-ups under the caller's visibility.
 */
export interface NetworkPart {
  migrations: ServiceModule['migrations'];
  routes(app: FastifyInstance, deps: NetDeps): Promise<void>;
  register?(hooks: NetworkHooks): void;
}

const PARTS: NetworkPart[] = [securityGroupsPart, routersPart, poolsPart];

export interface NetworkService extends ServiceModule {
  allocatePort(ctx: RequestContext, networkId: string, attrs: Record<string, unknown>): Promise<{ port: PortRow; fixedIps: FixedIp[] }>;
  releasePorts(ids: string[]): Promise<void>;
  getNetwork(ctx: RequestContext, id: string): Promise<NetworkRow>;
  getPort(ctx: RequestContext, id: string): Promise<PortRow>;
}

export function networkService(): NetworkService {
  let deps: NetDeps | null = null;
  const hooks = newHooks();
  for (const p of PARTS) p.register?.(hooks);
  const need = () => { if (!deps) throw new Error('network service not started'); return deps; };
  return {
    name: 'neutron',
    type: 'network',
    prefix: '/network',
    endpointPath: '/network',
    errorFormat: neutronErrorBody,
    migrations: Object.assign({}, networkMigrations, ...PARTS.map((p) => p.migrations)),
    async start(platform: Platform, services: ServiceModule[]) {
      deps = { platform, db: networkDb(platform.db), hooks };
      const identity = services.find((s) => s.type === 'identity') as IdentityService | undefined;
      const admin = await identity?.projectIdByName('admin');
      if (admin) await bootstrapTopology(deps.db, admin);
    },
    async routes(app: FastifyInstance) {
      const d = { get platform() { return need().platform; }, get db() { return need().db; }, hooks } as NetDeps;
      for (const routes of [discoveryRoutes, networkRoutes, subnetRoutes, portRoutes, tagRoutes, quotaRoutes, availabilityRoutes, agentRoutes]) await routes(app, d);
      for (const p of PARTS) await p.routes(app, d);
    },
    async allocatePort(ctx, networkId, attrs) {
      const d = need();
      const network = await getNetwork(d.db, ctx, networkId);
      return d.db.transaction().execute((trx) => createPort(trx, d.platform.dialect, hooks, { network, projectId: ctx.projectId!, body: attrs, ctx }));
    },
    async releasePorts(ids) {
      const d = need();
      await d.db.transaction().execute(async (trx) => {
        // The same hooks as the ports API: floating IPs let go of the port first.
        const ports = ids.length ? await trx.selectFrom('port').select(['id', 'device_owner']).where('id', 'in', ids).execute() : [];
        for (const p of ports) for (const h of hooks.beforePortDelete ?? []) await h(trx, p.id, p.device_owner, false);
        await deletePortRows(trx, ids);
      });
    },
    getNetwork: (ctx, id) => getNetwork(need().db, ctx, id),
    getPort: (ctx, id) => getPort(need().db, ctx, id),
  };
}

export { PARTS as networkParts };
