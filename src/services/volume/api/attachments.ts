import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  badRequest, bodyOf, cinderTime, isUuid, mv, notFound, projectScope, requireMember, requireVersion, route, type VolumeDeps,
} from './common.js';
import { canSeeProject, visibleVolume } from '../logic/access.js';
import {
  completeAttachment, connectionInfo, createAttachment, deleteAttachment, getAttachment, updateAttachment, type AttachMode, type Connector,
} from '../logic/attachments.js';
import type { VolumeAttachmentRow, VolumeRow } from '../store.js';

/**
 * /attachments (3.27+): the attach flow Nova uses today. Create reserves (without a
 * connector) or starts attaching (with one); update hands over the connector and gets the
 * connection info back; complete (3.44) marks it attached; delete detaches.
 */
const summary = (a: VolumeAttachmentRow) => ({ id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id });

function detail(d: VolumeDeps, a: VolumeAttachmentRow, vol: VolumeRow) {
  const connector = a.connector ? JSON.parse(a.connector) as Connector : null;
  return {
    ...summary(a), attached_at: cinderTime(a.attach_time) ?? '', detached_at: cinderTime(a.detach_time) ?? '', attach_mode: a.attach_mode,
    connection_info: connector ? connectionInfo(d, vol, a, connector) : {},
  };
}

export async function attachmentRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  /** An attachment of a volume the caller may see (404 otherwise, as for the volume). */
  const visible = async (req: FastifyRequest) => {
    requireVersion(req, '3.27');
    const id = (req.params as { id: string }).id;
    const found = await getAttachment(d, id).catch(() => null);
    if (!found || !canSeeProject(req.ctx, found.vol.project_id)) throw notFound(`VolumeAttachment ${id} could not be found.`);
    return found;
  };

  const list = async (req: FastifyRequest, full: boolean) => {
    requireVersion(req, '3.27');
    const q = req.query as Record<string, string | undefined>;
    const project = projectScope(req);
    let sel = d.db.selectFrom('volume_attachment').innerJoin('volume', 'volume.id', 'volume_attachment.volume_id')
      .selectAll('volume_attachment').select(['volume.project_id as vol_project']);
    if (project) sel = sel.where('volume.project_id', '=', project);
    if (q.volume_id) sel = sel.where('volume_attachment.volume_id', '=', q.volume_id);
    if (q.instance_id) sel = sel.where('volume_attachment.instance_uuid', '=', q.instance_id);
    const status = q.attach_status ?? q.status;
    if (status) sel = sel.where('volume_attachment.attach_status', '=', status);
    const limit = q.limit !== undefined ? Number(q.limit) : null;
    if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`Invalid input received: limit must be a non-negative integer, got ${q.limit}.`);
    let rows = await sel.orderBy('volume_attachment.created_at', 'desc').orderBy('volume_attachment.id', 'desc').execute();
    if (q.marker) {
      const i = rows.findIndex((r) => r.id === q.marker);
      if (i < 0) throw notFound(`Marker ${q.marker} could not be found.`);
      rows = rows.slice(i + 1);
    }
    if (limit !== null) rows = rows.slice(0, limit);
    if (!full) return { attachments: rows.map(summary) };
    const vols = rows.length ? await d.db.selectFrom('volume').selectAll().where('id', 'in', [...new Set(rows.map((r) => r.volume_id))]).execute() : [];
    const byId = new Map(vols.map((v) => [v.id, v]));
    return { attachments: rows.map((r) => detail(d, r, byId.get(r.volume_id)!)) };
  };
  route(app, 'get', '/attachments', (req) => list(req, false));
  route(app, 'get', '/attachments/detail', (req) => list(req, true));

  route(app, 'get', '/attachments/:id', async (req) => {
    const { att, vol } = await visible(req);
    return { attachment: detail(d, att, vol) };
  });

  route(app, 'post', '/attachments', async (req) => {
    requireVersion(req, '3.27');
    requireMember(req.ctx, 'volume:attachment_create');
    const a = bodyOf(req, 'attachment');
    const volumeId = a.volume_uuid;
    if (!isUuid(volumeId)) throw badRequest("Invalid input for field/attribute attachment. 'volume_uuid' is a required property");
    const instanceId = a.instance_uuid === undefined || a.instance_uuid === null ? null : a.instance_uuid;
    if (instanceId !== null && !isUuid(instanceId)) throw badRequest(`Invalid input for field/attribute instance_uuid. Value: ${JSON.stringify(instanceId)}. is not a 'uuid'`);
    const connector = a.connector === undefined || a.connector === null ? null : a.connector;
    if (connector !== null && (typeof connector !== 'object' || Array.isArray(connector))) throw badRequest(`Invalid input for field/attribute connector. Value: ${JSON.stringify(connector)}. is not of type 'object'`);
    let mode: AttachMode | null = null;
    if (a.mode !== undefined && a.mode !== null) {
      if (!mv(req, '3.54')) throw badRequest(`Invalid input for field/attribute attachment. Additional properties are not allowed ('mode' was unexpected)`);
      if (a.mode !== 'rw' && a.mode !== 'ro') throw badRequest(`Invalid input for field/attribute mode. Value: ${JSON.stringify(a.mode)}. is not one of ['rw', 'ro']`);
      mode = a.mode;
    }
    await visibleVolume(d.db, req.ctx, volumeId);
    const att = await createAttachment(d, volumeId, { instanceId, connector: connector as Connector | null, mode });
    const vol = await visibleVolume(d.db, req.ctx, volumeId);
    return { attachment: detail(d, att, vol) };
  });

  route(app, 'put', '/attachments/:id', async (req) => {
    const { att } = await visible(req);
    requireMember(req.ctx, 'volume:attachment_update');
    const a = bodyOf(req, 'attachment');
    const c = a.connector;
    if (!c || typeof c !== 'object' || Array.isArray(c)) throw badRequest("Invalid input for field/attribute attachment. 'connector' is a required property");
    const updated = await updateAttachment(d, att.id, c as Connector);
    const vol = (await d.db.selectFrom('volume').selectAll().where('id', '=', att.volume_id).executeTakeFirst())!;
    return { attachment: detail(d, updated, vol) };
  });

  route(app, 'delete', '/attachments/:id', async (req) => {
    const { att } = await visible(req);
    requireMember(req.ctx, 'volume:attachment_delete');
    await deleteAttachment(d, att.id);
    const rest = await d.db.selectFrom('volume_attachment').selectAll().where('volume_id', '=', att.volume_id).execute();
    return { attachments: rest.map(summary) };
  });

  route(app, 'post', '/attachments/:id/action', async (req, reply) => {
    const { att } = await visible(req);
    const body = req.body as Record<string, unknown> | undefined;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    if (keys.length !== 1 || keys[0] !== 'os-complete' || !mv(req, '3.44')) throw badRequest(`There is no such action: ${keys.join(', ') || '(none)'}`);
    requireMember(req.ctx, 'volume:attachment_complete');
    await completeAttachment(d, att.id);
    reply.status(204).send();
  });
}
