import type { RequestContext } from '../../../../../platform/auth/context.js';
import type { Dialect } from '../../../../../platform/db/index.js';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { json } from '../../../../../platform/json.js';
import { badInput, boolValue, conflictError, neutronError, notFoundError, strValue } from '../../../api/common.js';
import { getNetwork } from '../../../api/networks.js';
import { getSubnet } from '../../../api/subnets.js';
import { getPort } from '../../../api/ports.js';
import { checkQuota } from '../../../logic/quota.js';
import { createPort, deletePortRows, replaceFixedIps } from '../../../logic/ports.js';
import type { NetworkHooks } from '../../../logic/hooks.js';
import { cidrText, contains, ipToBig, ipVersion, normaliseIp, overlaps, parseCidr } from '../../../logic/ip.js';
import type { NetworkRow, SubnetRow } from '../../../store.js';
import { ZONES } from '../../../views.js';
import { allocationsOf, GATEWAY_OWNER, INTERFACE_OWNER, routerPorts, type RDb, type RouterRouteRow, type RouterRow } from '../store.js';

/**
 * Routers: the gateway on an external network, interfaces on tenant subnets, and static
 * routes whose next hop must sit on a subnet the router is connected to. Every function
 * runs inside the caller's transaction.
 */
export const DEFAULT_ZONE = 'europe-se-1a';
export const MAX_ROUTES = 30;

export const badRequest = (resource: string, msg: string) => neutronError(400, 'BadRequest', `Bad ${resource} request: ${msg}.`);

export interface Deps { trx: RDb; dialect: Dialect; hooks: NetworkHooks; ctx: RequestContext }

export interface InterfaceInfo { id: string; tenant_id: string; project_id: string; port_id: string; subnet_id: string; subnet_ids: string[]; network_id: string }

/** Availability zone hints: known zones only. The router lives in the first (product behaviour). */
export function checkZoneHints(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((z) => typeof z !== 'string')) throw badInput(`Invalid availability zone hints ${JSON.stringify(v)}`);
  const unknown = (v as string[]).filter((z) => !ZONES.includes(z));
  if (unknown.length) throw neutronError(404, 'AvailabilityZoneNotFound', `AvailabilityZone ${unknown[0]} could not be found.`);
  return [...new Set(v as string[])];
}

export const routerZones = (r: Pick<RouterRow, 'availability_zone_hints'>): string[] => [json<string[]>(r.availability_zone_hints, [])[0] ?? DEFAULT_ZONE];

export async function getRouter(trx: RDb, ctx: RequestContext, id: string): Promise<RouterRow> {
  let q = trx.selectFrom('router').selectAll().where('id', '=', id);
  if (!ctx.isAdmin) q = q.where('project_id', '=', ctx.projectId ?? '');
  const r = await q.executeTakeFirst();
  if (!r) throw notFoundError('Router', id);
  return r;
}

// ---------------------------------------------------------------- gateway

export interface GatewayRequest { network_id: string; enable_snat?: boolean; external_fixed_ips?: { subnet_id?: string; ip_address?: string }[] }

/** Parses external_gateway_info; null means "no gateway". Admin-only parts are refused here. */
export function parseGatewayInfo(ctx: RequestContext, v: unknown, action: 'create' | 'update'): GatewayRequest | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badInput(`Invalid external_gateway_info ${JSON.stringify(v)}`);
  const info = v as Record<string, unknown>;
  if (!Object.keys(info).length) return null;
  const unknown = Object.keys(info).filter((k) => !['network_id', 'enable_snat', 'external_fixed_ips', 'qos_policy_id'].includes(k));
  if (unknown.length) throw badInput(`Unexpected keys supplied: ${unknown.join(', ')}`);
  if (info.qos_policy_id !== undefined && info.qos_policy_id !== null) throw neutronError(404, 'QosPolicyNotFound', `QoS policy ${String(info.qos_policy_id)} could not be found.`);
  if (typeof info.network_id !== 'string' || !info.network_id) throw badInput(`Invalid network_id in external_gateway_info: '${String(info.network_id)}'`);
  const out: GatewayRequest = { network_id: info.network_id };
  for (const k of ['enable_snat', 'external_fixed_ips'] as const) {
    if (info[k] !== undefined && !ctx.isAdmin) {
      throw neutronError(403, 'HTTPForbidden', `(rule:${action}_router and rule:${action}_router:external_gateway_info and rule:${action}_router:external_gateway_info:${k}) is disallowed by policy`);
    }
  }
  if (info.enable_snat !== undefined) out.enable_snat = boolValue(info.enable_snat, 'enable_snat');
  if (info.external_fixed_ips !== undefined) {
    if (!Array.isArray(info.external_fixed_ips)) throw badInput('external_fixed_ips must be a list');
    out.external_fixed_ips = info.external_fixed_ips as GatewayRequest['external_fixed_ips'];
  }
  return out;
}

