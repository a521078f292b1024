import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Every service contributes migrations named `<service>-<NNNN>-<what>`. Services land at
 * different times, so a new service's first migration may sort before an applied one:
 * that is expected, hence allowUnorderedMigrations.
 */
export async function runMigrations(db: Kysely<unknown>, migrations: Record<string, Migration>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? error}`);
  }
}
