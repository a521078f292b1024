import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { requireWrite, visibleImage } from '../logic/access.js';
import type { ImageDeps } from '../logic/deps.js';

/**
 * Deactivate and reactivate, between active and deactivated: the owner project's members
 * or an admin, as Glance's current defaults allow. Only admins download deactivated data.
 */
export async function actionRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  const { db } = deps;
  const transition = (from: string[], to: 'active' | 'deactivated', action: string) => async (req: { params: unknown; ctx: import('../../../platform/auth/context.js').RequestContext }, reply: { status(n: number): { send(): void } }) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img, `${action} this image`);
    if (img.status !== to) {
      if (!from.includes(img.status)) throw forbidden(`Not allowed to ${action} image in status '${img.status}'`);
      await db.updateTable('image').set({ status: to, updated_at: now() }).where('id', '=', id).where('status', '=', img.status).execute();
    }
    reply.status(204).send();
  };
  app.post('/v2/images/:id/actions/deactivate', transition(['active'], 'deactivated', 'deactivate'));
  app.post('/v2/images/:id/actions/reactivate', transition(['deactivated'], 'active', 'reactivate'));
}
