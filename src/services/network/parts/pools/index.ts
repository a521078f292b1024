import type { NetworkPart } from '../../index.js';
import { poolMigrations } from './migrations.js';
import { subnetPoolRoutes } from './api/subnetpools.js';
import { addressScopeRoutes } from './api/address-scopes.js';
import { rbacRoutes } from './api/rbac.js';
import { allocateFromPool } from './logic/allocate.js';
import { dropPolicies, networkSharing } from './logic/rbac.js';

/**
 * Subnet pools (subnet allocation by prefix length, default pools), address scopes and
 * RBAC policies (networks, subnet pools and address scopes shared with other projects).
 */
export const poolsPart: NetworkPart = {
  migrations: poolMigrations,
  async routes(app, deps) {
    for (const routes of [subnetPoolRoutes, addressScopeRoutes, rbacRoutes]) await routes(app, deps);
  },
  register(hooks) {
    hooks.allocateFromPool = allocateFromPool;
    hooks.networkSharing = networkSharing;
    (hooks.beforeNetworkDelete ??= []).push((trx, networkId) => dropPolicies(trx, 'network', networkId));
    hooks.extensions.push('subnet_allocation', 'address-scope', 'rbac-policies', 'rbac-address-scope', 'rbac-subnetpool', 'subnetpool-prefix-ops');
  },
};
