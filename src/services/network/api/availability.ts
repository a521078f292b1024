import type { FastifyInstance } from 'fastify';
import { json } from '../../../platform/json.js';
import type { NetworkRow } from '../store.js';
import { ipToBig } from '../logic/ip.js';
import { neutronError, notFoundError, type NetDeps } from './common.js';

/** /v2.0/network-ip-availabilities (admin): addresses in use and in total, per network and subnet. */
export async function availabilityRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db } = deps;
  const describe = async (n: NetworkRow) => {
    const subnets = await db.selectFrom('subnet').selectAll().where('network_id', '=', n.id).execute();
    const used = await db.selectFrom('ip_allocation').select(['subnet_id']).where('network_id', '=', n.id).execute();
    const subnet_ip_availability = subnets.map((s) => {
      const total = json<{ start: string; end: string }[]>(s.allocation_pools, []).reduce((a, p) => a + ipToBig(p.end) - ipToBig(p.start) + 1n, 0n);
      return { subnet_id: s.id, subnet_name: s.name, cidr: s.cidr, ip_version: s.ip_version, total_ips: Number(total), used_ips: used.filter((u) => u.subnet_id === s.id).length };
    });
    return {
      network_id: n.id, network_name: n.name, tenant_id: n.project_id, project_id: n.project_id, subnet_ip_availability,
      total_ips: subnet_ip_availability.reduce((a, s) => a + s.total_ips, 0), used_ips: subnet_ip_availability.reduce((a, s) => a + s.used_ips, 0),
    };
  };
  app.get('/v2.0/network-ip-availabilities', async (req) => {
    if (!req.ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', '(rule:get_network_ip_availability) is disallowed by policy');
    const q = req.query as Record<string, string | undefined>;
    let sel = db.selectFrom('network').selectAll();
    if (q.network_id) sel = sel.where('id', '=', q.network_id);
    if (q.network_name) sel = sel.where('name', '=', q.network_name);
    if (q.project_id ?? q.tenant_id) sel = sel.where('project_id', '=', (q.project_id ?? q.tenant_id)!);
    const out = [];
    for (const n of await sel.execute()) out.push(await describe(n));
    return { network_ip_availabilities: out };
  });
  app.get('/v2.0/network-ip-availabilities/:id', async (req) => {
    if (!req.ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', '(rule:get_network_ip_availability) is disallowed by policy');
    const id = (req.params as { id: string }).id;
    const n = await db.selectFrom('network').selectAll().where('id', '=', id).executeTakeFirst();
    if (!n) throw notFoundError('Network', id);
    return { network_ip_availability: await describe(n) };
  });
}
