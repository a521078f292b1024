import { sql } from 'kysely';
import type { Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { CDb } from '../store.js';

/**
 * Compute quotas. The documented defaults bind (cores 40, RAM 100 GB = 102400 MB, server
 * groups 10); instances is 40, which 40 cores reach first anyway, so it never binds
 * before the documented limits do. Usage is counted from the instances themselves (a
 * resize in progress counts the larger of its two flavors, as Nova does), inside the
 * creating transaction under the project's lock: racing creates for the last core have one
 * winner.
 */
export const DEFAULT_COMPUTE_QUOTAS: Record<string, number> = {
  instances: 40, cores: 40, ram: 102400, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10,
  injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255,
};
/** Keys Nova shows only before microversion 2.36 (proxies for network quotas) and 2.57 (injected files). */
export const LEGACY_QUOTAS: Record<string, number> = { fixed_ips: -1, floating_ips: -1, security_group_rules: -1, security_groups: -1 };

/** Where the `default` quota class keeps its rows (os-quota-class-sets). */
export const QUOTA_CLASS_DEFAULT = 'class:default';

export async function computeLimits(db: CDb, projectId: string): Promise<Record<string, number>> {
  // Built-in defaults, then the `default` quota class an admin may change, then the project's own limits.
  const rows = await db.selectFrom('compute_quota').selectAll().where('project_id', 'in', [QUOTA_CLASS_DEFAULT, projectId]).execute();
  const of = (owner: string) => Object.fromEntries(rows.filter((r) => r.project_id === owner).map((r) => [r.resource, r.hard_limit]));
  return { ...DEFAULT_COMPUTE_QUOTAS, ...LEGACY_QUOTAS, ...of(QUOTA_CLASS_DEFAULT), ...of(projectId) };
}

/** Per-user limits (os-quota-sets?user_id=) apply to these; a user without settings has the project's. */
export const USER_RESOURCES = ['instances', 'cores', 'ram', 'key_pairs', 'metadata_items', 'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** A user's limits inside a project: the user's own settings over the project's limits. */
export async function userLimits(db: CDb, projectId: string, userId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('compute_user_quota').select(['resource', 'hard_limit']).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
  return { ...(await computeLimits(db, projectId)), ...Object.fromEntries(rows.map((r) => [r.resource, Number(r.hard_limit)])) };
}

export interface ComputeUsage { instances: number; cores: number; ram: number; server_groups: number; key_pairs?: number }

/**
 * What a project uses now: live instances (any state but deleted) and their flavors. The sums
 * run in the database over the embedded flavors' JSON (one row back, not one per server), so
 * the check inside every create stays cheap as a project grows.
 */
export async function computeUsage(db: CDb, projectId: string, dialect: Dialect = dialectOf(db), userId?: string): Promise<ComputeUsage> {
  const field = (col: 'flavor' | 'new_flavor', key: 'vcpus' | 'ram') => dialect === 'postgres'
    ? sql<number>`coalesce((${sql.ref(col)}::json->>${key})::integer, 0)`
    : sql<number>`coalesce(json_extract(${sql.ref(col)}, ${`$.${key}`}), 0)`;
  const larger = (a: ReturnType<typeof field>, b: ReturnType<typeof field>) => (dialect === 'postgres' ? sql<number>`greatest(${a}, ${b})` : sql<number>`max(${a}, ${b})`);
  // Shelved-offloaded servers hold no resources (the documents: "usage freed"); a resize in
  // progress counts the larger of its two flavors, as Nova does.
  const live = sql<number>`case when vm_state = 'shelved_offloaded' then 0 else 1 end`;
  const row = await db.selectFrom('instance')
    .select([
      sql<number>`count(*)`.as('instances'),
      sql<number>`coalesce(sum(${live} * ${larger(field('flavor', 'vcpus'), field('new_flavor', 'vcpus'))}), 0)`.as('cores'),
      sql<number>`coalesce(sum(${live} * ${larger(field('flavor', 'ram'), field('new_flavor', 'ram'))}), 0)`.as('ram'),
    ])
    .where('project_id', '=', projectId).where('deleted', '=', 0)
    .$if(userId !== undefined, (q) => q.where('user_id', '=', userId!)).executeTakeFirst();
  const groups = await db.selectFrom('server_group').select(sql<number>`count(*)`.as('n')).where('project_id', '=', projectId).executeTakeFirst();
  return { instances: Number(row?.instances ?? 0), cores: Number(row?.cores ?? 0), ram: Number(row?.ram ?? 0), server_groups: Number(groups?.n ?? 0) };
}

/** The dialect a Kysely instance runs on (the pg driver's adapter is PostgresAdapter). */
function dialectOf(db: CDb): Dialect {
  const adapter = (db as unknown as { getExecutor(): { adapter: { constructor: { name: string } } } }).getExecutor().adapter;
  return /postgres/i.test(adapter.constructor.name) ? 'postgres' : 'sqlite';
}

/**
 * Refuses with Nova's 403 when adding `delta` would pass a limit of the project or, when
 * `userId` is given, of that user inside it (per-user quotas). Call inside the creating
 * transaction.
 */
export async function checkComputeQuota(trx: CDb, dialect: Dialect, projectId: string, delta: Partial<Record<'instances' | 'cores' | 'ram' | 'server_groups', number>>, userId?: string): Promise<void> {
  await lockKey(trx, dialect, `compute-quota:${projectId}`);
  refuseOver(delta, await computeLimits(trx, projectId), await computeUsage(trx, projectId, dialect));
  if (userId === undefined) return;
  const own = await trx.selectFrom('compute_user_quota').select('resource').where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
  if (own) refuseOver(delta, await userLimits(trx, projectId, userId), await computeUsage(trx, projectId, dialect, userId));
}

function refuseOver(delta: Partial<Record<'instances' | 'cores' | 'ram' | 'server_groups', number>>, limits: Record<string, number>, used: ComputeUsage): void {
  const over = (Object.keys(delta) as Array<keyof typeof delta>).filter((k) => (delta[k] ?? 0) > 0 && limits[k]! >= 0 && used[k] + delta[k]! > limits[k]!);
  if (!over.length) return;
  const what = over.join(', ');
  const req = over.map((k) => delta[k]).join(', ');
  const u = over.map((k) => used[k]).join(', ');
  const l = over.map((k) => limits[k]).join(', ');
  if (over.includes('instances') || over.includes('cores') || over.includes('ram')) {
    throw new ApiError(403, `Quota exceeded for ${what}: Requested ${req}, but already used ${u} of ${l} ${what}`);
  }
  throw new ApiError(403, `Quota exceeded, too many ${what.replaceAll('_', ' ')}.`);
}
