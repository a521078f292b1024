import { now } from '../../platform/clock.js';
import { uuid } from '../../platform/ids.js';
import type { NetDb } from './store.js';
import { defaultGateway, defaultPools } from './logic/subnets.js';
import { parseCidr } from './logic/ip.js';
import { DEFAULT_MTU } from './api/networks.js';

/**
 * The product documents' default topology: one external network per availability zone,
 * owned by the admin project, with a documentation-range public subnet each (RFC 5737, so
 * nothing here ever routes to a real address) and the documented DNS resolvers.
 */
export const EXTERNAL_NETWORKS = [
  { name: 'europe-se-1-1a-net0', zone: 'europe-se-1a', cidr: '198.51.100.0/24' },
  { name: 'europe-se-1-1b-net0', zone: 'europe-se-1b', cidr: '203.0.113.0/24' },
];
export const DNS_RESOLVERS = ['83.168.225.225', '83.168.226.226'];

export async function bootstrapTopology(db: NetDb, adminProjectId: string): Promise<void> {
  for (const ext of EXTERNAL_NETWORKS) {
    const exists = await db.selectFrom('network').select('id').where('name', '=', ext.name).where('external', '=', 1).executeTakeFirst();
    if (exists) continue;
    const t = now();
    const networkId = uuid();
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('network').values({
        id: networkId, project_id: adminProjectId, name: ext.name, description: `Public network of ${ext.zone}`, created_at: t, updated_at: t,
        revision_number: 1, admin_state_up: 1, status: 'ACTIVE', shared: 0, external: 1, is_default: ext.zone === 'europe-se-1a' ? 1 : 0,
        mtu: DEFAULT_MTU, port_security_enabled: 1, availability_zone_hints: JSON.stringify([ext.zone]), dns_domain: '',
        provider_network_type: 'flat', provider_physical_network: `public-${ext.zone}`, provider_segmentation_id: null,
      }).execute();
      const c = parseCidr(ext.cidr)!;
      const gw = defaultGateway(c);
      await trx.insertInto('subnet').values({
        id: uuid(), project_id: adminProjectId, network_id: networkId, name: `${ext.name}-subnet`, description: '', created_at: t, updated_at: t,
        revision_number: 0, ip_version: 4, cidr: ext.cidr, gateway_ip: gw, enable_dhcp: 0, allocation_pools: JSON.stringify(defaultPools(c, gw)),
        dns_nameservers: JSON.stringify(DNS_RESOLVERS), host_routes: '[]', ipv6_ra_mode: null, ipv6_address_mode: null, subnetpool_id: null,
        service_types: '[]', dns_publish_fixed_ip: 0,
      }).execute();
    });
  }
}
