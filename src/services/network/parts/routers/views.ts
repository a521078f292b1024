import type { RequestContext } from '../../../../platform/auth/context.js';
import { json } from '../../../../platform/json.js';
import { standardView, tagsFor } from '../../views.js';
import { allocationsOf, type FloatingIpRow, type RDb, type RouterRow } from './store.js';
import { routerZones } from './logic/routers.js';

/** Routers and floating IPs in Neutron's wire shape; a page loads related rows at once. */
const bool = (n: number) => n === 1;

export async function routerViews(db: RDb, ctx: RequestContext, rows: RouterRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db, 'routers', ids);
  const routes = ids.length ? await db.selectFrom('router_route').selectAll().where('router_id', 'in', ids).orderBy('destination').orderBy('nexthop').execute() : [];
  const gwIps = await allocationsOf(db, rows.map((r) => r.gw_port_id).filter((p): p is string => !!p));
  return rows.map((r) => {
    const v: Record<string, unknown> = {
      ...standardView(r, tags.get(r.id)),
      admin_state_up: bool(r.admin_state_up), status: r.status,
      external_gateway_info: r.gw_network_id ? {
        network_id: r.gw_network_id, enable_snat: bool(r.enable_snat),
        external_fixed_ips: gwIps.filter((i) => i.port_id === r.gw_port_id).map((i) => ({ subnet_id: i.subnet_id, ip_address: i.ip_address })),
      } : null,
      routes: routes.filter((x) => x.router_id === r.id).map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
      availability_zone_hints: json<string[]>(r.availability_zone_hints, []), availability_zones: routerZones(r),
      flavor_id: r.flavor_id,
    };
    // Upstream shows the HA and DVR flags to admins only.
    if (ctx.isAdmin) { v.ha = bool(r.ha); v.distributed = bool(r.distributed); }
    return v;
  });
}

export async function floatingIpViews(db: RDb, rows: FloatingIpRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db, 'floatingips', ids);
  const portIds = [...new Set(rows.map((r) => r.fixed_port_id).filter((p): p is string => !!p))];
  const ports = portIds.length ? await db.selectFrom('port').selectAll().where('id', 'in', portIds).execute() : [];
  return rows.map((f) => {
    const p = ports.find((x) => x.id === f.fixed_port_id);
    const { name: _name, ...std } = standardView(f, tags.get(f.id));
    void _name;
    return {
      ...std,
      floating_ip_address: f.floating_ip_address, floating_network_id: f.floating_network_id, router_id: f.router_id,
      port_id: f.fixed_port_id, fixed_ip_address: f.fixed_ip_address, status: f.status,
      port_details: p ? {
        name: p.name, network_id: p.network_id, mac_address: p.mac_address, admin_state_up: bool(p.admin_state_up), status: p.status,
        device_id: p.device_id, device_owner: p.device_owner,
      } : null,
      dns_name: f.dns_name, dns_domain: f.dns_domain, qos_policy_id: f.qos_policy_id, port_forwardings: [],
    };
  });
}
