import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';

/**
 * The Debian `openstack` CLI, unmodified, running the product documents' compute scenarios:
 * flavors, key pairs, boot, hard reboot from SHUTOFF, resize confirm and revert, server
 * groups with --hint, shelve/unshelve, rescue at 2.87, snapshots, and moving a port
 * between servers.
 */
describe('openstack CLI against compute', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const json = (args: string[]) => cli.json(args);
  const must = (args: string[]) => cli.must(args);
  const status = async (name: string) => (await json(['server', 'show', name])).status as string;
  const until = async (name: string, want: string) => {
    for (let i = 0; i < 100; i++) {
      const s = await status(name);
      if (s === want) return;
      if (s === 'ERROR') throw new Error(`${name} went to ERROR`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} never reached ${want}`);
  };

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir, 'stratus-demo');
    const disk = join(c.dataDir, 'disk.raw');
    writeFileSync(disk, Buffer.alloc(64 * 1024));
    await json(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', disk, 'ubuntu-24.04']);
    await json(['network', 'create', 'net1']);
    await json(['subnet', 'create', '--network', 'net1', '--subnet-range', '172.29.45.0/24', '--allocation-pool', 'start=172.29.45.20,end=172.29.45.254', 'sub1']);
  });
  afterAll(async () => { await c.destroy(); });

  it('lists the documented flavors and creates a key pair (per user)', async () => {
    const flavors = await json(['flavor', 'list', '--sort-column', 'Name']);
    expect(flavors).toHaveLength(100);
    expect(flavors.find((f: any) => f.Name === 'gp.1x2')).toMatchObject({ VCPUs: 1, RAM: 2048, Disk: 0 });
    // The private key is printed once, as it is generated.
    expect(await must(['keypair', 'create', 'mykey'])).toMatch(/BEGIN (RSA |OPENSSH )?PRIVATE KEY/);
    expect((await json(['keypair', 'list'])).map((k: any) => k.Name)).toEqual(['mykey']);
    expect(await cli.json(['keypair', 'list'], 'stratus-admin')).toEqual([]);
  });

  it('boots, stops, hard-reboots from SHUTOFF, resizes with confirm and revert', async () => {
    const s = await json(['server', 'create', '--flavor', 'hp.4x8-nvme50', '--availability-zone', 'europe-se-1a', '--image', 'ubuntu-24.04',
      '--network', 'net1', '--security-group', 'default', '--key-name', 'mykey', '--wait', 'web1']);
    expect(s).toMatchObject({ status: 'ACTIVE', 'OS-EXT-AZ:availability_zone': 'europe-se-1a', key_name: 'mykey' });
    const list = await json(['server', 'list']);
    expect(list[0]).toMatchObject({ Name: 'web1', Status: 'ACTIVE', Networks: { net1: ['172.29.45.22'] } });
    await must(['server', 'stop', 'web1']);
    await until('web1', 'SHUTOFF');
    await must(['server', 'reboot', '--hard', 'web1']);
    await until('web1', 'ACTIVE');
    await must(['server', 'resize', '--flavor', 'hp.8x24-nvme50', '--wait', 'web1']);
    expect(await status('web1')).toBe('VERIFY_RESIZE');
    await must(['server', 'resize', 'confirm', 'web1']);
    await until('web1', 'ACTIVE');
    expect((await json(['server', 'show', 'web1'])).flavor).toMatch(/hp\.8x24-nvme50/);
    await must(['server', 'resize', '--flavor', 'hp.12x64-nvme50', '--wait', 'web1']);
    await must(['server', 'resize', 'revert', 'web1']);
    await until('web1', 'ACTIVE');
    expect((await json(['server', 'show', 'web1'])).flavor).toMatch(/hp\.8x24-nvme50/);
  });

  it('places servers of an anti-affinity group on different hosts with --hint group=', async () => {
    const group = await json(['server', 'group', 'create', '--policy', 'anti-affinity', 'g1']);
    for (const name of ['app1', 'app2']) {
      await json(['server', 'create', '--flavor', 'hp.4x8-nvme50', '--image', 'ubuntu-24.04', '--network', 'net1', '--hint', `group=${group.id}`, '--wait', name]);
    }
    const ids = await Promise.all(['app1', 'app2'].map(async (n) => (await json(['server', 'show', n])).hostId));
    expect(ids[0]).not.toBe(ids[1]);
    expect((await json(['server', 'group', 'show', 'g1'])).members).toHaveLength(2);
    await must(['server', 'delete', '--wait', 'app1', 'app2']);
  });

  it('shelves and unshelves, rescues at 2.87, and snapshots', async () => {
    await must(['server', 'shelve', 'web1']);
    await until('web1', 'SHELVED_OFFLOADED');
    expect((await json(['image', 'list'])).map((i: any) => i.Name)).toContain('web1-shelved');
    await must(['server', 'unshelve', 'web1']);
    await until('web1', 'ACTIVE');
    await must(['--os-compute-api-version', '2.87', 'server', 'rescue', '--image', 'ubuntu-24.04', 'web1']);
    await until('web1', 'RESCUE');
    await must(['server', 'unrescue', 'web1']);
    await until('web1', 'ACTIVE');
    const snap = await json(['server', 'image', 'create', '--name', 'snap1', '--wait', 'web1']);
    expect(snap).toMatchObject({ name: 'snap1', status: 'active' });
  });

  it('moves a port from one server to another (the advanced networking scenario)', async () => {
    const port = await json(['port', 'create', '--network', 'net1', '--fixed-ip', 'ip-address=172.29.45.100', 'vip']);
    await json(['server', 'create', '--flavor', 'hp.4x8-nvme50', '--image', 'ubuntu-24.04', '--port', 'vip', '--wait', 'a']);
    await json(['server', 'create', '--flavor', 'hp.4x8-nvme50', '--image', 'ubuntu-24.04', '--network', 'net1', '--wait', 'b']);
    await must(['server', 'remove', 'port', 'a', 'vip']);
    await must(['server', 'add', 'port', 'b', 'vip']);
    const moved = await json(['port', 'show', 'vip']);
    const b = await json(['server', 'show', 'b']);
    expect(moved).toMatchObject({ device_id: b.id, mac_address: port.mac_address });
    expect(JSON.stringify(b.addresses)).toContain('172.29.45.100');
    // The user's own port outlives the server it was on.
    await must(['server', 'delete', '--wait', 'b']);
    expect((await json(['port', 'show', 'vip'])).device_id).toBe('');
  });
});