async function subnetsOfRouter(trx: RDb, routerId: string, exceptPort?: string) {
  const ports = (await routerPorts(trx, routerId)).map((p) => p.port_id).filter((p) => p !== exceptPort);
  return allocationsOf(trx, ports);
}

/** A router may not connect two overlapping subnets (upstream checks gateway and interfaces alike). */
async function checkNoOverlap(trx: RDb, routerId: string, adding: Pick<SubnetRow, 'id' | 'cidr'>[], exceptPort?: string): Promise<void> {
  const existing = await subnetsOfRouter(trx, routerId, exceptPort);
  for (const a of adding) {
    const ac = parseCidr(a.cidr)!;
    for (const e of existing) {
      if (e.subnet_id === a.id) throw badRequest('router', `Router already has a port on subnet ${a.id}`);
      if (overlaps(ac, parseCidr(e.cidr)!)) throw badRequest('router', `Cidr ${a.cidr} of subnet ${a.id} overlaps with cidr ${e.cidr} of subnet ${e.subnet_id}`);
    }
  }
}

/** Floating IPs reach their fixed ports through this router's gateway: it may not go away under them. */
async function checkGatewayUnused(trx: RDb, router: RouterRow): Promise<void> {
  const used = await trx.selectFrom('floating_ip').select('id').where('router_id', '=', router.id).limit(1).executeTakeFirst();
  if (used) {
    throw conflictError('RouterExternalGatewayInUseByFloatingIp',
      `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${router.gw_network_id} is required by one or more floating IPs.`);
  }
}

async function removeGatewayPort(trx: RDb, router: RouterRow): Promise<void> {
  if (!router.gw_port_id) return;
  await trx.deleteFrom('router_port').where('port_id', '=', router.gw_port_id).execute();
  await deletePortRows(trx, [router.gw_port_id]);
}

/** Sets, changes or clears the gateway; returns the router columns to write. */
export async function applyGateway(d: Deps, router: RouterRow, req: GatewayRequest | null): Promise<Partial<RouterRow>> {
  const { trx, dialect, hooks, ctx } = d;
  if (req === null) {
    if (!router.gw_network_id) return {};
    await checkGatewayUnused(trx, router);
    await removeGatewayPort(trx, router);
    return { gw_network_id: null, gw_port_id: null, enable_snat: 1 };
  }
  const network = await getNetwork(trx, ctx, req.network_id);
  if (!network.external) throw badRequest('router', `Network ${network.id} is not an external network`);
  const snat = req.enable_snat === undefined ? (router.gw_network_id === network.id ? router.enable_snat : 1) : req.enable_snat ? 1 : 0;
  if (router.gw_network_id === network.id && router.gw_port_id) {
    if (req.external_fixed_ips !== undefined) {
      const port = await trx.selectFrom('port').selectAll().where('id', '=', router.gw_port_id).executeTakeFirstOrThrow();
      const wanted = req.external_fixed_ips.length ? req.external_fixed_ips : [{ subnet_id: (await firstSubnet(trx, network.id)).id }];
      await replaceFixedIps(trx, dialect, port, wanted);
      if (!(await allocationsOf(trx, [port.id])).length) throw badRequest('router', `No IPs available for external network ${network.id}`);
    }
    return { enable_snat: snat };
  }
  if (router.gw_network_id) {
    await checkGatewayUnused(trx, router);
    await removeGatewayPort(trx, router);
  }
  const body: Record<string, unknown> = { device_owner: GATEWAY_OWNER, device_id: router.id, name: '', admin_state_up: true };
  if (req.external_fixed_ips?.length) body.fixed_ips = req.external_fixed_ips;
  // The gateway port belongs to no project, as upstream's does.
  const { port, fixedIps } = await createPort(trx, dialect, hooks, { network, projectId: '', body, ctx });
  if (!fixedIps.length) throw badRequest('router', `No IPs available for external network ${network.id}`);
  const subnets = await trx.selectFrom('subnet').select(['id', 'cidr']).where('id', 'in', fixedIps.map((f) => f.subnet_id)).execute();
  await checkNoOverlap(trx, router.id, subnets);
  await trx.insertInto('router_port').values({ router_id: router.id, port_id: port.id, port_type: 'gateway' }).execute();
  return { gw_network_id: network.id, gw_port_id: port.id, enable_snat: snat };
}

