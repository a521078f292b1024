// The image Tempest's web-download test imports (tempest.conf [image] http_image). Tempest's
// default is a CirrOS tarball on the internet; a conformance run must not reach outside the
// machine, so the runner serves a small file itself, on 127.0.0.1 only, and only when that test
// is selected. The cloud under test must be allowed to download from 127.0.0.1: a cloud the
// runner starts is told so (STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS, cloud.ts); a cloud given with
// --auth-url must allow it itself, and must run on this machine to reach it at all.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { ListEntry } from './lists.js';

/** The one Tempest test that downloads CONF.image.http_image (ImportImagesTest, web-download). */
export const WEB_DOWNLOAD_TEST =
  'tempest.api.image.v2.test_images.ImportImagesTest.test_image_web_download_import[id-f6feb7a4-b04f-4706-a011-206129f83e62]';

/**
 * http_image when no selected test downloads an image: a loopback address nothing listens on
 * (port 9, discard), so Tempest's internet default can never be fetched by accident.
 */
export const UNUSED_HTTP_IMAGE = 'http://127.0.0.1:9/no-selected-test-downloads-an-image';

export const IMAGE_PATH = '/stratus-conformance.img';

/**
 * The served bytes: 64 KiB, deterministic, not starting with any disk-format magic (the test
 * declares disk_format = CONF.image.disk_formats[0], which is raw).
 */
export function imageBytes(): Buffer {
  const out = Buffer.alloc(64 * 1024);
  let block = Buffer.from('stratus conformance web-download image\n');
  for (let offset = 0; offset < out.length; offset += block.length) {
    block.copy(out, offset);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export interface ImageFileServer {
  url: string;
  /** GET requests served, for the run log. */
  downloads(): number;
  stop(): Promise<void>;
}

/** Serves imageBytes() at http://127.0.0.1:<free port>/stratus-conformance.img. */
export function startImageFileServer(): Promise<ImageFileServer> {
  const body = imageBytes();
  let downloads = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== IMAGE_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method === 'GET') downloads += 1;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('image file server has no address'));
      resolvePromise({
        url: `http://127.0.0.1:${address.port}${IMAGE_PATH}`,
        downloads: () => downloads,
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Whether a cloud at this auth URL runs on this machine, so it can reach our 127.0.0.1. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The runner's exclusion of the web-download test for a cloud that cannot reach our 127.0.0.1:
 * one given with --auth-url on another host. A self-started cloud (authUrl null) always can.
 */
export function webDownloadExclusions(authUrl: string | null): ListEntry[] {
  if (!authUrl || isLoopbackUrl(authUrl)) return [];
  return [
    {
      pattern: 'id-f6feb7a4-b04f-4706-a011-206129f83e62',
      reason:
        'test_image_web_download_import downloads an image the runner serves on its own 127.0.0.1, ' +
        `which the cloud at ${new URL(authUrl).host} (--auth-url, not on this machine) cannot reach`,
      origin: 'runner',
    },
  ];
}
