import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../../platform/db/index.js';

/** Neutron's tables as Stratus keeps them. Booleans are 0/1; lists and maps are JSON text. */
export interface Standard { project_id: string; name: string; description: string; created_at: number; updated_at: number; revision_number: number }
export interface NetworkRow extends Standard {
  id: string; admin_state_up: number; status: string; shared: number; external: number; is_default: number; mtu: number;
  port_security_enabled: number; availability_zone_hints: string; dns_domain: string;
  provider_network_type: string | null; provider_physical_network: string | null; provider_segmentation_id: number | null;
}
export interface SubnetRow extends Standard {
  id: string; network_id: string; ip_version: number; cidr: string; gateway_ip: string | null; enable_dhcp: number;
  allocation_pools: string; dns_nameservers: string; host_routes: string; ipv6_ra_mode: string | null; ipv6_address_mode: string | null;
  subnetpool_id: string | null; service_types: string; dns_publish_fixed_ip: number;
}
export interface PortRow extends Standard {
  id: string; network_id: string; mac_address: string; admin_state_up: number; status: string; device_id: string; device_owner: string;
  port_security_enabled: number; allowed_address_pairs: string; extra_dhcp_opts: string; binding_host_id: string; binding_profile: string;
  binding_vnic_type: string; dns_name: string;
}
export interface IpAllocationRow { subnet_id: string; ip_address: string; ip_key: string; network_id: string; port_id: string }

export interface NetworkTables {
  network: NetworkRow;
  subnet: SubnetRow;
  port: PortRow;
  ip_allocation: IpAllocationRow;
  port_security_group: { port_id: string; security_group_id: string };
  resource_tag: { resource_type: string; resource_id: string; tag: string };
  network_quota: { project_id: string; resource: string; hard_limit: number };
  // Tables other parts of the service add are reached through their own store files.
  [table: string]: Record<string, any>;
}

export type NetDb = Kysely<NetworkTables> | Transaction<NetworkTables>;
export const networkDb = (db: Db): Kysely<NetworkTables> => db as unknown as Kysely<NetworkTables>;
