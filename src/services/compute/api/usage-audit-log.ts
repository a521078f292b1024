import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, type ComputeDeps } from './common.js';

/**
 * /os-instance_usage_audit_log (admin): the report of Nova's periodic instance usage audit.
 * Stratus does not run that audit (Nova's instance_usage_audit is off by default too), so the
 * report says so truthfully: every compute host "not run", nothing counted.
 */
export async function usageAuditLogRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const report = async (req: FastifyRequest, before: Date) => {
    if (!req.ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-instance-usage-audit-log:list to be performed.");
    // The audit period is the month before the given time, as Nova's default period.
    const end = new Date(Date.UTC(before.getUTCFullYear(), before.getUTCMonth(), 1));
    const begin = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
    const hosts = (await deps.db.selectFrom('compute_node').select('host').orderBy('host').execute()).map((h) => h.host);
    const stamp = (d: Date) => d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
    return {
      hosts_not_run: hosts, log: {}, num_hosts: hosts.length, num_hosts_done: 0, num_hosts_not_run: hosts.length, num_hosts_running: 0,
      overall_status: `0 of ${hosts.length} hosts done. 0 errors.`, period_beginning: stamp(begin), period_ending: stamp(end), total_errors: 0, total_instances: 0,
    };
  };
  app.get('/v2.1/os-instance_usage_audit_log', async (req) => ({ instance_usage_audit_logs: await report(req, new Date()) }));
  app.get('/v2.1/os-instance_usage_audit_log/:before', async (req) => {
    if (!req.ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-instance-usage-audit-log:show to be performed.");
    const raw = decodeURIComponent((req.params as { before: string }).before);
    const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(raw);
    const when = m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : null;
    if (!when || Number.isNaN(when.getTime())) throw badRequest(`Invalid timestamp for date ${raw}`);
    return { instance_usage_audit_log: await report(req, when) };
  });
}
