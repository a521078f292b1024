import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { now } from '../../../platform/clock.js';
import { ApiError } from '../../../platform/http/errors.js';
import { badRequest, mv, notFound, type ComputeDeps } from './common.js';
import { adminOnly, serviceRecords } from './compute-services.js';

/**
 * /os-hosts (admin, up to 2.42, replaced by os-services and os-hypervisors): the hosts and
 * their services, a host's resource usage per project, enabling or disabling it, and the
 * power actions — which, as with Nova's libvirt driver, are not something a hypervisor host
 * does on request (501).
 */
const SERVICE_TOPIC: Record<string, string> = { 'nova-compute': 'compute', 'nova-conductor': 'conductor', 'nova-scheduler': 'scheduler' };

export async function osHostRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db } = deps;
  const guard = (req: FastifyRequest, rule: string) => {
    if (mv(req, '2.43')) throw notFound('The resource could not be found.');
    adminOnly(req, `os_compute_api:os-hosts:${rule}`);
  };
  const computeNode = async (host: string) => {
    const node = await db.selectFrom('compute_node').selectAll().where('host', '=', host).executeTakeFirst();
    if (!node) throw notFound(`Compute host ${host} could not be found.`);
    return node;
  };

  app.get('/v2.1/os-hosts', async (req) => {
    guard(req, 'list');
    const zone = (req.query as { zone?: string }).zone;
    const hosts = (await serviceRecords(db)).map((s) => ({ host_name: s.host, service: SERVICE_TOPIC[s.binary] ?? s.binary, zone: s.zone }));
    return { hosts: zone ? hosts.filter((h) => h.zone === zone) : hosts };
  });

  app.get('/v2.1/os-hosts/:host', async (req) => {
    guard(req, 'show');
    const node = await computeNode((req.params as { host: string }).host);
    const allocs = await db.selectFrom('allocation').select(['project_id', sql<number>`sum(vcpus)`.as('cpu'), sql<number>`sum(memory_mb)`.as('memory_mb'), sql<number>`sum(disk_gb)`.as('disk_gb')])
      .where('host', '=', node.host).groupBy('project_id').orderBy('project_id').execute();
    const used = allocs.reduce((a, r) => ({ cpu: a.cpu + Number(r.cpu), memory_mb: a.memory_mb + Number(r.memory_mb), disk_gb: a.disk_gb + Number(r.disk_gb) }), { cpu: 0, memory_mb: 0, disk_gb: 0 });
    const row = (project: string, v: { cpu: number; memory_mb: number; disk_gb: number }) => ({ resource: { host: node.host, project, ...v } });
    return {
      host: [
        row('(total)', { cpu: node.vcpus, memory_mb: node.memory_mb, disk_gb: node.local_gb }),
        row('(used_now)', used),
        row('(used_max)', used),
        ...allocs.map((a) => row(a.project_id, { cpu: Number(a.cpu), memory_mb: Number(a.memory_mb), disk_gb: Number(a.disk_gb) })),
      ],
    };
  });

  app.put('/v2.1/os-hosts/:host', async (req) => {
    guard(req, 'update');
    const b = (req.body ?? {}) as { status?: unknown; maintenance_mode?: unknown };
    const keys = Object.keys(b);
    if (!keys.length || keys.some((k) => k !== 'status' && k !== 'maintenance_mode')) throw badRequest("Invalid input for field/attribute. 'status' or 'maintenance_mode' is required");
    if (b.status !== undefined && b.status !== 'enable' && b.status !== 'disable') throw badRequest(`Invalid input for field/attribute status. Value: ${String(b.status)}.`);
    if (b.maintenance_mode !== undefined && b.maintenance_mode !== 'enable' && b.maintenance_mode !== 'disable') throw badRequest(`Invalid input for field/attribute maintenance_mode. Value: ${String(b.maintenance_mode)}.`);
    const node = await computeNode((req.params as { host: string }).host);
    const out: Record<string, string> = { host: node.host };
    if (b.status !== undefined) {
      await db.updateTable('compute_node').set({ status: b.status === 'enable' ? 'enabled' : 'disabled', updated_at: now() }).where('host', '=', node.host).execute();
      out.status = b.status === 'enable' ? 'enabled' : 'disabled';
    }
    if (b.maintenance_mode !== undefined) {
      // Maintenance needs a hypervisor that evacuates by itself (XenServer in Nova); none here.
      throw new ApiError(501, 'Virt driver does not implement host maintenance mode.');
    }
    return out;
  });

  for (const action of ['startup', 'shutdown', 'reboot']) {
    app.get(`/v2.1/os-hosts/:host/${action}`, async (req) => {
      guard(req, action);
      await computeNode((req.params as { host: string }).host);
      throw new ApiError(501, 'Virt driver does not implement host power management.');
    });
  }
}
