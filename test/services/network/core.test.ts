import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';

describe('network service core (Neutron v2)', () => {
  let c: TestCloud;
  let demo: string;
  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
  });
  afterAll(async () => { await c.destroy(); });

  const post = async (token: string, path: string, body: unknown, status = 201) => {
    const r = await c.api('POST', `/network/v2.0/${path}`, { token, body });
    expect(r.status, r.text).toBe(status);
    return r.body;
  };

  it('bootstraps one external network per availability zone with documented resolvers', async () => {
    const ext = (await c.api('GET', '/network/v2.0/networks?router:external=true', { token: demo })).body.networks;
    expect(ext.map((n: any) => n.name).sort()).toEqual(['europe-se-1-1a-net0', 'europe-se-1-1b-net0']);
    expect(ext.find((n: any) => n.name === 'europe-se-1-1a-net0').availability_zones).toEqual(['europe-se-1a']);
    const subnet = (await c.api('GET', `/network/v2.0/subnets?network_id=${ext[0].id}`, { token: c.adminToken })).body.subnets[0];
    expect(subnet.dns_nameservers).toEqual(['83.168.225.225', '83.168.226.226']);
    // As in Neutron, the public subnets are the owner's business: other projects see the network only.
    expect((await c.api('GET', `/network/v2.0/subnets?network_id=${ext[0].id}`, { token: demo })).body.subnets).toEqual([]);
    const azs = (await c.api('GET', '/network/v2.0/availability_zones', { token: demo })).body.availability_zones;
    expect(azs.map((z: any) => `${z.name}/${z.resource}`).sort()).toEqual(['europe-se-1a/network', 'europe-se-1a/router', 'europe-se-1b/network', 'europe-se-1b/router']);
  });

  it('creates networks and subnets as the tutorials do, and hands out the lowest free addresses', async () => {
    const net = (await post(demo, 'networks', { network: { name: 'net1', availability_zone_hints: ['europe-se-1a'] } })).network;
    expect(net).toMatchObject({ mtu: 1450, status: 'ACTIVE', shared: false, 'router:external': false, port_security_enabled: true, availability_zones: ['europe-se-1a'] });
    const sub = (await post(demo, 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '172.29.45.0/24', dns_nameservers: ['83.168.225.225', '83.168.226.226'], allocation_pools: [{ start: '172.29.45.20', end: '172.29.45.254' }] } })).subnet;
    expect(sub).toMatchObject({ gateway_ip: '172.29.45.1', allocation_pools: [{ start: '172.29.45.20', end: '172.29.45.254' }] });
    // The network's two DHCP ports take the first two addresses of the pool, as upstream's DHCP agents do.
    const dhcp = (await c.api('GET', `/network/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`, { token: demo })).body.ports;
    expect(dhcp.map((p: any) => p.fixed_ips[0].ip_address).sort()).toEqual(['172.29.45.20', '172.29.45.21']);
    expect(dhcp.every((p: any) => p.status === 'ACTIVE' && p.device_id.endsWith(`-${net.id}`) && p.project_id === net.project_id)).toBe(true);
    const a = (await post(demo, 'ports', { port: { network_id: net.id } })).port;
    const b = (await post(demo, 'ports', { port: { network_id: net.id } })).port;
    expect([a.fixed_ips[0].ip_address, b.fixed_ips[0].ip_address]).toEqual(['172.29.45.22', '172.29.45.23']);
    expect(a.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    await c.api('DELETE', `/network/v2.0/ports/${a.id}`, { token: demo });
    const again = (await post(demo, 'ports', { port: { network_id: net.id } })).port;
    expect(again.fixed_ips[0].ip_address).toBe('172.29.45.22');
    const fixed = (await post(demo, 'ports', { port: { network_id: net.id, fixed_ips: [{ ip_address: '172.29.45.100' }] } })).port;
    expect(fixed.fixed_ips[0].ip_address).toBe('172.29.45.100');
    const dup = await c.api('POST', '/network/v2.0/ports', { token: demo, body: { port: { network_id: net.id, fixed_ips: [{ ip_address: '172.29.45.100' }] } } });
    expect(dup.status).toBe(409);
    expect(dup.body.NeutronError.type).toBe('IpAddressAlreadyAllocated');
    // Moving an address: --no-fixed-ip, then another address.
    const moved = await c.api('PUT', `/network/v2.0/ports/${fixed.id}`, { token: demo, body: { port: { fixed_ips: [] } } });
    expect(moved.body.port.fixed_ips).toEqual([]);
    const set = await c.api('PUT', `/network/v2.0/ports/${fixed.id}`, { token: demo, body: { port: { fixed_ips: [{ subnet_id: sub.id, ip_address: '172.29.45.101' }] } } });
    expect(set.body.port.fixed_ips).toEqual([{ subnet_id: sub.id, ip_address: '172.29.45.101' }]);
    const inUse = await c.api('DELETE', `/network/v2.0/networks/${net.id}`, { token: demo });
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('NetworkInUse');
  });

  it('gives one winner when two ports race for the last address', async () => {
    const net = (await post(demo, 'networks', { network: { name: 'tiny' } })).network;
    await post(demo, 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.9.0.0/29', enable_dhcp: false, allocation_pools: [{ start: '10.9.0.2', end: '10.9.0.3' }] } });
    await post(demo, 'ports', { port: { network_id: net.id } });
    const results = await Promise.all([0, 1, 2].map(() => c.api('POST', '/network/v2.0/ports', { token: demo, body: { port: { network_id: net.id } } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.NeutronError.type === 'IpAddressGenerationFailure')).toBe(true);
    const ports = (await c.api('GET', `/network/v2.0/ports?network_id=${net.id}`, { token: demo })).body.ports;
    const ips = ports.map((p: any) => p.fixed_ips[0].ip_address);
    expect(new Set(ips).size).toBe(ips.length);
  });

  it('assigns SLAAC addresses from the MAC and validates IPv6 modes', async () => {
    const net = (await post(demo, 'networks', { network: { name: 'v6' } })).network;
    await post(demo, 'subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:1::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } });
    await post(demo, 'subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.20.0.0/24' } });
    const port = (await post(demo, 'ports', { port: { network_id: net.id, mac_address: 'fa:16:3e:12:34:56' } })).port;
    const v6 = port.fixed_ips.find((f: any) => f.ip_address.includes(':'));
    expect(v6.ip_address).toBe('2001:db8:1:0:f816:3eff:fe12:3456');
    expect(port.fixed_ips.find((f: any) => !f.ip_address.includes(':')).ip_address).toBe('10.20.0.4');
    const bad = await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:2::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' } } });
    expect(bad.status).toBe(400);
    const overlap = await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: net.id, ip_version: 4, cidr: '10.20.0.128/25' } } });
    expect(overlap.status).toBe(400);
  });

  it('refuses bad input with Neutron errors and changes nothing', async () => {
    const before = (await c.api('GET', '/network/v2.0/networks', { token: demo })).body.networks.length;
    for (const body of [{ network: { name: 5 } }, { network: { mtu: 9000 } }, { network: { bogus: 1 } }, { nope: {} }, '{']) {
      const r = await c.api('POST', '/network/v2.0/networks', { token: demo, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.NeutronError).toBeDefined();
    }
    expect((await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { shared: true } } })).status).toBe(403);
    expect((await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { 'router:external': true } } })).status).toBe(403);
    const net = (await post(demo, 'networks', { network: { name: 'inputs' } })).network;
    for (const subnet of [{ ip_version: 4, cidr: '10.0.0.1/24' }, { ip_version: 4, cidr: 'banana' }, { ip_version: 6, cidr: '10.0.0.0/24' }, { ip_version: 4, cidr: '10.0.0.0/24', gateway_ip: '10.0.0.0' }]) {
      expect((await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: net.id, ...subnet } } })).status, JSON.stringify(subnet)).toBe(400);
    }
    expect((await c.api('GET', '/network/v2.0/networks/00000000-0000-0000-0000-000000000000', { token: demo })).body.NeutronError.type).toBe('NetworkNotFound');
    expect((await c.api('GET', '/network/v2.0/networks', { token: demo })).body.networks.length).toBe(before + 1);
  });

  it('keeps projects apart: another project\'s network is 404, a reader cannot write', async () => {
    const mine = (await post(c.adminToken, 'networks', { network: { name: 'admins-private' } })).network;
    expect((await c.api('GET', `/network/v2.0/networks/${mine.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('PUT', `/network/v2.0/networks/${mine.id}`, { token: demo, body: { network: { name: 'x' } } })).status).toBe(404);
    expect((await c.api('POST', '/network/v2.0/ports', { token: demo, body: { port: { network_id: mine.id } } })).status).toBe(404);
    expect((await c.api('GET', '/network/v2.0/networks', { token: demo })).body.networks.map((n: any) => n.id)).not.toContain(mine.id);
    const t = c.adminToken;
    const user = (await c.api('POST', '/identity/v3/users', { token: t, body: { user: { name: 'netreader', password: 'rpw' } } })).body.user;
    const demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: t })).body.projects[0];
    const reader = (await c.api('GET', '/identity/v3/roles?name=reader', { token: t })).body.roles[0];
    await c.api('PUT', `/identity/v3/projects/${demoProject.id}/users/${user.id}/roles/${reader.id}`, { token: t });
    const rt = await c.login('netreader', 'rpw', 'demo');
    expect((await c.api('GET', '/network/v2.0/networks', { token: rt })).status).toBe(200);
    expect((await c.api('POST', '/network/v2.0/networks', { token: rt, body: { network: { name: 'nope' } } })).status).toBe(403);
  });

  it('enforces the network quota with one winner for the last unit', async () => {
    const demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    const used = (await c.api('GET', `/network/v2.0/quotas/${demoProject}/details`, { token: demo })).body.quota.network.used;
    expect((await c.api('PUT', `/network/v2.0/quotas/${demoProject}`, { token: c.adminToken, body: { quota: { network: used + 1 } } })).status).toBe(200);
    const results = await Promise.all([0, 1].map(() => c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'q' } } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)!.body.NeutronError.type).toBe('OverQuota');
    await c.api('DELETE', `/network/v2.0/quotas/${demoProject}`, { token: c.adminToken });
    expect((await c.api('GET', `/network/v2.0/quotas/${demoProject}`, { token: demo })).body.quota.network).toBe(100);
  });

  it('pages, sorts, filters, selects fields and tags', async () => {
    for (const n of ['pa', 'pb', 'pc']) await post(demo, 'networks', { network: { name: n, description: 'paging' } });
    const page1 = await c.api('GET', '/network/v2.0/networks?description=paging&sort_key=name&sort_dir=asc&limit=2', { token: demo });
    expect(page1.body.networks.map((n: any) => n.name)).toEqual(['pa', 'pb']);
    const next = page1.body.networks_links.find((l: any) => l.rel === 'next').href;
    const page2 = await c.api('GET', new URL(next).pathname + new URL(next).search, { token: demo });
    expect(page2.body.networks.map((n: any) => n.name)).toEqual(['pc']);
    const fields = await c.api('GET', '/network/v2.0/networks?description=paging&fields=name&fields=id', { token: demo });
    expect(Object.keys(fields.body.networks[0]).sort()).toEqual(['id', 'name']);
    const id = page1.body.networks[0].id;
    expect((await c.api('PUT', `/network/v2.0/networks/${id}/tags/blue`, { token: demo })).status).toBe(201);
    expect((await c.api('GET', '/network/v2.0/networks?tags=blue', { token: demo })).body.networks.map((n: any) => n.id)).toEqual([id]);
    expect((await c.api('GET', '/network/v2.0/networks?sort_key=secret', { token: demo })).status).toBe(400);
  });

  it('creates in bulk, all or nothing, and accepts the .json suffix', async () => {
    const r = await c.api('POST', '/network/v2.0/networks.json', { token: demo, body: { networks: [{ name: 'bulk-a' }, { name: 'bulk-b' }] } });
    expect(r.status).toBe(201);
    expect(r.body.networks.map((n: any) => n.name)).toEqual(['bulk-a', 'bulk-b']);
    const bad = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { networks: [{ name: 'bulk-c' }, { name: 7 }] } });
    expect(bad.status).toBe(400);
    expect((await c.api('GET', '/network/v2.0/networks?name=bulk-c', { token: demo })).body.networks).toEqual([]);
    const subnets = await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnets: [
      { network_id: r.body.networks[0].id, ip_version: 4, cidr: '10.77.0.0/24' }, { network_id: r.body.networks[1].id, ip_version: 4, cidr: '10.78.0.0/24' }] } });
    expect(subnets.body.subnets.map((s: any) => s.gateway_ip)).toEqual(['10.77.0.1', '10.78.0.1']);
    const ports = await c.api('POST', '/network/v2.0/ports', { token: demo, body: { ports: [{ network_id: r.body.networks[0].id }, { network_id: r.body.networks[0].id }] } });
    expect(ports.body.ports.map((p: any) => p.fixed_ips[0].ip_address)).toEqual(['10.77.0.4', '10.77.0.5']);
    expect((await c.api('GET', '/network/v2.0/agents', { token: demo })).body.agents).toEqual([]);
  });

  it('deletes an external network together with its floating IPs', async () => {
    const ext = (await post(c.adminToken, 'networks', { network: { name: 'ext-temp', 'router:external': true } })).network;
    await post(c.adminToken, 'subnets', { subnet: { network_id: ext.id, ip_version: 4, cidr: '192.0.2.0/28' } });
    const fip = await c.api('POST', '/network/v2.0/floatingips', { token: c.adminToken, body: { floatingip: { floating_network_id: ext.id } } });
    expect(fip.status).toBe(201);
    expect((await c.api('DELETE', `/network/v2.0/networks/${ext.id}`, { token: c.adminToken })).status).toBe(204);
    expect((await c.api('GET', `/network/v2.0/floatingips/${fip.body.floatingip.id}`, { token: c.adminToken })).status).toBe(404);
  });

  it('answers version discovery and lists extensions', async () => {
    const root = await c.api('GET', '/network/');
    expect(root.body.versions[0]).toMatchObject({ id: 'v2.0', status: 'CURRENT' });
    const ext = (await c.api('GET', '/network/v2.0/extensions', { token: demo })).body.extensions.map((e: any) => e.alias);
    expect(ext).toEqual(expect.arrayContaining(['external-net', 'port-security', 'quotas', 'availability_zone', 'standard-attr-tag']));
  });
});
