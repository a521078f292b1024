import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { badRequest, cinderTime, links, mv, notFound, requireMember, requireVersion, route, type VolumeDeps } from './common.js';
import { listQuery, nextLinks, pageOf } from './listing.js';
import { canSeeProject } from '../logic/access.js';
import type { VolumeMessageRow } from '../store.js';

/**
 * User messages (3.3+): what went wrong with an asynchronous request (a volume that could not
 * be created, an upload that failed), written by the volume manager. A project's members and
 * readers see its messages, admins see all; members delete them. Expired messages are gone.
 * Filters and paging from 3.5; unknown filters are refused from 3.34.
 */
const SORT_KEYS = ['id', 'created_at', 'event_id', 'message_level', 'resource_type', 'resource_uuid', 'request_id'] as const;
const FILTERS = ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'] as const;
const PAGING = ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir'];

function messageView(req: FastifyRequest, d: VolumeDeps, m: VolumeMessageRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id, event_id: m.event_id, user_message: m.user_message, message_level: m.message_level,
    created_at: cinderTime(m.created_at), guaranteed_until: cinderTime(m.expires_at), request_id: m.request_id ?? '',
    links: links(req, d.platform, 'messages', m.id, m.project_id),
  };
  if (m.resource_type) out.resource_type = m.resource_type;
  if (m.resource_uuid) out.resource_uuid = m.resource_uuid;
  return out;
}

export async function messageRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const find = async (req: FastifyRequest): Promise<VolumeMessageRow> => {
    const id = (req.params as { id: string }).id;
    const m = await d.db.selectFrom('volume_message').selectAll().where('id', '=', id).executeTakeFirst();
    if (!m || m.expires_at < now() || !canSeeProject(req.ctx, m.project_id)) throw notFound(`Message ${id} could not be found.`);
    return m;
  };

  route(app, 'get', '/messages', async (req) => {
    requireVersion(req, '3.3');
    const q = req.query as Record<string, string | undefined>;
    if (mv(req, '3.34')) {
      const bad = Object.keys(q).filter((k) => !(FILTERS as readonly string[]).includes(k) && !PAGING.includes(k));
      if (bad.length) throw badRequest(`Invalid input received: Invalid filters ${bad.join(',')} are found in query options.`);
    }
    let sel = d.db.selectFrom('volume_message').selectAll().where('expires_at', '>=', now());
    if (!req.ctx.isAdmin) sel = sel.where('project_id', '=', req.ctx.projectId ?? '');
    if (mv(req, '3.5')) for (const f of FILTERS) if (q[f] !== undefined) sel = sel.where(f, '=', q[f]!);
    const rows = await sel.execute();
    if (!mv(req, '3.5')) {
      rows.sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
      return { messages: rows.map((m) => messageView(req, d, m)) };
    }
    const lq = listQuery(req, SORT_KEYS);
    const page = pageOf(rows, lq, (m, k) => (m as unknown as Record<string, unknown>)[k]);
    return { messages: page.map((m) => messageView(req, d, m)), ...nextLinks(req, d.platform, 'messages', page, lq.limit) };
  });

  route(app, 'get', '/messages/:id', async (req) => {
    requireVersion(req, '3.3');
    return { message: messageView(req, d, await find(req)) };
  });

  route(app, 'delete', '/messages/:id', async (req, reply) => {
    requireVersion(req, '3.3');
    const m = await find(req);
    requireMember(req.ctx, 'message:delete');
    await d.db.deleteFrom('volume_message').where('id', '=', m.id).execute();
    return reply.status(204).send();
  });
}
