import type { Migration, Kysely } from 'kysely';

/**
 * Cinder's model as Stratus keeps it. A volume row is the desired and observed state of one
 * block device (status and attach_status as Cinder names them); its bytes are a sparse file
 * the backend driver owns. Snapshots, backups and attachments hang off a volume; quota usage
 * is counted from these rows inside the writing transaction, so racing creates never pass a
 * limit. Booleans are 0/1, times are ms, maps are rows of their own.
 */
export const volumeMigrations: Record<string, Migration> = {
  'volume-0001-core': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await s.createTable('volume_type')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('is_public', 'integer', (c) => c.notNull())
        .addColumn('qos_specs_id', 'varchar(36)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createTable('volume_type_extra_spec')
        .addColumn('type_id', 'varchar(36)', (c) => c.notNull().references('volume_type.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_type_extra_spec_pk', ['type_id', 'key'])
        .execute();
      await s.createTable('volume_type_access')
        .addColumn('type_id', 'varchar(36)', (c) => c.notNull().references('volume_type.id').onDelete('cascade'))
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_type_access_pk', ['type_id', 'project_id'])
        .execute();
      await s.createTable('qos_specs')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('consumer', 'varchar(32)', (c) => c.notNull())
        .addColumn('specs', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await s.createTable('volume')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'text')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('previous_status', 'varchar(32)')
        .addColumn('attach_status', 'varchar(32)', (c) => c.notNull())
        .addColumn('migration_status', 'varchar(32)')
        .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
        .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('snapshot_id', 'varchar(36)')
        .addColumn('source_volid', 'varchar(36)')
        .addColumn('backup_id', 'varchar(36)')
        .addColumn('image_id', 'varchar(36)')
        .addColumn('bootable', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('multiattach', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('readonly', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('host', 'varchar(255)')
        .addColumn('provider_location', 'text')
        .addColumn('fault', 'text')
        .addColumn('launched_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('volume_project_idx').on('volume').columns(['project_id', 'created_at']).execute();
      await s.createIndex('volume_created_idx').on('volume').column('created_at').execute();
      for (const t of ['volume_metadata', 'volume_image_metadata']) {
        await s.createTable(t)
          .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
          .addColumn('key', 'varchar(255)', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${t}_pk`, ['volume_id', 'key'])
          .execute();
      }

      await s.createTable('volume_attachment')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('instance_uuid', 'varchar(36)')
        .addColumn('attached_host', 'varchar(255)')
        .addColumn('mountpoint', 'varchar(255)')
        .addColumn('attach_mode', 'varchar(8)', (c) => c.notNull())
        .addColumn('attach_status', 'varchar(32)', (c) => c.notNull())
        .addColumn('connector', 'text')
        .addColumn('attach_time', 'bigint')
        .addColumn('detach_time', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('volume_attachment_volume_idx').on('volume_attachment').column('volume_id').execute();
      await s.createIndex('volume_attachment_instance_idx').on('volume_attachment').column('instance_uuid').execute();

      await s.createTable('snapshot')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'text')
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('progress', 'varchar(16)', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('provider_location', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('snapshot_volume_idx').on('snapshot').column('volume_id').execute();
      await s.createIndex('snapshot_project_idx').on('snapshot').columns(['project_id', 'created_at']).execute();
      await s.createTable('snapshot_metadata')
        .addColumn('snapshot_id', 'varchar(36)', (c) => c.notNull().references('snapshot.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('snapshot_metadata_pk', ['snapshot_id', 'key'])
        .execute();

      await s.createTable('backup')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('snapshot_id', 'varchar(36)')
        .addColumn('parent_id', 'varchar(36)')
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'text')
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('fail_reason', 'text')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('object_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('container', 'varchar(255)')
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('is_incremental', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('data_timestamp', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('backup_project_idx').on('backup').columns(['project_id', 'created_at']).execute();
      await s.createIndex('backup_volume_idx').on('backup').column('volume_id').execute();

      await s.createTable('volume_transfer')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('name', 'varchar(255)')
        .addColumn('salt', 'varchar(64)', (c) => c.notNull())
        .addColumn('crypt_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('source_project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('destination_project_id', 'varchar(64)')
        .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('no_snapshots', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await s.createTable('volume_quota')
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_quota_pk', ['project_id', 'resource'])
        .execute();

      await s.createTable('volume_message')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('request_id', 'varchar(64)')
        .addColumn('resource_type', 'varchar(32)')
        .addColumn('resource_uuid', 'varchar(36)')
        .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('message_level', 'varchar(16)', (c) => c.notNull())
        .addColumn('action_id', 'varchar(16)', (c) => c.notNull())
        .addColumn('detail_id', 'varchar(16)', (c) => c.notNull())
        .addColumn('user_message', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await s.createIndex('volume_message_project_idx').on('volume_message').columns(['project_id', 'created_at']).execute();
    },
  },
  // Cinder's admin metadata: what the service records about a volume (its read-only flag),
  // shown inside the volume's `metadata` but not changed through the metadata API.
  'volume-0002-admin-metadata': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('volume_admin_metadata')
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_admin_metadata_pk', ['volume_id', 'key'])
        .execute();
    },
  },
};
