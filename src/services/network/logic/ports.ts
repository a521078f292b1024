import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../../platform/auth/context.js';
import type { Dialect } from '../../../platform/db/index.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import { badInput, boolValue, conflictError, neutronError, strValue } from '../api/common.js';
import type { NetDb, NetworkRow, PortRow } from '../store.js';
import type { NetworkHooks } from './hooks.js';
import { allocate, defaultRequests, resolveRequests, type FixedIp } from './ipam.js';
import { normaliseIp, parseCidr } from './ip.js';
import { checkQuota } from './quota.js';

/**
 * Port logic shared by the ports API and every service that needs a port (router
 * interfaces and gateways, floating IPs, servers): creation with MAC and IP allocation,
 * security group defaults, and deletion.
 */
export interface PortInput {
  network: NetworkRow;
  projectId: string;
  body: Record<string, unknown>;
  ctx: RequestContext;
  /** A port the network itself owns (DHCP): counted in the project's usage, never refused for quota. */
  internal?: boolean;
}

export const randomMac = (): string => `fa:16:3e:${[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

export function parseAddressPairs(v: unknown): { ip_address: string; mac_address?: string }[] {
  if (!Array.isArray(v)) throw badInput(`Allowed address pairs must be a list.`);
  return v.map((p) => {
    if (!p || typeof p !== 'object' || typeof (p as { ip_address?: unknown }).ip_address !== 'string') throw neutronError(400, 'AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const { ip_address, mac_address } = p as { ip_address: string; mac_address?: unknown };
    if (!normaliseIp(ip_address) && !parseCidr(ip_address)) throw badInput(`'${ip_address}' is not a valid IP address or CIDR`);
    if (mac_address !== undefined && (typeof mac_address !== 'string' || !MAC.test(mac_address.toLowerCase()))) throw badInput(`'${String(mac_address)}' is not a valid MAC address`);
    return mac_address ? { ip_address, mac_address: (mac_address as string).toLowerCase() } : { ip_address };
  });
}

export function parseDhcpOpts(v: unknown): { opt_name: string; opt_value: string; ip_version: number }[] {
  if (!Array.isArray(v)) throw badInput('extra_dhcp_opts must be a list');
  return v.map((o) => {
    const { opt_name, opt_value, ip_version } = (o ?? {}) as { opt_name?: unknown; opt_value?: unknown; ip_version?: unknown };
    if (typeof opt_name !== 'string' || !opt_name) throw badInput('extra_dhcp_opts need an opt_name');
    if (opt_value !== null && typeof opt_value !== 'string') throw badInput('opt_value must be a string');
    return { opt_name, opt_value: opt_value as string, ip_version: ip_version === undefined ? 4 : Number(ip_version) };
  });
}

/** A port is ACTIVE once something is plugged into it (the no-op agent binds at once). */
export const portStatus = (p: Pick<PortRow, 'admin_state_up' | 'device_id' | 'device_owner'>): string =>
  p.admin_state_up && (p.device_id || p.device_owner.startsWith('network:')) ? 'ACTIVE' : 'DOWN';

export async function createPort(trx: NetDb, dialect: Dialect, hooks: NetworkHooks, input: PortInput): Promise<{ port: PortRow; fixedIps: FixedIp[] }> {
  const { network, projectId, body: b, ctx } = input;
  if (!input.internal) await checkQuota(trx, dialect, projectId, 'port');
  const t = now();
  let mac = b.mac_address === undefined ? randomMac() : String(b.mac_address).toLowerCase();
  if (b.mac_address === undefined) {
    // 24 random bits collide within a network of thousands of ports: draw again, as Neutron does.
    for (let i = 0; i < 16 && (await trx.selectFrom('port').select('id').where('network_id', '=', network.id).where('mac_address', '=', mac).executeTakeFirst()); i++) mac = randomMac();
  }
  if (!MAC.test(mac) || mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff') throw badInput(`'${String(b.mac_address)}' is not a valid MAC address`);
  if (b.mac_address !== undefined) {
    const taken = await trx.selectFrom('port').select('id').where('network_id', '=', network.id).where('mac_address', '=', mac).executeTakeFirst();
    if (taken) throw conflictError('MacAddressInUse', `Unable to complete operation for network ${network.id}. The mac address ${mac} is in use.`);
  }
  const owner = b.device_owner === undefined ? '' : strValue(b.device_owner, 'device_owner')!;
  const portSecurity = b.port_security_enabled === undefined ? network.port_security_enabled === 1 : boolValue(b.port_security_enabled, 'port_security_enabled');
  const pairs = b.allowed_address_pairs === undefined ? [] : parseAddressPairs(b.allowed_address_pairs);
  if (!portSecurity && pairs.length) throw conflictError('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  const port: PortRow = {
    id: uuid(), project_id: projectId, network_id: network.id, name: b.name === undefined ? '' : strValue(b.name, 'name')!,
    description: b.description === undefined ? '' : strValue(b.description, 'description')!, created_at: t, updated_at: t, revision_number: 1,
    mac_address: mac, admin_state_up: b.admin_state_up === undefined ? 1 : boolValue(b.admin_state_up, 'admin_state_up') ? 1 : 0, status: 'DOWN',
    device_id: b.device_id === undefined ? '' : strValue(b.device_id, 'device_id')!, device_owner: owner, port_security_enabled: portSecurity ? 1 : 0,
    allowed_address_pairs: JSON.stringify(pairs), extra_dhcp_opts: JSON.stringify(b.extra_dhcp_opts === undefined ? [] : parseDhcpOpts(b.extra_dhcp_opts)),
    binding_host_id: b['binding:host_id'] === undefined ? '' : strValue(b['binding:host_id'], 'binding:host_id')!,
    binding_profile: JSON.stringify(b['binding:profile'] ?? {}), binding_vnic_type: b['binding:vnic_type'] === undefined ? 'normal' : strValue(b['binding:vnic_type'], 'binding:vnic_type')!,
    dns_name: b.dns_name === undefined ? '' : strValue(b.dns_name, 'dns_name')!,
  };
  port.status = portStatus(port);
  await trx.insertInto('port').values(port).execute();
  const subnets = await trx.selectFrom('subnet').selectAll().where('network_id', '=', network.id).orderBy('created_at').execute();
  const wants = b.fixed_ips === undefined ? defaultRequests(subnets, owner) : resolveRequests(network.id, subnets, b.fixed_ips, owner);
  const fixedIps = await allocate(trx, dialect, port.id, mac, wants, subnets.filter((s) => s.ip_version === 4));
  let groups: string[] = [];
  if (b.security_groups !== undefined) {
    if (!Array.isArray(b.security_groups)) throw badInput('security_groups must be a list');
    groups = hooks.checkSecurityGroups ? await hooks.checkSecurityGroups(trx, projectId, b.security_groups as string[], ctx.isAdmin) : [];
  } else if (portSecurity && !owner.startsWith('network:') && hooks.defaultSecurityGroup) {
    groups = [await hooks.defaultSecurityGroup(trx, projectId)];
  }
  if (groups.length && !portSecurity) throw conflictError('PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
  if (groups.length) await trx.insertInto('port_security_group').values(groups.map((g) => ({ port_id: port.id, security_group_id: g }))).execute();
  return { port, fixedIps };
}

/** Replaces a port's addresses (port set --fixed-ip / --no-fixed-ip). */
export async function replaceFixedIps(trx: NetDb, dialect: Dialect, port: PortRow, requests: unknown): Promise<void> {
  const subnets = await trx.selectFrom('subnet').selectAll().where('network_id', '=', port.network_id).orderBy('created_at').execute();
  const wants = resolveRequests(port.network_id, subnets, requests, port.device_owner);
  const current = await trx.selectFrom('ip_allocation').selectAll().where('port_id', '=', port.id).execute();
  const keep = current.filter((c) => wants.some((w) => w.subnet.id === c.subnet_id && (w.ip === null || w.ip === c.ip_address)));
  const drop = current.filter((c) => !keep.includes(c));
  for (const d of drop) await trx.deleteFrom('ip_allocation').where('subnet_id', '=', d.subnet_id).where('ip_address', '=', d.ip_address).execute();
  // An item naming only a subnet keeps one existing address there; exact addresses are added.
  const remaining = [...keep];
  const add = wants.filter((w) => {
    const i = remaining.findIndex((c) => c.subnet_id === w.subnet.id && (w.ip === null || w.ip === c.ip_address));
    if (i >= 0) { remaining.splice(i, 1); return false; }
    return true;
  });
  await allocate(trx, dialect, port.id, port.mac_address, add);
}

export async function deletePortRows(trx: NetDb, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await trx.deleteFrom('ip_allocation').where('port_id', 'in', ids).execute();
  await trx.deleteFrom('port_security_group').where('port_id', 'in', ids).execute();
  await trx.deleteFrom('resource_tag').where('resource_type', '=', 'ports').where('resource_id', 'in', ids).execute();
  await trx.deleteFrom('port').where('id', 'in', ids).execute();
}
