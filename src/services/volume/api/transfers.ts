import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  badRequest, bodyOf, bool, cinderTime, isUuid, links, mv, notFound, optString, projectScope, requireMember, requireVersion, route, type VolumeDeps,
} from './common.js';
import { acceptTransfer, createTransfer, deleteTransfer, visibleTransfer } from '../logic/transfers.js';
import type { VolumeTransferRow } from '../store.js';

/**
 * Volume transfers under two paths: `os-volume-transfer` (every microversion, the original
 * fields) and `volume-transfers` (3.55+, with `no_snapshots`; 3.57 adds the source and
 * destination projects and `accepted`).
 */
type Flavour = 'legacy' | 'v355';

export async function transferRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const collectionOf = (f: Flavour) => (f === 'legacy' ? 'os-volume-transfer' : 'volume-transfers');
  const linksOf = (req: FastifyRequest, f: Flavour, t: VolumeTransferRow) => links(req, d.platform, collectionOf(f), t.id, t.source_project_id);
  const extras = (req: FastifyRequest, f: Flavour, t: VolumeTransferRow) => (f === 'legacy' ? {} : {
    no_snapshots: t.no_snapshots === 1,
    ...(mv(req, '3.57') ? { destination_project_id: t.destination_project_id, source_project_id: t.source_project_id, accepted: t.accepted === 1 } : {}),
  });
  const summary = (req: FastifyRequest, f: Flavour, t: VolumeTransferRow) => ({ id: t.id, volume_id: t.volume_id, name: t.name, links: linksOf(req, f, t) });
  const detail = (req: FastifyRequest, f: Flavour, t: VolumeTransferRow) => ({
    ...summary(req, f, t), created_at: cinderTime(t.created_at), ...extras(req, f, t),
  });

  const enter = (req: FastifyRequest, f: Flavour) => { if (f === 'v355') requireVersion(req, '3.55'); };

  for (const f of ['legacy', 'v355'] as const) {
    const base = `/${collectionOf(f)}`;

    route(app, 'post', base, async (req, reply) => {
      enter(req, f);
      requireMember(req.ctx, 'volume:create_transfer');
      const b = bodyOf(req, 'transfer');
      if (b.volume_id === undefined) throw badRequest("Invalid input for field/attribute transfer. 'volume_id' is a required property");
      if (!isUuid(b.volume_id)) throw badRequest(`Invalid input for field/attribute volume_id. Value: ${JSON.stringify(b.volume_id)}. is not a 'uuid'`);
      const name = optString(b.name, 'name');
      const noSnapshots = b.no_snapshots === undefined || f === 'legacy' ? false : bool(b.no_snapshots, 'no_snapshots');
      const { row, authKey } = await createTransfer(d, req.ctx, b.volume_id, name?.trim() ?? null, noSnapshots);
      reply.status(202);
      return { transfer: { ...detail(req, f, row), auth_key: authKey } };
    });

    const list = async (req: FastifyRequest, full: boolean) => {
      enter(req, f);
      const q = req.query as Record<string, string | undefined>;
      const project = projectScope(req);
      let sel = d.db.selectFrom('volume_transfer').selectAll().where('accepted', '=', 0);
      if (project) sel = sel.where('source_project_id', '=', project);
      if (q.volume_id) sel = sel.where('volume_id', '=', q.volume_id);
      if (q.name) sel = sel.where('name', '=', q.name);
      let rows = await sel.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      if (q.marker) {
        const i = rows.findIndex((r) => r.id === q.marker);
        if (i < 0) throw notFound(`Marker ${q.marker} could not be found.`);
        rows = rows.slice(i + 1);
      }
      if (q.limit !== undefined) {
        const n = Number(q.limit);
        if (!Number.isInteger(n) || n < 0) throw badRequest(`Invalid input received: limit must be a non-negative integer, got ${q.limit}.`);
        rows = rows.slice(0, n);
      }
      return { transfers: rows.map((t) => (full ? detail(req, f, t) : summary(req, f, t))) };
    };
    route(app, 'get', base, (req) => list(req, false));
    route(app, 'get', `${base}/detail`, (req) => list(req, true));

    route(app, 'get', `${base}/:id`, async (req) => {
      enter(req, f);
      return { transfer: detail(req, f, await visibleTransfer(d, req.ctx, (req.params as { id: string }).id)) };
    });

    route(app, 'delete', `${base}/:id`, async (req, reply) => {
      enter(req, f);
      const t = await visibleTransfer(d, req.ctx, (req.params as { id: string }).id);
      requireMember(req.ctx, 'volume:delete_transfer');
      await deleteTransfer(d, t);
      reply.status(202).send();
    });

    route(app, 'post', `${base}/:id/accept`, async (req, reply) => {
      enter(req, f);
      requireMember(req.ctx, 'volume:accept_transfer');
      const b = bodyOf(req, 'accept');
      if (typeof b.auth_key !== 'string') throw badRequest("Invalid input for field/attribute accept. 'auth_key' is a required property");
      const t = await acceptTransfer(d, req.ctx, (req.params as { id: string }).id, b.auth_key);
      reply.status(202);
      return { transfer: summary(req, f, t) };
    });
  }
}
