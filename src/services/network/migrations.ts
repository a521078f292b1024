import type { Migration, Kysely, CreateTableBuilder } from 'kysely';

/**
 * Neutron's core model: networks, subnets, ports and the IP allocations that tie ports to
 * subnets. The unique key on (subnet, address) is what makes IP allocation race-free:
 * two ports asking for the last address cannot both insert it.
 * Other parts of the service (security groups, routers, ...) add their own migrations.
 */
// Neutron's "standard attributes" every resource carries.
export function standard<T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, never> {
  return t
    .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('description', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('revision_number', 'integer', (c) => c.notNull().defaultTo(0)) as CreateTableBuilder<T, never>;
}

export const networkMigrations: Record<string, Migration> = {
  'network-0001-core': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await standard(s.createTable('network').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('shared', 'integer', (c) => c.notNull())
        .addColumn('external', 'integer', (c) => c.notNull())
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('mtu', 'integer', (c) => c.notNull())
        .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
        .addColumn('availability_zone_hints', 'text', (c) => c.notNull())
        .addColumn('dns_domain', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('provider_network_type', 'varchar(32)')
        .addColumn('provider_physical_network', 'varchar(64)')
        .addColumn('provider_segmentation_id', 'integer')
        .execute();
      await s.createIndex('network_project_idx').on('network').column('project_id').execute();
      await standard(s.createTable('subnet').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('network.id').onDelete('cascade'))
        .addColumn('ip_version', 'integer', (c) => c.notNull())
        .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
        .addColumn('gateway_ip', 'varchar(64)')
        .addColumn('enable_dhcp', 'integer', (c) => c.notNull())
        .addColumn('allocation_pools', 'text', (c) => c.notNull())
        .addColumn('dns_nameservers', 'text', (c) => c.notNull())
        .addColumn('host_routes', 'text', (c) => c.notNull())
        .addColumn('ipv6_ra_mode', 'varchar(16)')
        .addColumn('ipv6_address_mode', 'varchar(16)')
        .addColumn('subnetpool_id', 'varchar(36)')
        .addColumn('service_types', 'text', (c) => c.notNull())
        .addColumn('dns_publish_fixed_ip', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await s.createIndex('subnet_network_idx').on('subnet').column('network_id').execute();
      await standard(s.createTable('port').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('network.id'))
        .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('device_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('device_owner', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('port_security_enabled', 'integer', (c) => c.notNull())
        .addColumn('allowed_address_pairs', 'text', (c) => c.notNull())
        .addColumn('extra_dhcp_opts', 'text', (c) => c.notNull())
        .addColumn('binding_host_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('binding_profile', 'text', (c) => c.notNull())
        .addColumn('binding_vnic_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addUniqueConstraint('port_network_mac', ['network_id', 'mac_address'])
        .execute();
      await s.createIndex('port_network_idx').on('port').column('network_id').execute();
      await s.createIndex('port_project_idx').on('port').column('project_id').execute();
      await s.createIndex('port_device_idx').on('port').column('device_id').execute();
      await s.createTable('ip_allocation')
        .addColumn('subnet_id', 'varchar(36)', (c) => c.notNull().references('subnet.id').onDelete('cascade'))
        .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
        // The address as 32 hex digits: sorts and compares like the number, for range counts.
        .addColumn('ip_key', 'varchar(32)', (c) => c.notNull())
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('port.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('ip_allocation_pk', ['subnet_id', 'ip_address'])
        .execute();
      await s.createIndex('ip_allocation_port_idx').on('ip_allocation').column('port_id').execute();
      await s.createIndex('ip_allocation_key_idx').on('ip_allocation').columns(['subnet_id', 'ip_key']).execute();
      await s.createTable('port_security_group')
        .addColumn('port_id', 'varchar(36)', (c) => c.notNull().references('port.id').onDelete('cascade'))
        .addColumn('security_group_id', 'varchar(36)', (c) => c.notNull())
        .addPrimaryKeyConstraint('port_security_group_pk', ['port_id', 'security_group_id'])
        .execute();
      await s.createIndex('port_sg_sg_idx').on('port_security_group').column('security_group_id').execute();
      await s.createTable('resource_tag')
        .addColumn('resource_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('resource_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('tag', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_tag_pk', ['resource_type', 'resource_id', 'tag'])
        .execute();
      await s.createTable('network_quota')
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('network_quota_pk', ['project_id', 'resource'])
        .execute();
    },
  },
};
