import { requireWriter } from '../../../api/common.js';
import type { NetDeps } from '../../../api/common.js';
import type { FloatingIpInfo, FloatingIpOps } from '../../../logic/nova-proxy.js';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { visibleFloatingIps } from '../api/floatingips.js';
import { rdb, type FloatingIpRow } from '../store.js';
import { createFloatingIp, deleteFloatingIp, getFloatingIp } from './floatingips.js';

/**
 * Floating IPs as Nova's os-floating-ips proxy reaches them: the project's own, made on an
 * external network and released exactly as /v2.0/floatingips does it.
 */
async function infos(deps: NetDeps, rows: FloatingIpRow[]): Promise<FloatingIpInfo[]> {
  const db = rdb(deps.db);
  const nets = [...new Set(rows.map((r) => r.floating_network_id))];
  const ports = [...new Set(rows.map((r) => r.fixed_port_id).filter((p): p is string => !!p))];
  const names = new Map((nets.length ? await db.selectFrom('network').select(['id', 'name']).where('id', 'in', nets).execute() : []).map((n) => [n.id as string, n.name as string]));
  const devices = new Map((ports.length ? await db.selectFrom('port').select(['id', 'device_id']).where('id', 'in', ports).execute() : []).map((p) => [p.id as string, p.device_id as string]));
  return rows.map((f) => ({
    id: f.id, address: f.floating_ip_address, networkId: f.floating_network_id, networkName: names.get(f.floating_network_id) ?? '',
    fixedIp: f.fixed_ip_address, portId: f.fixed_port_id, deviceId: f.fixed_port_id ? devices.get(f.fixed_port_id) || null : null, projectId: f.project_id,
  }));
}

const deps4 = (deps: NetDeps, ctx: RequestContext) => (trx: ReturnType<typeof rdb>) => ({ trx, dialect: deps.platform.dialect, hooks: deps.hooks, ctx });

export const novaFloatingIps: FloatingIpOps = {
  async list(deps, ctx) {
    let q = visibleFloatingIps(rdb(deps.db), ctx);
    // Nova lists the project's own floating IPs, admins included.
    if (ctx.isAdmin) q = q.where('floating_ip.project_id', '=', ctx.projectId ?? '');
    return infos(deps, await q.orderBy('floating_ip.created_at').execute());
  },
  async get(deps, ctx, id) {
    return (await infos(deps, [await getFloatingIp(rdb(deps.db), ctx, id)]))[0]!;
  },
  async create(deps, ctx, networkId) {
    requireWriter(ctx);
    const row = await rdb(deps.db).transaction().execute((trx) => createFloatingIp(deps4(deps, ctx)(trx), ctx.projectId ?? '', { floating_network_id: networkId }));
    deps.agent?.wake();
    return (await infos(deps, [row]))[0]!;
  },
  async delete(deps, ctx, id) {
    const f = await getFloatingIp(rdb(deps.db), ctx, id);
    requireWriter(ctx);
    await rdb(deps.db).transaction().execute((trx) => deleteFloatingIp(trx, f));
    deps.agent?.wake();
  },
};
