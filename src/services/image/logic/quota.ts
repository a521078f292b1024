import { sql } from 'kysely';
import type { Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { ImageDb } from '../store.js';

/**
 * Per-project image limits (Glance's unified-limit resources image_count_total and
 * image_size_total). Checks run inside a transaction that holds the project's lock, so two
 * uploads racing for the last bytes have exactly one winner: SQLite serialises write
 * transactions already, PostgreSQL takes an advisory lock on the project.
 */
export const lockProject = (trx: ImageDb, dialect: Dialect, projectId: string): Promise<void> => lockKey(trx, dialect, `image-quota:${projectId}`);

export async function usedBytes(trx: ImageDb, projectId: string): Promise<number> {
  const r = await trx.selectFrom('image').select([
    sql<number>`coalesce(sum(case when status in ('active', 'deactivated') then coalesce(size, 0) else 0 end), 0)`.as('stored'),
    sql<number>`coalesce(sum(reserved_bytes), 0)`.as('reserved'),
  ]).where('owner', '=', projectId).where('status', '!=', 'deleted').executeTakeFirst();
  return Number(r?.stored ?? 0) + Number(r?.reserved ?? 0);
}

export async function checkCount(trx: ImageDb, projectId: string, limit: number): Promise<void> {
  const r = await trx.selectFrom('image').select(sql<number>`count(*)`.as('n')).where('owner', '=', projectId).where('status', '!=', 'deleted').executeTakeFirst();
  if (Number(r?.n ?? 0) >= limit) {
    throw new ApiError(413, `Maximum number of images exceeded: this project may have at most ${limit} images (image_count_total).`);
  }
}

export function overQuota(limit: number): ApiError {
  return new ApiError(413, `Image storage quota exceeded: this project may store at most ${limit} bytes of images (image_size_total).`);
}
