import { createHash } from 'node:crypto';
import type { RequestContext } from '../../../platform/auth/context.js';
import type { Dialect } from '../../../platform/db/index.js';
import type { NetDb } from '../store.js';
import type { NetworkHooks } from './hooks.js';
import { createPort, deletePortRows, replaceFixedIps } from './ports.js';
import { agentHost } from '../agent/host.js';

/**
 * DHCP ports. A network with a DHCP-enabled subnet is served by DHCP agents, each holding
 * one `network:dhcp` port with an address on every such subnet; the data plane runs the
 * DHCP server behind it. Two agents serve each network (Neutron's
 * dhcp_agents_per_network = 2, as the product documents' tutorials show: router .1, DHCP
 * .2 and .3, the first server .4). The ports are created in the same transaction as the
 * subnet, not later by an agent as upstream does, so the addresses users get next are
 * deterministic.
 */
export const DHCP_OWNER = 'network:dhcp';
export const DHCP_AGENTS_PER_NETWORK = 2;

/** Neutron's DHCP device id: `dhcp<uuid of the agent's host>-<network id>`. */
export function dhcpDeviceId(agent: number, networkId: string): string {
  const h = createHash('sha1').update(`${agentHost()}/dhcp/${agent}`).digest('hex');
  return `dhcp${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}-${networkId}`;
}

/** Brings a network's DHCP ports in line with its DHCP-enabled subnets. Call inside the changing transaction. */
export async function syncDhcpPorts(trx: NetDb, dialect: Dialect, hooks: NetworkHooks, ctx: RequestContext, networkId: string): Promise<void> {
  const network = await trx.selectFrom('network').selectAll().where('id', '=', networkId).executeTakeFirst();
  if (!network) return;
  const subnets = await trx.selectFrom('subnet').select('id').where('network_id', '=', networkId).where('enable_dhcp', '=', 1).orderBy('created_at').execute();
  const wanted = Array.from({ length: DHCP_AGENTS_PER_NETWORK }, (_, i) => dhcpDeviceId(i, networkId));
  const ports = await trx.selectFrom('port').selectAll().where('network_id', '=', networkId).where('device_owner', '=', DHCP_OWNER)
    .where('device_id', 'in', wanted).execute();
  if (!subnets.length) {
    await deletePortRows(trx, ports.map((p) => p.id));
    return;
  }
  for (const deviceId of wanted) {
    const port = ports.find((p) => p.device_id === deviceId);
    if (!port) {
      await createPort(trx, dialect, hooks, {
        network, projectId: network.project_id, ctx, internal: true,
        body: { device_owner: DHCP_OWNER, device_id: deviceId, 'binding:host_id': agentHost(), fixed_ips: subnets.map((s) => ({ subnet_id: s.id })) },
      });
      continue;
    }
    const have = await trx.selectFrom('ip_allocation').select(['subnet_id', 'ip_address']).where('port_id', '=', port.id).execute();
    const keep = have.filter((h) => subnets.some((s) => s.id === h.subnet_id));
    const add = subnets.filter((s) => !have.some((h) => h.subnet_id === s.id));
    if (keep.length === have.length && !add.length) continue;
    // A subnet named without an address keeps the one the port has there.
    await replaceFixedIps(trx, dialect, port, subnets.map((s) => ({ subnet_id: s.id })));
  }
}
