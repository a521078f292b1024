import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { isOwner, requireWrite, visibleImage } from '../logic/access.js';
import { memberView } from '../views.js';
import type { ImageMemberRow } from '../store.js';
import type { ImageDeps } from '../logic/deps.js';

/**
 * Image sharing: the owner adds member projects to a `shared` image; each member project
 * accepts or rejects; the owner sees every member, a member sees only itself.
 */
export async function memberRoutes(app: FastifyInstance, deps: ImageDeps): Promise<void> {
  const { db } = deps;
  const MAX_MEMBERS = 128;

  app.post('/v2/images/:id/members', async (req) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    requireWrite(req.ctx, img, 'add members to this image');
    if (img.visibility !== 'shared') throw forbidden(`Only shared images have members.`);
    const member = (req.body as { member?: unknown } | undefined)?.member;
    if (typeof member !== 'string' || !member || member.length > 255) throw badRequest("Invalid value for 'member': a project id is required");
    if (await db.selectFrom('image_member').select('member').where('image_id', '=', id).where('member', '=', member).executeTakeFirst()) {
      throw conflict(`Member ${member} already exists for image ${id}.`);
    }
    const count = await db.selectFrom('image_member').select('member').where('image_id', '=', id).execute();
    if (count.length >= MAX_MEMBERS) throw new ApiError(413, `Maximum number of image members exceeded (${MAX_MEMBERS}).`);
    const t = now();
    const row: ImageMemberRow = { image_id: id, member, status: 'pending', created_at: t, updated_at: t };
    await db.insertInto('image_member').values(row).execute();
    return memberView(row);
  });

  app.get('/v2/images/:id/members', async (req) => {
    const id = (req.params as { id: string }).id;
    const img = await visibleImage(db, req.ctx, id);
    if (img.visibility !== 'shared') throw forbidden('Only shared images have members.');
    let sel = db.selectFrom('image_member').selectAll().where('image_id', '=', id);
    if (!req.ctx.isAdmin && !isOwner(req.ctx, img)) sel = sel.where('member', '=', req.ctx.projectId ?? '');
    return { members: (await sel.orderBy('created_at').execute()).map(memberView), schema: '/v2/schemas/members' };
  });

  const getMember = async (imageId: string, memberId: string) => {
    const m = await db.selectFrom('image_member').selectAll().where('image_id', '=', imageId).where('member', '=', memberId).executeTakeFirst();
    if (!m) throw notFound(`${memberId} is not a member of image ${imageId}`);
    return m;
  };

  app.get('/v2/images/:id/members/:member', async (req) => {
    const { id, member } = req.params as { id: string; member: string };
    const img = await visibleImage(db, req.ctx, id);
    if (!req.ctx.isAdmin && !isOwner(req.ctx, img) && req.ctx.projectId !== member) throw notFound(`${member} is not a member of image ${id}`);
    return memberView(await getMember(id, member));
  });

  app.put('/v2/images/:id/members/:member', async (req) => {
    const { id, member } = req.params as { id: string; member: string };
    const img = await visibleImage(db, req.ctx, id);
    const m = await getMember(id, member);
    // Only the member project decides; the owner cannot accept on its behalf, admin or not.
    if (isOwner(req.ctx, img) && req.ctx.projectId !== member) throw forbidden('The owner of an image cannot change a member\'s status.');
    if (req.ctx.projectId !== member && !req.ctx.isAdmin) throw forbidden('You are not permitted to modify this member.');
    if (!req.ctx.isAdmin && !req.ctx.roles.includes('member')) throw forbidden('A read-only role cannot change a member status.');
    const status = (req.body as { status?: unknown } | undefined)?.status;
    if (status !== 'pending' && status !== 'accepted' && status !== 'rejected') throw badRequest(`Invalid status: ${String(status)}; use pending, accepted or rejected`);
    const t = now();
    await db.updateTable('image_member').set({ status, updated_at: t }).where('image_id', '=', id).where('member', '=', member).execute();
    return memberView({ ...m, status, updated_at: t });
  });

  app.delete('/v2/images/:id/members/:member', async (req, reply) => {
    const { id, member } = req.params as { id: string; member: string };
    const img = await visibleImage(db, req.ctx, id);
    if (!req.ctx.isAdmin && !isOwner(req.ctx, img)) {
      // A member may see the image but not remove memberships.
      throw forbidden('You are not permitted to remove members of this image.');
    }
    requireWrite(req.ctx, img, 'remove members of this image');
    await getMember(id, member);
    await db.deleteFrom('image_member').where('image_id', '=', id).where('member', '=', member).execute();
    reply.status(204).send();
  });
}
