import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EmbeddedFlavor, InstanceRow } from '../store.js';
import { badRequest, computeRoot, forbidden, mv, notFound, paging, type ComputeDeps } from './common.js';
import { naive } from './compute-services.js';

/**
 * os-simple-tenant-usage: what each project's servers used over a period, in server-hours
 * weighted by vCPUs, RAM and disk, from launch to termination (deleted servers count for the
 * time they ran). Paging (2.40) is over servers.
 */
const FORMATS = [/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)$/, /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{1,6})$/, /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,6})$/];

/** Nova's accepted period formats, read as UTC; a missing value is now. */
function parsePeriod(v: string | undefined): number {
  if (!v) return Date.now();
  for (const f of FORMATS) {
    const m = f.exec(v);
    if (!m) continue;
    const [, y, mo, d, h, mi, s, frac] = m;
    const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0);
    if (!Number.isNaN(ms) && new Date(ms).getUTCDate() === +d!) return ms;
  }
  throw badRequest('Invalid datetime string: Datetime is in invalid format');
}

export async function usageRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const period = (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    const start = parsePeriod(q.start);
    let stop = parsePeriod(q.end);
    if (!(start < stop)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
    stop = Math.min(stop, Date.now());
    return { start, stop, detailed: q.detailed === '1' };
  };

  /** Servers that ran during the period (launched before its end, not terminated before its start), oldest first. */
  const usages = async (req: FastifyRequest, start: number, stop: number, projectId: string | null, detailed: boolean) => {
    let sel = db.selectFrom('instance').selectAll().where('launched_at', 'is not', null).where('launched_at', '<', stop)
      .where((eb) => eb.or([eb('terminated_at', 'is', null), eb('terminated_at', '>', start)]));
    if (projectId !== null) sel = sel.where('project_id', '=', projectId);
    let rows: InstanceRow[] = await sel.orderBy('created_at').orderBy('id').execute();
    let limit: number | null = null;
    if (mv(req, '2.40')) {
      const p = paging(req);
      limit = p.limit;
      if (p.marker !== null) {
        const at = rows.findIndex((r) => r.id === p.marker);
        if (at < 0) throw badRequest(`Marker ${p.marker} could not be found.`);
        rows = rows.slice(at + 1);
      }
      if (limit !== null) rows = rows.slice(0, limit);
    }
    const t = Date.now();
    const summaries = new Map<string, Record<string, unknown> & { total_hours: number; total_vcpus_usage: number; total_memory_mb_usage: number; total_local_gb_usage: number }>();
    const all: Array<{ instance_id: string }> = [];
    for (const r of rows) {
      const f = JSON.parse(r.flavor) as EmbeddedFlavor;
      const launched = r.launched_at!;
      const from = Math.max(launched, start);
      const to = r.terminated_at !== null ? Math.min(stop, r.terminated_at) : stop;
      const hours = Math.max(0, to - from) / 3_600_000;
      const ended = r.terminated_at;
      const info = {
        instance_id: r.id, name: r.name, hours, vcpus: f.vcpus, memory_mb: f.ram, local_gb: f.disk + f.ephemeral, flavor: f.name,
        started_at: naive(launched), ended_at: naive(ended), state: ended !== null ? 'terminated' : r.vm_state, tenant_id: r.project_id,
        uptime: Math.floor(((ended ?? t) - launched) / 1000),
      };
      let s = summaries.get(r.project_id);
      if (!s) {
        s = {
          tenant_id: r.project_id, ...(detailed ? { server_usages: [] as unknown[] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0,
          total_memory_mb_usage: 0, total_hours: 0, start: naive(start), stop: naive(stop),
        };
        summaries.set(r.project_id, s);
      }
      s.total_local_gb_usage += info.local_gb * hours;
      s.total_vcpus_usage += info.vcpus * hours;
      s.total_memory_mb_usage += info.memory_mb * hours;
      s.total_hours += hours;
      if (detailed) (s.server_usages as unknown[]).push(info);
      all.push(info);
    }
    const links = (key: string, path: string) => {
      if (limit === null || limit === 0 || all.length < limit) return {};
      const q = new URLSearchParams(req.query as Record<string, string>);
      q.set('marker', all[all.length - 1]!.instance_id);
      return { [key]: [{ rel: 'next', href: `${computeRoot(req, platform)}/v2.1/${path}?${q.toString()}` }] };
    };
    return { summaries: [...summaries.values()], links };
  };

  app.get('/v2.1/os-simple-tenant-usage', async (req) => {
    // `/os-simple-tenant-usage/` is a usage for the empty project id: none such.
    if (req.url.split('?')[0]!.endsWith('/')) throw notFound('The resource could not be found.');
    if (!req.ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed.");
    const p = period(req);
    const u = await usages(req, p.start, p.stop, null, p.detailed);
    return { tenant_usages: u.summaries, ...(mv(req, '2.40') ? u.links('tenant_usages_links', 'os-simple-tenant-usage') : {}) };
  });

  app.get('/v2.1/os-simple-tenant-usage/:project', async (req) => {
    const project = (req.params as { project: string }).project;
    if (!project) throw notFound('The resource could not be found.');
    if (!req.ctx.isAdmin && req.ctx.projectId !== project) throw forbidden("Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
    const p = period(req);
    const u = await usages(req, p.start, p.stop, project, true);
    return { tenant_usage: u.summaries[0] ?? {}, ...(mv(req, '2.40') ? u.links('tenant_usage_links', `os-simple-tenant-usage/${encodeURIComponent(project)}`) : {}) };
  });
}
