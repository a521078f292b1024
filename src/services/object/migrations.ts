import type { Migration } from 'kysely';

/**
 * Swift's data model: accounts (one per project, created on first use), containers in an
 * account, objects in a container. Object bytes live in the blob store under `blob_key`;
 * every row here is metadata. Counters on the container row keep HEAD statistics cheap and
 * change in the same transaction as the object rows they count.
 */
export const objectMigrations: Record<string, Migration> = {
  'object-0001-initial': {
    async up(db) {
      await db.schema.createTable('object_account')
        .addColumn('project_id', 'varchar(64)', (c) => c.primaryKey())
        // X-Account-Meta-* and the other stored account headers, lower-cased names → values (JSON).
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('object_container')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('policy', 'varchar(32)', (c) => c.notNull())
        // X-Container-Meta-*, ACLs, versioning settings: lower-cased header names → values (JSON).
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('object_count', 'bigint', (c) => c.notNull())
        .addColumn('bytes_used', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('object_container_name_uq', ['project_id', 'name'])
        .execute();
      await db.schema.createTable('object_object')
        .addColumn('container_id', 'varchar(36)', (c) => c.notNull().references('object_container.id').onDelete('cascade'))
        .addColumn('name', 'varchar(1024)', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'varchar(64)', (c) => c.notNull())
        .addColumn('content_type', 'varchar(256)', (c) => c.notNull())
        // X-Object-Meta-*, Content-Disposition, X-Object-Manifest, ...: lower-cased names → values (JSON).
        .addColumn('headers', 'text', (c) => c.notNull())
        // The bytes (for a static large object: its manifest); null for a zero-byte object.
        .addColumn('blob_key', 'varchar(128)')
        .addColumn('kind', 'varchar(8)', (c) => c.notNull())
        .addColumn('delete_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_object_pk', ['container_id', 'name'])
        .execute();
      await db.schema.createIndex('object_object_delete_at_idx').on('object_object').column('delete_at').execute();
    },
  },
  /**
   * The S3 API on the same data: per-version and per-bucket settings Swift does not show
   * (sysmeta), and multipart uploads whose parts wait as blobs until completed.
   */
  'object-0002-s3': {
    async up(db) {
      await db.schema.alterTable('object_object').addColumn('sysmeta', 'text').execute();
      await db.schema.alterTable('object_container').addColumn('sysmeta', 'text').execute();
      await db.schema.createTable('object_upload')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('container_id', 'varchar(36)', (c) => c.notNull().references('object_container.id').onDelete('cascade'))
        .addColumn('name', 'varchar(1024)', (c) => c.notNull())
        .addColumn('content_type', 'varchar(256)', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('sysmeta', 'text')
        .addColumn('owner', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('object_upload_name_idx').on('object_upload').columns(['container_id', 'name']).execute();
      await db.schema.createTable('object_upload_part')
        .addColumn('upload_id', 'varchar(64)', (c) => c.notNull().references('object_upload.id').onDelete('cascade'))
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'varchar(64)', (c) => c.notNull())
        .addColumn('blob_key', 'varchar(128)', (c) => c.notNull())
        .addColumn('sysmeta', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_upload_part_pk', ['upload_id', 'part_number'])
        .execute();
    },
  },
};
