import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { computeClient, outsider } from '../../helpers/compute.js';
import { clients } from '../../helpers/cli.js';

/** A server's sub-resources: ips, metadata, interfaces, consoles, diagnostics, security groups, password, volume attachments. */
describe('compute server sub-resources', () => {
  let c: TestCloud;
  let demo: string;
  let other: string;
  let imageId: string;
  let netId: string;
  let subnetId: string;
  let serverId: string;

  const { nova, ok } = computeClient(() => c);
  const waitFor = async (id: string, status: string) => {
    for (let i = 0; i < 200; i++) {
      const s = (await nova('GET', `/servers/${id}`, demo)).body?.server;
      if (s?.status === status && !s['OS-EXT-STS:task_state']) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`server ${id} never reached ${status}`);
  };

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    // A second project with a member, to see that other projects' servers are invisible.
    other = await outsider(c);

    const img = await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'tiny', disk_format: 'qcow2', container_format: 'bare' } });
    imageId = img.body.id;
    const up = await c.api('PUT', `/image/v2/images/${imageId}/file`, { token: demo, body: 'x'.repeat(1024), headers: { 'content-type': 'application/octet-stream' } });
    expect(up.status).toBe(204);
    netId = (await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'net1' } } })).body.network.id;
    subnetId = (await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, ip_version: 4, cidr: '10.20.0.0/24' } } })).body.subnet.id;
    const flavor = (await ok('GET', '/flavors', demo)).flavors.find((f: any) => f.name === 'hp.4x8-nvme50').id;
    const s = await ok('POST', '/servers', demo, { server: { name: 'vm1', imageRef: imageId, flavorRef: flavor, networks: [{ uuid: netId }], metadata: { a: '1' } } }, 202);
    serverId = s.server.id;
    await waitFor(serverId, 'ACTIVE');
  }, 60_000);
  afterAll(async () => { await c.destroy(); });

  it('shows addresses by network, and 404 for a network the server is not on', async () => {
    const ips = (await ok('GET', `/servers/${serverId}/ips`, demo)).addresses;
    expect(Object.keys(ips)).toEqual(['net1']);
    expect(ips.net1).toHaveLength(1);
    expect(Object.keys(ips.net1[0]).sort()).toEqual(['addr', 'version']);
    expect(ips.net1[0].addr).toMatch(/^10\.20\.0\./);
    expect(await ok('GET', `/servers/${serverId}/ips/net1`, demo)).toEqual({ net1: ips.net1 });
    expect((await nova('GET', `/servers/${serverId}/ips/nope`, demo)).status).toBe(404);
    expect((await nova('GET', `/servers/${serverId}/ips`, other)).status).toBe(404);
  });

  it('reads, updates, replaces and deletes metadata with Nova rules', async () => {
    expect(await ok('GET', `/servers/${serverId}/metadata`, demo)).toEqual({ metadata: { a: '1' } });
    expect(await ok('POST', `/servers/${serverId}/metadata`, demo, { metadata: { b: '2' } })).toEqual({ metadata: { a: '1', b: '2' } });
    expect(await ok('PUT', `/servers/${serverId}/metadata/c`, demo, { meta: { c: '3' } })).toEqual({ meta: { c: '3' } });
    expect(await ok('GET', `/servers/${serverId}/metadata/c`, demo)).toEqual({ meta: { c: '3' } });
    // The key in the body must be the one in the URL, and only one.
    expect((await nova('PUT', `/servers/${serverId}/metadata/c`, demo, { meta: { d: '4' } })).status).toBe(400);
    expect((await nova('PUT', `/servers/${serverId}/metadata/c`, demo, { meta: { c: '3', d: '4' } })).status).toBe(400);
    expect((await nova('POST', `/servers/${serverId}/metadata`, demo, { metadata: { 'bad/key': 'x' } })).status).toBe(400);
    expect((await nova('POST', `/servers/${serverId}/metadata`, demo, { metadata: { k: 'v'.repeat(256) } })).status).toBe(400);
    expect((await nova('POST', `/servers/${serverId}/metadata`, demo, { metadata: { k: 1 } })).status).toBe(400);
    expect((await nova('POST', `/servers/${serverId}/metadata`, demo, { meta: { k: 'v' } })).status).toBe(400);
    // Over the metadata_items quota (128): 403, nothing written.
    const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    const over = await nova('PUT', `/servers/${serverId}/metadata`, demo, { metadata: many });
    expect(over.status).toBe(403);
    expect(over.body.forbidden.message).toMatch(/metadata items/);
    expect((await ok('GET', `/servers/${serverId}/metadata`, demo)).metadata).toEqual({ a: '1', b: '2', c: '3' });
    expect(await ok('PUT', `/servers/${serverId}/metadata`, demo, { metadata: { x: 'y' } })).toEqual({ metadata: { x: 'y' } });
    expect((await nova('DELETE', `/servers/${serverId}/metadata/x`, demo)).status).toBe(204);
    expect((await nova('DELETE', `/servers/${serverId}/metadata/x`, demo)).status).toBe(404);
    expect((await nova('GET', `/servers/${serverId}/metadata/x`, demo)).status).toBe(404);
    // Another project sees nothing and changes nothing.
    expect((await nova('POST', `/servers/${serverId}/metadata`, other, { metadata: { z: '1' } })).status).toBe(404);
    // The server view shows the same metadata.
    expect((await ok('GET', `/servers/${serverId}`, demo)).server.metadata).toEqual({});
  });

  it('refuses metadata changes on a locked server to its owner, not to an admin', async () => {
    expect((await nova('POST', `/servers/${serverId}/action`, demo, { lock: null })).status).toBe(202);
    const r = await nova('POST', `/servers/${serverId}/metadata`, demo, { metadata: { l: '1' } });
    expect(r.status).toBe(409);
    expect(r.body.conflictingRequest.message).toMatch(/locked/);
    expect((await nova('POST', `/servers/${serverId}/metadata`, c.adminToken, { metadata: { l: '1' } })).status).toBe(200);
    expect((await nova('POST', `/servers/${serverId}/action`, demo, { unlock: null })).status).toBe(202);
    expect((await nova('DELETE', `/servers/${serverId}/metadata/l`, demo)).status).toBe(204);
  });

  it('lists, attaches and detaches interfaces', async () => {
    const list = (await ok('GET', `/servers/${serverId}/os-interface`, demo)).interfaceAttachments;
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0]).sort()).toEqual(['fixed_ips', 'mac_addr', 'net_id', 'port_id', 'port_state']);
    expect(list[0]).toMatchObject({ net_id: netId, fixed_ips: [{ subnet_id: subnetId }] });
    expect(Object.keys((await ok('GET', `/servers/${serverId}/os-interface`, demo, undefined, 200, '2.70')).interfaceAttachments[0])).toContain('tag');

    // A new port on a network, with a fixed address.
    const made = (await ok('POST', `/servers/${serverId}/os-interface`, demo, { interfaceAttachment: { net_id: netId, fixed_ips: [{ ip_address: '10.20.0.77' }] } })).interfaceAttachment;
    expect(made).toMatchObject({ net_id: netId, fixed_ips: [{ subnet_id: subnetId, ip_address: '10.20.0.77' }] });
    expect((await ok('GET', `/servers/${serverId}/os-interface/${made.port_id}`, demo)).interfaceAttachment.port_id).toBe(made.port_id);
    // The user's own port, tagged (2.49+; shown from 2.70).
    const port = (await c.api('POST', '/network/v2.0/ports', { token: demo, body: { port: { network_id: netId } } })).body.port;
    const tagged = (await ok('POST', `/servers/${serverId}/os-interface`, demo, { interfaceAttachment: { port_id: port.id, tag: 'data' } }, 200, '2.70')).interfaceAttachment;
    expect(tagged).toMatchObject({ port_id: port.id, tag: 'data' });
    expect((await ok('GET', `/servers/${serverId}/ips`, demo)).addresses.net1).toHaveLength(3);

    // Bad requests change nothing.
    for (const body of [
      { interfaceAttachment: { net_id: netId, port_id: port.id } },
      { interfaceAttachment: { fixed_ips: [{ ip_address: '10.20.0.78' }] } },
      { interfaceAttachment: { net_id: 'not-a-uuid' } },
      { interfaceAttachment: { net_id: netId, bogus: 1 } },
      { interfaceAttachment: { port_id: port.id, tag: 'x' } },
    ]) expect((await nova('POST', `/servers/${serverId}/os-interface`, demo, body)).status, JSON.stringify(body)).toBe(400);
    expect((await nova('POST', `/servers/${serverId}/os-interface`, demo, { interfaceAttachment: { net_id: '00000000-0000-0000-0000-000000000000' } })).status).toBe(404);
    expect((await nova('POST', `/servers/${serverId}/os-interface`, demo, { interfaceAttachment: { port_id: port.id } })).status).toBe(409);
    expect((await nova('POST', `/servers/${serverId}/os-interface`, other, { interfaceAttachment: { net_id: netId } })).status).toBe(404);
    expect((await ok('GET', `/servers/${serverId}/os-interface`, demo)).interfaceAttachments).toHaveLength(3);

    // Detach: our port goes, the user's port stays theirs.
    expect((await nova('DELETE', `/servers/${serverId}/os-interface/${made.port_id}`, demo)).status).toBe(202);
    expect((await nova('DELETE', `/servers/${serverId}/os-interface/${port.id}`, demo)).status).toBe(202);
    expect((await nova('DELETE', `/servers/${serverId}/os-interface/${port.id}`, demo)).status).toBe(404);
    expect((await c.api('GET', `/network/v2.0/ports/${made.port_id}`, { token: demo })).status).toBe(404);
    expect((await c.api('GET', `/network/v2.0/ports/${port.id}`, { token: demo })).body.port.device_id).toBe('');
    expect((await ok('GET', `/servers/${serverId}/os-interface`, demo)).interfaceAttachments).toHaveLength(1);
    const actions = (await ok('GET', `/servers/${serverId}/os-instance-actions`, demo)).instanceActions?.map((a: any) => a.action) ?? [];
    if (actions.length) expect(actions).toEqual(expect.arrayContaining(['attach_interface', 'detach_interface']));
    await c.platform.tasks.idle();
  });

  it('gives remote console URLs from 2.6 and refuses wrong combinations', async () => {
    const r = (await ok('POST', `/servers/${serverId}/remote-consoles`, demo, { remote_console: { protocol: 'vnc', type: 'novnc' } }, 200, '2.6')).remote_console;
    expect(Object.keys(r).sort()).toEqual(['protocol', 'type', 'url']);
    expect(r).toMatchObject({ protocol: 'vnc', type: 'novnc' });
    expect(r.url).toMatch(/^http/);
    expect((await nova('POST', `/servers/${serverId}/remote-consoles`, demo, { remote_console: { protocol: 'vnc', type: 'novnc' } })).status).toBe(404);
    for (const rc of [{ protocol: 'vnc', type: 'serial' }, { protocol: 'rdp', type: 'rdp-html5' }, { protocol: 'ftp', type: 'novnc' }, { protocol: 'vnc' }, { protocol: 'mks', type: 'webmks' }]) {
      expect((await nova('POST', `/servers/${serverId}/remote-consoles`, demo, { remote_console: rc }, '2.6')).status, JSON.stringify(rc)).toBe(400);
    }
    expect((await nova('POST', `/servers/${serverId}/remote-consoles`, other, { remote_console: { protocol: 'vnc', type: 'novnc' } }, '2.6')).status).toBe(404);
  });

  it('shows diagnostics to admins, in the standard format from 2.48', async () => {
    expect((await nova('GET', `/servers/${serverId}/diagnostics`, demo)).status).toBe(403);
    const old = await ok('GET', `/servers/${serverId}/diagnostics`, c.adminToken);
    expect(old.memory).toBeGreaterThan(0);
    const d = await ok('GET', `/servers/${serverId}/diagnostics`, c.adminToken, undefined, 200, '2.48');
    expect(Object.keys(d).sort()).toEqual(['config_drive', 'cpu_details', 'disk_details', 'driver', 'hypervisor', 'hypervisor_os', 'memory_details', 'nic_details', 'num_cpus', 'num_disks', 'num_nics', 'state', 'uptime']);
    expect(d.state).toBe('running');
    expect(d.memory_details.maximum).toBe(8192);
    expect(['libvirt', 'xenapi', 'vmwareapi', 'ironic', 'hyperv']).toContain(d.driver);
  });

  it("lists the server's security groups in Nova's format", async () => {
    const groups = (await ok('GET', `/servers/${serverId}/os-security-groups`, demo)).security_groups;
    expect(groups.map((g: any) => g.name)).toEqual(['default']);
    expect(Object.keys(groups[0]).sort()).toEqual(['description', 'id', 'name', 'rules', 'tenant_id']);
    // The default group's ingress rules name the group itself.
    expect(groups[0].rules.length).toBeGreaterThan(0);
    expect(groups[0].rules[0]).toMatchObject({ parent_group_id: groups[0].id, group: { name: 'default' }, ip_range: {} });
    expect((await nova('GET', `/servers/${serverId}/os-security-groups`, other)).status).toBe(404);
  });

  it('answers the password API, and the volume attachment API for a volume that does not exist', async () => {
    expect(await ok('GET', `/servers/${serverId}/os-server-password`, demo)).toEqual({ password: '' });
    expect((await nova('DELETE', `/servers/${serverId}/os-server-password`, demo)).status).toBe(204);
    expect(await ok('GET', `/servers/${serverId}/os-volume_attachments`, demo)).toEqual({ volumeAttachments: [] });
    const r = await nova('POST', `/servers/${serverId}/os-volume_attachments`, demo, { volumeAttachment: { volumeId: '00000000-0000-0000-0000-000000000001' } });
    expect(r.status).toBe(404);
    expect(r.body.itemNotFound.message).toBe('Volume 00000000-0000-0000-0000-000000000001 could not be found.');
    expect((await nova('POST', `/servers/${serverId}/os-volume_attachments`, demo, { volumeAttachment: {} })).status).toBe(400);
    expect((await nova('GET', `/servers/${serverId}/os-volume_attachments/00000000-0000-0000-0000-000000000001`, demo)).status).toBe(404);
    expect((await nova('GET', `/servers/${serverId}/os-server-password`, other)).status).toBe(404);
  });

  it('works with the openstack CLI: ports, security groups, console URL, floating IP', async () => {
    const cli = clients(c.dataDir);
    const port = await cli.json(['port', 'create', '--network', netId, 'cli-port']);
    await cli.must(['server', 'add', 'port', serverId, port.id]);
    await c.platform.tasks.idle();
    expect((await ok('GET', `/servers/${serverId}/os-interface`, demo)).interfaceAttachments.map((a: any) => a.port_id)).toContain(port.id);
    await cli.must(['server', 'remove', 'port', serverId, port.id]);
    expect((await ok('GET', `/servers/${serverId}/os-interface`, demo)).interfaceAttachments.map((a: any) => a.port_id)).not.toContain(port.id);

    await cli.must(['security', 'group', 'create', 'web']);
    await cli.must(['server', 'add', 'security', 'group', serverId, 'web']);
    expect((await ok('GET', `/servers/${serverId}/os-security-groups`, demo)).security_groups.map((g: any) => g.name).sort()).toEqual(['default', 'web']);

    const url = await cli.json(['console', 'url', 'show', '--novnc', serverId]);
    expect(url.url).toMatch(/^http/);

    await cli.must(['router', 'create', '--external-gateway', 'europe-se-1-1a-net0', 'r1']);
    await cli.must(['router', 'add', 'subnet', 'r1', subnetId]);
    const fip = await cli.json(['floating', 'ip', 'create', 'europe-se-1-1a-net0']);
    await cli.must(['server', 'add', 'floating', 'ip', serverId, fip.floating_ip_address]);
    const ips = (await ok('GET', `/servers/${serverId}/ips/net1`, demo)).net1.map((a: any) => a.addr);
    expect(ips).toContain(fip.floating_ip_address);
  }, 120_000);
});
