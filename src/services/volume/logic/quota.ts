import { sql } from 'kysely';
import type { Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { VDb } from '../store.js';

/**
 * Block storage quotas with the documented defaults (volumes 20, snapshots 10, gigabytes
 * 2000, backups 250, backup gigabytes 20000). Usage is counted from the rows themselves
 * inside the creating transaction, under the project's lock, so two requests racing for
 * the last unit have exactly one winner. Snapshots count towards `gigabytes`, as in Cinder.
 */
export const DEFAULT_VOLUME_QUOTAS: Record<string, number> = {
  volumes: 20, snapshots: 10, gigabytes: 2000, backups: 250, backup_gigabytes: 20000, groups: 10, per_volume_gigabytes: -1,
};
export const QUOTA_CLASS_DEFAULT = 'class:default';
export type QuotaResource = 'volumes' | 'snapshots' | 'gigabytes' | 'backups' | 'backup_gigabytes';

/** Per-type keys (`volumes_ssd`, …) Cinder adds to every quota set; unlimited unless set. */
export const typeQuotaKeys = (typeNames: string[]): string[] => typeNames.flatMap((n) => [`volumes_${n}`, `snapshots_${n}`, `gigabytes_${n}`]);

export async function volumeLimits(db: VDb, projectId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('volume_quota').selectAll().where('project_id', 'in', [QUOTA_CLASS_DEFAULT, projectId]).execute();
  const types = await db.selectFrom('volume_type').select('name').execute();
  const of = (owner: string) => Object.fromEntries(rows.filter((r) => r.project_id === owner).map((r) => [r.resource, r.hard_limit]));
  const perType = Object.fromEntries(typeQuotaKeys(types.map((t) => t.name)).map((k) => [k, -1]));
  return { ...DEFAULT_VOLUME_QUOTAS, ...perType, ...of(QUOTA_CLASS_DEFAULT), ...of(projectId) };
}

export async function volumeUsage(db: VDb, projectId: string): Promise<Record<QuotaResource, number>> {
  const v = await db.selectFrom('volume').select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('gb')])
    .where('project_id', '=', projectId).executeTakeFirst();
  const s = await db.selectFrom('snapshot').select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('gb')])
    .where('project_id', '=', projectId).executeTakeFirst();
  const b = await db.selectFrom('backup').select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('gb')])
    .where('project_id', '=', projectId).executeTakeFirst();
  return {
    volumes: Number(v?.n ?? 0), snapshots: Number(s?.n ?? 0), gigabytes: Number(v?.gb ?? 0) + Number(s?.gb ?? 0),
    backups: Number(b?.n ?? 0), backup_gigabytes: Number(b?.gb ?? 0),
  };
}

/** Takes the project's quota lock; call first in any transaction that adds usage. */
export const lockQuota = (trx: VDb, dialect: Dialect, projectId: string) => lockKey(trx, dialect, `volume-quota:${projectId}`);

/** Refuses with Cinder's 413 when adding `delta` would pass a limit. Call inside the writing transaction, under lockQuota. */
export async function checkVolumeQuota(trx: VDb, projectId: string, delta: Partial<Record<QuotaResource, number>>): Promise<void> {
  const limits = await volumeLimits(trx, projectId);
  const used = await volumeUsage(trx, projectId);
  const perVolume = limits.per_volume_gigabytes!;
  if (perVolume >= 0 && (delta.gigabytes ?? 0) > perVolume) {
    throw new ApiError(413, `Requested volume size ${delta.gigabytes}G is larger than maximum allowed limit ${perVolume}G.`);
  }
  for (const k of Object.keys(delta) as QuotaResource[]) {
    const add = delta[k] ?? 0;
    const limit = limits[k]!;
    if (add <= 0 || limit < 0 || used[k] + add <= limit) continue;
    if (k === 'gigabytes' || k === 'backup_gigabytes') {
      const what = k === 'gigabytes' ? 'Requested volume or snapshot exceeds allowed gigabytes quota.' : 'Requested backup exceeds allowed Backup gigabytes quota.';
      throw new ApiError(413, `${what} Requested ${add}G, quota is ${limit}G and ${used[k]}G has been consumed.`);
    }
    const noun = { volumes: 'volumes', snapshots: 'snapshots', backups: 'backups' }[k];
    throw new ApiError(413, `Maximum number of ${noun} allowed (${limit}) exceeded for quota '${k}'.`);
  }
}
