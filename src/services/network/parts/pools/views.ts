import type { RequestContext } from '../../../../platform/auth/context.js';
import { json } from '../../../../platform/json.js';
import { standardView, tagsFor } from '../../views.js';
import type { AddressScopeRow, PoolDb, RbacPolicyRow, SubnetPoolRow } from './store.js';
import { sharedToCaller } from './logic/rbac.js';

/** Rows → Neutron's wire JSON for subnet pools, address scopes and RBAC policies. */
export async function poolViews(db: PoolDb, ctx: RequestContext, rows: SubnetPoolRow[]) {
  const ids = rows.map((r) => r.id);
  const tags = await tagsFor(db, 'subnetpools', ids);
  const toMe = await sharedToCaller(db, ctx, 'subnetpool', ids);
  return rows.map((p) => ({
    ...standardView(p, tags.get(p.id)),
    prefixes: json<string[]>(p.prefixes, []), default_prefixlen: p.default_prefixlen, min_prefixlen: p.min_prefixlen, max_prefixlen: p.max_prefixlen,
    ip_version: p.ip_version, shared: p.shared === 1 || toMe.has(p.id), is_default: p.is_default === 1, default_quota: p.default_quota,
    address_scope_id: p.address_scope_id,
  }));
}

/** Address scopes carry no standard attributes upstream: just these. */
export async function scopeViews(db: PoolDb, ctx: RequestContext, rows: AddressScopeRow[]) {
  const toMe = await sharedToCaller(db, ctx, 'address_scope', rows.map((r) => r.id));
  return rows.map((s) => ({
    id: s.id, name: s.name, tenant_id: s.project_id, project_id: s.project_id, ip_version: s.ip_version, shared: s.shared === 1 || toMe.has(s.id),
  }));
}

export const rbacView = (r: RbacPolicyRow) => ({
  id: r.id, project_id: r.project_id, tenant_id: r.project_id, object_type: r.object_type, object_id: r.object_id, action: r.action,
  target_tenant: r.target_project, target_project: r.target_project,
});
