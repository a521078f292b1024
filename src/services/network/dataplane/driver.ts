/**
 * The data plane interface: what a host must realise for the networking API's state to
 * carry packets. The network agent (agent/agent.ts) reads the desired state from the
 * database, works out what changed since its last successful pass, and hands both to the
 * host's data plane. A Linux plane turns it into bridges, namespaces, veth/tap devices,
 * dnsmasq, nftables and NAT; the no-op plane (noop.ts) realises nothing, for API-only
 * clouds and machines without privileges.
 *
 * Shapes are plain data in Neutron's words, decoupled from the tables, so a plane never
 * reads the database and the state can cross a process boundary (an agent on another host).
 */
export interface FixedIp { subnet_id: string; ip_address: string }

export interface DataplaneNetwork {
  id: string; mtu: number; admin_state_up: boolean; external: boolean;
  network_type: string | null; physical_network: string | null; segmentation_id: number | null;
}
export interface DataplaneSubnet {
  id: string; network_id: string; ip_version: number; cidr: string; gateway_ip: string | null; enable_dhcp: boolean;
  allocation_pools: { start: string; end: string }[]; dns_nameservers: string[]; host_routes: { destination: string; nexthop: string }[];
  ipv6_ra_mode: string | null; ipv6_address_mode: string | null;
}
export interface DataplanePort {
  id: string; network_id: string; mac_address: string; admin_state_up: boolean; device_id: string; device_owner: string;
  /** binding:host_id: the host that plugs the port ('' while unbound). */
  host: string;
  fixed_ips: FixedIp[]; port_security_enabled: boolean; security_groups: string[];
  allowed_address_pairs: { ip_address: string; mac_address?: string }[];
  extra_dhcp_opts: { opt_name: string; opt_value: string; ip_version: number }[];
  dns_name: string;
}
export interface DataplaneSecurityGroupRule {
  id: string; direction: 'ingress' | 'egress'; ethertype: string; protocol: string | null;
  port_range_min: number | null; port_range_max: number | null;
  remote_ip_prefix: string | null; remote_group_id: string | null; remote_address_group_id: string | null;
}
export interface DataplaneSecurityGroup { id: string; stateful: boolean; rules: DataplaneSecurityGroupRule[] }
export interface DataplaneAddressGroup { id: string; addresses: string[] }
export interface DataplaneRouter {
  id: string; admin_state_up: boolean; ha: boolean; distributed: boolean;
  gateway: { network_id: string; port_id: string; enable_snat: boolean } | null;
  /** Interface ports (their fixed IPs are the router's addresses on each subnet). */
  interfaces: string[];
  routes: { destination: string; nexthop: string }[];
}
export interface DataplaneFloatingIp {
  id: string; floating_network_id: string; floating_ip_address: string;
  /** Set while associated: DNAT floating → fixed on the router, SNAT back. */
  port_id: string | null; fixed_ip_address: string | null; router_id: string | null;
}

/** Everything one host must realise. Each list is keyed by `id`. */
export interface DesiredState {
  host: string;
  networks: DataplaneNetwork[];
  subnets: DataplaneSubnet[];
  ports: DataplanePort[];
  securityGroups: DataplaneSecurityGroup[];
  addressGroups: DataplaneAddressGroup[];
  routers: DataplaneRouter[];
  floatingIps: DataplaneFloatingIp[];
}
export type ResourceKind = Exclude<keyof DesiredState, 'host'>;
export const RESOURCE_KINDS: ResourceKind[] = ['networks', 'subnets', 'securityGroups', 'addressGroups', 'ports', 'routers', 'floatingIps'];

/** What changed since the plane's last successful apply: created or changed resources, and ids gone. */
export type Changes = { [K in ResourceKind]: { upsert: DesiredState[K]; remove: string[] } };

/** Statuses the plane observed; the agent writes back those that differ from the API's. */
export interface Realised {
  status?: Partial<Record<'ports' | 'routers' | 'floatingIps', Record<string, 'ACTIVE' | 'DOWN' | 'ERROR'>>>;
}

export interface Dataplane {
  readonly name: string;
  /**
   * Makes the host match `full`. `changes` says what differs from the last call that
   * succeeded (the first call has everything as upserts), so a plane can work
   * incrementally; it must stay idempotent: after a crash the same changes come again.
   * Throwing leaves the agent's view unchanged, and it retries.
   */
  apply(changes: Changes, full: DesiredState): Promise<Realised>;
  close?(): Promise<void>;
}
