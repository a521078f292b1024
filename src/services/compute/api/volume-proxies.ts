import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../platform/http/errors.js';
import type { SnapshotRow } from '../../volume/store.js';
import type { VolumeViewInput } from '../../volume/views.js';
import { badRequest, bool, forbidden, metadataMap, mv, notFound, novaNaiveTime, str, type ComputeDeps } from './common.js';
import { isUuid } from './server-request.js';

/**
 * os-volumes and os-snapshots: Nova's proxies to block storage, deprecated at 2.36 (404
 * from then on), in Nova's camelCase shapes. They call the volume service's public
 * interface on the caller's behalf.
 */
const volumeView = (x: VolumeViewInput) => ({
  id: x.vol.id, status: x.vol.status, size: x.vol.size, availabilityZone: x.vol.availability_zone, createdAt: novaNaiveTime(x.vol.created_at),
  displayName: x.vol.name, displayDescription: x.vol.description, volumeType: x.typeName, snapshotId: x.vol.snapshot_id, metadata: x.metadata,
  // Nova answers `[{}]` for a volume attached nowhere.
  attachments: x.attachments.filter((a) => a.attach_status === 'attached').map((a) => ({ id: a.volume_id, volumeId: a.volume_id, serverId: a.instance_uuid ?? '', device: a.mountpoint ?? '' })),
});
const snapshotView = (s: SnapshotRow) => ({
  id: s.id, volumeId: s.volume_id, status: s.status, size: s.size, createdAt: novaNaiveTime(s.created_at), displayName: s.name, displayDescription: s.description,
});

/** Cinder's answers in Nova's words: its 4xx keep their status; quota becomes 403 as Nova's OverQuota does. */
const fromCinder = (err: unknown): never => {
  if (!(err instanceof ApiError)) throw err;
  if (err.status === 413) throw forbidden(err.message);
  throw new ApiError(err.status, err.message);
};

export async function volumeProxyRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const enter = (req: FastifyRequest, write = false) => {
    if (mv(req, '2.36')) throw notFound('The resource could not be found.');
    if (!deps.volume) throw notFound('The resource could not be found.');
    if (write && !req.ctx.isAdmin && !req.ctx.roles.includes('member')) throw forbidden("Policy doesn't allow os_compute_api:os-volumes to be performed.");
    return deps.volume;
  };
  const idOf = (req: FastifyRequest, what: 'Volume' | 'Snapshot') => {
    const id = (req.params as { id: string }).id;
    if (!isUuid(id)) throw notFound(`${what} ${id} could not be found.`);
    return id;
  };

  const listVolumes = async (req: FastifyRequest) => {
    const v = enter(req);
    // `GET /os-volumes/` is a show with an empty id, not the list.
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('Volume  could not be found.');
    const q = req.query as Record<string, string | undefined>;
    let all = (await v.listVolumes(req.ctx)).map(volumeView);
    const offset = Number(q.offset ?? 0);
    if (Number.isInteger(offset) && offset > 0) all = all.slice(offset);
    if (q.limit !== undefined && /^\d+$/.test(q.limit)) all = all.slice(0, Number(q.limit));
    return { volumes: all };
  };
  app.get('/v2.1/os-volumes', listVolumes);
  app.get('/v2.1/os-volumes/detail', listVolumes);
  app.get('/v2.1/os-volumes/:id', async (req) => {
    const v = enter(req);
    return { volume: volumeView(await v.volumeDetail(req.ctx, idOf(req, 'Volume')).catch(fromCinder)) };
  });
  app.post('/v2.1/os-volumes', async (req) => {
    const v = enter(req, true);
    const b = (req.body as { volume?: Record<string, unknown> } | undefined)?.volume;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest("Invalid input for field/attribute volume. 'volume' is a required property");
    const allowed = ['size', 'display_name', 'display_description', 'volume_type', 'metadata', 'availability_zone', 'snapshot_id'];
    for (const k of Object.keys(b)) if (!allowed.includes(k)) throw badRequest(`Invalid input for field/attribute volume. Additional properties are not allowed ('${k}' was unexpected)`);
    if (b.size === undefined) throw badRequest("Invalid input for field/attribute volume. 'size' is a required property");
    const size = typeof b.size === 'string' && /^[0-9]+$/.test(b.size) ? Number(b.size) : b.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw badRequest(`Invalid input for field/attribute size. Value: ${JSON.stringify(b.size)}. ${JSON.stringify(b.size)} is not a valid size`);
    const opt = (k: string) => (b[k] === undefined || b[k] === null ? null : str(b[k], k, { max: 255 }));
    const snapshotId = opt('snapshot_id');
    if (snapshotId !== null && !isUuid(snapshotId)) throw badRequest(`Invalid input for field/attribute snapshot_id. Value: ${snapshotId}. '${snapshotId}' is not a 'uuid'`);
    const created = await v.createVolume(req.ctx, {
      size, name: opt('display_name'), description: opt('display_description'), volumeType: opt('volume_type'), availabilityZone: opt('availability_zone'),
      snapshotId, metadata: b.metadata === undefined ? {} : metadataMap(b.metadata),
    }).catch(fromCinder);
    return { volume: volumeView(await v.volumeDetail(req.ctx, created.id)) };
  });
  app.delete('/v2.1/os-volumes/:id', async (req, reply) => {
    const v = enter(req, true);
    await v.deleteVolume(req.ctx, idOf(req, 'Volume')).catch(fromCinder);
    reply.status(202).send();
  });

  const listSnapshots = async (req: FastifyRequest) => {
    const v = enter(req);
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('Snapshot  could not be found.');
    const q = req.query as Record<string, string | undefined>;
    let all = (await v.listSnapshots(req.ctx)).map(snapshotView);
    const offset = Number(q.offset ?? 0);
    if (Number.isInteger(offset) && offset > 0) all = all.slice(offset);
    if (q.limit !== undefined && /^\d+$/.test(q.limit)) all = all.slice(0, Number(q.limit));
    return { snapshots: all };
  };
  app.get('/v2.1/os-snapshots', listSnapshots);
  app.get('/v2.1/os-snapshots/detail', listSnapshots);
  app.get('/v2.1/os-snapshots/:id', async (req) => {
    const v = enter(req);
    return { snapshot: snapshotView(await v.getSnapshot(req.ctx, idOf(req, 'Snapshot')).catch(fromCinder)) };
  });
  app.post('/v2.1/os-snapshots', async (req) => {
    const v = enter(req, true);
    const b = (req.body as { snapshot?: Record<string, unknown> } | undefined)?.snapshot;
    if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest("Invalid input for field/attribute snapshot. 'snapshot' is a required property");
    if (!isUuid(b.volume_id)) throw badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
    const opt = (k: string) => (b[k] === undefined || b[k] === null ? null : str(b[k], k, { max: 255 }));
    const snap = await v.snapshotVolume(req.ctx, b.volume_id, {
      name: opt('display_name'), description: opt('display_description'), force: b.force === undefined ? false : bool(b.force, 'force'),
    }).catch(fromCinder);
    return { snapshot: snapshotView(snap) };
  });
  app.delete('/v2.1/os-snapshots/:id', async (req, reply) => {
    const v = enter(req, true);
    await v.deleteSnapshot(req.ctx, idOf(req, 'Snapshot')).catch(fromCinder);
    reply.status(202).send();
  });
}
