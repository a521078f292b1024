import { sql, type Kysely, type Transaction } from 'kysely';
import type { Dialect } from './index.js';

/**
 * A lock held until the surrounding transaction ends, for check-then-write sequences such
 * as quota checks ("count, then insert if under the limit") that a unique key cannot
 * protect. SQLite already runs one write transaction at a time; PostgreSQL takes an
 * advisory lock on the key.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function lockKey(trx: Kysely<any> | Transaction<any>, dialect: Dialect, key: string): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
}
