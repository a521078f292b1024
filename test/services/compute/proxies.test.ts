import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { computeClient, outsider } from '../../helpers/compute.js';

/** Nova's proxy APIs (to 2.35): images, security groups and rules, floating IPs and pools, networks. */
describe('compute proxy APIs', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  let imageId: string;

  const { nova, ok } = computeClient(() => c);

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    other = await outsider(c);
    const img = await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'tiny', disk_format: 'qcow2', container_format: 'bare', min_disk: 1, os_distro: 'debian' } });
    imageId = img.body.id;
    await c.api('PUT', `/image/v2/images/${imageId}/file`, { token: demo, body: 'x'.repeat(2048), headers: { 'content-type': 'application/octet-stream' } });
    await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'empty', disk_format: 'raw', container_format: 'bare' } });
  }, 60_000);
  afterAll(async () => { await c.destroy(); });

  it('lists and shows images as Nova does, with filters and paging', async () => {
    const list = (await ok('GET', '/images', demo)).images;
    expect(list.map((i: any) => i.name).sort()).toEqual(['empty', 'tiny']);
    expect(Object.keys(list[0]).sort()).toEqual(['id', 'links', 'name']);
    expect(list[0].links.map((l: any) => l.rel)).toEqual(['self', 'bookmark', 'alternate']);
    const detail = (await ok('GET', '/images/detail', demo)).images;
    const tiny = detail.find((i: any) => i.id === imageId);
    expect(tiny).toMatchObject({ name: 'tiny', status: 'ACTIVE', progress: 100, minDisk: 1, minRam: 0, metadata: { os_distro: 'debian' }, 'OS-EXT-IMG-SIZE:size': 2048 });
    expect(Object.keys(tiny).sort()).toEqual(['OS-EXT-IMG-SIZE:size', 'created', 'id', 'links', 'metadata', 'minDisk', 'minRam', 'name', 'progress', 'status', 'updated']);
    expect(detail.find((i: any) => i.name === 'empty')).toMatchObject({ status: 'SAVING', progress: 25 });
    expect((await ok('GET', '/images/detail?status=ACTIVE', demo)).images.map((i: any) => i.name)).toEqual(['tiny']);
    expect((await ok('GET', '/images?name=empty', demo)).images.map((i: any) => i.name)).toEqual(['empty']);
    expect((await ok('GET', '/images?minDisk=1', demo)).images.map((i: any) => i.name)).toEqual(['tiny']);
    const page = await ok('GET', '/images?limit=1', demo);
    expect(page.images).toHaveLength(1);
    expect(page.images_links[0].href).toContain(`marker=${page.images[0].id}`);
    expect((await ok('GET', `/images?marker=${page.images[0].id}`, demo)).images).toHaveLength(1);
    expect((await nova('GET', '/images?marker=00000000-0000-0000-0000-000000000000', demo)).status).toBe(400);
    expect((await ok('GET', `/images/${imageId}`, demo)).image.id).toBe(imageId);
    expect((await nova('GET', '/images/00000000-0000-0000-0000-000000000000', demo)).status).toBe(404);
    expect((await nova('GET', `/images/${imageId}`, other)).status).toBe(404);
    // Gone above 2.35.
    expect((await nova('GET', '/images', demo, undefined, '2.36')).status).toBe(404);
    expect((await ok('GET', '/images', demo, undefined, 200, '2.35')).images).toHaveLength(2);
  });

  it('reads and writes image metadata to 2.38, refusing bad input and other projects', async () => {
    expect(await ok('GET', `/images/${imageId}/metadata`, demo)).toEqual({ metadata: { os_distro: 'debian' } });
    expect(await ok('POST', `/images/${imageId}/metadata`, demo, { metadata: { a: '1' } })).toEqual({ metadata: { os_distro: 'debian', a: '1' } });
    expect(await ok('PUT', `/images/${imageId}/metadata/b`, demo, { meta: { b: '2' } })).toEqual({ meta: { b: '2' } });
    expect(await ok('GET', `/images/${imageId}/metadata/b`, demo)).toEqual({ meta: { b: '2' } });
    expect((await nova('PUT', `/images/${imageId}/metadata/b`, demo, { meta: { c: '2' } })).status).toBe(400);
    expect((await nova('PUT', `/images/${imageId}/metadata/b`, demo, { meta: { b: '2', c: '3' } })).status).toBe(400);
    expect((await nova('POST', `/images/${imageId}/metadata`, demo, { metadata: { k: 5 } })).status).toBe(400);
    expect((await nova('POST', `/images/${imageId}/metadata`, other, { metadata: { k: 'v' } })).status).toBe(404);
    const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    expect((await nova('PUT', `/images/${imageId}/metadata`, demo, { metadata: many })).status).toBe(403);
    expect((await c.api('GET', `/image/v2/images/${imageId}`, { token: demo })).body).toMatchObject({ os_distro: 'debian', a: '1', b: '2' });
    expect(await ok('PUT', `/images/${imageId}/metadata`, demo, { metadata: { only: 'this' } })).toEqual({ metadata: { only: 'this' } });
    expect((await nova('DELETE', `/images/${imageId}/metadata/only`, demo)).status).toBe(204);
    expect((await nova('DELETE', `/images/${imageId}/metadata/only`, demo)).status).toBe(404);
    expect((await nova('GET', `/images/${imageId}/metadata`, demo, undefined, '2.38')).status).toBe(200);
    expect((await nova('GET', `/images/${imageId}/metadata`, demo, undefined, '2.39')).status).toBe(404);
  });

  it('deletes images the caller owns', async () => {
    const id = (await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'doomed', disk_format: 'raw', container_format: 'bare' } })).body.id;
    expect((await nova('DELETE', `/images/${id}`, other)).status).toBe(404);
    expect((await nova('DELETE', `/images/${id}`, demo)).status).toBe(204);
    expect((await nova('GET', `/images/${id}`, demo)).status).toBe(404);
  });

  it('manages security groups in Nova format over Neutron', async () => {
    const groups = (await ok('GET', '/os-security-groups', demo)).security_groups;
    const def = groups.find((g: any) => g.name === 'default');
    expect(def).toBeTruthy();
    // Names keep their spaces, as Tempest checks.
    const made = (await ok('POST', '/os-security-groups', demo, { security_group: { name: ' web -1 ', description: 'd' } })).security_group;
    expect(made).toMatchObject({ name: ' web -1 ', description: 'd', rules: [] });
    expect(Object.keys(made).sort()).toEqual(['description', 'id', 'name', 'rules', 'tenant_id']);
    expect((await ok('GET', `/os-security-groups/${made.id}`, demo)).security_group).toEqual(made);
    expect((await ok('GET', '/os-security-groups', demo)).security_groups).toContainEqual(made);
    const upd = (await ok('PUT', `/os-security-groups/${made.id}`, demo, { security_group: { name: 'web2', description: 'e' } })).security_group;
    expect(upd).toMatchObject({ id: made.id, name: 'web2', description: 'e' });
    expect((await c.api('GET', `/network/v2.0/security-groups/${made.id}`, { token: demo })).body.security_group.name).toBe('web2');

    // Negative cases Tempest checks.
    const missing = '11111111-2222-3333-4444-555555555555';
    expect((await nova('GET', `/os-security-groups/${missing}`, demo)).status).toBe(404);
    expect((await nova('PUT', `/os-security-groups/${missing}`, demo, { security_group: { name: 'x', description: 'y' } })).status).toBe(404);
    expect((await nova('DELETE', `/os-security-groups/${missing}`, demo)).status).toBe(404);
    expect((await nova('DELETE', '/os-security-groups/', demo)).status).toBe(404);
    expect((await nova('GET', '/os-security-groups/not-a-uuid', demo)).status).toBe(400);
    expect((await nova('DELETE', `/os-security-groups/${def.id}`, demo)).status).toBe(400);
    expect((await nova('POST', '/os-security-groups', demo, { security_group: { name: 'x' } })).status).toBe(400);
    expect((await nova('POST', '/os-security-groups', demo, { security_group: { name: 'x'.repeat(256), description: '' } })).status).toBe(400);
    expect((await nova('GET', `/os-security-groups/${made.id}`, other)).status).toBe(404);
    expect((await nova('DELETE', `/os-security-groups/${made.id}`, other)).status).toBe(404);
    expect((await nova('GET', '/os-security-groups', demo, undefined, '2.36')).status).toBe(404);

    const del = await nova('DELETE', `/os-security-groups/${made.id}`, demo);
    expect(del.status).toBe(202);
    expect(del.text).toBe('');
    expect((await nova('GET', `/os-security-groups/${made.id}`, demo)).status).toBe(404);
  });

  it('creates and deletes security group rules with Nova checks', async () => {
    const g = (await ok('POST', '/os-security-groups', demo, { security_group: { name: 'rules', description: '' } })).security_group;
    const peer = (await ok('POST', '/os-security-groups', demo, { security_group: { name: 'peer', description: '' } })).security_group;
    const rule = (await ok('POST', '/os-security-group-rules', demo, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22 } })).security_group_rule;
    expect(rule).toMatchObject({ parent_group_id: g.id, ip_protocol: 'tcp', from_port: 22, to_port: 22, ip_range: { cidr: '0.0.0.0/0' }, group: {} });
    expect(Object.keys(rule).sort()).toEqual(['from_port', 'group', 'id', 'ip_protocol', 'ip_range', 'parent_group_id', 'to_port']);
    const cidr = (await ok('POST', '/os-security-group-rules', demo, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 80, to_port: 80, cidr: '10.2.3.124/24' } })).security_group_rule;
    expect(cidr.ip_range).toEqual({ cidr: '10.2.3.124/24' });
    const icmp = (await ok('POST', '/os-security-group-rules', demo, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'icmp', from_port: -1, to_port: -1 } })).security_group_rule;
    expect(icmp).toMatchObject({ from_port: -1, to_port: -1 });
    const grp = (await ok('POST', '/os-security-group-rules', demo, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 443, to_port: 443, group_id: peer.id } })).security_group_rule;
    expect(grp).toMatchObject({ group: { name: 'peer', tenant_id: peer.tenant_id }, ip_range: {} });
    const shown = (await ok('GET', `/os-security-groups/${g.id}`, demo)).security_group.rules.map((r: any) => r.id).sort();
    expect(shown).toEqual([rule.id, cidr.id, icmp.id, grp.id].sort());

    const bad = async (body: Record<string, unknown>, status = 400) =>
      expect((await nova('POST', '/os-security-group-rules', demo, { security_group_rule: { parent_group_id: g.id, ...body } })).status, JSON.stringify(body)).toBe(status);
    await bad({ ip_protocol: 'tcp', from_port: 22, to_port: 22 });
    await bad({ ip_protocol: '999abc', from_port: 22, to_port: 22 });
    await bad({ ip_protocol: 'tcp', from_port: 65536, to_port: 22 });
    await bad({ ip_protocol: 'tcp', from_port: 22, to_port: 65536 });
    await bad({ ip_protocol: 'tcp', from_port: 22, to_port: 21 });
    await bad({ ip_protocol: 'tcp', from_port: 'a', to_port: 21 });
    await bad({ ip_protocol: 'tcp', from_port: 1, to_port: 2, cidr: 'nonsense' });
    await bad({});
    await bad({ parent_group_id: 'non_int_id' });
    await bad({ parent_group_id: '11111111-2222-3333-4444-555555555555', ip_protocol: 'tcp', from_port: 1, to_port: 2 }, 404);
    await bad({ ip_protocol: 'tcp', from_port: 1, to_port: 2, group_id: '11111111-2222-3333-4444-555555555555' }, 404);
    expect((await nova('POST', '/os-security-group-rules', other, { security_group_rule: { parent_group_id: g.id, ip_protocol: 'tcp', from_port: 1, to_port: 2 } })).status).toBe(404);
    expect((await ok('GET', `/os-security-groups/${g.id}`, demo)).security_group.rules).toHaveLength(4);

    expect((await nova('DELETE', `/os-security-group-rules/${rule.id}`, other)).status).toBe(404);
    expect((await nova('DELETE', `/os-security-group-rules/${rule.id}`, demo)).status).toBe(202);
    expect((await nova('DELETE', `/os-security-group-rules/${rule.id}`, demo)).status).toBe(404);
    // Deleting the peer group takes the rules naming it along, as Neutron does.
    expect((await nova('DELETE', `/os-security-groups/${peer.id}`, demo)).status).toBe(202);
    expect((await ok('GET', `/os-security-groups/${g.id}`, demo)).security_group.rules).toHaveLength(2);
  });

  it('allocates, lists and releases floating IPs from pools', async () => {
    const pools = (await ok('GET', '/os-floating-ip-pools', demo)).floating_ip_pools;
    expect(pools.map((p: any) => p.name).sort()).toEqual(['europe-se-1-1a-net0', 'europe-se-1-1b-net0']);
    const fip = (await ok('POST', '/os-floating-ips', demo, { pool: 'europe-se-1-1b-net0' })).floating_ip;
    expect(fip).toMatchObject({ pool: 'europe-se-1-1b-net0', fixed_ip: null, instance_id: null });
    expect(Object.keys(fip).sort()).toEqual(['fixed_ip', 'id', 'instance_id', 'ip', 'pool']);
    const dflt = (await ok('POST', '/os-floating-ips', demo, {})).floating_ip;
    expect(pools.map((p: any) => p.name)).toContain(dflt.pool);
    expect((await ok('GET', '/os-floating-ips', demo)).floating_ips.map((f: any) => f.id).sort()).toEqual([fip.id, dflt.id].sort());
    expect((await ok('GET', `/os-floating-ips/${fip.id}`, demo)).floating_ip).toEqual(fip);
    expect((await ok('GET', '/os-floating-ips', other)).floating_ips).toEqual([]);
    expect((await nova('GET', `/os-floating-ips/${fip.id}`, other)).status).toBe(404);
    expect((await nova('DELETE', `/os-floating-ips/${fip.id}`, other)).status).toBe(404);
    expect((await nova('GET', '/os-floating-ips/nope', demo)).status).toBe(400);
    expect((await nova('POST', '/os-floating-ips', demo, { pool: 'no-such-pool' })).status).toBe(404);
    expect((await nova('DELETE', `/os-floating-ips/${fip.id}`, demo)).status).toBe(202);
    expect((await nova('GET', `/os-floating-ips/${fip.id}`, demo)).status).toBe(404);
    expect((await c.api('GET', `/network/v2.0/floatingips/${fip.id}`, { token: demo })).status).toBe(404);
    expect((await nova('GET', '/os-floating-ips', demo, undefined, '2.36')).status).toBe(404);
  });

  it('shows networks the caller sees through os-networks and os-tenant-networks', async () => {
    const net = (await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'mine' } } })).body.network;
    const nets = (await ok('GET', '/os-networks', demo)).networks;
    const mine = nets.find((n: any) => n.id === net.id);
    expect(mine).toMatchObject({ id: net.id, label: 'mine', cidr: null });
    expect(Object.keys(mine).sort()).toEqual(['broadcast', 'cidr', 'cidr_v6', 'dns1', 'dns2', 'gateway', 'gateway_v6', 'id', 'label', 'netmask', 'netmask_v6']);
    expect(nets.map((n: any) => n.label)).toContain('europe-se-1-1a-net0');
    expect((await ok('GET', `/os-networks/${net.id}`, demo)).network.label).toBe('mine');
    expect(Object.keys((await ok('GET', `/os-networks/${net.id}`, c.adminToken)).network)).toContain('mtu');
    expect((await nova('GET', `/os-networks/${net.id}`, other)).status).toBe(404);
    expect((await ok('GET', '/os-networks', other)).networks.map((n: any) => n.id)).not.toContain(net.id);
    expect((await ok('GET', `/os-tenant-networks/${net.id}`, demo)).network).toEqual({ id: net.id, cidr: 'None', label: 'mine' });
    expect((await ok('GET', '/os-tenant-networks', demo)).networks).toContainEqual({ id: net.id, cidr: 'None', label: 'mine' });
    expect((await nova('POST', '/os-networks', c.adminToken, { network: { label: 'x' } })).status).toBe(410);
    expect((await nova('DELETE', `/os-tenant-networks/${net.id}`, demo)).status).toBe(410);
    expect((await nova('GET', '/os-networks', demo, undefined, '2.36')).status).toBe(404);
  });
});
