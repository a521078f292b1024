import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../helpers/cloud.js';
import { clients } from '../helpers/cli.js';

const has = (bin: string) => { try { execFileSync('which', [bin], { stdio: 'ignore' }); return true; } catch { return false; } };

/** The Debian `openstack` (object commands) and `swift` clients, unmodified, against the object storage service. */
describe.skipIf(!has('openstack'))('openstack and swift CLIs against object storage', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const json = (args: string[]) => cli.json(args);
  const os = (args: string[]) => cli.os(args);
  /** `swift` with the demo user's credentials (it reads OS_* variables, not clouds.yaml). */
  const swift = (args: string[]) => cli.sh('bash', ['-c', `source ${join(c.dataDir, 'demo-openrc.sh')} && cd ${c.dataDir} && swift ${args.map((a) => `'${a}'`).join(' ')}`]);

  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
  });
  afterAll(async () => { await c.destroy(); });

  it('creates, lists and shows containers and objects, saves identical bytes and deletes', async () => {
    const created = await json(['container', 'create', 'photos']);
    expect(created[0].container).toBe('photos');
    expect((await json(['container', 'list'])).map((x: { Name: string }) => x.Name)).toContain('photos');
    const file = join(c.dataDir, 'cat.jpg');
    const data = randomBytes(200_000);
    writeFileSync(file, data);
    const up = await json(['object', 'create', 'photos', file, '--name', 'cats/cat.jpg']);
    expect(up[0].object).toBe('cats/cat.jpg');
    const shown = await json(['object', 'show', 'photos', 'cats/cat.jpg']);
    expect(Number(shown['content-length'])).toBe(data.length);
    expect(shown['content-type']).toBe('image/jpeg');
    expect((await json(['object', 'list', 'photos'])).map((x: { Name: string }) => x.Name)).toEqual(['cats/cat.jpg']);
    const out = join(c.dataDir, 'saved.jpg');
    expect((await os(['object', 'save', '--file', out, 'photos', 'cats/cat.jpg'])).code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    expect((await os(['object', 'set', '--property', 'owner=alice', 'photos', 'cats/cat.jpg'])).code).toBe(0);
    expect((await json(['object', 'show', 'photos', 'cats/cat.jpg'])).properties).toMatchObject({ owner: 'alice' });
    const container = await json(['container', 'show', 'photos']);
    expect(Number(container.object_count)).toBe(1);
    expect(container.storage_policy).toBe('gp.recurring');
    expect((await os(['container', 'delete', 'photos'])).code).not.toBe(0);
    expect((await os(['object', 'delete', 'photos', 'cats/cat.jpg'])).code).toBe(0);
    expect((await os(['container', 'delete', 'photos'])).code).toBe(0);
  });

  it.skipIf(!has('swift'))('uploads in segments with swift upload --segment-size, downloads, stats and posts', async () => {
    const dir = join(c.dataDir, 'up');
    mkdirSync(dir, { recursive: true });
    const data = randomBytes(1024 * 1024 + 5000);
    writeFileSync(join(dir, 'big.bin'), data);
    const post = await swift(['post', '-H', 'X-Storage-Policy: gp.archive', 'backup']);
    expect(post.code, post.stderr).toBe(0);
    const up = await swift(['upload', '--segment-size', '262144', 'backup', 'up/big.bin']);
    expect(up.code, up.stderr).toBe(0);
    const listed = await swift(['list', 'backup']);
    expect(listed.stdout.trim()).toBe('up/big.bin');
    const segs = await swift(['list', 'backup_segments']);
    expect(segs.stdout.trim().split('\n')).toHaveLength(5);
    const stat = await swift(['stat', 'backup', 'up/big.bin']);
    expect(stat.code, stat.stderr).toBe(0);
    expect(stat.stdout).toMatch(/Content Length: 1053576/);
    expect(stat.stdout).toMatch(/Manifest: backup_segments\//);
    const cstat = await swift(['stat', 'backup']);
    expect(cstat.stdout).toMatch(/Policy: gp\.archive/);
    const out = join(c.dataDir, 'down.bin');
    const down = await swift(['download', 'backup', 'up/big.bin', '-o', out]);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const slo = await swift(['upload', '--use-slo', '--segment-size', '262144', '--object-name', 'slo.bin', 'backup', 'up/big.bin']);
    expect(slo.code, slo.stderr).toBe(0);
    const out2 = join(c.dataDir, 'slo.bin');
    expect((await swift(['download', 'backup', 'slo.bin', '-o', out2])).code).toBe(0);
    expect(readFileSync(out2).equals(data)).toBe(true);
    expect((await swift(['post', '-m', 'Color:blue', 'backup', 'slo.bin'])).code).toBe(0);
    expect((await swift(['stat', 'backup', 'slo.bin'])).stdout).toMatch(/Meta Color: blue/);
    expect((await swift(['post', '-r', '.r:*', 'backup'])).code).toBe(0);
    expect((await swift(['stat', 'backup'])).stdout).toMatch(/Read ACL: \.r:\*/);
    const account = await swift(['stat']);
    expect(account.stdout).toMatch(/Containers: 2/);
    const del = await swift(['delete', 'backup']);
    expect(del.code, del.stderr).toBe(0);
    expect((await swift(['list'])).stdout.trim()).toBe('backup_segments');
  });
});
