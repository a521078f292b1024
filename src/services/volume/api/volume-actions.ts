import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, route, type VolumeDeps } from './common.js';
import { visibleVolume } from '../logic/access.js';
import type { VolumeRow } from '../store.js';

/**
 * `POST /volumes/{id}/action`: one route, one handler per action key (`os-extend`,
 * `os-attach`, …). Modules register their actions here; the body must hold exactly one.
 */
export type VolumeAction = (req: FastifyRequest, reply: FastifyReply, vol: VolumeRow, args: unknown, d: VolumeDeps) => Promise<unknown>;
const actions = new Map<string, VolumeAction>();
export function registerVolumeAction(name: string, handler: VolumeAction): void { actions.set(name, handler); }

export async function volumeActionRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  route(app, 'post', '/volumes/:id/action', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
    const keys = Object.keys(body);
    const name = keys.find((k) => actions.has(k));
    if (!name || keys.length !== 1) throw badRequest(`There is no such action: ${keys.join(', ') || '(none)'}`);
    const vol = await visibleVolume(d.db, req.ctx, (req.params as { id: string }).id);
    return actions.get(name)!(req, reply, vol, body[name], d);
  });
}