async function firstSubnet(trx: RDb, networkId: string): Promise<SubnetRow> {
  const s = await trx.selectFrom('subnet').selectAll().where('network_id', '=', networkId).orderBy('created_at').executeTakeFirst();
  if (!s) throw badRequest('router', `No IPs available for external network ${networkId}`);
  return s;
}

// ---------------------------------------------------------------- interfaces

function interfaceBody(v: unknown): { subnet_id?: string; port_id?: string } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  const b = v as Record<string, unknown>;
  const out: { subnet_id?: string; port_id?: string } = {};
  for (const k of ['subnet_id', 'port_id'] as const) {
    if (b[k] === undefined || b[k] === null) continue;
    if (typeof b[k] !== 'string') throw badInput(`'${String(b[k])}' is not a valid UUID for ${k}`);
    out[k] = b[k] as string;
  }
  return out;
}

export async function addInterface(d: Deps, router: RouterRow, raw: unknown): Promise<InterfaceInfo> {
  const { trx, dialect, hooks, ctx } = d;
  const b = interfaceBody(raw);
  if (b.subnet_id && b.port_id) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
  if (!b.subnet_id && !b.port_id) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  let portId: string;
  let networkId: string;
  if (b.port_id) {
    const port = await getPort(trx, ctx, b.port_id);
    if (!ctx.isAdmin && port.project_id !== ctx.projectId) throw notFoundError('Port', b.port_id);
    if (port.device_id) {
      throw conflictError('PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
    }
    const ips = await allocationsOf(trx, [port.id]);
    if (!ips.length) throw badRequest('router', 'Router port must have at least one fixed IP');
    if (ips.filter((i) => i.ip_version === 4).length > 1) throw badRequest('router', 'Cannot have multiple IPv4 subnets on router port');
    const subnets = [...new Map(ips.map((i) => [i.subnet_id, { id: i.subnet_id, cidr: i.cidr }])).values()];
    await checkNoOverlap(trx, router.id, subnets);
    await trx.updateTable('port').set({ device_id: router.id, device_owner: INTERFACE_OWNER, status: port.admin_state_up ? 'ACTIVE' : 'DOWN', updated_at: now(), revision_number: port.revision_number + 1 })
      .where('id', '=', port.id).execute();
    portId = port.id;
    networkId = port.network_id;
  } else {
    const subnet = await getSubnet(trx, ctx, b.subnet_id!);
    if (!subnet.gateway_ip) throw badRequest('router', 'Subnet for router interface must have a gateway IP');
    if (!ctx.isAdmin && subnet.project_id !== ctx.projectId) {
      throw badRequest('router', `Cannot add interface to router because subnet ${subnet.id} is not owned by project making the request`);
    }
    await checkNoOverlap(trx, router.id, [subnet]);
    const network = await trx.selectFrom('network').selectAll().where('id', '=', subnet.network_id).executeTakeFirstOrThrow() as NetworkRow;
    if (subnet.ip_version === 6) {
      // Another IPv6 prefix on a network the router is already on joins the existing port.
      const interfaces = (await routerPorts(trx, router.id, 'interface')).map((p) => p.port_id);
      const ips = await allocationsOf(trx, interfaces);
      const v6port = interfaces.find((p) => ips.some((i) => i.port_id === p && i.network_id === network.id) && ips.every((i) => i.port_id !== p || i.ip_version === 6));
      if (v6port) {
        const port = await trx.selectFrom('port').selectAll().where('id', '=', v6port).executeTakeFirstOrThrow();
        const keep = ips.filter((i) => i.port_id === v6port).map((i) => ({ subnet_id: i.subnet_id, ip_address: i.ip_address }));
        await replaceFixedIps(trx, dialect, port, [...keep, { subnet_id: subnet.id, ip_address: subnet.gateway_ip }]);
        await touch(trx, router);
        return { id: router.id, tenant_id: router.project_id, project_id: router.project_id, port_id: v6port, subnet_id: subnet.id, subnet_ids: [subnet.id], network_id: network.id };
      }
    }
    const { port } = await createPort(trx, dialect, hooks, {
      network, projectId: router.project_id, ctx,
      body: { device_owner: INTERFACE_OWNER, device_id: router.id, name: '', admin_state_up: true, fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }] },
    });
    portId = port.id;
    networkId = network.id;
  }
  await trx.insertInto('router_port').values({ router_id: router.id, port_id: portId, port_type: 'interface' }).execute();
  await touch(trx, router);
  const subnetIds = (await allocationsOf(trx, [portId])).map((i) => i.subnet_id);
  return { id: router.id, tenant_id: router.project_id, project_id: router.project_id, port_id: portId, subnet_id: subnetIds[0]!, subnet_ids: subnetIds, network_id: networkId };
}

