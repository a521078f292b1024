import { conflictError, neutronError } from '../../../api/common.js';
import type { NetworkHooks } from '../../../logic/hooks.js';
import type { NetDb } from '../../../store.js';
import { FLOATINGIP_OWNER, rdb } from '../store.js';
import { disassociatePort, updateFloatingIp } from './floatingips.js';
import { deletePortRows } from '../../../logic/ports.js';
import { routerState } from './agent-state.js';
import { novaFloatingIps } from './nova-proxy.js';

/**
 * What routers and floating IPs need from the core's port and subnet deletes: ports a
 * router or a floating IP holds go only through the router and floating IP APIs; a fixed
 * port going away lets go of its floating IPs; a subnet a router is on stays.
 */
export function registerRouterHooks(hooks: NetworkHooks): void {
  hooks.agentState.push(routerState);
  hooks.novaFloatingIps = novaFloatingIps;
  hooks.setFloatingIpPort = async (db, dialect, ctx, address, portId, fixedIp) => {
    const trx = rdb(db);
    const fip = await trx.selectFrom('floating_ip').selectAll().where('floating_ip_address', '=', address)
      .where((eb) => (ctx.isAdmin ? eb.val(true) : eb('project_id', '=', ctx.projectId ?? ''))).executeTakeFirst();
    if (!fip) throw neutronError(404, 'FloatingIPNotFound', `Floating IP ${address} could not be found`);
    await updateFloatingIp({ trx, dialect, hooks, ctx }, fip, { port_id: portId, ...(fixedIp ? { fixed_ip_address: fixedIp } : {}) });
  };
  hooks.beforePortDelete ??= [];
  hooks.beforeSubnetDelete ??= [];
  // As in Neutron, deleting an external network deletes its floating IPs and their ports.
  (hooks.beforeNetworkDelete ??= []).push(async (db: NetDb, networkId: string) => {
    const trx = rdb(db);
    const fips = await trx.selectFrom('floating_ip').select(['id', 'floating_port_id']).where('floating_network_id', '=', networkId).execute();
    if (!fips.length) return;
    await trx.deleteFrom('resource_tag').where('resource_type', '=', 'floatingips').where('resource_id', 'in', fips.map((f) => f.id)).execute();
    await trx.deleteFrom('floating_ip').where('floating_network_id', '=', networkId).execute();
    await deletePortRows(db, fips.map((f) => f.floating_port_id));
  });
  hooks.beforePortDelete.push(async (db: NetDb, portId: string, deviceOwner: string, byRouterApi: boolean) => {
    const trx = rdb(db);
    if (!byRouterApi) {
      const held = await trx.selectFrom('router_port').select('router_id').where('port_id', '=', portId).executeTakeFirst();
      const fip = deviceOwner === FLOATINGIP_OWNER
        ? await trx.selectFrom('floating_ip').select('id').where('floating_port_id', '=', portId).executeTakeFirst() : undefined;
      if (held || fip) {
        throw conflictError('ServicePortInUse', `Port ${portId} cannot be deleted directly via the port API: has device owner ${deviceOwner}.`);
      }
    }
    await disassociatePort(trx, portId);
  });
  hooks.beforeSubnetDelete.push(async (db: NetDb, subnetId: string) => {
    const trx = rdb(db);
    const iface = await trx.selectFrom('router_port').innerJoin('ip_allocation', 'ip_allocation.port_id', 'router_port.port_id')
      .select('router_port.router_id').where('ip_allocation.subnet_id', '=', subnetId).executeTakeFirst();
    if (iface) {
      throw conflictError('SubnetInUse', `Unable to complete operation on subnet ${subnetId}: One or more ports have an IP allocation from this subnet.`);
    }
  });
  hooks.extensions.push('router', 'extraroute', 'extraroute-atomic', 'ext-gw-mode', 'router_availability_zone', 'l3-ha', 'dvr',
    'fip-port-details', 'floatingip-pools');
}
