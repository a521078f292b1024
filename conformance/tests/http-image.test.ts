import { afterEach, describe, expect, it } from 'vitest';
import { IMAGE_PATH, imageBytes, isLoopbackUrl, startImageFileServer, WEB_DOWNLOAD_TEST, webDownloadExclusions, type ImageFileServer } from '../http-image.js';

describe("the runner's web-download image", () => {
  let server: ImageFileServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  it('is served on 127.0.0.1 only, and nothing else is', async () => {
    server = await startImageFileServer();
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${IMAGE_PATH}$`));
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(imageBytes())).toBe(true);
    expect((await fetch(new URL('/etc/passwd', server.url))).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
    expect(server.downloads()).toBe(1);
  });

  it('is raw data, not something a format inspector would take for another format', () => {
    const bytes = imageBytes();
    expect(bytes.length).toBe(64 * 1024);
    expect(bytes.readUInt32BE(0)).not.toBe(0x514649fb); // qcow2 magic
    expect(imageBytes().equals(bytes)).toBe(true);
  });

  it('leaves the web-download test out only for a cloud on another host', () => {
    expect(webDownloadExclusions(null)).toEqual([]);
    expect(webDownloadExclusions('http://127.0.0.1:5000/identity')).toEqual([]);
    expect(webDownloadExclusions('http://localhost:5000/identity')).toEqual([]);
    const [x] = webDownloadExclusions('https://cloud.example.com/identity');
    expect(new RegExp(x!.pattern).test(WEB_DOWNLOAD_TEST)).toBe(true);
    expect(x!.reason).toContain('cloud.example.com');
    expect(isLoopbackUrl('http://[::1]:5000/identity')).toBe(true);
    expect(isLoopbackUrl('http://10.0.0.1/identity')).toBe(false);
  });
});
