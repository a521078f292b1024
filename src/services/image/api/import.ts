import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../../platform/http/errors.js';
import { requireWrite, visibleImage } from '../logic/access.js';
import { checkWebDownloadUri, IMPORT_METHODS, startImport } from '../logic/import.js';
import type { ImageDeps } from '../logic/deps.js';

/** POST /v2/images/{id}/import and the discovery documents for it. */

export async function importRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  app.post('/v2/images/:id/import', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(deps.db, req.ctx, id);
    requireWrite(req.ctx, img, 'import data to this image');
    const body = req.body as { method?: { name?: unknown; uri?: unknown }; all_stores?: unknown; all_stores_must_succeed?: unknown; stores?: unknown } | undefined;
    const method = body?.method;
    // One store: all_stores is accepted as a boolean; naming stores other than ours is not.
    for (const k of ['all_stores', 'all_stores_must_succeed'] as const) {
      if (body?.[k] !== undefined && typeof body[k] !== 'boolean') throw badRequest(`Invalid value for ${k}: a boolean is required`);
    }
    if (body?.all_stores_must_succeed === false) throw badRequest('all_stores_must_succeed=false needs several stores; this cloud has one.');
    if (body?.stores !== undefined && (!Array.isArray(body.stores) || body.stores.some((s) => s !== 'local'))) throw badRequest('Unknown store: the only store is "local".');
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
