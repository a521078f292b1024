import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';

/** Subnet pools, address scopes and RBAC policies (Neutron's subnet_allocation, address-scope, rbac-policies). */
describe('network: subnet pools, address scopes, RBAC', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  let demoProject: string;
  let otherProject: string;
  const api = (method: string, path: string, token: string, body?: unknown) => c.api(method, `/network/v2.0${path}`, { token, body });
  const admin = (method: string, path: string, body?: unknown) => api(method, path, c.adminToken, body);

  async function project(name: string): Promise<{ id: string; token: string }> {
    const p = await c.api('POST', '/identity/v3/projects', { token: c.adminToken, body: { project: { name, domain_id: 'default' } } });
    const u = await c.api('POST', '/identity/v3/users', { token: c.adminToken, body: { user: { name, password: `${name}-secret`, domain_id: 'default' } } });
    const role = await c.api('GET', '/identity/v3/roles?name=member', { token: c.adminToken });
    await c.api('PUT', `/identity/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${role.body.roles[0].id}`, { token: c.adminToken });
    return { id: p.body.project.id, token: await c.login(name, `${name}-secret`) };
  }
  const network = async (token: string, name: string, extra: Record<string, unknown> = {}) => {
    const r = await api('POST', '/networks', token, { network: { name, ...extra } });
    expect(r.status, r.text).toBe(201);
    return r.body.network.id as string;
  };
  const subnet = (token: string, body: Record<string, unknown>) => api('POST', '/subnets', token, { subnet: { ip_version: 4, ...body } });

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    ({ id: otherProject, token: other } = await project('other'));
  });
  afterAll(async () => { await c.destroy(); });

  it('advertises the extensions', async () => {
    const r = await admin('GET', '/extensions');
    const aliases = r.body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['subnet_allocation', 'address-scope', 'rbac-policies', 'subnetpool-prefix-ops', 'default-subnetpools']) expect(aliases).toContain(a);
  });

  it('creates a pool with defaults, compacts its prefixes, lists, shows, updates and deletes it', async () => {
    const r = await api('POST', '/subnetpools', demo, { subnetpool: { name: 'p', prefixes: ['10.1.0.0/24', '10.1.1.0/24', '10.1.1.0/25'] } });
    expect(r.status, r.text).toBe(201);
    const p = r.body.subnetpool;
    expect(p).toMatchObject({ name: 'p', prefixes: ['10.1.0.0/23'], ip_version: 4, min_prefixlen: 8, max_prefixlen: 32, default_prefixlen: 8,
      shared: false, is_default: false, address_scope_id: null, default_quota: null, project_id: demoProject, tenant_id: demoProject });
    expect((await api('GET', `/subnetpools/${p.id}`, demo)).body.subnetpool.name).toBe('p');
    expect((await api('GET', '/subnetpools?name=p', demo)).body.subnetpools).toHaveLength(1);
    // Another project does not see a private pool.
    expect((await api('GET', `/subnetpools/${p.id}`, other)).status).toBe(404);
    expect((await api('GET', '/subnetpools', other)).body.subnetpools.map((x: { id: string }) => x.id)).not.toContain(p.id);

    const up = await api('PUT', `/subnetpools/${p.id}`, demo, { subnetpool: { name: 'p2', prefixes: ['10.1.0.0/23', '10.2.0.0/24'], min_prefixlen: 16, default_prefixlen: 24 } });
    expect(up.status, up.text).toBe(200);
    expect(up.body.subnetpool).toMatchObject({ name: 'p2', prefixes: ['10.1.0.0/23', '10.2.0.0/24'], min_prefixlen: 16, default_prefixlen: 24 });
    // Prefixes only grow through an update.
    const shrink = await api('PUT', `/subnetpools/${p.id}`, demo, { subnetpool: { prefixes: ['10.1.0.0/23'] } });
    expect(shrink.status).toBe(400);
    expect(shrink.body.NeutronError.type).toBe('IllegalSubnetPoolPrefixUpdate');
    const badLens = await api('PUT', `/subnetpools/${p.id}`, demo, { subnetpool: { default_prefixlen: 12 } });
    expect(badLens.status).toBe(400);
    expect(badLens.body.NeutronError.type).toBe('IllegalSubnetPoolPrefixBounds');
    expect((await api('PUT', `/subnetpools/${p.id}`, demo, { subnetpool: { shared: true } })).status).toBe(400);

    const add = await api('PUT', `/subnetpools/${p.id}/add_prefixes`, demo, { prefixes: ['10.3.0.0/24', '10.3.1.0/24'] });
    expect(add.body).toEqual({ prefixes: ['10.1.0.0/23', '10.2.0.0/24', '10.3.0.0/23'] });
    const rem = await api('PUT', `/subnetpools/${p.id}/remove_prefixes`, demo, { prefixes: ['10.3.1.0/24'] });
    expect(rem.body).toEqual({ prefixes: ['10.1.0.0/23', '10.2.0.0/24', '10.3.0.0/24'] });

    expect((await api('DELETE', `/subnetpools/${p.id}`, other)).status).toBe(404);
    expect((await api('DELETE', `/subnetpools/${p.id}`, demo)).status).toBe(204);
    expect((await api('GET', `/subnetpools/${p.id}`, demo)).status).toBe(404);
  });

  it('refuses bad pools', async () => {
    const bad = async (body: Record<string, unknown>, type: string, token = demo, status = 400) => {
      const r = await api('POST', '/subnetpools', token, { subnetpool: { name: 'x', ...body } });
      expect(r.status, r.text).toBe(status);
      expect(r.body.NeutronError.type).toBe(type);
    };
    await bad({ prefixes: [] }, 'EmptySubnetPoolPrefixList');
    await bad({ prefixes: ['10.0.0.0/8', '2001:db8::/32'] }, 'PrefixVersionMismatch');
    await bad({ prefixes: ['10.0.0.0/8'], min_prefixlen: 24, max_prefixlen: 16 }, 'IllegalSubnetPoolPrefixBounds');
    await bad({ prefixes: ['10.0.0.0/8'], max_prefixlen: 33 }, 'IllegalSubnetPoolPrefixBounds');
    await bad({ prefixes: ['10.0.0.0/8'], default_prefixlen: 4 }, 'IllegalSubnetPoolPrefixBounds');
    await bad({ prefixes: ['not-a-cidr'] }, 'HTTPBadRequest');
    await bad({ prefixes: ['10.0.0.0/8'], shared: true }, 'HTTPForbidden', demo, 403);
    await bad({ prefixes: ['10.0.0.0/8'], is_default: true }, 'HTTPForbidden', demo, 403);
  });

  it('allocates consecutive prefixes from a pool until it is exhausted, and takes explicit CIDRs inside it', async () => {
    const pool = (await api('POST', '/subnetpools', demo, { subnetpool: { name: 'alloc', prefixes: ['10.20.0.0/22'], default_prefixlen: 24, min_prefixlen: 23, max_prefixlen: 28 } })).body.subnetpool;
    const net = await network(demo, 'alloc-net');
    const s1 = await subnet(demo, { network_id: net, subnetpool_id: pool.id });
    expect(s1.status, s1.text).toBe(201);
    expect(s1.body.subnet).toMatchObject({ cidr: '10.20.0.0/24', subnetpool_id: pool.id, gateway_ip: '10.20.0.1' });
    const s2 = await subnet(demo, { network_id: net, subnetpool_id: pool.id, prefixlen: 24 });
    expect(s2.body.subnet.cidr).toBe('10.20.1.0/24');
    const s3 = await subnet(demo, { network_id: net, subnetpool_id: pool.id, prefixlen: 25 });
    expect(s3.body.subnet.cidr).toBe('10.20.2.0/25');

    const tooBig = await subnet(demo, { network_id: net, subnetpool_id: pool.id, prefixlen: 22 });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.NeutronError.type).toBe('MinPrefixSubnetAllocationError');
    const tooSmall = await subnet(demo, { network_id: net, subnetpool_id: pool.id, prefixlen: 29 });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.NeutronError.type).toBe('MaxPrefixSubnetAllocationError');

    const inside = await subnet(demo, { network_id: net, subnetpool_id: pool.id, cidr: '10.20.3.0/24' });
    expect(inside.status, inside.text).toBe(201);
    expect(inside.body.subnet).toMatchObject({ cidr: '10.20.3.0/24', subnetpool_id: pool.id });
    const outside = await subnet(demo, { network_id: net, subnetpool_id: pool.id, cidr: '10.99.0.0/24' });
    expect(outside.status).toBe(400);
    expect(outside.body.NeutronError.type).toBe('SubnetAllocationError');
    const taken = await subnet(demo, { network_id: await network(demo, 'alloc-net2'), subnetpool_id: pool.id, cidr: '10.20.0.0/24' });
    expect(taken.status).toBe(409);

    // The pool is down to 10.20.2.128/25: no /24 is left, but a /25 is.
    const full = await subnet(demo, { network_id: net, subnetpool_id: pool.id });
    expect(full.status).toBe(409);
    expect(full.body.NeutronError).toMatchObject({ type: 'SubnetAllocationError', message: expect.stringContaining('Insufficient prefix space to allocate subnet size /24') });
    expect((await subnet(demo, { network_id: net, subnetpool_id: pool.id, prefixlen: 25 })).body.subnet.cidr).toBe('10.20.2.128/25');

    // A pool with subnets stays; once they are gone it can go. The freed space is reused.
    const del = await api('DELETE', `/subnetpools/${pool.id}`, demo);
    expect(del.status).toBe(400);
    expect(del.body.NeutronError.type).toBe('SubnetPoolDeleteError');
    expect((await api('DELETE', `/subnets/${s2.body.subnet.id}`, demo)).status).toBe(204);
    expect((await subnet(demo, { network_id: net, subnetpool_id: pool.id })).body.subnet.cidr).toBe('10.20.1.0/24');
    // Removing a prefix a subnet uses is refused.
    expect((await api('PUT', `/subnetpools/${pool.id}/remove_prefixes`, demo, { prefixes: ['10.20.0.0/24'] })).status).toBe(400);
  });

  it('gives racing subnet creates from one pool different prefixes', async () => {
    const pool = (await api('POST', '/subnetpools', demo, { subnetpool: { name: 'race', prefixes: ['10.90.0.0/16'], default_prefixlen: 24 } })).body.subnetpool;
    const nets = await Promise.all(Array.from({ length: 4 }, (_, i) => network(demo, `race-${i}`)));
    const got = await Promise.all(nets.map((n) => subnet(demo, { network_id: n, subnetpool_id: pool.id })));
    expect(got.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(got.map((r) => r.body.subnet.cidr)).size).toBe(4);
  });

  it('refuses another project\'s private pool and an unknown one', async () => {
    const pool = (await api('POST', '/subnetpools', demo, { subnetpool: { name: 'mine', prefixes: ['10.30.0.0/16'], default_prefixlen: 24 } })).body.subnetpool;
    const net = await network(other, 'other-net');
    const r = await subnet(other, { network_id: net, subnetpool_id: pool.id });
    expect(r.status).toBe(404);
    expect(r.body.NeutronError.type).toBe('SubnetPoolNotFound');
  });

  it('enforces a pool\'s per-project default_quota', async () => {
    const pool = (await api('POST', '/subnetpools', demo, { subnetpool: { name: 'quota', prefixes: ['10.40.0.0/16'], default_prefixlen: 24, default_quota: 300 } })).body.subnetpool;
    const net = await network(demo, 'quota-net');
    expect((await subnet(demo, { network_id: net, subnetpool_id: pool.id })).status).toBe(201);
    const r = await subnet(demo, { network_id: net, subnetpool_id: pool.id });
    expect(r.status).toBe(409);
    expect(r.body.NeutronError.type).toBe('SubnetPoolQuotaExceeded');
  });

  it('allocates from the default pool of the IP version, shared with everyone', async () => {
    const none = await subnet(other, { network_id: await network(other, 'nodefault'), use_default_subnetpool: true, ip_version: 6 });
    expect(none.status).toBe(400);
    const r = await admin('POST', '/subnetpools', { subnetpool: { name: 'default-v4', prefixes: ['172.16.0.0/12'], default_prefixlen: 26, shared: true, is_default: true } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.subnetpool).toMatchObject({ shared: true, is_default: true });
    const second = await admin('POST', '/subnetpools', { subnetpool: { name: 'default-v4b', prefixes: ['192.168.0.0/16'], is_default: true } });
    expect(second.status).toBe(400);
    // Shared: visible to projects, and the wildcard RBAC policy exists.
    expect((await api('GET', `/subnetpools/${r.body.subnetpool.id}`, other)).body.subnetpool.shared).toBe(true);
    const pol = await admin('GET', `/rbac-policies?object_id=${r.body.subnetpool.id}`);
    expect(pol.body.rbac_policies).toEqual([expect.objectContaining({ object_type: 'subnetpool', action: 'access_as_shared', target_tenant: '*' })]);
    const s = await subnet(other, { network_id: await network(other, 'usedefault'), use_default_subnetpool: true });
    expect(s.status, s.text).toBe(201);
    expect(s.body.subnet).toMatchObject({ cidr: '172.16.0.0/26', subnetpool_id: r.body.subnetpool.id });
    // A project cannot delete or update the shared pool it does not own.
    expect((await api('DELETE', `/subnetpools/${r.body.subnetpool.id}`, other)).status).toBe(403);
  });

  it('manages address scopes and ties pools to them', async () => {
    const r = await api('POST', '/address-scopes', demo, { address_scope: { name: 'scope4', ip_version: 4 } });
    expect(r.status, r.text).toBe(201);
    const scope = r.body.address_scope;
    expect(scope).toEqual({ id: expect.any(String), name: 'scope4', ip_version: 4, shared: false, project_id: demoProject, tenant_id: demoProject });
    expect((await api('POST', '/address-scopes', demo, { address_scope: { name: 's', ip_version: 4, shared: true } })).status).toBe(403);
    expect((await api('POST', '/address-scopes', demo, { address_scope: { name: 's', ip_version: 5 } })).status).toBe(400);
    expect((await api('GET', `/address-scopes/${scope.id}`, other)).status).toBe(404);
    expect((await api('GET', '/address-scopes', demo)).body.address_scopes.map((s: { id: string }) => s.id)).toContain(scope.id);

    const p1 = await api('POST', '/subnetpools', demo, { subnetpool: { name: 'sp1', prefixes: ['10.50.0.0/16'], address_scope_id: scope.id } });
    expect(p1.status, p1.text).toBe(201);
    expect(p1.body.subnetpool.address_scope_id).toBe(scope.id);
    const overlap = await api('POST', '/subnetpools', demo, { subnetpool: { name: 'sp2', prefixes: ['10.50.128.0/17'], address_scope_id: scope.id } });
    expect(overlap.status).toBe(409);
    expect(overlap.body.NeutronError.type).toBe('AddressScopePrefixConflict');
    const v6 = await api('POST', '/subnetpools', demo, { subnetpool: { name: 'sp6', prefixes: ['2001:db8::/48'], address_scope_id: scope.id } });
    expect(v6.status).toBe(400);
    expect(v6.body.NeutronError.type).toBe('IllegalSubnetPoolIpVersionAssociationToAddressScope');
    expect((await api('POST', '/subnetpools', other, { subnetpool: { name: 'x', prefixes: ['10.60.0.0/16'], address_scope_id: scope.id } })).status).toBe(404);

    expect((await api('PUT', `/address-scopes/${scope.id}`, demo, { address_scope: { name: 'renamed' } })).body.address_scope.name).toBe('renamed');
    const inUse = await api('DELETE', `/address-scopes/${scope.id}`, demo);
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('AddressScopeInUse');
    expect((await api('PUT', `/subnetpools/${p1.body.subnetpool.id}`, demo, { subnetpool: { address_scope_id: null } })).body.subnetpool.address_scope_id).toBeNull();
    expect((await api('DELETE', `/address-scopes/${scope.id}`, demo)).status).toBe(204);

    // Shared scopes: admin only, visible to all, never unshared.
    const shared = (await admin('POST', '/address-scopes', { address_scope: { name: 'pub', ip_version: 6, shared: true } })).body.address_scope;
    expect((await api('GET', `/address-scopes/${shared.id}`, other)).body.address_scope.shared).toBe(true);
    expect((await admin('PUT', `/address-scopes/${shared.id}`, { address_scope: { shared: false } })).status).toBe(400);
  });

  it('shares a network with one project through RBAC', async () => {
    const adminProject = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0].id;
    const net = await network(c.adminToken, 'rbac-net');
    const sub = await subnet(c.adminToken, { network_id: net, cidr: '10.70.0.0/24' });
    expect((await api('GET', `/networks/${net}`, demo)).status).toBe(404);

    // Only the owner (or an admin) shares an object; unknown types and actions are refused.
    expect((await api('POST', '/rbac-policies', demo, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: demoProject } })).status).toBe(404);
    expect((await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'qos_policy', object_id: net, action: 'access_as_shared', target_tenant: demoProject } })).status).toBe(400);
    expect((await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_nothing', target_tenant: demoProject } })).status).toBe(400);
    expect((await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: 'demo' } })).status).toBe(400);

    const r = await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: demoProject } });
    expect(r.status, r.text).toBe(201);
    expect(r.body.rbac_policy).toMatchObject({ object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: demoProject, project_id: adminProject });
    const dup = await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: demoProject } });
    expect(dup.status).toBe(409);
    expect(dup.body.NeutronError.type).toBe('DuplicateRbacPolicy');

    // Demo now sees the network and its subnet, and can plug a port into it; others cannot.
    // Shared from demo's point of view (as upstream), not from the owner's.
    expect((await api('GET', `/networks/${net}`, demo)).body.network.shared).toBe(true);
    expect((await admin('GET', `/networks/${net}`)).body.network.shared).toBe(false);
    expect((await api('GET', '/networks', demo)).body.networks.map((n: { id: string }) => n.id)).toContain(net);
    expect((await api('GET', `/subnets/${sub.body.subnet.id}`, demo)).status).toBe(200);
    const port = await api('POST', '/ports', demo, { port: { network_id: net } });
    expect(port.status, port.text).toBe(201);
    expect(port.body.port.fixed_ips[0].subnet_id).toBe(sub.body.subnet.id);
    expect((await api('GET', `/networks/${net}`, other)).status).toBe(404);
    expect((await api('POST', '/ports', other, { port: { network_id: net } })).status).toBe(404);
    // The target project does not see (or change) the policy itself.
    expect((await api('GET', `/rbac-policies/${r.body.rbac_policy.id}`, demo)).status).toBe(404);

    // Demo uses the network: the policy cannot be taken away or narrowed to another project.
    const del = await admin('DELETE', `/rbac-policies/${r.body.rbac_policy.id}`);
    expect(del.status).toBe(409);
    expect(del.body.NeutronError.type).toBe('RbacPolicyInUse');
    expect((await admin('PUT', `/rbac-policies/${r.body.rbac_policy.id}`, { rbac_policy: { target_tenant: otherProject } })).status).toBe(409);

    // Widening to '*' shares the network with everyone, and `shared` follows.
    const wide = await admin('PUT', `/rbac-policies/${r.body.rbac_policy.id}`, { rbac_policy: { target_tenant: '*' } });
    expect(wide.status, wide.text).toBe(200);
    expect(wide.body.rbac_policy.target_tenant).toBe('*');
    expect((await api('GET', `/networks/${net}`, other)).body.network.shared).toBe(true);
    // Unsharing while demo has a port is refused; once the port goes, it is allowed and the policy goes too.
    expect((await admin('PUT', `/networks/${net}`, { network: { shared: false } })).status).toBe(409);
    expect((await api('DELETE', `/ports/${port.body.port.id}`, demo)).status).toBe(204);
    const unshare = await admin('PUT', `/networks/${net}`, { network: { shared: false } });
    expect(unshare.status, unshare.text).toBe(200);
    expect(unshare.body.network.shared).toBe(false);
    expect((await admin('GET', `/rbac-policies?object_id=${net}`)).body.rbac_policies).toEqual([]);
    expect((await api('GET', `/networks/${net}`, demo)).status).toBe(404);
  });

  it('keeps shared=True networks and their wildcard policy in step', async () => {
    const net = await network(c.adminToken, 'shared-net', { shared: true });
    const pols = (await admin('GET', `/rbac-policies?object_id=${net}`)).body.rbac_policies;
    expect(pols).toEqual([expect.objectContaining({ action: 'access_as_shared', target_tenant: '*' })]);
    expect((await api('GET', `/networks/${net}`, other)).body.network.shared).toBe(true);
    expect((await admin('DELETE', `/rbac-policies/${pols[0].id}`)).status).toBe(204);
    expect((await admin('GET', `/networks/${net}`)).body.network.shared).toBe(false);
    expect((await api('GET', `/networks/${net}`, other)).status).toBe(404);
    // access_as_external with '*' makes the network external; deleting the network drops its policies.
    const ext = await admin('POST', '/rbac-policies', { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_external', target_tenant: '*' } });
    expect(ext.status, ext.text).toBe(201);
    expect((await admin('GET', `/networks/${net}`)).body.network['router:external']).toBe(true);
    expect((await admin('DELETE', `/networks/${net}`)).status).toBe(204);
    expect((await admin('GET', `/rbac-policies/${ext.body.rbac_policy.id}`)).status).toBe(404);
  });

  it('shares a subnet pool and an address scope with one project', async () => {
    const pool = (await api('POST', '/subnetpools', demo, { subnetpool: { name: 'to-share', prefixes: ['10.80.0.0/16'], default_prefixlen: 24 } })).body.subnetpool;
    const r = await api('POST', '/rbac-policies', demo, { rbac_policy: { object_type: 'subnetpool', object_id: pool.id, action: 'access_as_shared', target_tenant: otherProject } });
    expect(r.status, r.text).toBe(201);
    expect((await api('GET', `/subnetpools/${pool.id}`, other)).body.subnetpool.shared).toBe(true);
    const s = await subnet(other, { network_id: await network(other, 'from-shared-pool'), subnetpool_id: pool.id });
    expect(s.status, s.text).toBe(201);
    expect((await api('DELETE', `/rbac-policies/${r.body.rbac_policy.id}`, demo)).status).toBe(409);

    const scope = (await api('POST', '/address-scopes', demo, { address_scope: { name: 'to-share', ip_version: 4 } })).body.address_scope;
    const sr = await api('POST', '/rbac-policies', demo, { rbac_policy: { object_type: 'address_scope', object_id: scope.id, action: 'access_as_shared', target_tenant: otherProject } });
    expect(sr.status, sr.text).toBe(201);
    expect((await api('GET', `/address-scopes/${scope.id}`, other)).body.address_scope.shared).toBe(true);
    expect((await api('POST', '/rbac-policies', other, { rbac_policy: { object_type: 'address_scope', object_id: scope.id, action: 'access_as_shared', target_tenant: '*' } })).status).toBe(400);
    expect((await api('DELETE', `/rbac-policies/${sr.body.rbac_policy.id}`, demo)).status).toBe(204);
    expect((await api('GET', `/address-scopes/${scope.id}`, other)).status).toBe(404);
  });

  it('counts RBAC policies against the rbac_policy quota', async () => {
    const { token, id } = await project('quota-rbac');
    const net = await network(token, 'q-net');
    const targets = Array.from({ length: 11 }, (_, i) => `${i.toString(16).padStart(2, '0')}${'a'.repeat(30)}`);
    for (const t of targets.slice(0, 10)) {
      const r = await api('POST', '/rbac-policies', token, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: t } });
      expect(r.status, r.text).toBe(201);
    }
    const over = await api('POST', '/rbac-policies', token, { rbac_policy: { object_type: 'network', object_id: net, action: 'access_as_shared', target_tenant: targets[10] } });
    expect(over.status).toBe(409);
    expect(over.body.NeutronError.type).toBe('OverQuota');
    expect((await api('GET', '/rbac-policies', token)).body.rbac_policies).toHaveLength(10);
    const q = await admin('GET', `/quotas/${id}/details`);
    expect(q.body.quota.rbac_policy).toMatchObject({ used: 10, limit: 10 });
  });
});

