import type { RequestContext } from '../../../../../platform/auth/context.js';
import { isUniqueViolation } from '../../../../../platform/db/index.js';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { badInput, neutronError, notFoundError, strValue } from '../../../api/common.js';
import { getNetwork } from '../../../api/networks.js';
import { getPort } from '../../../api/ports.js';
import { checkQuota } from '../../../logic/quota.js';
import { createPort, deletePortRows } from '../../../logic/ports.js';
import { contains, ipToBig, ipVersion, normaliseIp, parseCidr } from '../../../logic/ip.js';
import { allocationsOf, FLOATINGIP_OWNER, type FloatingIpRow, type RDb } from '../store.js';
import { badRequest, type Deps } from './routers.js';

/**
 * Floating IPs: an address on an external network (held by a port of its own) mapped 1:1
 * to a fixed address of a port that a router with its gateway on that network reaches
 * through one of its interfaces.
 */
export interface Association { fixed_port_id: string | null; fixed_ip_address: string | null; router_id: string | null }
const NONE: Association = { fixed_port_id: null, fixed_ip_address: null, router_id: null };

export async function getFloatingIp(trx: RDb, ctx: RequestContext, id: string): Promise<FloatingIpRow> {
  let q = trx.selectFrom('floating_ip').selectAll().where('id', '=', id);
  if (!ctx.isAdmin) q = q.where('project_id', '=', ctx.projectId ?? '');
  const f = await q.executeTakeFirst();
  if (!f) throw notFoundError('Floating IP', id);
  return f;
}

