import type { Migration } from 'kysely';

/**
 * Keystone's data model. Domains are projects with is_domain=1 (as in Keystone), so the
 * hierarchy and name uniqueness live in one table. ROOT stands in for "no domain" so unique
 * indexes work on both engines (NULLs never collide in them).
 */
export const ROOT = '<<keystone.domain.root>>';

export const identityMigrations: Record<string, Migration> = {
  'identity-0001-initial': {
    async up(db) {
      const s = db.schema;
      await s.createTable('project')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('parent_id', 'varchar(64)')
        .addColumn('is_domain', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('project_domain_name', ['domain_id', 'name'])
        .execute();
      await s.createTable('project_tag')
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull().references('project.id').onDelete('cascade'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
        .execute();
      await s.createTable('identity_user')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('default_project_id', 'varchar(64)')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_auth_at', 'bigint')
        .addColumn('last_active_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('user_domain_name', ['domain_id', 'name'])
        .execute();
      await s.createTable('password')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('self_service', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('password_user_idx').on('password').columns(['user_id', 'created_at']).execute();
      await s.createTable('identity_group')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('group_domain_name', ['domain_id', 'name'])
        .execute();
      await s.createTable('group_membership')
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('identity_user.id').onDelete('cascade'))
        .addColumn('group_id', 'varchar(64)', (c) => c.notNull().references('identity_group.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_membership_pk', ['user_id', 'group_id'])
        .execute();
      await s.createTable('role')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addUniqueConstraint('role_domain_name', ['domain_id', 'name'])
        .execute();
      await s.createTable('implied_role')
        .addColumn('prior_role_id', 'varchar(64)', (c) => c.notNull().references('role.id').onDelete('cascade'))
        .addColumn('implied_role_id', 'varchar(64)', (c) => c.notNull().references('role.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
        .execute();
      // type: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem, GroupSystem.
      await s.createTable('assignment')
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('actor_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('role_id', 'varchar(64)', (c) => c.notNull().references('role.id').onDelete('cascade'))
        .addColumn('inherited', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('assignment_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
        .execute();
      await s.createIndex('assignment_target_idx').on('assignment').column('target_id').execute();
      await s.createTable('application_credential')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)')
        .addColumn('system', 'varchar(16)')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        // Microseconds: clients send and compare expiry with microsecond precision.
        .addColumn('expires_at_us', 'bigint')
        .addColumn('unrestricted', 'integer', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('app_cred_user_name', ['user_id', 'name'])
        .execute();
      await s.createTable('access_rule')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('service', 'varchar(64)', (c) => c.notNull())
        .addColumn('path', 'varchar(255)', (c) => c.notNull())
        .addColumn('method', 'varchar(16)', (c) => c.notNull())
        .addUniqueConstraint('access_rule_unique', ['user_id', 'service', 'path', 'method'])
        .execute();
      await s.createTable('app_cred_access_rule')
        .addColumn('application_credential_id', 'varchar(64)', (c) => c.notNull().references('application_credential.id').onDelete('cascade'))
        .addColumn('access_rule_id', 'varchar(64)', (c) => c.notNull().references('access_rule.id'))
        .addPrimaryKeyConstraint('app_cred_access_rule_pk', ['application_credential_id', 'access_rule_id'])
        .execute();
      await s.createTable('credential')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)')
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('access_key', 'varchar(255)')
        .addColumn('extra', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('credential_user_idx').on('credential').column('user_id').execute();
      await s.createIndex('credential_access_idx').on('credential').column('access_key').execute();
      await s.createTable('region')
        .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('parent_region_id', 'varchar(255)')
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await s.createTable('service')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      await s.createTable('endpoint')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('service_id', 'varchar(64)', (c) => c.notNull().references('service.id').onDelete('cascade'))
        .addColumn('interface', 'varchar(8)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('region_id', 'varchar(255)')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
      // Revocation by events: a token is revoked when every set field matches it and it
      // was issued at or before issued_before (milliseconds).
      await s.createTable('revocation_event')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)')
        .addColumn('project_id', 'varchar(64)')
        .addColumn('domain_id', 'varchar(64)')
        .addColumn('audit_id', 'varchar(64)')
        .addColumn('audit_chain_id', 'varchar(64)')
        .addColumn('application_credential_id', 'varchar(64)')
        .addColumn('credential_id', 'varchar(64)')
        .addColumn('issued_before', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint', (c) => c.notNull())
        .execute();
      // The deprecated policy API: opaque blobs stored for other services.
      await s.createTable('policy')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('extra', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
