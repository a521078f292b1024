import { neutronTime, standardView, tagsFor } from '../../views.js';
import { addressesOf, defaultGroupIds, rulesOfGroups, type AddressGroupRow, type SecurityGroupRow, type SecurityGroupRuleRow, type SgDb } from './store.js';
import type { NetDb } from '../../store.js';

/** Rows → Neutron's wire JSON for security groups, their rules and address groups. */
export function ruleView(r: SecurityGroupRuleRow, defaults: Set<string>) {
  return {
    id: r.id, project_id: r.project_id, tenant_id: r.project_id, security_group_id: r.security_group_id, ethertype: r.ethertype,
    direction: r.direction, protocol: r.protocol, port_range_min: r.port_range_min, port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix, remote_address_group_id: r.remote_address_group_id, normalized_cidr: r.normalized_cidr,
    remote_group_id: r.remote_group_id, belongs_to_default_sg: defaults.has(r.security_group_id), description: r.description,
    created_at: neutronTime(r.created_at), updated_at: neutronTime(r.updated_at), revision_number: r.revision_number,
  };
}

export async function ruleViews(db: SgDb, rows: SecurityGroupRuleRow[]) {
  const defaults = await defaultGroupIds(db, [...new Set(rows.map((r) => r.security_group_id))]);
  return rows.map((r) => ruleView(r, defaults));
}

export async function groupViews(db: SgDb, rows: SecurityGroupRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db as unknown as NetDb, 'security-groups', ids);
  const rules = await rulesOfGroups(db, ids);
  const defaults = await defaultGroupIds(db, ids);
  return rows.map((g) => ({
    ...standardView(g, tags.get(g.id)),
    stateful: g.stateful === 1, shared: false,
    security_group_rules: rules.filter((r) => r.security_group_id === g.id).map((r) => ruleView(r, defaults)),
  }));
}

export async function addressGroupViews(db: SgDb, rows: AddressGroupRow[]) {
  const addresses = await addressesOf(db, rows.map((r) => r.id));
  return rows.map((g) => ({ ...standardView(g, undefined), addresses: addresses.get(g.id) ?? [] }));
}