/** Where a floating IP on `networkId` owned by `projectId` may point at port `portId`. */
export async function resolveAssociation(trx: RDb, ctx: RequestContext, fip: { id?: string; project_id: string; floating_network_id: string },
  portId: unknown, fixedIp: unknown): Promise<Association> {
  if (portId === null || portId === undefined) {
    if (fixedIp !== undefined && fixedIp !== null) throw badRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
    return NONE;
  }
  if (typeof portId !== 'string') throw badInput(`'${String(portId)}' is not a valid UUID for port_id`);
  const port = await getPort(trx, ctx, portId);
  if (!ctx.isAdmin && port.project_id !== fip.project_id) {
    throw badRequest('floatingip', `Port ${port.id} is associated with a different tenant than Floating IP ${fip.id ?? ''} and therefore cannot be bound`);
  }
  const ips = await allocationsOf(trx, [port.id]);
  let chosen: (typeof ips)[number] | undefined;
  if (fixedIp !== undefined && fixedIp !== null) {
    const want = typeof fixedIp === 'string' ? normaliseIp(fixedIp) : null;
    if (!want) throw badInput(`'${String(fixedIp)}' is not a valid IP address`);
    chosen = ips.find((i) => i.ip_address === want);
    if (!chosen) throw badRequest('floatingip', `Port ${port.id} does not have fixed ip ${want}`);
    if (ipVersion(want) !== 4) throw badRequest('floatingip', `Cannot add floating IP to port ${port.id}: ${want} is not an IPv4 address`);
  } else {
    const v4 = ips.filter((i) => i.ip_version === 4);
    if (!v4.length) throw badRequest('floatingip', `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
    if (v4.length > 1) throw badRequest('floatingip', `Port ${port.id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP`);
    chosen = v4[0]!;
  }
  // A router with its gateway on the floating network and an interface on the fixed address's subnet.
  const router = await trx.selectFrom('router')
    .innerJoin('router_port', 'router_port.router_id', 'router.id')
    .innerJoin('ip_allocation', 'ip_allocation.port_id', 'router_port.port_id')
    .select('router.id').where('router.gw_network_id', '=', fip.floating_network_id).where('router_port.port_type', '=', 'interface')
    .where('ip_allocation.subnet_id', '=', chosen.subnet_id).orderBy('router.created_at').executeTakeFirst();
  if (!router) {
    throw neutronError(404, 'ExternalGatewayForFloatingIPNotFound',
      `External network ${fip.floating_network_id} is not reachable from subnet ${chosen.subnet_id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`);
  }
  let taken = trx.selectFrom('floating_ip').select(['id', 'floating_ip_address']).where('floating_network_id', '=', fip.floating_network_id)
    .where('fixed_port_id', '=', port.id).where('fixed_ip_address', '=', chosen.ip_address);
  if (fip.id) taken = taken.where('id', '!=', fip.id);
  const other = await taken.executeTakeFirst();
  if (other) throw alreadyAssociated(other, port.id, chosen.ip_address, fip.floating_network_id);
  return { fixed_port_id: port.id, fixed_ip_address: chosen.ip_address, router_id: router.id };
}

const alreadyAssociated = (other: { id: string; floating_ip_address: string } | null, portId: string, ip: string, net: string) =>
  neutronError(409, 'FloatingIPPortAlreadyAssociated',
    `Cannot associate floating IP${other ? ` ${other.floating_ip_address} (${other.id})` : ''} with port ${portId} using fixed IP ${ip}, as that fixed IP already has a floating IP on external network ${net}.`);

/** Writes a floating IP's association; the unique key turns a lost race into the same 409. */
async function writeAssociation(trx: RDb, id: string, a: Association, extra: Partial<FloatingIpRow>, net: string): Promise<void> {
  try {
    await trx.updateTable('floating_ip').set({ ...a, ...extra, status: a.fixed_port_id ? 'ACTIVE' : 'DOWN' }).where('id', '=', id).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyAssociated(null, a.fixed_port_id ?? '', a.fixed_ip_address ?? '', net);
    throw err;
  }
}

export async function createFloatingIp(d: Deps, owner: string, b: Record<string, unknown>): Promise<FloatingIpRow> {
  const { trx, dialect, hooks, ctx } = d;
  if (typeof b.floating_network_id !== 'string') throw badInput("'floating_network_id' is required");
  if (b.floating_ip_address !== undefined && !ctx.isAdmin) {
    throw neutronError(403, 'HTTPForbidden', '(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy');
  }
  const network = await getNetwork(trx, ctx, b.floating_network_id);
  if (!network.external) throw badRequest('floatingip', `Network ${network.id} is not a valid external network`);
  const subnets = await trx.selectFrom('subnet').selectAll().where('network_id', '=', network.id).orderBy('created_at').execute();
  const v4 = subnets.filter((s) => s.ip_version === 4);
  let request: { subnet_id?: string; ip_address?: string };
  if (b.subnet_id !== undefined && b.subnet_id !== null) {
    const s = subnets.find((x) => x.id === b.subnet_id);
    if (!s) throw badRequest('floatingip', `Subnet ${String(b.subnet_id)} is not on external network ${network.id}`);
    if (s.ip_version !== 4) throw badRequest('floatingip', `Subnet ${s.id} is not an IPv4 subnet`);
    request = { subnet_id: s.id };
  } else if (!v4.length) {
    throw badRequest('floatingip', `Network ${network.id} does not contain any IPv4 subnet`);
  } else {
    request = { subnet_id: v4[0]!.id };
  }
  if (b.floating_ip_address !== undefined && b.floating_ip_address !== null) {
    const ip = typeof b.floating_ip_address === 'string' ? normaliseIp(b.floating_ip_address) : null;
    if (!ip || ipVersion(ip) !== 4) throw badInput(`'${String(b.floating_ip_address)}' is not a valid IPv4 address`);
    const s = request.subnet_id && b.subnet_id ? v4.find((x) => x.id === request.subnet_id) : v4.find((x) => contains(parseCidr(x.cidr)!, ipToBig(ip)));
    if (!s || !contains(parseCidr(s.cidr)!, ipToBig(ip))) throw neutronError(400, 'InvalidIpForNetwork', `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`);
    request = { subnet_id: s.id, ip_address: ip };
  }
  const t = now();
  const id = uuid();
  const base = { id, project_id: owner, floating_network_id: network.id };
  // Check the association first, so a refused one leaves no address behind.
  const assoc = await resolveAssociation(trx, ctx, base, b.port_id, b.fixed_ip_address);
  await checkQuota(trx, dialect, owner, 'floatingip');
  const { port, fixedIps } = await createPort(trx, dialect, hooks, {
    network, projectId: '', ctx, body: { device_owner: FLOATINGIP_OWNER, device_id: id, name: '', admin_state_up: true, fixed_ips: [request] },
  });
  const addr = fixedIps.find((f) => ipVersion(f.ip_address) === 4);
  if (!addr) throw neutronError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${network.id}.`);
  const row: FloatingIpRow = {
    ...base, name: '', description: b.description === undefined ? '' : strValue(b.description, 'description')!, created_at: t, updated_at: t,
    revision_number: 0, floating_port_id: port.id, floating_subnet_id: addr.subnet_id, floating_ip_address: addr.ip_address,
    ...NONE, status: 'DOWN', dns_name: b.dns_name === undefined ? '' : strValue(b.dns_name, 'dns_name')!,
    dns_domain: b.dns_domain === undefined ? '' : strValue(b.dns_domain, 'dns_domain')!, qos_policy_id: null,
  };
  await trx.insertInto('floating_ip').values(row).execute();
  if (assoc.fixed_port_id) {
    await writeAssociation(trx, id, assoc, {}, network.id);
    Object.assign(row, assoc, { status: 'ACTIVE' });
  }
  return row;
}

/**
 * PUT, as upstream: the body's port_id (and fixed_ip_address) is the new association, so a
 * body without port_id disassociates (the api-ref says so too).
 */
export async function updateFloatingIp(d: Deps, fip: FloatingIpRow, b: Record<string, unknown>): Promise<void> {
  const { trx, ctx } = d;
  const extra: Partial<FloatingIpRow> = { updated_at: now(), revision_number: fip.revision_number + 1 };
  if (b.description !== undefined) extra.description = strValue(b.description, 'description')!;
  const assoc = await resolveAssociation(trx, ctx, fip, b.port_id, b.fixed_ip_address);
  await writeAssociation(trx, fip.id, assoc, extra, fip.floating_network_id);
}

export async function deleteFloatingIp(trx: RDb, fip: FloatingIpRow): Promise<void> {
  await trx.deleteFrom('floating_ip').where('id', '=', fip.id).execute();
  await deletePortRows(trx, [fip.floating_port_id]);
  await trx.deleteFrom('resource_tag').where('resource_type', '=', 'floatingips').where('resource_id', '=', fip.id).execute();
}

/** A fixed port going away takes its floating IPs' associations with it. */
export async function disassociatePort(trx: RDb, portId: string): Promise<void> {
  const t = now();
  const fips = await trx.selectFrom('floating_ip').select(['id', 'revision_number']).where('fixed_port_id', '=', portId).execute();
  for (const f of fips) {
    await trx.updateTable('floating_ip').set({ ...NONE, status: 'DOWN', updated_at: t, revision_number: f.revision_number + 1 }).where('id', '=', f.id).execute();
  }
}
