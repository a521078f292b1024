import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { badRequest, forbidden, notFound } from '../../../platform/http/errors.js';
import { hexId } from '../../../platform/ids.js';
import type { IdentityDb, RoleRow } from '../store.js';
import { ROOT } from '../migrations.js';
import { getProjectOr404 } from '../logic/lookup.js';
import { listBody, roleRef, roleView } from '../views.js';
import { check, extras, query, selfUrl, storing, v3Base, wrapped, type IdentityDeps } from './common.js';

/** Roles (global and domain-specific) and the implied-role graph. */
export async function getRoleOr404(db: IdentityDb, id: string): Promise<RoleRow> {
  const r = await db.selectFrom('role').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound(`Could not find role: ${id}.`);
  return r;
}

export async function roleRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;

  app.post('/v3/roles', async (req, reply) => {
    enforce('identity:create_role', req.ctx);
    const r = wrapped(req, 'role');
    check(r, { name: ['string', { required: true, min: 1, max: 255 }], domain_id: 'nullable-string', description: 'nullable-string', options: 'object' });
    if (r.domain_id) await getProjectOr404(db, r.domain_id as string, true);
    const row: RoleRow = {
      id: hexId(), name: r.name as string, domain_id: (r.domain_id as string | null) ?? ROOT, description: (r.description as string | null) ?? null,
      extra: extras(r, ['name', 'domain_id', 'description', 'options']), options: JSON.stringify(r.options ?? {}),
    };
    await storing('role', r.name, () => db.insertInto('role').values(row).execute());
    reply.status(201);
    return { role: roleView(v3Base(req), row) };
  });

  app.get('/v3/roles', async (req) => {
    enforce('identity:list_roles', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('role').selectAll().where('domain_id', '=', q.domain_id ?? ROOT);
    if (q.name) sel = sel.where('name', '=', q.name);
    return listBody('roles', (await sel.orderBy('name').execute()).map((r) => roleView(v3Base(req), r)), selfUrl(req));
  });

  app.get('/v3/roles/:id', async (req) => {
    enforce('identity:get_role', req.ctx);
    return { role: roleView(v3Base(req), await getRoleOr404(db, (req.params as { id: string }).id)) };
  });

  app.patch('/v3/roles/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_role', req.ctx);
    const r = wrapped(req, 'role');
    check(r, { name: ['string', { min: 1, max: 255 }], description: 'nullable-string', options: 'object' });
    const row = await getRoleOr404(db, id);
    if (r.domain_id !== undefined && (r.domain_id ?? ROOT) !== row.domain_id) throw badRequest('Cannot change the domain_id of a role.');
    if (JSON.parse(row.options).immutable && !(r.options && (r.options as { immutable?: unknown }).immutable === false)) {
      throw forbidden(`Role ${id} is immutable.`);
    }
    const set: Partial<RoleRow> = {};
    if (r.name !== undefined) set.name = r.name as string;
    if (r.description !== undefined) set.description = r.description as string | null;
    if (r.options !== undefined) set.options = JSON.stringify({ ...JSON.parse(row.options), ...(r.options as object) });
    if (Object.keys(set).length) await storing('role', r.name, () => db.updateTable('role').set(set).where('id', '=', id).execute());
    identity.changed();
    return { role: roleView(v3Base(req), await getRoleOr404(db, id)) };
  });

  app.delete('/v3/roles/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_role', req.ctx);
    const row = await getRoleOr404(db, id);
    if (JSON.parse(row.options).immutable) throw forbidden(`Role ${id} is immutable.`);
    await db.deleteFrom('role').where('id', '=', id).execute();
    identity.changed();
    reply.status(204).send();
  });

  // ---- implied roles
  const inference = (req: FastifyRequest, prior: RoleRow, implies: RoleRow | RoleRow[]) => ({
    prior_role: roleRef(v3Base(req), prior),
    implies: Array.isArray(implies) ? implies.map((i) => roleRef(v3Base(req), i)) : roleRef(v3Base(req), implies),
  });

  const pair = async (req: FastifyRequest) => {
    const { prior, implied } = req.params as { prior: string; implied: string };
    return [await getRoleOr404(db, prior), await getRoleOr404(db, implied)] as const;
  };

  app.put('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    enforce('identity:create_implied_role', req.ctx);
    const [prior, implied] = await pair(req);
    if (prior.id === implied.id) throw badRequest('A role cannot imply itself.');
    if (implied.domain_id !== ROOT && prior.domain_id === ROOT) throw forbidden('A global role cannot imply a domain-specific role.');
    if (JSON.parse(implied.options).immutable === undefined && implied.name === 'admin') throw forbidden('The admin role cannot be implied.');
    if (await reaches(db, implied.id, prior.id)) throw badRequest(`Adding this inference would create a cycle: ${implied.id} already implies ${prior.id}.`);
    const exists = await db.selectFrom('implied_role').select('prior_role_id').where('prior_role_id', '=', prior.id).where('implied_role_id', '=', implied.id).executeTakeFirst();
    if (!exists) await db.insertInto('implied_role').values({ prior_role_id: prior.id, implied_role_id: implied.id }).execute();
    identity.changed();
    reply.status(201);
    return { role_inference: inference(req, prior, implied), links: { self: selfUrl(req) } };
  });

  const getInference = async (req: FastifyRequest) => {
    const [prior, implied] = await pair(req);
    const e = await db.selectFrom('implied_role').select('prior_role_id').where('prior_role_id', '=', prior.id).where('implied_role_id', '=', implied.id).executeTakeFirst();
    if (!e) throw notFound(`${prior.id} does not imply ${implied.id}.`);
    return [prior, implied] as const;
  };
  app.get('/v3/roles/:prior/implies/:implied', { exposeHeadRoute: false }, async (req) => {
    enforce('identity:get_implied_role', req.ctx);
    const [prior, implied] = await getInference(req);
    return { role_inference: inference(req, prior, implied), links: { self: selfUrl(req) } };
  });
  app.head('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    enforce('identity:check_implied_role', req.ctx);
    await getInference(req);
    reply.status(204).send();
  });
  app.delete('/v3/roles/:prior/implies/:implied', async (req, reply) => {
    enforce('identity:delete_implied_role', req.ctx);
    const [prior, implied] = await getInference(req);
    await db.deleteFrom('implied_role').where('prior_role_id', '=', prior.id).where('implied_role_id', '=', implied.id).execute();
    identity.changed();
    reply.status(204).send();
  });
  app.get('/v3/roles/:prior/implies', async (req) => {
    enforce('identity:list_implied_roles', req.ctx);
    const prior = await getRoleOr404(db, (req.params as { prior: string }).prior);
    const ids = (await db.selectFrom('implied_role').select('implied_role_id').where('prior_role_id', '=', prior.id).execute()).map((r) => r.implied_role_id);
    const implied = ids.length ? await db.selectFrom('role').selectAll().where('id', 'in', ids).execute() : [];
    return { role_inference: inference(req, prior, implied), links: { self: selfUrl(req) } };
  });
  app.get('/v3/role_inferences', async (req) => {
    enforce('identity:list_role_inference_rules', req.ctx);
    const edges = await db.selectFrom('implied_role').selectAll().execute();
    const roles = new Map((await db.selectFrom('role').selectAll().execute()).map((r) => [r.id, r]));
    const byPrior = new Map<string, RoleRow[]>();
    for (const e of edges) byPrior.set(e.prior_role_id, [...(byPrior.get(e.prior_role_id) ?? []), roles.get(e.implied_role_id)!]);
    return { role_inferences: [...byPrior].map(([p, implied]) => inference(req, roles.get(p)!, implied)), links: { self: selfUrl(req) } };
  });
}

async function reaches(db: IdentityDb, from: string, to: string): Promise<boolean> {
  const edges = await db.selectFrom('implied_role').selectAll().execute();
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const cur = stack.pop()!;
    if (cur === to) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    for (const e of edges) if (e.prior_role_id === cur) stack.push(e.implied_role_id);
  }
  return false;
}
