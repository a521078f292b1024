import type { Kysely, Migration } from 'kysely';
import { standard } from '../../migrations.js';

/**
 * Subnet pools, address scopes and the RBAC policies that share networks, pools and scopes
 * with other projects. One rbac_policy table serves every object type; the unique key is
 * what makes a duplicate policy a conflict rather than a second row.
 */
export const poolMigrations: Record<string, Migration> = {
  'network-0004-pools': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await standard(s.createTable('address_scope').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await s.createIndex('address_scope_project_idx').on('address_scope').column('project_id').execute();
      await standard(s.createTable('subnetpool').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('prefixes', 'text', (c) => c.notNull())
        .addColumn('default_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('min_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('max_prefixlen', 'integer', (c) => c.notNull())
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('default_quota', 'integer')
        .addColumn('address_scope_id', 'varchar(36)')
        .execute();
      await s.createIndex('subnetpool_project_idx').on('subnetpool').column('project_id').execute();
      await s.createIndex('subnetpool_scope_idx').on('subnetpool').column('address_scope_id').execute();
      await s.createIndex('subnet_subnetpool_idx').on('subnet').column('subnetpool_id').execute();
      await s.createTable('rbac_policy')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('target_project', 'varchar(64)', (c) => c.notNull())
        .addUniqueConstraint('rbac_policy_unique', ['object_type', 'object_id', 'action', 'target_project'])
        .execute();
      await s.createIndex('rbac_policy_target_idx').on('rbac_policy').columns(['object_type', 'target_project']).execute();
      await s.createIndex('rbac_policy_project_idx').on('rbac_policy').column('project_id').execute();
    },
  },
};
