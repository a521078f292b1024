import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Migration } from 'kysely';
import { runMigrations } from './migrate.js';

export { sql };
export type { Migration };

/**
 * The database every service shares. Each service's store narrows this to its own tables.
 * Portable column conventions (one migration set for SQLite and PostgreSQL):
 * booleans are integers 0/1, instants are bigint milliseconds, JSON is text.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Kysely<any>;
export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

// PostgreSQL returns int8 as strings; our bigints are epoch milliseconds, well inside 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export async function openDatabase(url: string, dataDir: string, migrations: Record<string, Migration>): Promise<Database> {
  let db: Db;
  let dialect: Dialect;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    dialect = 'postgres';
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
  } else {
    dialect = 'sqlite';
    const file = url === 'sqlite' ? join(dataDir, 'stratus.db') : url.replace(/^sqlite:(\/\/)?/, '');
    const handle = new SQLite(file);
    // WAL + synchronous=FULL: an acknowledged write survives a killed process or a power cut.
    handle.pragma('journal_mode = WAL');
    handle.pragma('synchronous = FULL');
    handle.pragma('foreign_keys = ON');
    handle.pragma('busy_timeout = 5000');
    db = new Kysely({ dialect: new SqliteDialect({ database: handle }) });
  }
  await runMigrations(db, migrations);
  return { db, dialect, close: () => db.destroy() };
}

/** True when an error is a unique-constraint violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export const bool = (v: unknown): boolean => v === 1 || v === true || v === '1';
export const int = (v: boolean | undefined | null): number => (v ? 1 : 0);
