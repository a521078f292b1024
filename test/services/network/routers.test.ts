import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';

/** Routers and floating IPs: gateways, interfaces, static routes, associations, races, and the CLI. */
describe('network: routers and floating IPs', () => {
  let c: TestCloud;
  let demo: string;
  let ext: string;
  let extB: string;
  let n = 0;

  const api = (method: string, path: string, token: string, body?: unknown) => c.api(method, `/network/v2.0${path}`, { token, body });
  const ok = async (method: string, path: string, token: string, body?: unknown, status = method === 'POST' ? 201 : 200) => {
    const r = await api(method, path, token, body);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.body;
  };
  /** A tenant network with one IPv4 subnet (10.<n>.0.0/24 unless told). */
  const network = async (token = demo, cidr?: string) => {
    n++;
    const net = (await ok('POST', '/networks', token, { network: { name: `net${n}` } })).network;
    const subnet = (await ok('POST', '/subnets', token, { subnet: { network_id: net.id, cidr: cidr ?? `10.${n}.0.0/24`, ip_version: 4 } })).subnet;
    return { net, subnet };
  };
  const port = async (networkId: string, token = demo, extra: Record<string, unknown> = {}) =>
    (await ok('POST', '/ports', token, { port: { network_id: networkId, ...extra } })).port;
  const router = async (token = demo, body: Record<string, unknown> = {}) => (await ok('POST', '/routers', token, { router: { name: `r${++n}`, ...body } })).router;

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    const nets = (await ok('GET', '/networks?router:external=true', demo)).networks;
    ext = nets.find((x: { name: string }) => x.name === 'europe-se-1-1a-net0').id;
    extB = nets.find((x: { name: string }) => x.name === 'europe-se-1-1b-net0').id;
  });
  afterAll(async () => { await c.destroy(); });

  it('lists the L3 extensions', async () => {
    const aliases = (await ok('GET', '/extensions', demo)).extensions.map((e: { alias: string }) => e.alias);
    expect(aliases).toEqual(expect.arrayContaining(['router', 'extraroute', 'extraroute-atomic', 'ext-gw-mode', 'router_availability_zone', 'fip-port-details', 'floatingip-pools']));
  });

  it('creates a router with a gateway and an interface, and tears it down in order', async () => {
    const { net, subnet } = await network();
    const r = await router(demo, { external_gateway_info: { network_id: ext } });
    expect(r).toMatchObject({ status: 'ACTIVE', admin_state_up: true, routes: [], availability_zones: ['europe-se-1a'], availability_zone_hints: [], flavor_id: null });
    expect(r.external_gateway_info.network_id).toBe(ext);
    expect(r.external_gateway_info.enable_snat).toBe(true);
    expect(r.external_gateway_info.external_fixed_ips).toEqual([{ subnet_id: expect.any(String), ip_address: expect.stringMatching(/^198\.51\.100\.\d+$/) }]);
    expect(r).not.toHaveProperty('ha');
    const asAdmin = (await ok('GET', `/routers/${r.id}`, c.adminToken)).router;
    expect(asAdmin).toMatchObject({ ha: false, distributed: false });

    const info = await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: subnet.id });
    expect(info).toMatchObject({ id: r.id, project_id: r.project_id, tenant_id: r.project_id, subnet_id: subnet.id, subnet_ids: [subnet.id], network_id: net.id });
    const p = (await ok('GET', `/ports/${info.port_id}`, demo)).port;
    expect(p).toMatchObject({ device_id: r.id, device_owner: 'network:router_interface', status: 'ACTIVE', fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }] });
    // The gateway port belongs to no project: the tenant does not see it, the admin does.
    const gw = (await ok('GET', `/ports?device_id=${r.id}&device_owner=network:router_gateway`, c.adminToken)).ports;
    expect(gw).toHaveLength(1);
    expect(gw[0].project_id).toBe('');

    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: subnet.id })).status).toBe(400);
    const del = await api('DELETE', `/ports/${info.port_id}`, demo);
    expect(del.status).toBe(409);
    expect(del.body.NeutronError.type).toBe('ServicePortInUse');
    expect((await api('DELETE', `/ports/${gw[0].id}`, c.adminToken)).status).toBe(409);
    expect((await api('DELETE', `/subnets/${subnet.id}`, demo)).body.NeutronError.type).toBe('SubnetInUse');
    expect((await api('DELETE', `/routers/${r.id}`, demo)).body.NeutronError.type).toBe('RouterInUse');

    const gone = await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: subnet.id });
    expect(gone).toMatchObject({ id: r.id, port_id: info.port_id, subnet_id: subnet.id });
    expect((await api('GET', `/ports/${info.port_id}`, demo)).status).toBe(404);
    const again = await api('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: subnet.id });
    expect([again.status, again.body.NeutronError.type]).toEqual([404, 'RouterInterfaceNotFoundForSubnet']);
    expect((await api('PUT', `/routers/${r.id}/remove_router_interface`, demo, { port_id: info.port_id })).body.NeutronError.type).toBe('RouterInterfaceNotFound');
    await ok('DELETE', `/routers/${r.id}`, demo, undefined, 204);
    expect((await api('GET', `/ports/${gw[0].id}`, c.adminToken)).status).toBe(404);
    await ok('DELETE', `/subnets/${subnet.id}`, demo, undefined, 204);
  });

  it('places a router in the first zone hint and checks gateway input', async () => {
    const r = await router(demo, { availability_zone_hints: ['europe-se-1b', 'europe-se-1a'] });
    expect(r.availability_zones).toEqual(['europe-se-1b']);
    expect(r.availability_zone_hints).toEqual(['europe-se-1b', 'europe-se-1a']);
    expect((await api('POST', '/routers', demo, { router: { availability_zone_hints: ['mars-1a'] } })).status).toBe(404);
    expect(r.external_gateway_info).toBeNull();

    const { net } = await network();
    const notExt = await api('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: net.id } } });
    expect(notExt.status).toBe(400);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: r.id } } })).status).toBe(404);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: extB, enable_snat: false } } })).status).toBe(403);
    expect((await api('POST', '/routers', demo, { router: { distributed: true } })).status).toBe(403);
    expect((await api('POST', '/routers', demo, { router: { ha: true } })).status).toBe(403);

    const set = (await ok('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: extB }, name: 'renamed', admin_state_up: false } })).router;
    expect(set).toMatchObject({ name: 'renamed', admin_state_up: false, external_gateway_info: { network_id: extB, enable_snat: true } });
    expect(set.external_gateway_info.external_fixed_ips[0].ip_address).toMatch(/^203\.0\.113\./);
    const snat = (await ok('PUT', `/routers/${r.id}`, c.adminToken, { router: { external_gateway_info: { network_id: extB, enable_snat: false } } })).router;
    expect(snat.external_gateway_info).toMatchObject({ enable_snat: false, external_fixed_ips: set.external_gateway_info.external_fixed_ips });
    const moved = (await ok('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: { network_id: ext } } })).router;
    expect(moved.external_gateway_info.external_fixed_ips[0].ip_address).toMatch(/^198\.51\.100\./);
    const cleared = (await ok('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: {} } })).router;
    expect(cleared.external_gateway_info).toBeNull();
    expect((await ok('GET', `/ports?device_id=${r.id}`, c.adminToken)).ports).toEqual([]);

    await ok('PUT', `/routers/${r.id}/tags/edge`, demo, undefined, 201);
    expect((await ok('GET', '/routers?tags=edge', demo)).routers.map((x: { id: string; tags: string[] }) => [x.id, x.tags])).toEqual([[r.id, ['edge']]]);
    const f = (await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: extB } })).floatingip;
    await ok('PUT', `/floatingips/${f.id}/tags`, demo, { tags: ['a', 'b'] });
    expect((await ok('GET', '/floatingips?tags-any=b', demo)).floatingips.map((x: { id: string }) => x.id)).toEqual([f.id]);
    await ok('DELETE', `/floatingips/${f.id}`, demo, undefined, 204);

    const fixed = (await ok('POST', '/routers', c.adminToken, { router: { external_gateway_info: { network_id: ext, external_fixed_ips: [{ ip_address: '198.51.100.200' }] } } })).router;
    expect(fixed.external_gateway_info.external_fixed_ips[0].ip_address).toBe('198.51.100.200');
    expect((await api('POST', '/routers', demo, { router: { external_gateway_info: { network_id: ext, external_fixed_ips: [{ ip_address: '198.51.100.201' }] } } })).status).toBe(403);
    await ok('DELETE', `/routers/${fixed.id}`, c.adminToken, undefined, 204);
  });

  it('adds interfaces by port and refuses bad ones', async () => {
    const r = await router();
    const a = await network();
    const p = await port(a.net.id);
    const info = await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { port_id: p.id });
    expect(info).toMatchObject({ port_id: p.id, subnet_id: a.subnet.id, network_id: a.net.id });
    expect((await ok('GET', `/ports/${p.id}`, demo)).port).toMatchObject({ device_id: r.id, device_owner: 'network:router_interface' });
    const r2 = await router();
    const inUse = await api('PUT', `/routers/${r2.id}/add_router_interface`, demo, { port_id: p.id });
    expect([inUse.status, inUse.body.NeutronError.type]).toEqual([409, 'PortInUse']);
    // Overlapping subnet on another network.
    const overlap = await network(demo, a.subnet.cidr);
    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: overlap.subnet.id })).status).toBe(400);
    // No gateway.
    const bare = (await ok('POST', '/networks', demo, { network: { name: 'bare' } })).network;
    const noGw = (await ok('POST', '/subnets', demo, { subnet: { network_id: bare.id, cidr: '10.250.0.0/24', ip_version: 4, gateway_ip: null } })).subnet;
    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: noGw.id })).status).toBe(400);
    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, {})).status).toBe(400);
    // Someone else's subnet is not found.
    const adminNet = await network(c.adminToken, '10.251.0.0/24');
    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: adminNet.subnet.id })).status).toBe(404);
    await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { port_id: p.id });
    expect((await api('GET', `/ports/${p.id}`, demo)).status).toBe(404);

    // Two IPv6 prefixes on one network share one router port; removing one keeps the other.
    const v6 = (await ok('POST', '/networks', demo, { network: { name: 'v6' } })).network;
    const s1 = (await ok('POST', '/subnets', demo, { subnet: { network_id: v6.id, cidr: 'fd00:1::/64', ip_version: 6 } })).subnet;
    const s2 = (await ok('POST', '/subnets', demo, { subnet: { network_id: v6.id, cidr: 'fd00:2::/64', ip_version: 6 } })).subnet;
    const i1 = await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: s1.id });
    const i2 = await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: s2.id });
    expect(i2.port_id).toBe(i1.port_id);
    expect((await ok('GET', `/ports/${i1.port_id}`, demo)).port.fixed_ips.map((f: { ip_address: string }) => f.ip_address).sort()).toEqual(['fd00:1::1', 'fd00:2::1']);
    await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: s1.id });
    expect((await ok('GET', `/ports/${i1.port_id}`, demo)).port.fixed_ips).toEqual([{ subnet_id: s2.id, ip_address: 'fd00:2::1' }]);
    await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: s2.id });
    expect((await api('GET', `/ports/${i1.port_id}`, demo)).status).toBe(404);
  });

  it('keeps static routes whose next hop is on a connected subnet', async () => {
    const r = await router();
    const a = await network();
    await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: a.subnet.id });
    const hop = a.subnet.cidr.replace('0/24', '10');
    const routes = [{ destination: '192.168.50.0/24', nexthop: hop }, { destination: '192.168.40.0/24', nexthop: hop }];
    const set = (await ok('PUT', `/routers/${r.id}`, demo, { router: { routes } })).router;
    expect(set.routes).toEqual([routes[1], routes[0]]);
    const bad = await api('PUT', `/routers/${r.id}`, demo, { router: { routes: [{ destination: '192.168.60.0/24', nexthop: '172.31.0.1' }] } });
    expect([bad.status, bad.body.NeutronError.type]).toEqual([400, 'InvalidRoutes']);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { routes: [{ destination: '192.168.60.1/24', nexthop: hop }] } })).status).toBe(400);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { routes: [{ destination: '192.168.60.0/24', nexthop: a.subnet.gateway_ip }] } })).status).toBe(400);
    const added = (await ok('PUT', `/routers/${r.id}/add_extraroutes`, demo, { router: { routes: [{ destination: '10.200.0.0/16', nexthop: hop }, routes[0]] } })).router;
    expect(added.routes).toHaveLength(3);
    const inUse = await api('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.subnet.id });
    expect([inUse.status, inUse.body.NeutronError.type]).toEqual([409, 'RouterInterfaceInUseByRoute']);
    const removed = (await ok('PUT', `/routers/${r.id}/remove_extraroutes`, demo, { router: { routes: [routes[0], routes[1]] } })).router;
    expect(removed.routes).toEqual([{ destination: '10.200.0.0/16', nexthop: hop }]);
    const none = (await ok('PUT', `/routers/${r.id}`, demo, { router: { routes: null } })).router;
    expect(none.routes).toEqual([]);
    await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.subnet.id });
  });

  it('allocates, associates, moves and releases floating IPs', async () => {
    const a = await network();
    const r = await router(demo, { external_gateway_info: { network_id: ext } });
    await ok('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: a.subnet.id });
    const p1 = await port(a.net.id);
    const p2 = await port(a.net.id);

    const free = (await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext, description: 'web' } })).floatingip;
    expect(free).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null, router_id: null, port_details: null, description: 'web', floating_network_id: ext });
    expect(free.floating_ip_address).toMatch(/^198\.51\.100\.\d+$/);

    const assoc = (await ok('PUT', `/floatingips/${free.id}`, demo, { floatingip: { port_id: p1.id } })).floatingip;
    expect(assoc).toMatchObject({ status: 'ACTIVE', port_id: p1.id, fixed_ip_address: p1.fixed_ips[0].ip_address, router_id: r.id, description: 'web' });
    expect(assoc.port_details).toMatchObject({ network_id: a.net.id, mac_address: p1.mac_address, device_owner: '', admin_state_up: true });

    const dup = await api('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext, port_id: p1.id } });
    expect([dup.status, dup.body.NeutronError.type]).toEqual([409, 'FloatingIPPortAlreadyAssociated']);
    expect((await api('PUT', `/floatingips/${free.id}`, demo, { floatingip: { port_id: p1.id, fixed_ip_address: '10.99.99.99' } })).status).toBe(400);

    // The interface the floating IP goes through stays while it is in use.
    const held = await api('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.subnet.id });
    expect([held.status, held.body.NeutronError.type]).toEqual([409, 'RouterInterfaceInUseByFloatingIP']);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { external_gateway_info: {} } })).body.NeutronError.type).toBe('RouterExternalGatewayInUseByFloatingIp');

    const moved = (await ok('PUT', `/floatingips/${free.id}`, demo, { floatingip: { port_id: p2.id } })).floatingip;
    expect(moved).toMatchObject({ port_id: p2.id, fixed_ip_address: p2.fixed_ips[0].ip_address, router_id: r.id });
    const listed = (await ok('GET', `/floatingips?port_id=${p2.id}`, demo)).floatingips;
    expect(listed.map((f: { id: string }) => f.id)).toEqual([free.id]);
    expect((await ok('GET', `/floatingips?floating_ip_address=${free.floating_ip_address}&status=ACTIVE`, demo)).floatingips).toHaveLength(1);
    expect((await ok('GET', `/floatingips?router_id=${r.id}&fields=id&fields=status`, demo)).floatingips).toEqual([{ id: free.id, status: 'ACTIVE' }]);

    // As upstream, an update that leaves out port_id disassociates.
    const described = (await ok('PUT', `/floatingips/${free.id}`, demo, { floatingip: { description: 'api' } })).floatingip;
    expect(described).toMatchObject({ description: 'api', port_id: null, status: 'DOWN' });
    await ok('PUT', `/floatingips/${free.id}`, demo, { floatingip: { port_id: p2.id, fixed_ip_address: p2.fixed_ips[0].ip_address } });
    expect((await api('PUT', `/floatingips/${free.id}`, demo, { floatingip: { fixed_ip_address: p2.fixed_ips[0].ip_address } })).status).toBe(400);
    const off = (await ok('PUT', `/floatingips/${free.id}`, demo, { floatingip: { port_id: null } })).floatingip;
    expect(off).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null, router_id: null, port_details: null });

    // Created associated, then its port goes away: the floating IP stays, unassociated.
    const direct = (await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext, port_id: p1.id, fixed_ip_address: p1.fixed_ips[0].ip_address } })).floatingip;
    expect(direct).toMatchObject({ status: 'ACTIVE', router_id: r.id, port_id: p1.id });
    const fipPort = (await ok('GET', `/ports?device_id=${direct.id}`, c.adminToken)).ports[0];
    expect(fipPort).toMatchObject({ device_owner: 'network:floatingip', project_id: '', fixed_ips: [{ ip_address: direct.floating_ip_address }] });
    expect((await api('DELETE', `/ports/${fipPort.id}`, c.adminToken)).body.NeutronError.type).toBe('ServicePortInUse');
    await ok('DELETE', `/ports/${p1.id}`, demo, undefined, 204);
    expect((await ok('GET', `/floatingips/${direct.id}`, demo)).floatingip).toMatchObject({ status: 'DOWN', port_id: null, fixed_ip_address: null, router_id: null });

    await ok('DELETE', `/floatingips/${direct.id}`, demo, undefined, 204);
    expect((await api('GET', `/ports/${fipPort.id}`, c.adminToken)).status).toBe(404);
    expect((await api('GET', `/floatingips/${direct.id}`, demo)).status).toBe(404);
    await ok('DELETE', `/floatingips/${free.id}`, demo, undefined, 204);
    await ok('PUT', `/routers/${r.id}/remove_router_interface`, demo, { subnet_id: a.subnet.id });
  });

  it('refuses associations no router reaches and networks that are not external', async () => {
    const a = await network();
    const p = await port(a.net.id);
    const r = await api('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext, port_id: p.id } });
    expect([r.status, r.body.NeutronError.type]).toEqual([404, 'ExternalGatewayForFloatingIPNotFound']);
    expect((await ok('GET', '/floatingips', demo)).floatingips.filter((f: { port_id: string }) => f.port_id === p.id)).toEqual([]);
    // A router on the subnet but with its gateway elsewhere does not reach it either.
    const rt = await router(demo, { external_gateway_info: { network_id: extB } });
    await ok('PUT', `/routers/${rt.id}/add_router_interface`, demo, { subnet_id: a.subnet.id });
    const fip = (await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext } })).floatingip;
    const u = await api('PUT', `/floatingips/${fip.id}`, demo, { floatingip: { port_id: p.id } });
    expect([u.status, u.body.NeutronError.type]).toEqual([404, 'ExternalGatewayForFloatingIPNotFound']);
    expect((await api('POST', '/floatingips', demo, { floatingip: { floating_network_id: a.net.id } })).status).toBe(400);
    expect((await api('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext, floating_ip_address: '198.51.100.77' } })).status).toBe(403);
    const pinned = (await ok('POST', '/floatingips', c.adminToken, { floatingip: { floating_network_id: ext, floating_ip_address: '198.51.100.77' } })).floatingip;
    expect(pinned.floating_ip_address).toBe('198.51.100.77');
    const pools = (await ok('GET', '/floatingip_pools', demo)).floatingip_pools;
    expect(pools.map((x: { network_id: string }) => x.network_id)).toEqual(expect.arrayContaining([ext, extB]));
    await ok('DELETE', `/floatingips/${pinned.id}`, c.adminToken, undefined, 204);
    await ok('DELETE', `/floatingips/${fip.id}`, demo, undefined, 204);
  });

  it('keeps projects apart', async () => {
    const r = await router(c.adminToken);
    const f = (await ok('POST', '/floatingips', c.adminToken, { floatingip: { floating_network_id: ext } })).floatingip;
    expect((await api('GET', `/routers/${r.id}`, demo)).status).toBe(404);
    expect((await api('PUT', `/routers/${r.id}`, demo, { router: { name: 'x' } })).status).toBe(404);
    expect((await api('DELETE', `/routers/${r.id}`, demo)).status).toBe(404);
    expect((await api('PUT', `/routers/${r.id}/add_router_interface`, demo, { subnet_id: 'x' })).status).toBe(404);
    expect((await api('GET', `/floatingips/${f.id}`, demo)).status).toBe(404);
    expect((await ok('GET', '/routers', demo)).routers.map((x: { id: string }) => x.id)).not.toContain(r.id);
    expect((await ok('GET', '/floatingips', demo)).floatingips.map((x: { id: string }) => x.id)).not.toContain(f.id);
    expect((await ok('GET', '/routers', c.adminToken)).routers.map((x: { id: string }) => x.id)).toContain(r.id);
    // Demo's port cannot take the admin's floating IP, nor the admin's router its subnet.
    const a = await network();
    const p = await port(a.net.id);
    expect((await api('PUT', `/floatingips/${f.id}`, demo, { floatingip: { port_id: p.id } })).status).toBe(404);
    await ok('DELETE', `/floatingips/${f.id}`, c.adminToken, undefined, 204);
    await ok('DELETE', `/routers/${r.id}`, c.adminToken, undefined, 204);
  });

  it('enforces the router and floating IP quotas', async () => {
    const alt = (await ok('POST', '/routers', demo, { router: { name: 'probe' } })).router;
    const project = alt.project_id;
    await ok('DELETE', `/routers/${alt.id}`, demo, undefined, 204);
    const before = (await ok('GET', '/routers', demo)).routers.length;
    const fips = (await ok('GET', '/floatingips', demo)).floatingips.length;
    await ok('PUT', `/quotas/${project}`, c.adminToken, { quota: { router: before + 1, floatingip: fips + 1 } });
    const r = await router();
    const over = await api('POST', '/routers', demo, { router: { name: 'one-too-many' } });
    expect([over.status, over.body.NeutronError.type]).toEqual([409, 'OverQuota']);
    const f = (await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext } })).floatingip;
    expect((await api('POST', '/floatingips', demo, { floatingip: { floating_network_id: ext } })).body.NeutronError.type).toBe('OverQuota');
    const details = (await ok('GET', `/quotas/${project}/details`, demo)).quota;
    expect(details.router).toMatchObject({ limit: before + 1, used: before + 1 });
    expect(details.floatingip).toMatchObject({ limit: fips + 1, used: fips + 1 });
    await ok('DELETE', `/floatingips/${f.id}`, demo, undefined, 204);
    await ok('DELETE', `/routers/${r.id}`, demo, undefined, 204);
    await ok('DELETE', `/quotas/${project}`, c.adminToken, undefined, 204);
  });

  it('gives the last free address to exactly one of two racing floating IP creates', async () => {
    const net = (await ok('POST', '/networks', c.adminToken, { network: { name: 'tiny-public', 'router:external': true } })).network;
    await ok('POST', '/subnets', c.adminToken, { subnet: { network_id: net.id, cidr: '192.0.2.0/29', ip_version: 4, enable_dhcp: false } });
    // A /29 has .2–.6 to give: take four, leaving one.
    const held = [];
    for (let i = 0; i < 4; i++) held.push((await ok('POST', '/floatingips', demo, { floatingip: { floating_network_id: net.id } })).floatingip);
    expect(held.map((f) => f.floating_ip_address)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
    const race = await Promise.all([0, 1].map(() => api('POST', '/floatingips', demo, { floatingip: { floating_network_id: net.id } })));
    expect(race.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(race.find((r) => r.status === 409)!.body.NeutronError.type).toBe('IpAddressGenerationFailure');
    expect(race.find((r) => r.status === 201)!.body.floatingip.floating_ip_address).toBe('192.0.2.6');
    const ports = (await ok('GET', `/ports?network_id=${net.id}`, c.adminToken)).ports;
    expect(ports).toHaveLength(5);
    for (const f of [...held, race.find((r) => r.status === 201)!.body.floatingip]) await ok('DELETE', `/floatingips/${f.id}`, demo, undefined, 204);
  });
});

