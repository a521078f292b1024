import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { registerDataplane } from '../../../src/services/network/dataplane/index.js';
import type { Changes, DesiredState, Realised } from '../../../src/services/network/dataplane/driver.js';
import { defaultConfig } from '../../../src/platform/config.js';

/**
 * The network agent and its data plane interface: what a plane is handed after API writes
 * (only what changed, everything on the first pass), statuses written back, retries after a
 * failing plane, DHCP ports, the agents API, and the interface compute uses.
 */
class RecordingPlane {
  readonly name = 'recording';
  calls: Array<{ changes: Changes; full: DesiredState }> = [];
  failNext = false;
  portStatus: Record<string, 'ACTIVE' | 'DOWN'> = {};
  async apply(changes: Changes, full: DesiredState): Promise<Realised> {
    if (this.failNext) { this.failNext = false; throw new Error('plane is down'); }
    this.calls.push({ changes, full });
    return { status: { ports: this.portStatus } };
  }
  get last() { return this.calls[this.calls.length - 1]!; }
}

describe('network agent and data plane interface', () => {
  let c: TestCloud;
  let demo: string;
  const plane = new RecordingPlane();
  registerDataplane('recording', () => plane);

  const api = (method: string, path: string, token: string, body?: unknown) => c.api(method, `/network/v2.0${path}`, { token, body });
  const ok = async (method: string, path: string, body?: unknown, token = demo, status = method === 'POST' ? 201 : 200) => {
    const r = await api(method, path, token, body);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  const settle = () => c.network.agent.idle();

  beforeAll(async () => {
    c = await testCloud({ network: { ...defaultConfig().network, dataplane: 'recording', agentIntervalMs: 5 } });
    demo = await c.login('demo', 'demo-secret');
  });
  afterAll(async () => { await c?.destroy(); });

  it('hands the plane everything first, then only what each write changed', async () => {
    await settle();
    const first = plane.calls[0]!;
    // The bootstrap topology: both external networks, their subnets and nothing removed.
    expect(first.changes.networks.upsert.filter((n) => n.external)).toHaveLength(2);
    expect(first.changes.networks.remove).toEqual([]);

    const net = (await ok('POST', '/networks', { network: { name: 'agent-net' } })).network;
    const sub = (await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.50.0.0/24', ip_version: 4 } })).subnet;
    const port = (await ok('POST', '/ports', { port: { network_id: net.id, name: 'p1' } })).port;
    await settle();
    const seen = plane.last.full;
    expect(seen.host).toBe(c.network.agent.options.host);
    expect(seen.networks.find((n) => n.id === net.id)).toMatchObject({ mtu: 1450, external: false, admin_state_up: true });
    expect(seen.subnets.find((s) => s.id === sub.id)).toMatchObject({ cidr: '10.50.0.0/24', enable_dhcp: true, gateway_ip: '10.50.0.1' });
    const p = seen.ports.find((x) => x.id === port.id)!;
    expect(p.fixed_ips).toEqual([{ subnet_id: sub.id, ip_address: '10.50.0.4' }]);
    expect(p.security_groups).toHaveLength(1);
    // The project's default group reached the plane with upstream's four rules.
    const group = seen.securityGroups.find((g) => g.id === p.security_groups[0])!;
    expect(group.rules.map((r) => `${r.direction}/${r.ethertype}/${r.remote_group_id ? 'group' : 'any'}`).sort())
      .toEqual(['egress/IPv4/any', 'egress/IPv6/any', 'ingress/IPv4/group', 'ingress/IPv6/group']);
    // Two DHCP ports hold .2 and .3 and are part of the state too.
    expect(seen.ports.filter((x) => x.network_id === net.id && x.device_owner === 'network:dhcp').map((x) => x.fixed_ips[0]!.ip_address).sort())
      .toEqual(['10.50.0.2', '10.50.0.3']);

    // A rule added: the next pass carries that group and nothing about networks.
    const before = plane.calls.length;
    await ok('POST', '/security-group-rules', { security_group_rule: { security_group_id: group.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' } });
    await settle();
    expect(plane.calls.length).toBeGreaterThan(before);
    expect(plane.last.changes.securityGroups.upsert.map((g) => g.id)).toEqual([group.id]);
    expect(plane.last.changes.networks.upsert).toEqual([]);
    expect(plane.last.changes.ports.upsert).toEqual([]);

    // A port deleted: the plane is told to remove it.
    await ok('DELETE', `/ports/${port.id}`, undefined, demo, 204);
    await settle();
    expect(plane.last.changes.ports.remove).toEqual([port.id]);
  });

  it('realises routers, interfaces, routes and floating IPs', async () => {
    const net = (await ok('POST', '/networks', { network: { name: 'r-net' } })).network;
    const sub = (await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.51.0.0/24', ip_version: 4 } })).subnet;
    const router = (await ok('POST', '/routers', { router: { name: 'r1', external_gateway_info: { network_id: (await ok('GET', '/networks?name=europe-se-1-1a-net0')).networks[0].id } } })).router;
    await ok('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: sub.id }, demo, 200);
    await ok('PUT', `/routers/${router.id}/add_extraroutes`, { router: { routes: [{ destination: '192.0.2.0/24', nexthop: '10.51.0.9' }] } }, demo, 200);
    const server = (await ok('POST', '/ports', { port: { network_id: net.id, device_id: 'server-1', device_owner: 'compute:europe-se-1a' } })).port;
    const fip = (await ok('POST', '/floatingips', { floatingip: { floating_network_id: router.external_gateway_info.network_id, port_id: server.id } })).floatingip;
    await settle();
    const state = plane.last.full;
    const r = state.routers.find((x) => x.id === router.id)!;
    expect(r.gateway).toMatchObject({ network_id: router.external_gateway_info.network_id, enable_snat: true });
    expect(r.interfaces).toHaveLength(1);
    expect(state.ports.find((x) => x.id === r.interfaces[0])!.fixed_ips[0]!.ip_address).toBe('10.51.0.1');
    expect(r.routes).toEqual([{ destination: '192.0.2.0/24', nexthop: '10.51.0.9' }]);
    expect(state.floatingIps.find((x) => x.id === fip.id)).toMatchObject({ port_id: server.id, fixed_ip_address: server.fixed_ips[0].ip_address, router_id: router.id });
  });

  it('writes back the statuses the plane observes, and retries after a failing pass', async () => {
    const net = (await ok('POST', '/networks', { network: { name: 's-net' } })).network;
    await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.52.0.0/24', ip_version: 4 } });
    await settle();
    plane.failNext = true;
    const port = (await ok('POST', '/ports', { port: { network_id: net.id, device_id: 'server-2', device_owner: 'compute:europe-se-1a' } })).port;
    expect(port.status).toBe('ACTIVE');
    plane.portStatus = { [port.id]: 'DOWN' };
    await settle();
    // The failed pass is retried with the same change, and the plane's view wins.
    expect(plane.calls.some((x) => x.changes.ports.upsert.some((p) => p.id === port.id))).toBe(true);
    expect(c.network.agent.lastError).toBeNull();
    expect((await ok('GET', `/ports/${port.id}`)).port.status).toBe('DOWN');
    plane.portStatus = {};
  });

  it('reports the host agents to admins only, with live heartbeats and counts', async () => {
    const list = (await ok('GET', '/agents', undefined, c.adminToken)).agents;
    expect(list.map((a: any) => a.agent_type).sort()).toEqual(['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
    expect(list.every((a: any) => a.alive && a.host === c.network.agent.options.host)).toBe(true);
    const l3 = list.find((a: any) => a.agent_type === 'L3 agent');
    expect(l3.configurations.routers).toBeGreaterThanOrEqual(1);
    expect((await ok('GET', `/agents/${l3.id}`, undefined, c.adminToken)).agent.id).toBe(l3.id);
    expect((await ok('GET', '/agents')).agents).toEqual([]);
    expect((await api('GET', `/agents/${l3.id}`, demo)).status).toBe(403);
  });

  it('keeps DHCP ports in step with DHCP-enabled subnets', async () => {
    const net = (await ok('POST', '/networks', { network: { name: 'd-net' } })).network;
    const dhcpPorts = async () => (await ok('GET', `/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports;
    const off = (await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.53.0.0/24', ip_version: 4, enable_dhcp: false } })).subnet;
    expect(await dhcpPorts()).toEqual([]);
    await ok('PUT', `/subnets/${off.id}`, { subnet: { enable_dhcp: true } });
    expect((await dhcpPorts()).map((p: any) => p.fixed_ips.map((f: any) => f.ip_address)).sort()).toEqual([['10.53.0.2'], ['10.53.0.3']]);
    const v6 = (await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '2001:db8:53::/64', ip_version: 6, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' } })).subnet;
    expect((await dhcpPorts()).every((p: any) => p.fixed_ips.length === 2 && p.fixed_ips.some((f: any) => f.subnet_id === v6.id))).toBe(true);
    // Deleting a subnet is not blocked by DHCP ports; they let go of its addresses.
    await ok('DELETE', `/subnets/${v6.id}`, undefined, demo, 204);
    expect((await dhcpPorts()).every((p: any) => p.fixed_ips.length === 1)).toBe(true);
    await ok('PUT', `/subnets/${off.id}`, { subnet: { enable_dhcp: false } });
    expect(await dhcpPorts()).toEqual([]);
    await ok('PUT', `/subnets/${off.id}`, { subnet: { enable_dhcp: true } });
    // Nor do they keep the network in use.
    await ok('DELETE', `/networks/${net.id}`, undefined, demo, 204);
    expect((await ok('GET', `/ports?network_id=${net.id}`, undefined, c.adminToken)).ports).toEqual([]);
  });

  it('gives compute ports to bind and unbind, and security groups by name', async () => {
    const ctx = await c.platform.authenticate(demo);
    const net = (await ok('POST', '/networks', { network: { name: 'c-net' } })).network;
    await ok('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.54.0.0/24', ip_version: 4 } });
    expect((await c.network.listNetworks(ctx)).map((n) => n.id)).toContain(net.id);
    expect((await c.network.listNetworks(ctx)).some((n) => n.external)).toBe(false);
    const port = (await ok('POST', '/ports', { port: { network_id: net.id } })).port;
    const bound = await c.network.bindPort(ctx, port.id, { deviceId: 'server-a', deviceOwner: 'compute:europe-se-1a', host: 'host-1' });
    expect(bound.status).toBe('ACTIVE');
    await expect(c.network.bindPort(ctx, port.id, { deviceId: 'server-b', deviceOwner: 'compute:europe-se-1a', host: 'host-1' })).rejects.toMatchObject({ status: 409 });
    expect((await ok('GET', `/ports/${port.id}`)).port).toMatchObject({ device_id: 'server-a', status: 'ACTIVE' });
    expect((await ok('GET', `/ports/${port.id}`)).port).not.toHaveProperty('binding:host_id');
    expect((await ok('GET', `/ports/${port.id}`, undefined, c.adminToken)).port['binding:host_id']).toBe('host-1');
    await c.network.unbindPort(port.id);
    expect((await ok('GET', `/ports/${port.id}`)).port).toMatchObject({ device_id: '', device_owner: '', status: 'DOWN' });

    const web = (await ok('POST', '/security-groups', { security_group: { name: 'web' } })).security_group;
    const [def, byName, byId] = await c.network.resolveSecurityGroups(ctx, ['default', 'web', web.id]);
    expect(byName).toBe(web.id);
    expect(byId).toBeUndefined(); // duplicates collapse
    expect((await ok('GET', `/security-groups/${def}`)).security_group.name).toBe('default');
    await expect(c.network.resolveSecurityGroups(ctx, ['nope'])).rejects.toMatchObject({ status: 404 });
    await ok('POST', '/security-groups', { security_group: { name: 'web' } });
    await expect(c.network.resolveSecurityGroups(ctx, ['web'])).rejects.toMatchObject({ status: 409 });
    // Another project's groups are not found by id.
    const other = (await ok('POST', '/security-groups', { security_group: { name: 'admins-only' } }, c.adminToken)).security_group;
    await expect(c.network.resolveSecurityGroups(ctx, [other.id])).rejects.toMatchObject({ status: 404 });
  });
});
