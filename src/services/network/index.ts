import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { neutronError as neutronErrorBody } from '../../platform/http/errors.js';
import type { RequestContext } from '../../platform/auth/context.js';
import type { IdentityService } from '../identity/index.js';
import { networkMigrations } from './migrations.js';
import { networkDb, type NetworkRow, type PortRow } from './store.js';
import { newHooks, type NetworkHooks } from './logic/hooks.js';
import { createPort, deletePortRows, portStatus } from './logic/ports.js';
import type { FixedIp } from './logic/ipam.js';
import { bootstrapTopology } from './bootstrap.js';
import type { NetDeps } from './api/common.js';
import { discoveryRoutes } from './api/discovery.js';
import { networkRoutes, getNetwork, visibleNetworks } from './api/networks.js';
import { conflictError, notFoundError } from './api/common.js';
import { now } from '../../platform/clock.js';
import { NetworkAgent } from './agent/agent.js';
import { agentHost } from './agent/host.js';
import { createDataplane } from './dataplane/index.js';
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
  /** A new port on a network the caller may use (attrs as the ports API takes them). */
  allocatePort(ctx: RequestContext, networkId: string, attrs: Record<string, unknown>): Promise<{ port: PortRow; fixedIps: FixedIp[] }>;
  /** Plugs an existing port into a device on a host; 409 PortInUse if another device holds it. */
  bindPort(ctx: RequestContext, portId: string, binding: { deviceId: string; deviceOwner: string; host: string }): Promise<PortRow>;
  /** Unplugs a port the caller created itself and keeps it (interface detach of a user's port). */
  unbindPort(portId: string): Promise<void>;
  releasePorts(ids: string[]): Promise<void>;
  getNetwork(ctx: RequestContext, id: string): Promise<NetworkRow>;
  /** Networks the caller may plug into: its own and those shared with it, not external ones (Nova's `auto`). */
  listNetworks(ctx: RequestContext): Promise<NetworkRow[]>;
  getPort(ctx: RequestContext, id: string): Promise<PortRow>;
  /** Security groups by id or name in the caller's project (Nova takes names); 404 unknown, 409 ambiguous. */
  resolveSecurityGroups(ctx: RequestContext, refs: string[]): Promise<string[]>;
  /** This host's network agent (its data plane, heartbeat, `idle()` for tests). */
  readonly agent: NetworkAgent;
}

export function networkService(): NetworkService {
  let deps: NetDeps | null = null;
  let agent: NetworkAgent | null = null;
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
      const c = platform.config.network;
      agent = new NetworkAgent(deps.db, hooks, createDataplane(c.dataplane), platform.log,
        { host: agentHost(), intervalMs: c.agentIntervalMs, resyncMs: c.agentResyncSeconds * 1000 });
      agent.start();
    },
    async stop() {
      await agent?.stop();
    },
    get agent() {
      if (!agent) throw new Error('network service not started');
      return agent;
    },
    async routes(app: FastifyInstance) {
      const d = { get platform() { return need().platform; }, get db() { return need().db; }, get agent() { return agent ?? undefined; }, hooks } as NetDeps;
      // Every successful write may change what the data plane must realise: wake the agent.
      app.addHook('onResponse', async (req, reply) => {
        if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400) agent?.wake();
      });
      for (const routes of [discoveryRoutes, networkRoutes, subnetRoutes, portRoutes, tagRoutes, quotaRoutes, availabilityRoutes, agentRoutes]) await routes(app, d);
      for (const p of PARTS) await p.routes(app, d);
    },
    async allocatePort(ctx, networkId, attrs) {
      const d = need();
      const network = await getNetwork(d.db, ctx, networkId);
      const made = await d.db.transaction().execute((trx) => createPort(trx, d.platform.dialect, hooks, { network, projectId: ctx.projectId!, body: attrs, ctx }));
      agent?.wake();
      return made;
    },
    async bindPort(ctx, portId, binding) {
      const d = need();
      const port = await getPort(d.db, ctx, portId);
      if (!ctx.isAdmin && port.project_id !== ctx.projectId) throw notFoundError('Port', portId);
      if (port.device_id && port.device_id !== binding.deviceId) {
        throw conflictError('PortInUse', `Unable to complete operation on port ${portId} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
      }
      const set = { device_id: binding.deviceId, device_owner: binding.deviceOwner, binding_host_id: binding.host, updated_at: now(), revision_number: port.revision_number + 1 };
      const bound = { ...port, ...set };
      await d.db.updateTable('port').set({ ...set, status: portStatus(bound) }).where('id', '=', portId).execute();
      agent?.wake();
      return { ...bound, status: portStatus(bound) };
    },
    async unbindPort(portId) {
      const d = need();
      const port = await d.db.selectFrom('port').selectAll().where('id', '=', portId).executeTakeFirst();
      if (!port) return;
      await d.db.updateTable('port').set({ device_id: '', device_owner: '', binding_host_id: '', status: 'DOWN', updated_at: now(), revision_number: port.revision_number + 1 })
        .where('id', '=', portId).execute();
      agent?.wake();
    },
    async releasePorts(ids) {
      const d = need();
      await d.db.transaction().execute(async (trx) => {
        // The same hooks as the ports API: floating IPs let go of the port first.
        const ports = ids.length ? await trx.selectFrom('port').select(['id', 'device_owner']).where('id', 'in', ids).execute() : [];
        for (const p of ports) for (const h of hooks.beforePortDelete ?? []) await h(trx, p.id, p.device_owner, false);
        await deletePortRows(trx, ids);
      });
      agent?.wake();
    },
    listNetworks: (ctx) => visibleNetworks(need().db, ctx).where('network.external', '=', 0).orderBy('network.created_at').execute() as Promise<NetworkRow[]>,
    async resolveSecurityGroups(ctx, refs) {
      const d = need();
      if (!hooks.resolveSecurityGroups) throw notFoundError('Security group', refs.join(', '));
      return d.db.transaction().execute((trx) => hooks.resolveSecurityGroups!(trx, ctx, refs));
    },
    getNetwork: (ctx, id) => getNetwork(need().db, ctx, id),
    getPort: (ctx, id) => getPort(need().db, ctx, id),
  };
}

export { PARTS as networkParts };