/** The Debian `openstack` CLI, unmodified: the product documents' router and floating IP commands. */
describe('openstack CLI: routers and floating IPs', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const os = (args: string[]) => cli.os(args);
  const json = (args: string[]) => cli.json(args);
  const must = (args: string[]) => cli.must(args);

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir, 'stratus-demo');
  });
  afterAll(async () => { await c.destroy(); });

  it('runs the documented router and floating IP workflow', async () => {
    await json(['network', 'create', 'app']);
    await json(['subnet', 'create', '--network', 'app', '--subnet-range', '10.20.0.0/24', 'app-sub']);
    const link = await json(['network', 'create', 'link']);
    await json(['subnet', 'create', '--network', link.id, '--subnet-range', '10.30.0.0/24', 'link-sub']);
    const r = await json(['router', 'create', '--availability-zone-hint', 'europe-se-1a', '--external-gateway', 'europe-se-1-1a-net0', 'r1']);
    expect(r.availability_zones).toEqual(['europe-se-1a']);
    await must(['router', 'add', 'subnet', 'r1', 'app-sub']);
    await must(['router', 'add', 'subnet', 'r1', 'link-sub']);
    await must(['router', 'add', 'route', '--route', 'destination=172.16.0.0/16,gateway=10.30.0.20', 'r1']);
    const shown = await json(['router', 'show', 'r1']);
    expect(shown.routes).toEqual([{ destination: '172.16.0.0/16', nexthop: '10.30.0.20' }]);
    expect(shown.external_gateway_info.external_fixed_ips[0].ip_address).toMatch(/^198\.51\.100\./);
    expect(shown.interfaces_info.map((i: { subnet_id: string }) => i.subnet_id)).toHaveLength(2);

    const p = await json(['port', 'create', '--network', 'app', 'web']);
    const fip = await json(['floating', 'ip', 'create', 'europe-se-1-1a-net0']);
    expect(fip.status).toBe('DOWN');
    await must(['floating', 'ip', 'set', '--port', 'web', fip.floating_ip_address]);
    const set = await json(['floating', 'ip', 'show', fip.id]);
    expect(set).toMatchObject({ port_id: p.id, fixed_ip_address: p.fixed_ips[0].ip_address, router_id: r.id, status: 'ACTIVE' });
    const list = await json(['floating', 'ip', 'list', '--port', 'web']);
    expect(list.map((f: { ID: string }) => f.ID)).toEqual([fip.id]);
    await must(['floating', 'ip', 'unset', '--port', fip.id]);
    expect((await json(['floating', 'ip', 'show', fip.id])).port_id).toBeNull();

    await must(['router', 'remove', 'route', '--route', 'destination=172.16.0.0/16,gateway=10.30.0.20', 'r1']);
    await must(['floating', 'ip', 'delete', fip.id]);
    await must(['router', 'remove', 'subnet', 'r1', 'app-sub']);
    await must(['router', 'remove', 'subnet', 'r1', 'link-sub']);
    await must(['router', 'unset', '--external-gateway', 'r1']);
    expect((await json(['router', 'show', 'r1'])).external_gateway_info).toBeNull();
    await must(['router', 'delete', 'r1']);
  }, 180_000);
});
