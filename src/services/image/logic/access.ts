import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError, forbidden, notFound } from '../../../platform/http/errors.js';
import type { ImageDb, ImageRow } from '../store.js';

/**
 * Who sees and who changes an image, as Glance's defaults have it: the owner project and
 * admins always; everyone sees public and community images; a member project sees a
 * shared image; readers never write. An image the caller may not see is a 404.
 */
export const isOwner = (ctx: RequestContext, img: ImageRow): boolean => ctx.projectId !== null && img.owner === ctx.projectId;

export async function memberStatus(db: ImageDb, imageId: string, projectId: string | null): Promise<string | null> {
  if (!projectId) return null;
  const m = await db.selectFrom('image_member').select('status').where('image_id', '=', imageId).where('member', '=', projectId).executeTakeFirst();
  return m?.status ?? null;
}

export async function canSee(db: ImageDb, ctx: RequestContext, img: ImageRow): Promise<boolean> {
  if (img.status === 'deleted') return false;
  if (ctx.isAdmin || isOwner(ctx, img) || img.visibility === 'public' || img.visibility === 'community') return true;
  return img.visibility === 'shared' && (await memberStatus(db, img.id, ctx.projectId)) !== null;
}

/** The image if the caller may see it, else Glance's 404. */
export async function visibleImage(db: ImageDb, ctx: RequestContext, id: string): Promise<ImageRow> {
  const img = await db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirst();
  if (!img || !(await canSee(db, ctx, img))) throw notFound(`No image found with ID ${id}`);
  return img;
}

/** Changing an image needs ownership (or admin) and a role that may write. */
export function requireWrite(ctx: RequestContext, img: ImageRow, what = 'modify this image'): void {
  if (ctx.isAdmin) return;
  if (!isOwner(ctx, img)) throw forbidden(`You are not permitted to ${what}.`);
  if (!ctx.roles.includes('member')) throw forbidden(`You are not permitted to ${what}: a read-only role cannot write.`);
}

export function requireMemberRole(ctx: RequestContext): void {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden('You are not permitted to perform this action: a read-only role cannot write.');
}

export function requireProjectScope(ctx: RequestContext): string {
  if (!ctx.projectId) throw new ApiError(403, 'A project-scoped token is required.');
  return ctx.projectId;
}
