import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';

/** The Debian `openstack` and `glance` clients, unmodified, against the image service. */
describe('openstack and glance CLIs against the image service', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const sh = (cmd: string, args: string[]) => cli.sh(cmd, args);
  const os = (args: string[], cloud?: string) => cli.os(args, cloud);
  const json = (args: string[], cloud?: string) => cli.json(args, cloud);

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
  });
  afterAll(async () => { await c.destroy(); });

  it('uploads with image create --file and downloads identical bytes with image save and glance image-download', async () => {
    const file = join(c.dataDir, 'disk.raw');
    const data = randomBytes(3 * 1024 * 1024 + 11);
    writeFileSync(file, data);
    const img = await json(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--file', file, '--property', 'os_distro=ubuntu', 'ubuntu-test']);
    const shown = await json(['image', 'show', img.id]);
    expect(shown.status).toBe('active');
    expect(shown.size).toBe(data.length);
    expect(shown.properties.os_distro).toBe('ubuntu');
    const out = join(c.dataDir, 'saved.raw');
    expect((await os(['image', 'save', '--file', out, img.id])).code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const out2 = join(c.dataDir, 'glance.raw');
    const rc = join(c.dataDir, 'demo-openrc.sh');
    const g = await sh('bash', ['-c', `source ${rc} && glance image-download --progress --file ${out2} ${img.id}`]);
    expect(g.code, g.stderr).toBe(0);
    expect(readFileSync(out2).equals(data)).toBe(true);
    await os(['image', 'set', '--property', 'hw_firmware_type=uefi', '--property', 'hw_machine_type=q35', img.id]);
    const props = (await json(['image', 'show', img.id])).properties;
    expect(props).toMatchObject({ hw_firmware_type: 'uefi', hw_machine_type: 'q35', os_distro: 'ubuntu' });
  });

  it('shares an image: image add project, then image set --accept as the member', async () => {
    const file = join(c.dataDir, 'small.raw');
    writeFileSync(file, randomBytes(4096));
    const img = await json(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--shared', '--file', file, 'to-share'], 'stratus-admin');
    const demoProject = (await json(['project', 'show', 'demo'], 'stratus-admin')).id;
    expect((await os(['image', 'add', 'project', img.id, demoProject], 'stratus-admin')).code).toBe(0);
    const before = (await json(['image', 'list', '--shared'])).map((i: { Name: string }) => i.Name);
    expect(before).not.toContain('to-share');
    const accept = await os(['image', 'set', '--accept', img.id]);
    expect(accept.code, accept.stderr).toBe(0);
    const after = (await json(['image', 'list', '--shared'])).map((i: { Name: string }) => i.Name);
    expect(after).toContain('to-share');
  });

  it('lists private and public images, and refuses to delete a protected image', async () => {
    const file = join(c.dataDir, 'p.raw');
    writeFileSync(file, randomBytes(1024));
    await json(['image', 'create', '--disk-format', 'raw', '--container-format', 'bare', '--public', '--file', file, 'public-one'], 'stratus-admin');
    expect((await os(['image', 'create', '--public', '--disk-format', 'raw', '--container-format', 'bare', 'not-allowed'])).code).not.toBe(0);
    const mine = await json(['image', 'create', '--private', '--protected', '--disk-format', 'iso', '--container-format', 'bare', '--file', file, 'rescue-iso']);
    expect((await json(['image', 'list', '--private'])).map((i: { Name: string }) => i.Name)).toEqual(['rescue-iso']);
    expect((await json(['image', 'list', '--public'])).map((i: { Name: string }) => i.Name)).toEqual(['public-one']);
    const del = await os(['image', 'delete', mine.id]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/protected|403|Forbidden/i);
    expect((await os(['image', 'set', '--unprotected', mine.id])).code).toBe(0);
    expect((await os(['image', 'delete', mine.id])).code).toBe(0);
  });
});
