import type { Migration, Kysely } from 'kysely';

/**
 * Nova's model as Stratus keeps it. An instance row is the desired and observed state of a
 * server (vm_state, task_state, power_state as Nova names them); its resources on a host
 * are an allocation row, written in the same transaction as the quota check, so
 * concurrent creates never exceed a quota or a host. Flavors are copied into the instance
 * (Nova's embedded flavor), so deleting or changing a flavor never changes a server.
 */
export const computeMigrations: Record<string, Migration> = {
  'compute-0001-core': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await s.createTable('flavor')
        .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('ram', 'integer', (c) => c.notNull())
        .addColumn('disk', 'integer', (c) => c.notNull())
        .addColumn('ephemeral', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('swap', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rxtx_factor', 'real', (c) => c.notNull().defaultTo(1))
        .addColumn('is_public', 'integer', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createTable('flavor_extra_spec')
        .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull().references('flavor.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('flavor_extra_spec_pk', ['flavor_id', 'key'])
        .execute();
      await s.createTable('flavor_access')
        .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull().references('flavor.id').onDelete('cascade'))
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('flavor_access_pk', ['flavor_id', 'project_id'])
        .execute();

      await s.createTable('keypair')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('keypair_user_name_uq', ['user_id', 'name'])
        .execute();

      await s.createTable('compute_node')
        .addColumn('host', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('id', 'integer', (c) => c.notNull().unique())
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mb', 'integer', (c) => c.notNull())
        .addColumn('local_gb', 'integer', (c) => c.notNull())
        .addColumn('cpu_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('ram_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('disk_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('hypervisor_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('disabled_reason', 'varchar(255)')
        .addColumn('forced_down', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await s.createTable('instance')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('hostname', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('vm_state', 'varchar(32)', (c) => c.notNull())
        .addColumn('task_state', 'varchar(64)')
        .addColumn('power_state', 'integer', (c) => c.notNull())
        .addColumn('flavor', 'text', (c) => c.notNull())
        .addColumn('old_flavor', 'text')
        .addColumn('new_flavor', 'text')
        .addColumn('image_ref', 'varchar(36)', (c) => c.notNull())
        .addColumn('key_name', 'varchar(255)')
        .addColumn('key_data', 'text')
        .addColumn('user_data', 'text')
        .addColumn('config_drive', 'varchar(16)', (c) => c.notNull())
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('requested_zone', 'varchar(255)')
        .addColumn('host', 'varchar(255)')
        .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_by', 'varchar(16)')
        .addColumn('locked_reason', 'text')
        .addColumn('access_ip_v4', 'varchar(64)', (c) => c.notNull().defaultTo(''))
        .addColumn('access_ip_v6', 'varchar(64)', (c) => c.notNull().defaultTo(''))
        .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reservation_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('launch_index', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('system_metadata', 'text', (c) => c.notNull())
        .addColumn('security_groups', 'text', (c) => c.notNull())
        .addColumn('requested_networks', 'text', (c) => c.notNull())
        .addColumn('scheduler_hints', 'text', (c) => c.notNull())
        .addColumn('fault', 'text')
        .addColumn('trusted_image_certificates', 'text')
        .addColumn('launched_at', 'bigint')
        .addColumn('terminated_at', 'bigint')
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deleted_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('instance_project_idx').on('instance').columns(['project_id', 'deleted', 'created_at']).execute();
      await s.createIndex('instance_deleted_idx').on('instance').columns(['deleted', 'created_at']).execute();
      await s.createIndex('instance_updated_idx').on('instance').column('updated_at').execute();
      await s.createIndex('instance_host_idx').on('instance').column('host').execute();
      await s.createTable('instance_tag')
        .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instance.id').onDelete('cascade'))
        .addColumn('tag', 'varchar(60)', (c) => c.notNull())
        .addPrimaryKeyConstraint('instance_tag_pk', ['instance_id', 'tag'])
        .execute();
      await s.createIndex('instance_tag_tag_idx').on('instance_tag').column('tag').execute();

      // What an instance holds on a host (placement's allocations, one consumer per row).
      await s.createTable('allocation')
        .addColumn('consumer_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('host', 'varchar(255)', (c) => c.notNull().references('compute_node.host'))
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mb', 'integer', (c) => c.notNull())
        .addColumn('disk_gb', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('allocation_pk', ['consumer_id', 'host'])
        .execute();
      await s.createIndex('allocation_host_idx').on('allocation').column('host').execute();

      await s.createTable('block_device_mapping')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instance.id').onDelete('cascade'))
        .addColumn('source_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('destination_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('boot_index', 'integer')
        .addColumn('device_name', 'varchar(255)')
        .addColumn('volume_id', 'varchar(36)')
        .addColumn('image_id', 'varchar(36)')
        .addColumn('snapshot_id', 'varchar(36)')
        .addColumn('volume_size', 'integer')
        .addColumn('volume_type', 'varchar(255)')
        .addColumn('delete_on_termination', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attachment_id', 'varchar(36)')
        .addColumn('tag', 'varchar(255)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('bdm_instance_idx').on('block_device_mapping').column('instance_id').execute();
      await s.createIndex('bdm_volume_idx').on('block_device_mapping').column('volume_id').execute();

      await s.createTable('instance_action')
        .addColumn('request_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('instance_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('instance_action_instance_idx').on('instance_action').columns(['instance_id', 'start_time']).execute();
      await s.createTable('instance_action_event')
        .addColumn('request_id', 'varchar(64)', (c) => c.notNull().references('instance_action.request_id').onDelete('cascade'))
        .addColumn('event', 'varchar(128)', (c) => c.notNull())
        .addColumn('host', 'varchar(255)')
        .addColumn('result', 'varchar(32)')
        .addColumn('traceback', 'text')
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('finish_time', 'bigint')
        .addPrimaryKeyConstraint('instance_action_event_pk', ['request_id', 'event'])
        .execute();

      await s.createTable('server_group')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('policy', 'varchar(32)', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createTable('server_group_member')
        .addColumn('group_id', 'varchar(36)', (c) => c.notNull().references('server_group.id').onDelete('cascade'))
        .addColumn('instance_id', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('server_group_member_pk', ['group_id', 'instance_id'])
        .execute();
      await s.createIndex('server_group_member_instance_idx').on('server_group_member').column('instance_id').execute();

      await s.createTable('aggregate')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createTable('aggregate_host')
        .addColumn('aggregate_id', 'integer', (c) => c.notNull().references('aggregate.id').onDelete('cascade'))
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('aggregate_host_pk', ['aggregate_id', 'host'])
        .execute();
      await s.createTable('aggregate_metadata')
        .addColumn('aggregate_id', 'integer', (c) => c.notNull().references('aggregate.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('aggregate_metadata_pk', ['aggregate_id', 'key'])
        .execute();

      await s.createTable('compute_quota')
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('compute_quota_pk', ['project_id', 'resource'])
        .execute();

      await s.createTable('migration')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('instance_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('migration_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('source_compute', 'varchar(255)')
        .addColumn('dest_compute', 'varchar(255)')
        .addColumn('old_flavor_id', 'varchar(255)')
        .addColumn('new_flavor_id', 'varchar(255)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('migration_instance_idx').on('migration').column('instance_id').execute();
    },
  },
  // Per-user quotas (os-quota-sets?user_id=): a user's own limits inside a project.
  'compute-0010-user-quota': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('compute_user_quota')
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('compute_user_quota_pk', ['project_id', 'user_id', 'resource'])
        .execute();
    },
  },
};
