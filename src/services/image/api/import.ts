import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../../platform/http/errors.js';
import { requireWrite, visibleImage } from '../logic/access.js';
import { checkWebDownloadUri, startImport } from '../logic/import.js';
import type { ImageDeps } from '../logic/deps.js';

/** POST /v2/images/{id}/import and the discovery documents for it. */
export const IMPORT_METHODS = ['glance-direct', 'web-download'];

export async function importRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  app.post('/v2/images/:id/import', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(deps.db, req.ctx, id);
    requireWrite(req.ctx, img, 'import data to this image');
    const method = (req.body as { method?: { name?: unknown; uri?: unknown } } | undefined)?.method;
    if (!method || typeof method !== 'object' || !IMPORT_METHODS.includes(method.name as string)) {
      throw badRequest(`Import method ${String(method?.name)} is not valid; available: ${IMPORT_METHODS.join(', ')}`);
    }
    if (method.name === 'web-download') {
      const uri = checkWebDownloadUri(method.uri, deps.platform.config.image.webDownloadAllowedHosts);
      await startImport(deps, img, { method: 'web-download', uri });
    } else {
      await startImport(deps, img, { method: 'glance-direct' });
    }
    reply.status(202).send();
  });

  app.get('/v2/info/import', async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: IMPORT_METHODS },
  }));
  app.get('/v2/info/stores', async () => ({
    stores: [{ id: 'local', description: 'Image data in the Stratus data directory', default: true }],
  }));
}
