import type { Migration } from 'kysely';

/** Glance's data model: images, their tags and members (projects an image is shared with). */
export const imageMigrations: Record<string, Migration> = {
  'image-0001-initial': {
    async up(db) {
      await db.schema.createTable('image')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('visibility', 'varchar(16)', (c) => c.notNull())
        .addColumn('protected', 'integer', (c) => c.notNull())
        .addColumn('os_hidden', 'integer', (c) => c.notNull())
        .addColumn('owner', 'varchar(64)', (c) => c.notNull())
        .addColumn('size', 'bigint')
        .addColumn('virtual_size', 'bigint')
        .addColumn('checksum', 'varchar(32)')
        .addColumn('os_hash_algo', 'varchar(16)')
        .addColumn('os_hash_value', 'varchar(128)')
        .addColumn('container_format', 'varchar(16)')
        .addColumn('disk_format', 'varchar(16)')
        .addColumn('min_ram', 'integer', (c) => c.notNull())
        .addColumn('min_disk', 'integer', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        // Bytes promised by an upload in progress, counted against the size quota until it ends.
        .addColumn('reserved_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('image_owner_idx').on('image').column('owner').execute();
      await db.schema.createIndex('image_visibility_idx').on('image').column('visibility').execute();
      await db.schema.createTable('image_tag')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
        .execute();
      await db.schema.createTable('image_member')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
        .addColumn('member', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member'])
        .execute();
      await db.schema.createIndex('image_member_member_idx').on('image_member').column('member').execute();
    },
  },
};
