import type { NetworkPart } from '../../index.js';
import { QUOTA_TABLES } from '../../logic/quota.js';
import { securityGroupMigrations } from './migrations.js';
import { checkPortGroups, ensureDefaultGroup, resolveGroupRefs } from './logic/groups.js';
import { sgDb } from './store.js';
import { securityGroupState } from './logic/agent-state.js';
import { securityGroupRoutes } from './api/security-groups.js';
import { securityGroupRuleRoutes } from './api/security-group-rules.js';
import { addressGroupRoutes } from './api/address-groups.js';
import { novaSecurityGroups } from './logic/nova-proxy.js';

/**
 * Security groups, security group rules and address groups. Ports get their project's
 * `default` group when they ask for none, and may only use their project's own groups.
 */
export const securityGroupsPart: NetworkPart = {
  migrations: securityGroupMigrations,
  async routes(app, deps) {
    await securityGroupRoutes(app, deps);
    await securityGroupRuleRoutes(app, deps);
    await addressGroupRoutes(app, deps);
  },
  register(hooks) {
    hooks.defaultSecurityGroup = (trx, projectId) => ensureDefaultGroup(sgDb(trx), projectId);
    hooks.agentState.push(securityGroupState);
    hooks.resolveSecurityGroups = (trx, ctx, refs) => resolveGroupRefs(sgDb(trx), ctx, refs);
    hooks.checkSecurityGroups = (trx, projectId, ids, isAdmin) => checkPortGroups(sgDb(trx), projectId, ids, isAdmin);
    hooks.novaSecurityGroups = novaSecurityGroups;
    hooks.extensions.push('security-group', 'stateful-security-group', 'address-group', 'security-groups-remote-address-group',
      'security-groups-normalized-cidr', 'security-groups-rules-belongs-to-default-sg', 'port-security-groups-filtering');
    // Address groups count against their (by default unlimited) quota like every other resource.
    QUOTA_TABLES.address_group ??= 'address_group';
  },
};
