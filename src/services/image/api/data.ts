import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiError, forbidden } from '../../../platform/http/errors.js';
import { requireWrite, visibleImage } from '../logic/access.js';
import { writeImageData } from '../logic/upload.js';
import { imageKey, type ImageDeps } from '../logic/deps.js';

/**
 * Image data: upload (PUT /file), staging for interoperable import (PUT /stage) and
 * download (GET /file, with Range). Bytes stream both ways and are never held whole.
 */
function contentLength(req: FastifyRequest): number | null {
  const v = req.headers['content-length'];
  return v === undefined ? null : Number(v);
}

export async function dataRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  const { db } = deps;
  // The body stays a stream: handlers pipe it to the blob store.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  const upload = (target: 'image' | 'staging') => async (req: FastifyRequest, reply: { status(n: number): { send(): void } }) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img, 'upload data to this image');
    const ctype = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (ctype !== 'application/octet-stream') throw new ApiError(415, `Unsupported Content-Type ${ctype || '(none)'}: image data must be application/octet-stream`);
    await writeImageData(deps, id, req.body as Readable, {
      target, contentLength: contentLength(req), from: target === 'image' ? ['queued'] : ['queued'],
    });
    reply.status(204).send();
  };
  app.put('/v2/images/:id/file', upload('image'));
  app.put('/v2/images/:id/stage', upload('staging'));

  app.get('/v2/images/:id/file', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    if (img.status === 'deactivated' && !req.ctx.isAdmin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    if (img.status !== 'active' && img.status !== 'deactivated') return reply.status(204).send();
    const size = img.size ?? 0;
    let range: { start: number; end: number } | undefined;
    const header = req.headers.range;
    if (typeof header === 'string' && size > 0) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
      if (!m || (m[1] === '' && m[2] === '')) throw new ApiError(416, `Invalid Range header: ${header}`);
      const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
      const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      if (start > end || start >= size) {
        reply.header('content-range', `bytes */${size}`);
        throw new ApiError(416, `Requested range ${header} not satisfiable for ${size} bytes.`);
      }
      range = { start, end };
    }
    const stream = await deps.blobs.open(imageKey(id), range).catch(() => {
      throw new ApiError(404, `Image ${id} has no data in the store.`);
    });
    reply.header('content-type', 'application/octet-stream');
    if (img.checksum && !range) reply.header('content-md5', img.checksum);
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    } else {
      reply.status(200).header('content-length', size);
    }
    return reply.send(stream);
  });
}
