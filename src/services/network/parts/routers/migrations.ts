import type { Kysely, Migration } from 'kysely';
import { standard } from '../../migrations.js';

/**
 * Routers, their static routes and ports, and floating IPs. A router's gateway is one port
 * on an external network (router_port with port_type 'gateway'); interfaces are ports on
 * tenant subnets. The unique key on (floating network, fixed port, fixed address) is what
 * keeps two floating IPs from landing on the same fixed address, even when racing.
 */
export const routerMigrations: Record<string, Migration> = {
  'network-0003-routers': {
    async up(db: Kysely<any>) {
      const s = db.schema;
      await standard(s.createTable('router').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('admin_state_up', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('gw_network_id', 'varchar(36)')
        .addColumn('gw_port_id', 'varchar(36)')
        .addColumn('enable_snat', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('availability_zone_hints', 'text', (c) => c.notNull())
        .addColumn('ha', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('distributed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('flavor_id', 'varchar(36)')
        .execute();
      await s.createIndex('router_project_idx').on('router').column('project_id').execute();
      await s.createIndex('router_gw_network_idx').on('router').column('gw_network_id').execute();
      await s.createTable('router_route')
        .addColumn('router_id', 'varchar(36)', (c) => c.notNull().references('router.id').onDelete('cascade'))
        .addColumn('destination', 'varchar(64)', (c) => c.notNull())
        .addColumn('nexthop', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('router_route_pk', ['router_id', 'destination', 'nexthop'])
        .execute();
      await s.createTable('router_port')
        .addColumn('router_id', 'varchar(36)', (c) => c.notNull().references('router.id').onDelete('cascade'))
        .addColumn('port_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('port_type', 'varchar(64)', (c) => c.notNull())
        .execute();
      await s.createIndex('router_port_router_idx').on('router_port').column('router_id').execute();
      await standard(s.createTable('floating_ip').addColumn('id', 'varchar(36)', (c) => c.primaryKey()))
        .addColumn('floating_network_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('floating_port_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('floating_subnet_id', 'varchar(36)')
        .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
        .addColumn('fixed_port_id', 'varchar(36)')
        .addColumn('fixed_ip_address', 'varchar(64)')
        .addColumn('router_id', 'varchar(36)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('dns_domain', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .addColumn('qos_policy_id', 'varchar(36)')
        .addUniqueConstraint('floating_ip_fixed_unique', ['floating_network_id', 'fixed_port_id', 'fixed_ip_address'])
        .execute();
      await s.createIndex('floating_ip_project_idx').on('floating_ip').column('project_id').execute();
      await s.createIndex('floating_ip_fixed_port_idx').on('floating_ip').column('fixed_port_id').execute();
      await s.createIndex('floating_ip_router_idx').on('floating_ip').column('router_id').execute();
    },
  },
};