export async function removeInterface(d: Deps, router: RouterRow, raw: unknown): Promise<InterfaceInfo> {
  const { trx } = d;
  const b = interfaceBody(raw);
  if (!b.subnet_id && !b.port_id) throw badRequest('router', 'Either subnet_id or port_id must be specified');
  const interfaces = (await routerPorts(trx, router.id, 'interface')).map((p) => p.port_id);
  const ips = await allocationsOf(trx, interfaces);
  let portId: string;
  let subnetIds: string[];
  if (b.port_id) {
    if (!interfaces.includes(b.port_id)) {
      throw neutronError(404, 'RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${b.port_id}`);
    }
    portId = b.port_id;
    subnetIds = ips.filter((i) => i.port_id === portId).map((i) => i.subnet_id);
    if (b.subnet_id && !subnetIds.includes(b.subnet_id)) {
      throw neutronError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${b.subnet_id}`);
    }
  } else {
    const hit = ips.find((i) => i.subnet_id === b.subnet_id);
    if (!hit) throw neutronError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${b.subnet_id}`);
    portId = hit.port_id;
    subnetIds = [hit.subnet_id];
  }
  const leaving = ips.filter((i) => i.port_id === portId && subnetIds.includes(i.subnet_id));
  const networkId = (await trx.selectFrom('port').select('network_id').where('id', '=', portId).executeTakeFirstOrThrow()).network_id;
  for (const s of leaving) {
    const c = parseCidr(s.cidr)!;
    const fips = await trx.selectFrom('floating_ip').select('fixed_ip_address').where('router_id', '=', router.id).where('fixed_ip_address', 'is not', null).execute();
    if (fips.some((f) => ipVersion(f.fixed_ip_address!) === c.version && contains(c, ipToBig(f.fixed_ip_address!)))) {
      throw conflictError('RouterInterfaceInUseByFloatingIP',
        `Router interface for subnet ${s.subnet_id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`);
    }
    const routes = await trx.selectFrom('router_route').select('nexthop').where('router_id', '=', router.id).execute();
    if (routes.some((r) => ipVersion(r.nexthop) === c.version && contains(c, ipToBig(r.nexthop)))) {
      throw conflictError('RouterInterfaceInUseByRoute',
        `Router interface for subnet ${s.subnet_id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`);
    }
  }
  const portIps = ips.filter((i) => i.port_id === portId);
  if (portIps.length > leaving.length) {
    // A port with addresses on several subnets keeps the others.
    for (const s of leaving) await trx.deleteFrom('ip_allocation').where('port_id', '=', portId).where('subnet_id', '=', s.subnet_id).execute();
  } else {
    await trx.deleteFrom('router_port').where('port_id', '=', portId).execute();
    await deletePortRows(trx, [portId]);
  }
  await touch(trx, router);
  return { id: router.id, tenant_id: router.project_id, project_id: router.project_id, port_id: portId, subnet_id: subnetIds[0] ?? '', subnet_ids: subnetIds, network_id: networkId };
}

// ---------------------------------------------------------------- routes

/** Parses a routes list: valid CIDR destinations, next hops on a connected subnet and not the router's own. */
export async function checkRoutes(trx: RDb, routerId: string, v: unknown): Promise<RouterRouteRow[]> {
  if (v === null) return [];
  if (!Array.isArray(v)) throw badInput(`Invalid data format for routes: '${JSON.stringify(v)}'`);
  const out: RouterRouteRow[] = [];
  for (const r of v) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw badInput(`Invalid data format for route: '${JSON.stringify(r)}'`);
    const extra = Object.keys(r).filter((k) => k !== 'destination' && k !== 'nexthop');
    if (extra.length) throw badInput(`Unexpected keys supplied: ${extra.join(', ')}`);
    const { destination, nexthop } = r as { destination?: unknown; nexthop?: unknown };
    const dest = typeof destination === 'string' ? parseCidr(destination) : null;
    if (!dest) throw badInput(`'${String(destination)}' is not a valid IP subnet`);
    if (typeof destination === 'string' && destination.includes('.') && cidrText(dest) !== destination) {
      throw badInput(`'${destination}' isn't a recognized IP subnet cidr, '${cidrText(dest)}' is recommended`);
    }
    const hop = typeof nexthop === 'string' ? normaliseIp(nexthop) : null;
    if (!hop) throw badInput(`'${String(nexthop)}' is not a valid IP address`);
    if (ipVersion(hop) !== dest.version) throw invalidRoutes(v, `the nexthop ${hop} is not of the destination's IP version`);
    const route = { router_id: routerId, destination: cidrText(dest), nexthop: hop };
    if (out.some((o) => o.destination === route.destination && o.nexthop === route.nexthop)) throw badInput(`Duplicate hostroute '${JSON.stringify(r)}'`);
    out.push(route);
  }
  if (out.length > MAX_ROUTES) {
    throw neutronError(400, 'RoutesExhausted', `Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${MAX_ROUTES}.`);
  }
  const connected = await subnetsOfRouter(trx, routerId);
  for (const r of out) {
    const c = (x: string) => parseCidr(x)!;
    if (!connected.some((s) => s.ip_version === ipVersion(r.nexthop) && contains(c(s.cidr), ipToBig(r.nexthop)))) {
      throw invalidRoutes(v, 'the nexthop is not connected with router');
    }
    if (connected.some((s) => s.ip_address === r.nexthop)) throw invalidRoutes(v, 'the nexthop is used by router');
  }
  return out;
}

