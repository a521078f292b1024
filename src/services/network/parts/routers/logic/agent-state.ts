import type { NetDb } from '../../../store.js';
import type { DesiredState } from '../../../dataplane/driver.js';
import { rdb } from '../store.js';

/** Routers (gateway, interface ports, static routes) and floating IPs, as the data plane takes them. */
export async function routerState(db: NetDb, state: DesiredState): Promise<void> {
  const r = rdb(db);
  const [routers, ports, routes, fips] = await Promise.all([
    r.selectFrom('router').select(['id', 'admin_state_up', 'ha', 'distributed', 'gw_network_id', 'gw_port_id', 'enable_snat']).orderBy('id').execute(),
    r.selectFrom('router_port').select(['router_id', 'port_id']).where('port_type', '=', 'interface').orderBy('router_id').orderBy('port_id').execute(),
    r.selectFrom('router_route').selectAll().orderBy('router_id').orderBy('destination').orderBy('nexthop').execute(),
    r.selectFrom('floating_ip').select(['id', 'floating_network_id', 'floating_ip_address', 'fixed_port_id', 'fixed_ip_address', 'router_id']).orderBy('id').execute(),
  ]);
  const interfacesOf = new Map(routers.map((x) => [x.id, [] as string[]]));
  for (const p of ports) interfacesOf.get(p.router_id)?.push(p.port_id);
  const routesOf = new Map(routers.map((x) => [x.id, [] as { destination: string; nexthop: string }[]]));
  for (const x of routes) routesOf.get(x.router_id)?.push({ destination: x.destination, nexthop: x.nexthop });
  state.routers = routers.map((x) => ({
    id: x.id, admin_state_up: x.admin_state_up === 1, ha: x.ha === 1, distributed: x.distributed === 1,
    gateway: x.gw_network_id && x.gw_port_id ? { network_id: x.gw_network_id, port_id: x.gw_port_id, enable_snat: x.enable_snat === 1 } : null,
    interfaces: interfacesOf.get(x.id) ?? [], routes: routesOf.get(x.id) ?? [],
  }));
  state.floatingIps = fips.map((f) => ({
    id: f.id, floating_network_id: f.floating_network_id, floating_ip_address: f.floating_ip_address,
    port_id: f.fixed_port_id, fixed_ip_address: f.fixed_ip_address, router_id: f.router_id,
  }));
}
