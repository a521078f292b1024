import type { Kysely, Transaction } from 'kysely';
import type { NetDb, NetworkTables, Standard } from '../../store.js';

/** The routers part's tables. Booleans are 0/1; lists are JSON text. */
export interface RouterRow extends Standard {
  id: string; admin_state_up: number; status: string; gw_network_id: string | null; gw_port_id: string | null; enable_snat: number;
  availability_zone_hints: string; ha: number; distributed: number; flavor_id: string | null;
}
export interface RouterRouteRow { router_id: string; destination: string; nexthop: string }
export type RouterPortType = 'interface' | 'gateway';
export interface RouterPortRow { router_id: string; port_id: string; port_type: RouterPortType }
export interface FloatingIpRow extends Standard {
  id: string; floating_network_id: string; floating_port_id: string; floating_subnet_id: string | null; floating_ip_address: string;
  fixed_port_id: string | null; fixed_ip_address: string | null; router_id: string | null; status: string;
  dns_name: string; dns_domain: string; qos_policy_id: string | null;
}

export interface RouterTables extends NetworkTables {
  router: RouterRow;
  router_route: RouterRouteRow;
  router_port: RouterPortRow;
  floating_ip: FloatingIpRow;
}

export type RDb = Kysely<RouterTables> | Transaction<RouterTables>;
/** The same connection, typed with this part's tables. */
export const rdb = (db: NetDb): RDb => db as unknown as RDb;

export const INTERFACE_OWNER = 'network:router_interface';
export const GATEWAY_OWNER = 'network:router_gateway';
export const FLOATINGIP_OWNER = 'network:floatingip';

export async function routerPorts(db: RDb, routerId: string, type?: RouterPortType): Promise<RouterPortRow[]> {
  let q = db.selectFrom('router_port').selectAll().where('router_id', '=', routerId);
  if (type) q = q.where('port_type', '=', type);
  return q.execute();
}

/** The addresses of a set of ports, with their subnets' CIDRs. */
export async function allocationsOf(db: RDb, portIds: string[]): Promise<{ port_id: string; subnet_id: string; ip_address: string; cidr: string; ip_version: number; network_id: string }[]> {
  if (!portIds.length) return [];
  return db.selectFrom('ip_allocation').innerJoin('subnet', 'subnet.id', 'ip_allocation.subnet_id')
    .select(['ip_allocation.port_id', 'ip_allocation.subnet_id', 'ip_allocation.ip_address', 'subnet.cidr', 'subnet.ip_version', 'subnet.network_id'])
    .where('ip_allocation.port_id', 'in', portIds).orderBy('subnet.created_at').execute();
}