const invalidRoutes = (routes: unknown, reason: string) => neutronError(400, 'InvalidRoutes', `Invalid format for routes: ${JSON.stringify(routes)}, ${reason}.`);

export async function replaceRoutes(trx: RDb, routerId: string, routes: RouterRouteRow[]): Promise<void> {
  await trx.deleteFrom('router_route').where('router_id', '=', routerId).execute();
  if (routes.length) await trx.insertInto('router_route').values(routes).execute();
}

export async function currentRoutes(trx: RDb, routerId: string): Promise<{ destination: string; nexthop: string }[]> {
  return trx.selectFrom('router_route').select(['destination', 'nexthop']).where('router_id', '=', routerId).orderBy('destination').orderBy('nexthop').execute();
}

export async function touch(trx: RDb, router: RouterRow): Promise<void> {
  const cur = await trx.selectFrom('router').select('revision_number').where('id', '=', router.id).executeTakeFirst();
  await trx.updateTable('router').set({ updated_at: now(), revision_number: (cur?.revision_number ?? router.revision_number) + 1 }).where('id', '=', router.id).execute();
}

// ---------------------------------------------------------------- create / delete

export function parseRouterFields(ctx: RequestContext, b: Record<string, unknown>, action: 'create' | 'update'): Partial<RouterRow> {
  const set: Partial<RouterRow> = {};
  if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
  if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
  if (b.admin_state_up !== undefined) set.admin_state_up = boolValue(b.admin_state_up, 'admin_state_up') ? 1 : 0;
  for (const k of ['ha', 'distributed'] as const) {
    if (b[k] === undefined) continue;
    if (!ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', `(rule:${action}_router and rule:${action}_router:${k}) is disallowed by policy`);
    set[k] = boolValue(b[k], k) ? 1 : 0;
  }
  return set;
}

export async function createRouter(d: Deps, owner: string, b: Record<string, unknown>, gateway: GatewayRequest | null): Promise<RouterRow> {
  const { trx, dialect } = d;
  await checkQuota(trx, dialect, owner, 'router');
  const t = now();
  const row: RouterRow = {
    id: uuid(), project_id: owner, name: '', description: '', created_at: t, updated_at: t, revision_number: 1,
    admin_state_up: 1, status: 'ACTIVE', gw_network_id: null, gw_port_id: null, enable_snat: 1,
    availability_zone_hints: JSON.stringify(b.availability_zone_hints === undefined ? [] : checkZoneHints(b.availability_zone_hints)),
    ha: 0, distributed: 0, flavor_id: null, ...parseRouterFields(d.ctx, b, 'create'),
  };
  await trx.insertInto('router').values(row).execute();
  if (gateway) {
    const set = await applyGateway(d, row, gateway);
    await trx.updateTable('router').set(set).where('id', '=', row.id).execute();
    Object.assign(row, set);
  }
  return row;
}

export async function deleteRouter(trx: RDb, router: RouterRow): Promise<void> {
  if ((await routerPorts(trx, router.id, 'interface')).length) {
    throw conflictError('RouterInUse', `Router ${router.id} still has ports`);
  }
  await checkGatewayUnused(trx, router);
  const gw = await routerPorts(trx, router.id, 'gateway');
  await trx.deleteFrom('router_port').where('router_id', '=', router.id).execute();
  await deletePortRows(trx, gw.map((p) => p.port_id));
  await trx.deleteFrom('router_route').where('router_id', '=', router.id).execute();
  await trx.deleteFrom('resource_tag').where('resource_type', '=', 'routers').where('resource_id', '=', router.id).execute();
  await trx.deleteFrom('router').where('id', '=', router.id).execute();
}
