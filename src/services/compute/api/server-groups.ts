import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { ApiError } from '../../../platform/http/errors.js';
import { uuid } from '../../../platform/ids.js';
import { checkComputeQuota } from '../logic/quota.js';
import type { ServerGroupRow } from '../store.js';
import { badRequest, bodyOf, forbidden, mv, name as checkName, notFound, type ComputeDeps } from './common.js';

/**
 * /os-server-groups: affinity and anti-affinity groups of a project. Before 2.64 a group
 * shows `policies` (a one-item list) and an empty `metadata`; from 2.64 `policy` and
 * `rules`. Members are the group's servers that are not deleted; the server create code
 * adds them, this API only reads them. Groups of other projects are invisible (404).
 */
const MAX_LIMIT = 1000;
const POLICIES = ['anti-affinity', 'affinity'];
const SOFT_POLICIES = ['soft-anti-affinity', 'soft-affinity'];

const policy = (rule: string) => forbidden(`Policy doesn't allow os_compute_api:os-server-groups:${rule} to be performed.`);
const extra = (k: string) => badRequest(`Invalid input for field/attribute server_group. Additional properties are not allowed ('${k}' was unexpected)`);

export async function serverGroupRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const canRead = (req: FastifyRequest, rule: string) => {
    const ctx = req.ctx;
    if (ctx.isAdmin) return;
    if (!ctx.projectId || !(ctx.roles.includes('reader') || ctx.roles.includes('member'))) throw policy(rule);
  };
  const canWrite = (req: FastifyRequest, rule: string) => {
    const ctx = req.ctx;
    if (ctx.isAdmin) return;
    if (!ctx.projectId || !ctx.roles.includes('member')) throw policy(rule);
  };

  const find = async (req: FastifyRequest, id: string): Promise<ServerGroupRow> => {
    const g = await db.selectFrom('server_group').selectAll().where('id', '=', id).executeTakeFirst();
    if (!g || (!req.ctx.isAdmin && g.project_id !== req.ctx.projectId)) throw notFound(`Instance group ${id} could not be found.`);
    return g;
  };

  /** Members of the groups: the servers that are not deleted, in the order they joined. */
  const membersOf = async (ids: string[]): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>(ids.map((id) => [id, []]));
    if (!ids.length) return out;
    const rows = await db.selectFrom('server_group_member as m').innerJoin('instance as i', 'i.id', 'm.instance_id')
      .select(['m.group_id', 'm.instance_id']).where('m.group_id', 'in', ids).where('i.deleted', '=', 0).orderBy('i.created_at').orderBy('i.id').execute();
    for (const r of rows) out.get(r.group_id)?.push(r.instance_id);
    return out;
  };

  const view = (req: FastifyRequest, g: ServerGroupRow, members: string[]) => {
    const v: Record<string, unknown> = { id: g.id, name: g.name };
    if (mv(req, '2.64')) {
      v.policy = g.policy;
      v.rules = JSON.parse(g.rules) as Record<string, unknown>;
    } else {
      v.policies = [g.policy];
      v.metadata = {};
    }
    v.members = members;
    if (mv(req, '2.13')) Object.assign(v, { project_id: g.project_id, user_id: g.user_id });
    return v;
  };

  const nonNegative = (q: Record<string, unknown>, key: string): number | undefined => {
    const raw = Array.isArray(q[key]) ? (q[key] as unknown[])[0] : q[key];
    if (raw === undefined) return undefined;
    const s = String(raw);
    if (!/^\d+$/.test(s)) throw badRequest(`Invalid input for query parameters ${key}. Value: ${s}. '${s}' does not match '^[0-9]*$'`);
    return Number(s);
  };

  app.get('/v2.1/os-server-groups', async (req) => {
    canRead(req, 'index');
    const q = req.query as Record<string, unknown>;
    const limit = nonNegative(q, 'limit');
    const offset = nonNegative(q, 'offset') ?? 0;
    let sel = db.selectFrom('server_group').selectAll();
    // As Nova: all_projects counts for admins only; anyone else gets their own project's groups.
    if (!('all_projects' in q && req.ctx.isAdmin)) sel = sel.where('project_id', '=', req.ctx.projectId ?? '');
    const all = await sel.orderBy('created_at').orderBy('id').execute();
    const page = all.slice(offset, offset + Math.min(MAX_LIMIT, limit || MAX_LIMIT));
    const members = await membersOf(page.map((g) => g.id));
    return { server_groups: page.map((g) => view(req, g, members.get(g.id) ?? [])) };
  });

  app.get('/v2.1/os-server-groups/:id', async (req) => {
    canRead(req, 'show');
    const g = await find(req, (req.params as { id: string }).id);
    return { server_group: view(req, g, (await membersOf([g.id])).get(g.id) ?? []) };
  });

  app.post('/v2.1/os-server-groups', async (req) => {
    canWrite(req, 'create');
    const ctx = req.ctx;
    const body = req.body as Record<string, unknown> | undefined;
    const b = bodyOf(req, 'server_group');
    for (const k of Object.keys(body ?? {})) if (k !== 'server_group') throw badRequest(`Invalid input for field/attribute server_group. Additional properties are not allowed ('${k}' was unexpected)`);
    const allowedPolicies = mv(req, '2.15') ? [...POLICIES, ...SOFT_POLICIES] : POLICIES;
    const enumMsg = (field: string, v: unknown) => badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not one of ${JSON.stringify(allowedPolicies)}`);
    let groupPolicy: string;
    let rules: Record<string, number> = {};
    if (mv(req, '2.64')) {
      for (const k of Object.keys(b)) if (!['name', 'policy', 'rules'].includes(k)) throw extra(k);
      if (!('name' in b)) throw badRequest(`Invalid input for field/attribute server_group. 'name' is a required property`);
      if (!('policy' in b)) throw badRequest(`Invalid input for field/attribute server_group. 'policy' is a required property`);
      if (typeof b.policy !== 'string' || !allowedPolicies.includes(b.policy)) throw enumMsg('policy', b.policy);
      groupPolicy = b.policy;
      if (b.rules !== undefined) {
        if (!b.rules || typeof b.rules !== 'object' || Array.isArray(b.rules)) throw badRequest(`Invalid input for field/attribute rules. Value: ${JSON.stringify(b.rules)}. ${JSON.stringify(b.rules)} is not of type 'object'`);
        for (const [k, v] of Object.entries(b.rules as Record<string, unknown>)) {
          if (k !== 'max_server_per_host') throw badRequest(`Invalid input for field/attribute rules. Additional properties are not allowed ('${k}' was unexpected)`);
          const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) throw badRequest(`Invalid input for field/attribute max_server_per_host. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a positive integer`);
          rules[k] = n;
        }
        if (groupPolicy !== 'anti-affinity' && Object.keys(rules).length) throw badRequest('Only anti-affinity policy supports rules.');
      }
    } else {
      for (const k of Object.keys(b)) if (!['name', 'policies'].includes(k)) throw extra(k);
      if (!('name' in b)) throw badRequest(`Invalid input for field/attribute server_group. 'name' is a required property`);
      if (!('policies' in b)) throw badRequest(`Invalid input for field/attribute server_group. 'policies' is a required property`);
      const p = b.policies;
      if (!Array.isArray(p)) throw badRequest(`Invalid input for field/attribute policies. Value: ${JSON.stringify(p)}. ${JSON.stringify(p)} is not of type 'array'`);
      if (p.length < 1) throw badRequest(`Invalid input for field/attribute policies. Value: []. [] is too short`);
      if (p.length > 1) throw badRequest(`Invalid input for field/attribute policies. Value: ${JSON.stringify(p)}. ${JSON.stringify(p)} is too long`);
      if (typeof p[0] !== 'string' || !allowedPolicies.includes(p[0])) throw enumMsg('policies', p[0]);
      groupPolicy = p[0];
      rules = {};
    }
    const groupName = checkName(b.name);
    if (!ctx.projectId) throw policy('create');
    const row: ServerGroupRow = { id: uuid(), project_id: ctx.projectId, user_id: ctx.userId, name: groupName, policy: groupPolicy, rules: JSON.stringify(rules), created_at: now() };
    await db.transaction().execute(async (trx) => {
      // The count and the insert under the project's quota lock: racing creates for the last group have one winner.
      await checkComputeQuota(trx, platform.dialect, row.project_id, { server_groups: 1 }).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 403) throw forbidden('Quota exceeded, too many server groups.');
        throw err;
      });
      await trx.insertInto('server_group').values(row).execute();
    });
    return { server_group: view(req, row, []) };
  });

  app.delete('/v2.1/os-server-groups/:id', async (req, reply) => {
    const g = await find(req, (req.params as { id: string }).id);
    canWrite(req, 'delete');
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('server_group_member').where('group_id', '=', g.id).execute();
      await trx.deleteFrom('server_group').where('id', '=', g.id).execute();
    });
    reply.status(204).send();
  });
}
