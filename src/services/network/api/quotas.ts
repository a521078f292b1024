import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_QUOTAS, limitsOf, usage } from '../logic/quota.js';
import { badInput, neutronError, type NetDeps } from './common.js';

/** /v2.0/quotas: read your own, admins read and set anyone's; details show usage. */
export async function quotaRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db } = deps;
  const project = (req: FastifyRequest) => {
    const id = (req.params as { project: string }).project;
    if (!req.ctx.isAdmin && id !== req.ctx.projectId) throw neutronError(403, 'HTTPForbidden', '(rule:get_quota) is disallowed by policy');
    return id;
  };
  const admin = (req: FastifyRequest) => { if (!req.ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', '(rule:update_quota) is disallowed by policy'); };

  app.get('/v2.0/quotas', async (req) => {
    admin(req);
    const rows = await db.selectFrom('network_quota').select('project_id').distinct().execute();
    const out = [];
    for (const r of rows) out.push({ ...(await limitsOf(db, r.project_id)), project_id: r.project_id, tenant_id: r.project_id });
    return { quotas: out };
  });
  app.get('/v2.0/quotas/:project', async (req) => ({ quota: await limitsOf(db, project(req)) }));
  app.get('/v2.0/quotas/:project/default', async (req) => { project(req); return { quota: { ...DEFAULT_QUOTAS } }; });
  app.get('/v2.0/quotas/:project/details', async (req) => {
    const id = project(req);
    const limits = await limitsOf(db, id);
    const out: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const [k, limit] of Object.entries(limits)) out[k] = { limit, used: await usage(db, id, k), reserved: 0 };
    return { quota: out };
  });
  app.put('/v2.0/quotas/:project', async (req) => {
    admin(req);
    const id = (req.params as { project: string }).project;
    const body = (req.body as { quota?: Record<string, unknown> } | undefined)?.quota;
    if (!body || typeof body !== 'object') throw badInput("a 'quota' object is required");
    for (const [k, v] of Object.entries(body)) {
      if (!(k in DEFAULT_QUOTAS)) throw badInput(`Unrecognized attribute(s) '${k}'`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) throw badInput(`'${String(v)}' is not a valid quota for ${k}`);
      await db.deleteFrom('network_quota').where('project_id', '=', id).where('resource', '=', k).execute();
      await db.insertInto('network_quota').values({ project_id: id, resource: k, hard_limit: n }).execute();
    }
    return { quota: await limitsOf(db, id) };
  });
  app.delete('/v2.0/quotas/:project', async (req, reply) => {
    admin(req);
    await db.deleteFrom('network_quota').where('project_id', '=', (req.params as { project: string }).project).execute();
    reply.status(204).send();
  });
}
