import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';

/**
 * The Debian `openstack` CLI, unmodified, with volumes and servers together: create and
 * attach a volume, list a server's volumes, detach, boot from an existing volume and from
 * a new one made from an image, extend an attached volume (3.42), snapshot it with --force
 * and make a volume from the snapshot.
 */
describe('openstack CLI against block storage and compute', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const json = (args: string[]) => cli.json(args);
  const must = (args: string[]) => cli.must(args);
  const until = async (what: () => Promise<string>, want: string) => {
    for (let i = 0; i < 150; i++) {
      const s = await what();
      if (s === want) return;
      if (s === 'ERROR' || s === 'error') throw new Error(`went to ${s}, wanted ${want}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`never reached ${want}`);
  };
  const volumeStatus = (name: string) => async () => (await json(['volume', 'show', name])).status as string;

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir, 'stratus-demo');
    const disk = join(c.dataDir, 'disk.raw');
    writeFileSync(disk, Buffer.alloc(64 * 1024));
    await json(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', disk, 'ubuntu-24.04']);
    await json(['network', 'create', 'net1']);
    await json(['subnet', 'create', '--network', 'net1', '--subnet-range', '172.29.47.0/24', 'sub1']);
  }, 60_000);
  afterAll(async () => { await c.destroy(); });

  it('creates a volume, attaches it to a server, lists it, extends it while attached, and detaches it', async () => {
    const vol = await json(['volume', 'create', '--size', '1', '--type', 'ssd', '--availability-zone', 'europe-se-1a', 'vol1']);
    expect(vol).toMatchObject({ name: 'vol1', size: 1, type: 'ssd', availability_zone: 'europe-se-1a' });
    await until(volumeStatus('vol1'), 'available');
    expect((await json(['volume', 'list'])).map((v: any) => v.Name)).toContain('vol1');

    await json(['server', 'create', '--flavor', 'hp.4x8-nvme50', '--availability-zone', 'europe-se-1a', '--image', 'ubuntu-24.04', '--network', 'net1', '--wait', 'web1']);
    await must(['server', 'add', 'volume', 'web1', 'vol1']);
    await until(volumeStatus('vol1'), 'in-use');
    const attached = await json(['server', 'volume', 'list', 'web1']);
    expect(attached).toEqual([expect.objectContaining({ Device: '/dev/vdb', 'Volume ID': vol.id })]);
    const shown = await json(['volume', 'show', 'vol1']);
    expect(shown.attachments[0]).toMatchObject({ device: '/dev/vdb' });

    // Extending an attached volume needs 3.42.
    expect((await cli.os(['volume', 'set', '--size', '2', 'vol1'])).code).not.toBe(0);
    await must(['--os-volume-api-version', '3.42', 'volume', 'set', '--size', '2', 'vol1']);
    await until(async () => String((await json(['volume', 'show', 'vol1'])).size), '2');
    expect((await json(['volume', 'show', 'vol1'])).status).toBe('in-use');

    // A snapshot of an attached volume needs --force; a new volume comes from it.
    expect((await cli.os(['volume', 'snapshot', 'create', '--volume', 'vol1', 'snap-noforce'])).code).not.toBe(0);
    await json(['volume', 'snapshot', 'create', '--volume', 'vol1', '--force', 'snap1']);
    await until(async () => (await json(['volume', 'snapshot', 'show', 'snap1'])).status, 'available');
    await json(['volume', 'create', '--snapshot', 'snap1', 'vol2']);
    await until(volumeStatus('vol2'), 'available');
    expect((await json(['volume', 'show', 'vol2'])).size).toBe(2);

    await must(['server', 'remove', 'volume', 'web1', 'vol1']);
    await until(volumeStatus('vol1'), 'available');
    expect(await json(['server', 'volume', 'list', 'web1'])).toEqual([]);
  }, 300_000);

  it('boots from an existing volume, and from a new volume made from an image', async () => {
    await json(['volume', 'create', '--size', '1', '--image', 'ubuntu-24.04', '--bootable', 'bootvol']);
    await until(volumeStatus('bootvol'), 'available');
    const s = await json(['server', 'create', '--flavor', 'gp.1x2', '--volume', 'bootvol', '--network', 'net1', '--wait', 'bfv1']);
    expect(s.status).toBe('ACTIVE');
    expect((await json(['volume', 'show', 'bootvol'])).status).toBe('in-use');
    const vols = await json(['server', 'volume', 'list', 'bfv1']);
    expect(vols).toEqual([expect.objectContaining({ Device: '/dev/vda' })]);
    const removeRoot = await cli.os(['server', 'remove', 'volume', 'bfv1', 'bootvol']);
    expect(removeRoot.code).not.toBe(0);
    expect(removeRoot.stderr).toMatch(/root device/);

    const s2 = await json(['server', 'create', '--flavor', 'gp.1x2', '--image', 'ubuntu-24.04', '--boot-from-volume', '10', '--network', 'net1', '--wait', 'bfv2']);
    expect(s2.status).toBe('ACTIVE');
    const [root] = await json(['server', 'volume', 'list', 'bfv2']);
    const rootVol = await json(['volume', 'show', root['Volume ID']]);
    expect(rootVol).toMatchObject({ size: 10, status: 'in-use', bootable: 'true' });

    await must(['server', 'delete', '--wait', 'bfv1']);
    await until(volumeStatus('bootvol'), 'available');
  }, 300_000);

  it('downloads a volume as the tutorial does: snapshot, volume from snapshot, upload to image, glance image-download', async () => {
    const vol = await json(['volume', 'create', '--size', '1', 'data1']);
    await until(volumeStatus('data1'), 'available');
    // What the guest wrote: bytes at the start and deep inside the volume.
    const head = randomBytes(1 << 20);
    const deep = randomBytes(4096);
    const fd = openSync(c.volume.locate(vol.id), 'r+');
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, deep, 0, deep.length, 700 << 20);
    closeSync(fd);
    const written = readFileSync(c.volume.locate(vol.id));

    const snap = await json(['volume', 'snapshot', 'create', '--volume', 'data1', 'data1-snap']);
    await until(async () => (await json(['volume', 'snapshot', 'show', snap.id])).status, 'available');
    await json(['volume', 'create', '--snapshot', 'data1-snap', 'data1-copy']);
    await until(volumeStatus('data1-copy'), 'available');
    const img = await json(['image', 'create', '--volume', 'data1-copy', '--disk-format', 'raw', 'data1-image']);
    await until(async () => (await json(['image', 'show', img.image_id ?? img.id])).status, 'active');
    await until(volumeStatus('data1-copy'), 'available');

    const out = join(c.dataDir, 'data1.raw');
    const rc = join(c.dataDir, 'demo-openrc.sh');
    const g = await cli.sh('bash', ['-c', `source ${rc} && glance image-download --file ${out} ${img.image_id ?? img.id}`]);
    expect(g.code, g.stderr).toBe(0);
    const downloaded = readFileSync(out);
    expect(downloaded.length).toBe(1024 ** 3);
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(createHash('sha256').update(written).digest('hex'));
  }, 300_000);
});
