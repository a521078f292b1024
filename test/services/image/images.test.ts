import { createHash, randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';

const PATCH = 'application/openstack-images-v2.1-json-patch';

describe('image service (Glance v2)', () => {
  let c: TestCloud;
  let demo: string;
  let demoProject: string;
  let adminProject: string;
  beforeAll(async () => {
    c = await testCloud({ image: { imageCountTotal: 8, imageSizeTotalBytes: 10 * 1024 * 1024, imageStageTotalBytes: 10 * 1024 * 1024, webDownloadAllowedHosts: ['127.0.0.1'] } });
    demo = await c.login('demo', 'demo-secret');
    demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    adminProject = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0].id;
  });
  afterAll(async () => { await c.destroy(); });

  const create = async (token: string, body: Record<string, unknown>) => {
    const r = await c.api('POST', '/image/v2/images', { token, body: { disk_format: 'raw', container_format: 'bare', ...body } });
    expect(r.status, r.text).toBe(201);
    return r.body as Record<string, any>;
  };
  const upload = (token: string, id: string, data: Buffer, path = 'file') =>
    fetch(`${c.url}/image/v2/images/${id}/${path}`, { method: 'PUT', headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' }, body: new Uint8Array(data) });
  const remove = (id: string) => c.api('DELETE', `/image/v2/images/${id}`, { token: c.adminToken });

  it('stores and returns the exact bytes with md5, sha512 and size', async () => {
    const data = randomBytes(1024 * 1024 + 7);
    const img = await create(demo, { name: 'bytes', os_distro: 'ubuntu', hw_firmware_type: 'uefi' });
    expect(img.status).toBe('queued');
    expect(img.visibility).toBe('shared');
    expect((await upload(demo, img.id, data)).status).toBe(204);
    const shown = (await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body;
    expect(shown).toMatchObject({
      status: 'active', size: data.length, virtual_size: data.length, checksum: createHash('md5').update(data).digest('hex'),
      os_hash_algo: 'sha512', os_hash_value: createHash('sha512').update(data).digest('hex'), os_distro: 'ubuntu', hw_firmware_type: 'uefi',
    });
    const res = await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': demo } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-md5')).toBe(shown.checksum);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    const part = await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': demo, range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
    expect((await upload(demo, img.id, data)).status).toBe(409); // already active
    await remove(img.id);
  });

  it('reads the virtual size from a qcow2 header', async () => {
    const head = Buffer.alloc(4096);
    head.writeUInt32BE(0x514649fb, 0);
    head.writeUInt32BE(3, 4);
    head.writeBigUInt64BE(20n * 1024n ** 3n, 24);
    const img = await create(demo, { name: 'q', disk_format: 'qcow2' });
    await upload(demo, img.id, head);
    expect((await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body.virtual_size).toBe(20 * 1024 ** 3);
    await remove(img.id);
  });

  it('leaves an interrupted upload queued, with nothing stored', async () => {
    const img = await create(demo, { name: 'broken' });
    await new Promise<void>((resolve) => {
      const u = new URL(`${c.url}/image/v2/images/${img.id}/file`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream', 'content-length': 4 * 1024 * 1024 } });
      req.on('error', () => resolve());
      req.write(randomBytes(256 * 1024));
      setTimeout(() => { req.destroy(); resolve(); }, 200);
    });
    let status = '';
    for (let i = 0; i < 50 && status !== 'queued'; i++) {
      status = (await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body.status;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('queued');
    expect((await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': demo } })).status).toBe(204);
    await remove(img.id);
  });

  it('refuses bad input with 4xx and changes nothing', async () => {
    for (const body of [{ disk_format: 'floppy' }, { container_format: 'zip' }, { min_ram: -1 }, { name: 5 }, { visibility: 'everyone' }, { protected: 'yes' }, { custom: 5 }]) {
      const r = await c.api('POST', '/image/v2/images', { token: demo, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await c.api('POST', '/image/v2/images', { token: demo, body: { os_glance_importing: 'x' } })).status).toBe(403);
    expect((await c.api('POST', '/image/v2/images', { token: demo, body: { visibility: 'public', name: 'mine' } })).status).toBe(403);
    expect((await c.api('POST', '/image/v2/images', { token: demo, body: '{oops' })).status).toBe(400);
    expect((await c.api('GET', '/image/v2/images?sort_key=password', { token: demo })).status).toBe(400);
    expect((await c.api('GET', '/image/v2/images', { token: demo })).body.images).toEqual([]);
    expect((await c.api('GET', '/image/v2/images/', { token: demo })).status).toBe(404);
    expect((await c.api('GET', '/image/v2/images/not-a-uuid', { token: demo })).body.code).toBe('404 Not Found');
  });

  it('updates with JSON patch, keeps properties and tags, and protects', async () => {
    const img = await create(demo, { name: 'p', tags: ['a'] });
    const patch = (ops: unknown, token = demo) => c.api('PATCH', `/image/v2/images/${img.id}`, { token, body: JSON.stringify(ops), headers: { 'content-type': PATCH } });
    const r = await patch([{ op: 'replace', path: '/name', value: 'renamed' }, { op: 'add', path: '/hw_machine_type', value: 'q35' }, { op: 'replace', path: '/tags', value: ['b', 'c'] }, { op: 'replace', path: '/protected', value: true }]);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ name: 'renamed', hw_machine_type: 'q35', tags: ['b', 'c'], protected: true });
    expect((await patch([{ op: 'replace', path: '/status', value: 'active' }])).status).toBe(403);
    const v20 = await c.api('PATCH', `/image/v2/images/${img.id}`, { token: demo, body: JSON.stringify([{ replace: '/name', value: 'old-dialect' }]), headers: { 'content-type': 'application/openstack-images-v2.0-json-patch' } });
    expect(v20.body.name).toBe('old-dialect');
    expect((await patch([{ op: 'remove', path: '/nothing' }])).status).toBe(409);
    expect((await c.api('PATCH', `/image/v2/images/${img.id}`, { token: demo, body: [] })).status).toBe(415);
    expect((await c.api('PUT', `/image/v2/images/${img.id}/tags/d`, { token: demo })).status).toBe(204);
    expect((await c.api('DELETE', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(403);
    await patch([{ op: 'replace', path: '/protected', value: false }]);
    expect((await c.api('DELETE', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(204);
    expect((await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(404);
  });

  it('shares an image with a member project that accepts it; others see nothing', async () => {
    const img = await create(c.adminToken, { name: 'shared-one', visibility: 'shared' });
    const priv = await create(c.adminToken, { name: 'private-one', visibility: 'private' });
    expect((await c.api('GET', `/image/v2/images/${priv.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('POST', `/image/v2/images/${priv.id}/members`, { token: c.adminToken, body: { member: demoProject } })).status).toBe(403);
    const added = await c.api('POST', `/image/v2/images/${img.id}/members`, { token: c.adminToken, body: { member: demoProject } });
    expect(added.body).toMatchObject({ member_id: demoProject, status: 'pending' });
    expect((await c.api('POST', `/image/v2/images/${img.id}/members`, { token: c.adminToken, body: { member: demoProject } })).status).toBe(409);
    const list = async (q: string) => (await c.api('GET', `/image/v2/images${q}`, { token: demo })).body.images.map((i: any) => i.name);
    expect(await list('')).toEqual([]);
    expect(await list('?visibility=shared&member_status=pending')).toEqual(['shared-one']);
    expect((await c.api('PUT', `/image/v2/images/${img.id}/members/${demoProject}`, { token: c.adminToken, body: { status: 'accepted' } })).status).toBe(403);
    expect((await c.api('PUT', `/image/v2/images/${img.id}/members/${demoProject}`, { token: demo, body: { status: 'accepted' } })).body.status).toBe('accepted');
    expect(await list('')).toEqual(['shared-one']);
    expect(await list('?visibility=shared')).toEqual(['shared-one']);
    expect((await c.api('DELETE', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(403);
    await remove(img.id);
    await remove(priv.id);
  });

  it('lists public and community images as the CLI filters ask', async () => {
    const pub = await create(c.adminToken, { name: 'pub', visibility: 'public' });
    const com = await create(c.adminToken, { name: 'com', visibility: 'community' });
    const names = async (q: string) => (await c.api('GET', `/image/v2/images${q}`, { token: demo })).body.images.map((i: any) => i.name).sort();
    expect(await names('')).toEqual(['pub']);
    expect(await names('?visibility=public')).toEqual(['pub']);
    expect(await names('?visibility=community')).toEqual(['com']);
    expect(await names('?visibility=all')).toEqual(['com', 'pub']);
    const mine = await create(demo, { name: 'mine', visibility: 'private' });
    expect(await names('?visibility=private')).toEqual(['mine']);
    // Paging: limit and marker with a next link.
    const first = await c.api('GET', '/image/v2/images?visibility=all&limit=1&sort=name:asc', { token: demo });
    expect(first.body.images.map((i: any) => i.name)).toEqual(['com']);
    const next = await c.api('GET', `/image${first.body.next}`, { token: demo });
    expect(next.body.images.map((i: any) => i.name)).toEqual(['mine']);
    for (const i of [pub, com]) await remove(i.id);
    await remove(mine.id);
  });

  it('deactivates (owner or admin), and then only admins download', async () => {
    const img = await create(demo, { name: 'deact' });
    await upload(demo, img.id, Buffer.from('hello'));
    const other = await create(c.adminToken, { name: 'not-yours' });
    await upload(c.adminToken, other.id, Buffer.from('x'));
    expect((await c.api('POST', `/image/v2/images/${other.id}/actions/deactivate`, { token: demo })).status).toBe(404);
    expect((await c.api('POST', `/image/v2/images/${img.id}/actions/deactivate`, { token: demo })).status).toBe(204);
    expect((await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body.status).toBe('deactivated');
    expect((await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': demo } })).status).toBe(403);
    expect((await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': c.adminToken } })).status).toBe(200);
    expect((await c.api('POST', `/image/v2/images/${img.id}/actions/reactivate`, { token: demo })).status).toBe(204);
    await remove(other.id);
    expect((await fetch(`${c.url}/image/v2/images/${img.id}/file`, { headers: { 'x-auth-token': demo } })).status).toBe(200);
    await remove(img.id);
  });

  it('imports staged data (glance-direct) and allowed web downloads, asynchronously', async () => {
    const img = await create(demo, { name: 'staged' });
    expect((await c.api('POST', `/image/v2/images/${img.id}/import`, { token: demo, body: { method: { name: 'glance-direct' } } })).status).toBe(409);
    expect((await upload(demo, img.id, Buffer.from('staged bytes'), 'stage')).status).toBe(204);
    expect((await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body.status).toBe('uploading');
    expect((await c.api('POST', `/image/v2/images/${img.id}/import`, { token: demo, body: { method: { name: 'glance-direct' } } })).status).toBe(202);
    await c.platform.tasks.idle();
    const done = (await c.api('GET', `/image/v2/images/${img.id}`, { token: demo })).body;
    expect(done).toMatchObject({ status: 'active', size: 12 });
    const payload = randomBytes(50_000);
    const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': payload.length }); res.end(payload); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const web = await create(demo, { name: 'web' });
    expect((await c.api('POST', `/image/v2/images/${web.id}/import`, { token: demo, body: { method: { name: 'web-download', uri: 'http://10.0.0.1/x.img' } } })).status).toBe(400);
    expect((await c.api('POST', `/image/v2/images/${web.id}/import`, { token: demo, body: { method: { name: 'web-download', uri: `http://127.0.0.1:${port}/x.img` } } })).status).toBe(202);
    await c.platform.tasks.idle();
    server.close();
    const got = (await c.api('GET', `/image/v2/images/${web.id}`, { token: demo })).body;
    expect(got).toMatchObject({ status: 'active', size: payload.length, checksum: createHash('md5').update(payload).digest('hex') });
    const info = await c.api('GET', '/image/v2/info/import', { token: demo });
    expect(info.body['import-methods'].value).toEqual(['glance-direct', 'web-download']);
    for (const i of [img, web]) await remove(i.id);
  });

  it('enforces the size quota with exactly one winner for the last bytes, and the count quota', async () => {
    const a = await create(demo, { name: 'qa' });
    const b = await create(demo, { name: 'qb' });
    const six = randomBytes(6 * 1024 * 1024); // two of these exceed the 10 MiB limit
    const results = await Promise.all([upload(demo, a.id, six), upload(demo, b.id, six)]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 413]);
    const statuses = await Promise.all([a, b].map(async (i) => (await c.api('GET', `/image/v2/images/${i.id}`, { token: demo })).body.status));
    expect(statuses.sort()).toEqual(['active', 'queued']);
    for (const i of [a, b]) await remove(i.id);
    const made = [];
    for (let i = 0; i < 8; i++) made.push(await create(demo, { name: `n${i}` }));
    expect((await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'one-too-many' } })).status).toBe(413);
    for (const i of made) await remove(i.id);
  });

  it('lets other services create images from a stream and open them, under the caller\'s visibility', async () => {
    const { Readable } = await import('node:stream');
    const ctx = await c.identity.authenticate(demo);
    const made = await c.image.createFromStream(ctx, { name: 'snap', disk_format: 'raw', container_format: 'bare' }, Readable.from([Buffer.from('snapshot bytes')]));
    expect(made).toMatchObject({ status: 'active', size: 14, visibility: 'private', owner: demoProject });
    const opened = await c.image.open(ctx, made.id);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.data) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('snapshot bytes');
    const adminCtx = await c.identity.authenticate(c.adminToken);
    const adminImg = await c.image.createFromStream(adminCtx, { name: 'admins', disk_format: 'raw', container_format: 'bare' }, Readable.from([Buffer.from('x')]));
    await expect(c.image.open(ctx, adminImg.id)).rejects.toMatchObject({ status: 404 });
    for (const i of [made, adminImg]) await remove(i.id);
  });

  it('serves version discovery and the schemas clients fetch', async () => {
    const root = await c.api('GET', '/image/');
    expect(root.status).toBe(300);
    expect(root.body.versions[0]).toMatchObject({ id: 'v2.15', status: 'CURRENT' });
    const schema = await c.api('GET', '/image/v2/schemas/image', { token: demo });
    expect(schema.body.name).toBe('image');
    expect(schema.body.additionalProperties).toEqual({ type: 'string' });
    expect(adminProject).toBeTruthy();
  });
});
