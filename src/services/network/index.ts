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
import { conflictError, neutronError, notFoundError } from './api/common.js';
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
import { bindOps, type Bound, type FloatingIpOps, type SecurityGroupOps } from './logic/nova-proxy.js';

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
  /** Gives every port of a server (with port security) exactly these security groups. */
  setServerSecurityGroups(ctx: RequestContext, deviceId: string, groupIds: string[]): Promise<void>;
  /** Nova's addFloatingIp/removeFloatingIp: the floating IP by address onto one of the server's ports (the one with `fixedIp`, else the first). */
  associateFloatingIp(ctx: RequestContext, deviceId: string, address: string, fixedIp: string | null): Promise<void>;
  disassociateFloatingIp(ctx: RequestContext, deviceId: string, address: string): Promise<void>;
  /** The ports plugged into devices (servers), with addresses, network names and floating IPs: what Nova shows as `addresses`. */
  interfacesOf(deviceIds: string[]): Promise<Map<string, DeviceInterface[]>>;
  /** This host's network agent (its data plane, heartbeat, `idle()` for tests). */
  readonly agent: NetworkAgent;
  /** Every network the caller sees, external and shared ones included (Nova's os-networks and floating IP pools). */
  allNetworks(ctx: RequestContext): Promise<NetworkRow[]>;
  /** Security groups and their rules for Nova's proxy APIs (os-security-groups, a server's groups). */
  readonly securityGroups: Bound<SecurityGroupOps>;
  /** Floating IPs for Nova's os-floating-ips proxy. */
  readonly floatingIps: Bound<FloatingIpOps>;
}

export interface DeviceInterface {
  portId: string; macAddress: string; networkId: string; networkName: string; status: string;
  fixedIps: Array<{ subnetId: string; ipAddress: string; version: 4 | 6; floatingIps: string[] }>;
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
    async setServerSecurityGroups(ctx, deviceId, groupIds) {
      const d = need();
      await d.db.transaction().execute(async (trx) => {
        const ports = await trx.selectFrom('port').select(['id', 'project_id', 'port_security_enabled']).where('device_id', '=', deviceId).execute();
        for (const p of ports.filter((x) => x.port_security_enabled === 1)) {
          const ids = hooks.checkSecurityGroups ? await hooks.checkSecurityGroups(trx, p.project_id, groupIds, ctx.isAdmin) : [];
          await trx.deleteFrom('port_security_group').where('port_id', '=', p.id).execute();
          if (ids.length) await trx.insertInto('port_security_group').values(ids.map((g) => ({ port_id: p.id, security_group_id: g }))).execute();
          await trx.updateTable('port').set({ updated_at: now() }).where('id', '=', p.id).execute();
        }
      });
      agent?.wake();
    },
    async associateFloatingIp(ctx, deviceId, address, fixedIp) {
      const d = need();
      if (!hooks.setFloatingIpPort) throw notFoundError('Floating IP', address);
      const ifaces = (await this.interfacesOf([deviceId])).get(deviceId) ?? [];
      const iface = fixedIp ? ifaces.find((i) => i.fixedIps.some((f) => f.ipAddress === fixedIp)) : ifaces.find((i) => i.fixedIps.some((f) => f.version === 4));
      if (!iface) throw neutronError(400, 'BadRequest', fixedIp ? `Specified fixed address ${fixedIp} not assigned to instance` : 'No nw_info cache associated with instance');
      const ip = fixedIp ?? iface.fixedIps.find((f) => f.version === 4)!.ipAddress;
      await d.db.transaction().execute((trx) => hooks.setFloatingIpPort!(trx, d.platform.dialect, ctx, address, iface.portId, ip));
      agent?.wake();
    },
    async disassociateFloatingIp(ctx, deviceId, address) {
      const d = need();
      if (!hooks.setFloatingIpPort) throw notFoundError('Floating IP', address);
      const exists = await d.db.selectFrom('floating_ip').select('id').where('floating_ip_address', '=', address)
        .where((eb) => (ctx.isAdmin ? eb.val(true) : eb('project_id', '=', ctx.projectId ?? ''))).executeTakeFirst().catch(() => undefined);
      if (!exists) throw neutronError(404, 'FloatingIPNotFound', `Floating IP ${address} could not be found`);
      const ports = (await this.interfacesOf([deviceId])).get(deviceId) ?? [];
      if (!ports.some((p) => p.fixedIps.some((f) => f.floatingIps.includes(address)))) throw neutronError(409, 'Conflict', `Floating IP ${address} is not associated with instance ${deviceId}.`);
      await d.db.transaction().execute((trx) => hooks.setFloatingIpPort!(trx, d.platform.dialect, ctx, address, null, null));
      agent?.wake();
    },
    async interfacesOf(deviceIds) {
      const db = need().db;
      const out = new Map<string, DeviceInterface[]>(deviceIds.map((id) => [id, []]));
      if (!deviceIds.length) return out;
      const ports = await db.selectFrom('port').innerJoin('network', 'network.id', 'port.network_id')
        .select(['port.id', 'port.device_id', 'port.mac_address', 'port.network_id', 'port.status', 'port.created_at', 'network.name as network_name'])
        .where('port.device_id', 'in', deviceIds).orderBy('port.created_at').orderBy('port.id').execute();
      const ids = ports.map((p) => p.id);
      const ips = ids.length ? await db.selectFrom('ip_allocation').innerJoin('subnet', 'subnet.id', 'ip_allocation.subnet_id')
        .select(['ip_allocation.port_id', 'ip_allocation.subnet_id', 'ip_allocation.ip_address', 'subnet.ip_version', 'subnet.created_at'])
        .where('ip_allocation.port_id', 'in', ids).orderBy('subnet.created_at').execute() : [];
      // Floating IPs live in the routers part's table; read them if it is there.
      const fips = ids.length ? await db.selectFrom('floating_ip').select(['fixed_port_id', 'fixed_ip_address', 'floating_ip_address'])
        .where('fixed_port_id', 'in', ids).execute().catch(() => []) : [];
      for (const p of ports) {
        out.get(p.device_id)?.push({
          portId: p.id, macAddress: p.mac_address, networkId: p.network_id, networkName: p.network_name, status: p.status,
          fixedIps: ips.filter((i) => i.port_id === p.id).map((i) => ({
            subnetId: i.subnet_id, ipAddress: i.ip_address, version: i.ip_version as 4 | 6,
            floatingIps: fips.filter((f) => f.fixed_port_id === p.id && f.fixed_ip_address === i.ip_address).map((f) => f.floating_ip_address as string),
          })),
        });
      }
      return out;
    },
    allNetworks: (ctx) => visibleNetworks(need().db, ctx).orderBy('network.created_at').execute() as Promise<NetworkRow[]>,
    securityGroups: bindOps(hooks.novaSecurityGroups, () => ({ ...need(), agent: agent ?? undefined }), 'security groups'),
    floatingIps: bindOps(hooks.novaFloatingIps, () => ({ ...need(), agent: agent ?? undefined }), 'floating IPs'),
  };
}

export { PARTS as networkParts };
