import type { CreateTableBuilder, Kysely, Migration } from 'kysely';
import { standard } from '../../migrations.js';

/**
 * Security groups, their rules, each project's `default` group, and address groups.
 * default_security_group has one row per project: its primary key is what keeps two
 * racing first requests from creating two default groups.
 */
// The standard attributes without a name, which rules do not have.
function ruleStandard<T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, never> {
  return t
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0)) as CreateTableBuilder<T, never>;
}

export const securityGroupMigrations: Record<string, Migration> = {
  'network-0002-security-groups': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await standard(s.createTable('security_group').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('stateful', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await s.createIndex('security_group_project_idx').on('security_group').column('project_id').execute();
      await s.createTable('default_security_group')
        .addColumn('project_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull())
        .execute();
      await standard(s.createTable('address_group').addColumn('id', 'varchar(36)', (c) => c.primaryKey())).execute();
      await s.createIndex('address_group_project_idx').on('address_group').column('project_id').execute();
      await s.createTable('address_group_address')
        .addColumn('address_group_id', 'varchar(36)', (c) => c.notNull().references('address_group.id').onDelete('cascade'))
        .addColumn('address', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('address_group_address_pk', ['address_group_id', 'address'])
        .execute();
      await ruleStandard(s.createTable('security_group_rule').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull().references('security_group.id').onDelete('cascade'))
        .addColumn('direction', 'varchar(16)', (c) => c.notNull())
        .addColumn('ethertype', 'varchar(8)', (c) => c.notNull())
        .addColumn('protocol', 'varchar(40)')
        .addColumn('port_range_min', 'integer')
        .addColumn('port_range_max', 'integer')
        .addColumn('remote_ip_prefix', 'varchar(64)')
        .addColumn('normalized_cidr', 'varchar(64)')
        .addColumn('remote_group_id', 'varchar(36)', (c) => c.references('security_group.id').onDelete('cascade'))
        .addColumn('remote_address_group_id', 'varchar(36)', (c) => c.references('address_group.id'))
        .execute();
      await s.createIndex('sg_rule_group_idx').on('security_group_rule').column('security_group_id').execute();
      await s.createIndex('sg_rule_project_idx').on('security_group_rule').column('project_id').execute();
      await s.createIndex('sg_rule_remote_group_idx').on('security_group_rule').column('remote_group_id').execute();
      await s.createIndex('sg_rule_remote_ag_idx').on('security_group_rule').column('remote_address_group_id').execute();
    },
  },
};
