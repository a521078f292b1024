import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';

/** The product documents' networking commands, with the Debian `openstack` CLI. */
describe('openstack CLI against the network service', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const os = (args: string[]) => cli.os(args);
  const json = (args: string[]) => cli.json(args);
  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
  });
  afterAll(async () => { await c.destroy(); });

  it('lists the availability zones and the external networks', async () => {
    const zones = await json(['availability', 'zone', 'list', '--network', '--long']);
    expect(zones.map((z: any) => z['Zone Name'])).toEqual(expect.arrayContaining(['europe-se-1a', 'europe-se-1b']));
    const ext = await json(['network', 'list', '--external']);
    expect(ext.map((n: any) => n.Name).sort()).toEqual(['europe-se-1-1a-net0', 'europe-se-1-1b-net0']);
  });

  it('creates the tutorial network and subnet, with the documented gateway, pool and resolvers', async () => {
    const net = await json(['network', 'create', '--availability-zone-hint=europe-se-1a', 'net1']);
    expect(net.mtu).toBe(1450);
    const sub = await json(['subnet', 'create', '--subnet-range=172.29.45.0/24', '--gateway=auto', '--network=net1', '--dns-nameserver=83.168.225.225',
      '--dns-nameserver=83.168.226.226', '--allocation-pool', 'start=172.29.45.20,end=172.29.45.254', 'sub1']);
    expect(sub.gateway_ip).toBe('172.29.45.1');
    expect(sub.allocation_pools).toEqual([{ start: '172.29.45.20', end: '172.29.45.254' }]);
    expect(sub.dns_nameservers).toEqual(['83.168.225.225', '83.168.226.226']);
    const listed = (await json(['subnet', 'list'])).map((s: any) => s.Name);
    expect(listed).toContain('sub1');
  });

  it('moves a port\'s fixed IP between subnets with --no-fixed-ip and --fixed-ip', async () => {
    await json(['subnet', 'create', '--subnet-range=172.29.46.0/24', '--network=net1', 'sub2']);
    const port = await json(['port', 'create', '--network', 'net1', '--fixed-ip', 'subnet=sub1,ip-address=172.29.45.50', 'moving']);
    expect(port.fixed_ips).toEqual([expect.objectContaining({ ip_address: '172.29.45.50' })]);
    expect((await os(['port', 'set', '--no-fixed-ip', '--fixed-ip', 'subnet=sub2,ip-address=172.29.46.50', 'moving'])).code).toBe(0);
    const after = await json(['port', 'show', 'moving']);
    expect(after.fixed_ips.map((f: any) => f.ip_address)).toEqual(['172.29.46.50']);
    const next = await json(['port', 'create', '--network', 'net1', 'next']);
    // Lowest free of the first subnet: the network's two DHCP ports hold .20 and .21.
    expect(next.fixed_ips[0].ip_address).toBe('172.29.45.22');
  });
});
