import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { requireWrite, visibleImage } from '../logic/access.js';
import type { ImageDeps } from '../logic/deps.js';

/** PUT and DELETE of one tag (`openstack image set --tag`). */
export async function tagRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  const { db } = deps;
  app.put('/v2/images/:id/tags/:tag', async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img);
    if (tag.length > 255) throw badRequest('A tag is at most 255 characters.');
    const exists = await db.selectFrom('image_tag').select('value').where('image_id', '=', id).where('value', '=', tag).executeTakeFirst();
    if (!exists) {
      const n = await db.selectFrom('image_tag').select('value').where('image_id', '=', id).execute();
      if (n.length >= 128) throw new ApiError(413, 'Maximum number of tags exceeded (128).');
      await db.insertInto('image_tag').values({ image_id: id, value: tag }).execute();
      await db.updateTable('image').set({ updated_at: now() }).where('id', '=', id).execute();
    }
    reply.status(204).send();
  });
  app.delete('/v2/images/:id/tags/:tag', async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img);
    const r = await db.deleteFrom('image_tag').where('image_id', '=', id).where('value', '=', tag).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Tag ${tag} not found on image ${id}`);
    await db.updateTable('image').set({ updated_at: now() }).where('id', '=', id).execute();
    reply.status(204).send();
  });
}
