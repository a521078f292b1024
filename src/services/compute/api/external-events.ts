import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden, notFound, type ComputeDeps } from './common.js';

/**
 * POST /os-server-external-events: how Neutron (and Cinder) tell Nova that something
 * happened to a server's port or volume. Admin (service) only. Each event gets its own code:
 * 200 for a server that exists, 404 for one that does not; the whole answer is 200 when all
 * were accepted, 207 when some were not, 404 when none were. The fake hypervisor has nothing
 * waiting on these events, so accepting them is all there is to do.
 */
const NAMES = ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', 'network-vif-deleted', 'volume-extended', 'power-update', 'accelerator-request-bound', 'volume-reimaged'];
const STATUSES = ['failed', 'completed', 'in-progress'];

export async function externalEventRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  app.post('/v2.1/os-server-external-events', async (req, reply) => {
    if (!req.ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-server-external-events:create to be performed.");
    const events = (req.body as { events?: unknown } | undefined)?.events;
    if (!Array.isArray(events) || !events.length) throw badRequest("Invalid input for field/attribute events. 'events' is a required property");
    const out = [];
    for (const e of events as Array<Record<string, unknown>>) {
      if (!e || typeof e !== 'object' || typeof e.server_uuid !== 'string' || typeof e.name !== 'string') throw badRequest('Invalid input for field/attribute events.');
      if (!NAMES.includes(e.name)) throw badRequest(`Invalid input for field/attribute name. Value: ${e.name}.`);
      const status = e.status === undefined ? 'completed' : String(e.status);
      if (!STATUSES.includes(status)) throw badRequest(`Invalid input for field/attribute status. Value: ${status}.`);
      const exists = await deps.db.selectFrom('instance').select(['id', 'host']).where('id', '=', e.server_uuid).where('deleted', '=', 0).executeTakeFirst();
      out.push({ server_uuid: e.server_uuid, name: e.name, status, ...(e.tag !== undefined ? { tag: String(e.tag) } : {}), code: exists && exists.host ? 200 : exists ? 422 : 404 });
    }
    if (out.every((e) => e.code === 404)) throw notFound('No instances found for any event');
    reply.status(out.every((e) => e.code === 200) ? 200 : 207);
    return { events: out };
  });
}
