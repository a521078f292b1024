import { json } from '../../../platform/json.js';
import type { NetDb } from '../store.js';
import type { NetworkHooks } from '../logic/hooks.js';
import type { DesiredState } from '../dataplane/driver.js';

/**
 * The desired state a host's data plane must realise, read from the database in a few
 * whole-table queries. The core fills networks, subnets and ports; the parts that own
 * security groups and routers fill theirs through NetworkHooks.agentState. Status columns
 * are left out on purpose: they are what the agent writes back, not what it realises.
 */
export async function loadDesiredState(db: NetDb, hooks: NetworkHooks, host: string): Promise<DesiredState> {
  const state: DesiredState = { host, networks: [], subnets: [], ports: [], securityGroups: [], addressGroups: [], routers: [], floatingIps: [] };
  const [networks, subnets, ports, ips, groups] = await Promise.all([
    db.selectFrom('network').select(['id', 'mtu', 'admin_state_up', 'external', 'provider_network_type', 'provider_physical_network', 'provider_segmentation_id']).orderBy('id').execute(),
    db.selectFrom('subnet').select(['id', 'network_id', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'allocation_pools', 'dns_nameservers', 'host_routes', 'ipv6_ra_mode', 'ipv6_address_mode']).orderBy('id').execute(),
    db.selectFrom('port').select(['id', 'network_id', 'mac_address', 'admin_state_up', 'device_id', 'device_owner', 'binding_host_id', 'port_security_enabled', 'allowed_address_pairs', 'extra_dhcp_opts', 'dns_name']).orderBy('id').execute(),
    db.selectFrom('ip_allocation').select(['port_id', 'subnet_id', 'ip_address']).orderBy('port_id').orderBy('ip_key').execute(),
    db.selectFrom('port_security_group').select(['port_id', 'security_group_id']).orderBy('port_id').orderBy('security_group_id').execute(),
  ]);
  state.networks = networks.map((n) => ({
    id: n.id, mtu: n.mtu, admin_state_up: n.admin_state_up === 1, external: n.external === 1,
    network_type: n.provider_network_type, physical_network: n.provider_physical_network, segmentation_id: n.provider_segmentation_id,
  }));
  state.subnets = subnets.map((s) => ({
    id: s.id, network_id: s.network_id, ip_version: s.ip_version, cidr: s.cidr, gateway_ip: s.gateway_ip, enable_dhcp: s.enable_dhcp === 1,
    allocation_pools: json(s.allocation_pools, []), dns_nameservers: json(s.dns_nameservers, []), host_routes: json(s.host_routes, []),
    ipv6_ra_mode: s.ipv6_ra_mode, ipv6_address_mode: s.ipv6_address_mode,
  }));
  const ipsOf = new Map<string, { subnet_id: string; ip_address: string }[]>();
  for (const a of ips) (ipsOf.get(a.port_id) ?? ipsOf.set(a.port_id, []).get(a.port_id)!).push({ subnet_id: a.subnet_id, ip_address: a.ip_address });
  const groupsOf = new Map<string, string[]>();
  for (const g of groups) (groupsOf.get(g.port_id) ?? groupsOf.set(g.port_id, []).get(g.port_id)!).push(g.security_group_id);
  state.ports = ports.map((p) => ({
    id: p.id, network_id: p.network_id, mac_address: p.mac_address, admin_state_up: p.admin_state_up === 1, device_id: p.device_id,
    device_owner: p.device_owner, host: p.binding_host_id, fixed_ips: ipsOf.get(p.id) ?? [], port_security_enabled: p.port_security_enabled === 1,
    security_groups: groupsOf.get(p.id) ?? [], allowed_address_pairs: json(p.allowed_address_pairs, []), extra_dhcp_opts: json(p.extra_dhcp_opts, []),
    dns_name: p.dns_name,
  }));
  for (const fill of hooks.agentState) await fill(db, state);
  return state;
}