describe('openstack CLI: subnet pools and network RBAC', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  let cloud = 'stratus-admin';
  const json = (args: string[]) => cli.json(args, cloud);
  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
  });
  afterAll(async () => { await c.destroy(); });

  it('creates a pool, a subnet from it, and shares the network with demo', async () => {
    const pool = await json(['subnet', 'pool', 'create', '--pool-prefix', '10.10.0.0/16', '--default-prefix-length', '24', 'pool1']);
    expect(pool).toMatchObject({ name: 'pool1', prefixes: ['10.10.0.0/16'], default_prefixlen: 24 });
    const net = await json(['network', 'create', 'N']);
    const s = await json(['subnet', 'create', '--subnet-pool', 'pool1', '--network', 'N', 's']);
    expect(s).toMatchObject({ cidr: '10.10.0.0/24', subnetpool_id: pool.id });
    const s2 = await json(['subnet', 'create', '--subnet-pool', 'pool1', '--prefix-length', '26', '--network', 'N', 's2']);
    expect(s2.cidr).toBe('10.10.1.0/26');
    const rbac = await json(['network', 'rbac', 'create', '--target-project', 'demo', '--action', 'access_as_shared', '--type', 'network', 'N']);
    expect(rbac).toMatchObject({ object_id: net.id, object_type: 'network', action: 'access_as_shared' });
    const list = await json(['network', 'rbac', 'list']);
    expect(list.map((p: { ID: string }) => p.ID)).toContain(rbac.id);
    cloud = 'stratus-demo';
    const seen = await json(['network', 'show', net.id]);
    expect(seen.name).toBe('N');
    const port = await json(['port', 'create', '--network', net.id, 'demo-port']);
    expect(port.fixed_ips[0].ip_address).toMatch(/^10\.10\.0\./);
  });
});
