import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { listRows, pickFields, sameName, type ListSpec } from '../../../api/listing.js';
import { neutronError, ownerOf, requireWriter, resourceBody, type NetDeps } from '../../../api/common.js';
import { rdb, type FloatingIpRow, type RDb } from '../store.js';
import { floatingIpViews } from '../views.js';
import { createFloatingIp, deleteFloatingIp, getFloatingIp, updateFloatingIp } from '../logic/floatingips.js';
import type { Deps } from '../logic/routers.js';

/** /v2.0/floatingips and /v2.0/floatingip_pools. */
const CREATE = ['floating_network_id', 'port_id', 'fixed_ip_address', 'floating_ip_address', 'subnet_id', 'description', 'dns_name', 'dns_domain',
  'qos_policy_id', 'tenant_id', 'project_id'];
const UPDATE = ['port_id', 'fixed_ip_address', 'description', 'qos_policy_id'];

export const floatingIpList: ListSpec = {
  collection: 'floatingips', table: 'floating_ip', tagType: 'floatingips',
  columns: {
    ...sameName('str', ['id', 'project_id', 'description', 'floating_ip_address', 'floating_network_id', 'fixed_ip_address', 'router_id', 'status', 'dns_name', 'dns_domain']),
    ...sameName('int', ['revision_number', 'created_at', 'updated_at']), port_id: { col: 'fixed_port_id', kind: 'str' },
  },
  sortable: ['id', 'project_id', 'floating_ip_address', 'floating_network_id', 'port_id', 'fixed_ip_address', 'router_id', 'status', 'created_at', 'updated_at'],
};

export function visibleFloatingIps(db: RDb, ctx: RequestContext) {
  let q = db.selectFrom('floating_ip').selectAll('floating_ip');
  if (!ctx.isAdmin) q = q.where('floating_ip.project_id', '=', ctx.projectId ?? '');
  return q;
}

function noQos(b: Record<string, unknown>): void {
  if (b.qos_policy_id !== undefined && b.qos_policy_id !== null) {
    throw neutronError(404, 'QosPolicyNotFound', `QoS policy ${String(b.qos_policy_id)} could not be found.`);
  }
}

export async function floatingIpRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = () => rdb(deps.db);
  const d = (trx: RDb, ctx: RequestContext): Deps => ({ trx, dialect: deps.platform.dialect, hooks: deps.hooks, ctx });
  const show = async (req: FastifyRequest, id: string) => {
    const row = (await db().selectFrom('floating_ip').selectAll().where('id', '=', id).executeTakeFirst())!;
    return pickFields(req, (await floatingIpViews(db(), [row]))[0]!);
  };

  app.post('/v2.0/floatingips', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'floatingip', CREATE);
    noQos(b);
    const owner = ownerOf(ctx, b);
    const row = await db().transaction().execute((trx) => createFloatingIp(d(trx, ctx), owner, b));
    reply.status(201);
    return { floatingip: await show(req, row.id) };
  });

  app.get('/v2.0/floatingips', async (req) => {
    const { rows, links } = await listRows(req, db(), visibleFloatingIps(db(), req.ctx), floatingIpList);
    const views = await floatingIpViews(db(), rows as FloatingIpRow[]);
    return { floatingips: views.map((v) => pickFields(req, v)), ...(links.length ? { floatingips_links: links } : {}) };
  });

  app.get('/v2.0/floatingips/:id', async (req) => {
    const f = await getFloatingIp(db(), req.ctx, (req.params as { id: string }).id);
    return { floatingip: pickFields(req, (await floatingIpViews(db(), [f]))[0]!) };
  });

  app.put('/v2.0/floatingips/:id', async (req) => {
    const ctx = req.ctx;
    const f = await getFloatingIp(db(), ctx, (req.params as { id: string }).id);
    requireWriter(ctx);
    const b = resourceBody(req, 'floatingip', UPDATE);
    noQos(b);
    await db().transaction().execute(async (trx) => {
      // Re-read inside the transaction: a concurrent update may have moved it.
      const cur = await getFloatingIp(trx, ctx, f.id);
      await updateFloatingIp(d(trx, ctx), cur, b);
    });
    return { floatingip: await show(req, f.id) };
  });

  app.delete('/v2.0/floatingips/:id', async (req, reply) => {
    const f = await getFloatingIp(db(), req.ctx, (req.params as { id: string }).id);
    requireWriter(req.ctx);
    await db().transaction().execute((trx) => deleteFloatingIp(trx, f));
    reply.status(204).send();
  });

  // The IPv4 subnets of external networks floating IPs come from.
  app.get('/v2.0/floatingip_pools', async (req) => {
    const rows = await db().selectFrom('subnet').innerJoin('network', 'network.id', 'subnet.network_id')
      .select(['subnet.id', 'subnet.name', 'subnet.cidr', 'subnet.network_id', 'subnet.project_id'])
      .where('network.external', '=', 1).where('subnet.ip_version', '=', 4).orderBy('subnet.created_at').execute();
    const pools = rows.map((s) => ({ subnet_id: s.id, subnet_name: s.name, cidr: s.cidr, network_id: s.network_id, project_id: s.project_id, tenant_id: s.project_id }));
    return { floatingip_pools: pools.map((p) => pickFields(req, p)) };
  });
}
