import type { FastifyInstance } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { notFound } from '../../../platform/http/errors.js';
import { hexId } from '../../../platform/ids.js';
import type { PolicyRow } from '../store.js';
import { json } from '../store.js';
import { listBody } from '../views.js';
import { check, extras, mergeExtras, query, selfUrl, v3Base, wrapped, type IdentityDeps } from './common.js';

/**
 * /v3/policies: Keystone's deprecated store of opaque policy blobs. Stratus does not read
 * them (its rules are code); clients and Tempest still expect the CRUD to work.
 */
export async function policyRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;
  const view = (base: string, p: PolicyRow) => ({ ...json(p.extra, {}), id: p.id, type: p.type, blob: p.blob, links: { self: `${base}/policies/${p.id}` } });
  const get = async (id: string) => {
    const p = await db.selectFrom('policy').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p) throw notFound(`Could not find policy: ${id}.`);
    return p;
  };

  app.post('/v3/policies', async (req, reply) => {
    enforce('identity:create_policy', req.ctx);
    const p = wrapped(req, 'policy');
    check(p, { type: ['string', { required: true, min: 1, max: 255 }], blob: ['string', { required: true }] });
    const row: PolicyRow = { id: hexId(), type: p.type as string, blob: p.blob as string, extra: extras(p, ['type', 'blob']) };
    await db.insertInto('policy').values(row).execute();
    reply.status(201);
    return { policy: view(v3Base(req), row) };
  });
  app.get('/v3/policies', async (req) => {
    enforce('identity:list_policies', req.ctx);
    let sel = db.selectFrom('policy').selectAll();
    if (query(req).type) sel = sel.where('type', '=', query(req).type!);
    return listBody('policies', (await sel.execute()).map((p) => view(v3Base(req), p)), selfUrl(req));
  });
  app.get('/v3/policies/:id', async (req) => {
    enforce('identity:get_policy', req.ctx);
    return { policy: view(v3Base(req), await get((req.params as { id: string }).id)) };
  });
  app.patch('/v3/policies/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_policy', req.ctx);
    const p = wrapped(req, 'policy');
    check(p, { type: ['string', { min: 1, max: 255 }], blob: 'string' });
    const row = await get(id);
    const set: Partial<PolicyRow> = {};
    if (p.type !== undefined) set.type = p.type as string;
    if (p.blob !== undefined) set.blob = p.blob as string;
    const extra = mergeExtras(row.extra, p, ['type', 'blob', 'id']);
    if (extra) set.extra = extra;
    if (Object.keys(set).length) await db.updateTable('policy').set(set).where('id', '=', id).execute();
    return { policy: view(v3Base(req), await get(id)) };
  });
  app.delete('/v3/policies/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_policy', req.ctx);
    await get(id);
    await db.deleteFrom('policy').where('id', '=', id).execute();
    reply.status(204).send();
  });
}
