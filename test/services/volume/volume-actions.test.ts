import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { volumeClient } from '../../helpers/volume.js';
import { readerOf } from '../../helpers/compute.js';

let c: TestCloud;
let demo: string;
let pid: string;
let reader: string;
const { cinder, ok, waitFor } = volumeClient(() => c);

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function volume(body: Record<string, unknown>) {
  const v = (await ok('POST', `/${pid}/volumes`, demo, { volume: { size: 1, ...body } }, 202)).volume;
  return waitFor(`/${pid}/volumes/${v.id}`, 'volume', demo, ['available', 'error']);
}
async function image(bytes: Buffer, props: Record<string, unknown> = {}) {
  const img = (await c.api('POST', '/image/v2/images', { token: demo, body: { name: 'src', disk_format: 'raw', container_format: 'bare', ...props } })).body;
  const r = await fetch(`${c.url}/image/v2/images/${img.id}/file`, { method: 'PUT', headers: { 'x-auth-token': demo, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  expect(r.status).toBe(204);
  return img.id as string;
}

beforeAll(async () => {
  c = await testCloud();
  demo = await c.login('demo', 'demo-secret', 'demo');
  pid = (await c.api('GET', '/identity/v3/auth/tokens', { token: demo, headers: { 'x-subject-token': demo } })).body.token.project.id;
  reader = await readerOf(c, 'demo');
}, 60_000);
afterAll(async () => { await c?.destroy(); });

describe('volume actions', () => {
  it('creates a bootable volume from an image with its bytes and image metadata', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const imageId = await image(bytes, { hw_disk_bus: 'virtio' });
    const vol = await volume({ imageRef: imageId });
    expect(vol).toMatchObject({ status: 'available', bootable: 'true', size: 1 });
    expect(vol.volume_image_metadata).toMatchObject({ image_id: imageId, image_name: 'src', disk_format: 'raw', hw_disk_bus: 'virtio' });
    const onDisk = readFileSync(c.volume.locate(vol.id));
    expect(onDisk.length).toBe(1024 ** 3);
    expect(md5(onDisk.subarray(0, bytes.length))).toBe(md5(bytes));
  });

  it('uploads a volume to an image whose bytes equal the volume', async () => {
    const vol = await volume({ name: 'up' });
    const fd = openSync(c.volume.locate(vol.id), 'r+');
    writeSync(fd, Buffer.from('stratus volume bytes'), 0, 20, 4096);
    closeSync(fd);
    const r = await ok('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-volume_upload_image': { image_name: 'from-volume', disk_format: 'raw' } }, 202);
    const imageId = r['os-volume_upload_image'].image_id;
    await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['available']);
    let img;
    for (let i = 0; i < 200; i++) {
      img = (await c.api('GET', `/image/v2/images/${imageId}`, { token: demo })).body;
      if (img.status === 'active') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(img).toMatchObject({ status: 'active', name: 'from-volume', disk_format: 'raw', size: 1024 ** 3 });
    expect(img.checksum).toBe(md5(readFileSync(c.volume.locate(vol.id))));
  });

  it('extends (never shrinks) and keeps quota', async () => {
    const vol = await volume({ name: 'grow' });
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 3 } }, 202);
    expect((await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['available'])).size).toBe(3);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 2 } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 5000 } })).status).toBe(413);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-extend': { new_size: 'x' } })).status).toBe(400);
  });

  it('sets bootable and read-only, refuses readers and non-admin resets', async () => {
    const vol = await volume({ name: 'flags' });
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-set_bootable': { bootable: true } }, 200);
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-update_readonly_flag': { readonly: true } }, 202);
    expect((await ok('GET', `/${pid}/volumes/${vol.id}`, demo)).volume).toMatchObject({ bootable: 'true', metadata: { readonly: 'True' } });
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, reader, { 'os-set_bootable': { bootable: false } })).status).toBe(403);
    expect((await cinder('POST', `/${pid}/volumes`, reader, { volume: { size: 1 } })).status).toBe(403);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-reset_status': { status: 'error' } })).status).toBe(403);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-bogus': {} })).status).toBe(400);
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, c.adminToken, { 'os-reset_status': { status: 'error' } }, 202);
    expect((await ok('GET', `/${pid}/volumes/${vol.id}`, demo)).volume.status).toBe('error');
  });

  it('retypes between ssd and hdd; private multiattach types are invisible until granted', async () => {
    const vol = await volume({ name: 'retype' });
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-retype': { new_type: 'hdd', migration_policy: 'on-demand' } }, 202);
    expect((await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['available'])).volume_type).toBe('hdd');
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-retype': { new_type: 'hdd' } })).status).toBe(400);
    expect((await cinder('POST', `/${pid}/volumes/${vol.id}/action`, demo, { 'os-retype': { new_type: 'ssd-multiattach' } })).status).toBe(404);
    expect((await cinder('POST', `/${pid}/volumes`, demo, { volume: { size: 1, volume_type: 'ssd-multiattach' } })).status).toBe(404);
    // The request's own multiattach flag counts before 3.50 only.
    expect((await cinder('POST', `/${pid}/volumes`, demo, { volume: { size: 1, multiattach: true } }, '3.50')).status).toBe(400);
    const legacy = await ok('POST', `/${pid}/volumes`, demo, { volume: { size: 1, multiattach: true } }, 202);
    expect(legacy.volume).toMatchObject({ multiattach: true, volume_type: 'ssd' });
  });

  it('refuses deleting a volume that is not available', async () => {
    const vol = await volume({ name: 'busy' });
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, c.adminToken, { 'os-reset_status': { status: 'in-use', attach_status: 'attached' } }, 202);
    expect((await cinder('DELETE', `/${pid}/volumes/${vol.id}`, demo)).status).toBe(400);
    await ok('POST', `/${pid}/volumes/${vol.id}/action`, c.adminToken, { 'os-force_delete': {} }, 202);
    await waitFor(`/${pid}/volumes/${vol.id}`, 'volume', demo, ['deleted']);
  });
});
