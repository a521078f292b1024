import type { RequestContext } from '../../platform/auth/context.js';
import { json } from '../../platform/json.js';
import type { NetDb, NetworkRow, PortRow, Standard, SubnetRow } from './store.js';

/** Rows → Neutron's wire JSON. Lists load related rows for a whole page at once. */
export const ZONES = ['europe-se-1a', 'europe-se-1b'];
export const neutronTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const bool = (n: number) => n === 1;

export function standardView(r: Standard & { id: string }, tags: string[] | undefined) {
  return {
    id: r.id, name: r.name, tenant_id: r.project_id, project_id: r.project_id, description: r.description,
    created_at: neutronTime(r.created_at), updated_at: neutronTime(r.updated_at), revision_number: r.revision_number,
    ...(tags ? { tags } : {}),
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i); else m.set(k, [i]);
  }
  return m;
}

export async function tagsFor(db: NetDb, type: string, ids: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (!ids.length) return m;
  for (const t of await db.selectFrom('resource_tag').selectAll().where('resource_type', '=', type).where('resource_id', 'in', ids).orderBy('tag').execute()) {
    m.get(t.resource_id)?.push(t.tag);
  }
  return m;
}

/**
 * Objects (of the given ids) an RBAC policy shares with exactly the caller's project. As
 * upstream, `shared` is from the caller's point of view: such objects show as shared to
 * the target project, not to their owner. (The pools part owns the rbac_policy table.)
 */
export async function sharedToCaller(db: NetDb, ctx: RequestContext, objectType: string, ids: string[]): Promise<Set<string>> {
  if (!ids.length || !ctx.projectId) return new Set();
  const rows = await db.selectFrom('rbac_policy').select('object_id').where('object_type', '=', objectType).where('action', '=', 'access_as_shared')
    .where('target_project', '=', ctx.projectId).where('object_id', 'in', ids).execute();
  return new Set(rows.map((r) => r.object_id as string));
}

export async function networkViews(db: NetDb, ctx: RequestContext, rows: NetworkRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db, 'networks', ids);
  const subnetsOf = groupBy(ids.length ? await db.selectFrom('subnet').select(['id', 'network_id']).where('network_id', 'in', ids).orderBy('created_at').execute() : [], (s) => s.network_id);
  const toMe = await sharedToCaller(db, ctx, 'network', rows.filter((n) => !n.shared).map((n) => n.id));
  return rows.map((n) => {
    const hints = json<string[]>(n.availability_zone_hints, []);
    const v: Record<string, unknown> = {
      ...standardView(n, tags.get(n.id)),
      admin_state_up: bool(n.admin_state_up), status: n.status, shared: bool(n.shared) || toMe.has(n.id), 'router:external': bool(n.external),
      mtu: n.mtu, port_security_enabled: bool(n.port_security_enabled), subnets: (subnetsOf.get(n.id) ?? []).map((s) => s.id),
      availability_zone_hints: hints, availability_zones: hints.length ? hints : ZONES,
      ipv4_address_scope: null, ipv6_address_scope: null, dns_domain: n.dns_domain, l2_adjacency: true, is_default: bool(n.is_default),
    };
    if (ctx.isAdmin) {
      v['provider:network_type'] = n.provider_network_type;
      v['provider:physical_network'] = n.provider_physical_network;
      v['provider:segmentation_id'] = n.provider_segmentation_id;
    }
    return v;
  });
}

export async function subnetViews(db: NetDb, rows: SubnetRow[]) {
  const tags = await tagsFor(db, 'subnets', rows.map((r) => r.id));
  return rows.map((s) => ({
    ...standardView(s, tags.get(s.id)),
    network_id: s.network_id, ip_version: s.ip_version, cidr: s.cidr, gateway_ip: s.gateway_ip, enable_dhcp: bool(s.enable_dhcp),
    allocation_pools: json(s.allocation_pools, []), dns_nameservers: json(s.dns_nameservers, []), host_routes: json(s.host_routes, []),
    ipv6_ra_mode: s.ipv6_ra_mode, ipv6_address_mode: s.ipv6_address_mode, subnetpool_id: s.subnetpool_id,
    service_types: json(s.service_types, []), dns_publish_fixed_ip: bool(s.dns_publish_fixed_ip), segment_id: null,
  }));
}

export async function portViews(db: NetDb, ctx: RequestContext, rows: PortRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db, 'ports', ids);
  const ips = ids.length ? await db.selectFrom('ip_allocation').selectAll().where('port_id', 'in', ids).execute() : [];
  const sgs = ids.length ? await db.selectFrom('port_security_group').selectAll().where('port_id', 'in', ids).execute() : [];
  const networks = rows.length ? await db.selectFrom('network').select(['id', 'dns_domain']).where('id', 'in', [...new Set(rows.map((r) => r.network_id))]).execute() : [];
  const subnetOrder = ips.length ? await db.selectFrom('subnet').select(['id', 'created_at']).where('id', 'in', [...new Set(ips.map((i) => i.subnet_id))]).execute() : [];
  const rank = new Map(subnetOrder.map((s) => [s.id, s.created_at]));
  const ipsOf = groupBy(ips, (i) => i.port_id);
  const sgsOf = groupBy(sgs, (s) => s.port_id);
  const domains = new Map(networks.map((n) => [n.id, n.dns_domain]));
  return rows.map((p) => {
    const fixed = (ipsOf.get(p.id) ?? []).sort((a, b) => (rank.get(a.subnet_id) ?? 0) - (rank.get(b.subnet_id) ?? 0))
      .map((i) => ({ subnet_id: i.subnet_id, ip_address: i.ip_address }));
    const domain = domains.get(p.network_id) ?? '';
    const v: Record<string, unknown> = {
      ...standardView(p, tags.get(p.id)),
      network_id: p.network_id, admin_state_up: bool(p.admin_state_up), status: p.status, mac_address: p.mac_address,
      fixed_ips: fixed, device_id: p.device_id, device_owner: p.device_owner,
      security_groups: (sgsOf.get(p.id) ?? []).map((s) => s.security_group_id),
      port_security_enabled: bool(p.port_security_enabled), allowed_address_pairs: json(p.allowed_address_pairs, []),
      extra_dhcp_opts: json(p.extra_dhcp_opts, []), dns_name: p.dns_name,
      dns_assignment: fixed.map((f) => {
        const hostname = p.dns_name || `host-${f.ip_address.replaceAll('.', '-').replaceAll(':', '-')}`;
        return { ip_address: f.ip_address, hostname, fqdn: `${hostname}.${domain || 'openstacklocal.'}` };
      }),
      'binding:vnic_type': p.binding_vnic_type,
    };
    if (ctx.isAdmin) {
      v['binding:host_id'] = p.binding_host_id;
      v['binding:profile'] = json(p.binding_profile, {});
      v['binding:vif_type'] = p.binding_host_id ? 'ovs' : 'unbound';
      v['binding:vif_details'] = p.binding_host_id ? { port_filter: true } : {};
    }
    return v;
  });
}
