import { sql } from 'kysely';
import type { Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { neutronError } from '../api/common.js';
import type { NetDb } from '../store.js';

/**
 * Neutron quotas with the product documents' defaults. A create checks the count and
 * inserts inside one transaction holding the project's lock, so racing creates for the
 * last unit have exactly one winner.
 */
export const DEFAULT_QUOTAS: Record<string, number> = {
  network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, rbac_policy: 10,
  security_group: 15, security_group_rule: 249, subnetpool: -1, address_scope: -1, address_group: -1,
};

/** Resource → the table that counts it. */
export const QUOTA_TABLES: Record<string, string> = {
  network: 'network', subnet: 'subnet', port: 'port', router: 'router', floatingip: 'floating_ip', rbac_policy: 'rbac_policy',
  security_group: 'security_group', security_group_rule: 'security_group_rule',
};

export async function limitsOf(db: NetDb, projectId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('network_quota').selectAll().where('project_id', '=', projectId).execute();
  return { ...DEFAULT_QUOTAS, ...Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit])) };
}

export async function usage(db: NetDb, projectId: string, resource: string): Promise<number> {
  const table = QUOTA_TABLES[resource];
  if (!table) return 0;
  const r = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).where('project_id', '=', projectId).executeTakeFirst().catch(() => undefined);
  return Number(r?.n ?? 0);
}

/** Call inside the creating transaction, before the insert. */
export async function checkQuota(trx: NetDb, dialect: Dialect, projectId: string, resource: string, adding = 1): Promise<void> {
  // Ports of the cloud itself (router gateways, floating IPs) belong to no project.
  if (!projectId) return;
  await lockKey(trx, dialect, `network-quota:${projectId}:${resource}`);
  const limit = (await limitsOf(trx, projectId))[resource];
  if (limit === undefined || limit < 0) return;
  const used = await usage(trx, projectId, resource);
  if (used + adding > limit) {
    throw neutronError(409, 'OverQuota', `Quota exceeded for resources: ['${resource}'].`);
  }
}
