import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/auth/context.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { NetDb, SubnetRow } from '../store.js';
import { subnetViews } from '../views.js';
import { checkQuota } from '../logic/quota.js';
import { isAutoAddress } from '../logic/ipam.js';
import { cidrText, overlaps, parseCidr } from '../logic/ip.js';
import { checkCidr, checkGateway, checkHostRoutes, checkIpv6Modes, checkNameservers, checkPools, defaultGateway, defaultPools } from '../logic/subnets.js';
import { syncDhcpPorts, DHCP_OWNER } from '../logic/dhcp.js';
import { getNetwork, rbacNetworkIds } from './networks.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from './listing.js';
import { badInput, boolValue, conflictError, neutronError, notFoundError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps, createBodies } from './common.js';

/** /v2.0/subnets: IPv4 and IPv6 (SLAAC, DHCPv6), from a CIDR or a subnet pool. */
const ATTRS = ['network_id', 'cidr', 'ip_version', 'name', 'description', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers',
  'host_routes', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id', 'prefixlen', 'service_types', 'tenant_id', 'project_id',
  'use_default_subnetpool', 'segment_id', 'dns_publish_fixed_ip'];
const UPDATABLE = ['name', 'description', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers', 'host_routes', 'service_types', 'dns_publish_fixed_ip', 'segment_id'];

export const subnetList: ListSpec = {
  collection: 'subnets', table: 'subnet', tagType: 'subnets',
  columns: {
    ...standardColumns, ...sameName('str', ['network_id', 'cidr', 'gateway_ip', 'ipv6_ra_mode', 'ipv6_address_mode', 'subnetpool_id']),
    ...sameName('bool', ['enable_dhcp']), ...sameName('int', ['ip_version']),
  },
  sortable: ['id', 'name', 'project_id', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'created_at', 'updated_at'],
};

/** Subnets visible to a caller: those of networks it can see. */
export function visibleSubnets(db: NetDb, ctx: RequestContext) {
  let q = db.selectFrom('subnet').selectAll('subnet');
  if (!ctx.isAdmin) {
    q = q.where((eb) => eb.or([
      eb('subnet.project_id', '=', ctx.projectId ?? ''),
      // Subnets of an external network stay private to its owner unless the network is shared.
      eb('subnet.network_id', 'in', eb.selectFrom('network').select('id').where((e) => e.or([e('shared', '=', 1), e('project_id', '=', ctx.projectId ?? '')]))),
      // Subnets of networks shared with the project by RBAC.
      eb('subnet.network_id', 'in', rbacNetworkIds(db, ctx.projectId ?? '', ['access_as_shared'])),
    ]));
  }
  return q;
}

export async function getSubnet(db: NetDb, ctx: RequestContext, id: string): Promise<SubnetRow> {
  const s = await visibleSubnets(db, ctx).where('subnet.id', '=', id).executeTakeFirst();
  if (!s) throw notFoundError('Subnet', id);
  return s as SubnetRow;
}

export async function subnetRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db, platform, hooks } = deps;
  const show = async (req: FastifyRequest, row: SubnetRow) => pickFields(req, (await subnetViews(db, [row]))[0]!);

  // One subnet, inside the caller's transaction (a bulk create is all or nothing).
  const createOne = async (trx: NetDb, ctx: RequestContext, b: Record<string, unknown>): Promise<SubnetRow> => {
    if (typeof b.network_id !== 'string') throw badInput("'network_id' is required");
    const network = await getNetwork(trx, ctx, b.network_id);
    if (!ctx.isAdmin && network.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', '(rule:create_subnet) is disallowed by policy');
    const owner = ownerOf(ctx, b);
    const version = b.ip_version === undefined ? (typeof b.cidr === 'string' ? parseCidr(b.cidr)?.version : undefined) : Number(b.ip_version);
    if (version !== 4 && version !== 6) throw badInput(`${String(b.ip_version)} is not in [4, 6]`);
    await checkQuota(trx, platform.dialect, owner, 'subnet');
    let cidrInput = b.cidr;
    let poolId: string | null = null;
    if (b.subnetpool_id !== undefined && b.subnetpool_id !== null || b.use_default_subnetpool === true) {
      if (!hooks.allocateFromPool) throw neutronError(404, 'SubnetPoolNotFound', 'Subnet pools are not available.');
      const got = await hooks.allocateFromPool(trx, { ctx, poolId: (b.subnetpool_id as string | undefined) ?? null, useDefault: b.use_default_subnetpool === true, ipVersion: version, prefixlen: b.prefixlen, cidr: b.cidr, projectId: owner });
      cidrInput = got.cidr;
      poolId = got.poolId;
    } else if (b.cidr === undefined) {
      throw badInput('a cidr must be provided in the absence of a subnet pool');
    }
    const c = checkCidr(cidrInput, version);
    const siblings = await trx.selectFrom('subnet').select(['id', 'cidr']).where('network_id', '=', network.id).execute();
    for (const s of siblings) {
      if (overlaps(c, parseCidr(s.cidr)!)) throw badInput(`Requested subnet with cidr: ${cidrText(c)} for network: ${network.id} overlaps with another subnet`);
    }
    const gateway = b.gateway_ip === undefined ? defaultGateway(c) : checkGateway(b.gateway_ip, c);
    const pools = b.allocation_pools === undefined ? defaultPools(c, gateway) : checkPools(b.allocation_pools, c, gateway);
    const modes = checkIpv6Modes(version, b.ipv6_ra_mode, b.ipv6_address_mode, c);
    const enableDhcp = b.enable_dhcp === undefined ? true : boolValue(b.enable_dhcp, 'enable_dhcp');
    const t = now();
    const row: SubnetRow = {
      id: uuid(), project_id: owner, network_id: network.id, name: b.name === undefined ? '' : strValue(b.name, 'name')!,
      description: b.description === undefined ? '' : strValue(b.description, 'description')!, created_at: t, updated_at: t, revision_number: 0,
      ip_version: version, cidr: cidrText(c), gateway_ip: gateway, enable_dhcp: enableDhcp ? 1 : 0, allocation_pools: JSON.stringify(pools),
      dns_nameservers: JSON.stringify(b.dns_nameservers === undefined ? [] : checkNameservers(b.dns_nameservers, version)),
      host_routes: JSON.stringify(b.host_routes === undefined ? [] : checkHostRoutes(b.host_routes, version)),
      ipv6_ra_mode: modes.ra, ipv6_address_mode: modes.address, subnetpool_id: poolId,
      service_types: JSON.stringify(b.service_types === undefined ? [] : checkServiceTypes(b.service_types)),
      dns_publish_fixed_ip: b.dns_publish_fixed_ip === true ? 1 : 0,
    };
    await trx.insertInto('subnet').values(row).execute();
    await trx.updateTable('network').set({ updated_at: t }).where('id', '=', network.id).execute();
    return row;
  };

  app.post('/v2.0/subnets', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const { items, bulk } = createBodies(req, 'subnet', 'subnets', ATTRS);
    const rows = await db.transaction().execute(async (trx) => {
      const out: SubnetRow[] = [];
      for (const b of items) out.push(await createOne(trx, ctx, b));
      for (const networkId of new Set(out.filter((r) => r.enable_dhcp).map((r) => r.network_id))) await syncDhcpPorts(trx, platform.dialect, hooks, ctx, networkId);
      return out;
    });
    reply.status(201);
    const views = await Promise.all(rows.map((r) => show(req, r)));
    return bulk ? { subnets: views } : { subnet: views[0] };
  });

  app.get('/v2.0/subnets', async (req) => {
    const { rows, links } = await listRows(req, db, visibleSubnets(db, req.ctx), subnetList);
    const views = await subnetViews(db, rows as SubnetRow[]);
    return { subnets: views.map((v) => pickFields(req, v)), ...(links.length ? { subnets_links: links } : {}) };
  });

  app.get('/v2.0/subnets/:id', async (req) => ({ subnet: await show(req, await getSubnet(db, req.ctx, (req.params as { id: string }).id)) }));

  app.put('/v2.0/subnets/:id', async (req) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const s = await getSubnet(db, ctx, id);
    if (!ctx.isAdmin && s.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', '(rule:update_subnet) is disallowed by policy');
    requireWriter(ctx);
    const b = resourceBody(req, 'subnet', [...UPDATABLE, ...ATTRS]);
    const fixed = Object.keys(b).filter((k) => !UPDATABLE.includes(k));
    if (fixed.length) throw badInput(`Cannot update read-only attribute ${fixed.join(', ')}`);
    const c = parseCidr(s.cidr)!;
    const set: Partial<SubnetRow> = {};
    if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
    if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
    if (b.enable_dhcp !== undefined) set.enable_dhcp = boolValue(b.enable_dhcp, 'enable_dhcp') ? 1 : 0;
    if (b.gateway_ip !== undefined) set.gateway_ip = checkGateway(b.gateway_ip, c);
    const gateway = set.gateway_ip !== undefined ? set.gateway_ip : s.gateway_ip;
    if (b.allocation_pools !== undefined) set.allocation_pools = JSON.stringify(checkPools(b.allocation_pools, c, gateway));
    else if (b.gateway_ip !== undefined) checkPools(JSON.parse(s.allocation_pools), c, gateway);
    if (b.dns_nameservers !== undefined) set.dns_nameservers = JSON.stringify(checkNameservers(b.dns_nameservers, s.ip_version));
    if (b.host_routes !== undefined) set.host_routes = JSON.stringify(checkHostRoutes(b.host_routes, s.ip_version));
    if (b.service_types !== undefined) set.service_types = JSON.stringify(checkServiceTypes(b.service_types));
    if (b.dns_publish_fixed_ip !== undefined) set.dns_publish_fixed_ip = boolValue(b.dns_publish_fixed_ip, 'dns_publish_fixed_ip') ? 1 : 0;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('subnet').set({ ...set, updated_at: now(), revision_number: s.revision_number + 1 }).where('id', '=', id).execute();
      if (set.enable_dhcp !== undefined && set.enable_dhcp !== s.enable_dhcp) await syncDhcpPorts(trx, platform.dialect, hooks, ctx, s.network_id);
    });
    return { subnet: await show(req, (await db.selectFrom('subnet').selectAll().where('id', '=', id).executeTakeFirst())!) };
  });

  app.delete('/v2.0/subnets/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const s = await getSubnet(db, ctx, id);
    if (!ctx.isAdmin && s.project_id !== ctx.projectId) throw neutronError(403, 'HTTPForbidden', '(rule:delete_subnet) is disallowed by policy');
    requireWriter(ctx);
    await db.transaction().execute(async (trx) => {
      for (const h of hooks.beforeSubnetDelete ?? []) await h(trx, id);
      // Automatic (SLAAC) addresses are not the port's choice: they go with the subnet.
      if (isAutoAddress(s)) {
        await trx.deleteFrom('ip_allocation').where('subnet_id', '=', id)
          .where('port_id', 'not in', trx.selectFrom('port').select('id').where('device_owner', 'like', 'network:router%')).execute();
      }
      const inUse = await trx.selectFrom('ip_allocation').innerJoin('port', 'port.id', 'ip_allocation.port_id').select('port.id')
        .where('ip_allocation.subnet_id', '=', id).where('port.device_owner', '!=', DHCP_OWNER).limit(1).executeTakeFirst();
      if (inUse) throw conflictError('SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);
      // The DHCP ports let go of their address here (and go when no DHCP subnet is left).
      await trx.deleteFrom('ip_allocation').where('subnet_id', '=', id).execute();
      await trx.deleteFrom('resource_tag').where('resource_type', '=', 'subnets').where('resource_id', '=', id).execute();
      await trx.deleteFrom('subnet').where('id', '=', id).execute();
      await syncDhcpPorts(trx, platform.dialect, hooks, ctx, s.network_id);
    });
    reply.status(204).send();
  });
}

function checkServiceTypes(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !/^(network|compute):/.test(x))) throw badInput(`Invalid service types ${JSON.stringify(v)}`);
  return v as string[];
}
