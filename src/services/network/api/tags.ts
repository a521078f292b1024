import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badInput, neutronError, notFoundError, type NetDeps } from './common.js';
import { visibleNetworks } from './networks.js';
import { visibleSubnets } from './subnets.js';

/**
 * Tags on any taggable resource: /v2.0/{collection}/{id}/tags[/{tag}]. A resource's own
 * project (or an admin) changes its tags; anyone who sees it reads them.
 */
export const TAGGABLE: Record<string, { table: string; kind: string }> = {
  networks: { table: 'network', kind: 'Network' }, subnets: { table: 'subnet', kind: 'Subnet' }, ports: { table: 'port', kind: 'Port' },
  routers: { table: 'router', kind: 'Router' }, floatingips: { table: 'floating_ip', kind: 'FloatingIP' },
  'security-groups': { table: 'security_group', kind: 'Security group' }, subnetpools: { table: 'subnetpool', kind: 'Subnetpool' },
  'address-scopes': { table: 'address_scope', kind: 'Address scope' },
};

const MAX_TAGS = 50;

export async function tagRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { db } = deps;
  const target = async (req: FastifyRequest, write: boolean) => {
    const { collection, id } = req.params as { collection: string; id: string };
    const t = TAGGABLE[collection];
    if (!t) throw neutronError(404, 'HTTPNotFound', `The resource could not be found.`);
    const row = await db.selectFrom(t.table).select(['id', 'project_id']).where('id', '=', id).executeTakeFirst().catch(() => undefined);
    const foreign = row && !req.ctx.isAdmin && row.project_id !== req.ctx.projectId;
    // Another project's tags are readable only where its resource is (shared networks and their subnets).
    const readable = async () => (collection === 'networks' ? !!(await visibleNetworks(db, req.ctx).where('network.id', '=', id).executeTakeFirst())
      : collection === 'subnets' ? !!(await visibleSubnets(db, req.ctx).where('subnet.id', '=', id).executeTakeFirst()) : false);
    if (!row || (foreign && (write || !(await readable())))) throw notFoundError(t.kind, id);
    return { type: collection, id };
  };
  const checkTag = (tag: unknown) => {
    if (typeof tag !== 'string' || !tag || tag.length > 255 || tag.includes(',') || tag.includes('/')) throw badInput(`'${String(tag)}' is not a valid tag`);
    return tag;
  };
  const tagsOf = async (type: string, id: string) => (await db.selectFrom('resource_tag').select('tag').where('resource_type', '=', type).where('resource_id', '=', id).orderBy('tag').execute()).map((r) => r.tag);

  app.get('/v2.0/:collection/:id/tags', async (req) => { const t = await target(req, false); return { tags: await tagsOf(t.type, t.id) }; });
  app.get('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const t = await target(req, false);
    const tag = (req.params as { tag: string }).tag;
    if (!(await tagsOf(t.type, t.id)).includes(tag)) throw neutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${t.type} ${t.id}.`);
    reply.status(204).send();
  });
  app.put('/v2.0/:collection/:id/tags', async (req) => {
    const t = await target(req, true);
    const tags = (req.body as { tags?: unknown } | undefined)?.tags;
    if (!Array.isArray(tags) || tags.length > MAX_TAGS) throw badInput(`tags must be a list of at most ${MAX_TAGS}`);
    const unique = [...new Set(tags.map(checkTag))];
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('resource_tag').where('resource_type', '=', t.type).where('resource_id', '=', t.id).execute();
      if (unique.length) await trx.insertInto('resource_tag').values(unique.map((tag) => ({ resource_type: t.type, resource_id: t.id, tag }))).execute();
    });
    return { tags: unique.sort() };
  });
  app.put('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const t = await target(req, true);
    const tag = checkTag((req.params as { tag: string }).tag);
    const current = await tagsOf(t.type, t.id);
    if (!current.includes(tag)) {
      if (current.length >= MAX_TAGS) throw badInput(`at most ${MAX_TAGS} tags per resource`);
      await db.insertInto('resource_tag').values({ resource_type: t.type, resource_id: t.id, tag }).execute();
    }
    reply.status(201).send();
  });
  app.delete('/v2.0/:collection/:id/tags', async (req, reply) => {
    const t = await target(req, true);
    await db.deleteFrom('resource_tag').where('resource_type', '=', t.type).where('resource_id', '=', t.id).execute();
    reply.status(204).send();
  });
  app.delete('/v2.0/:collection/:id/tags/:tag', async (req, reply) => {
    const t = await target(req, true);
    const tag = (req.params as { tag: string }).tag;
    const r = await db.deleteFrom('resource_tag').where('resource_type', '=', t.type).where('resource_id', '=', t.id).where('tag', '=', tag).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw neutronError(404, 'TagNotFound', `Tag ${tag} could not be found for ${t.type} ${t.id}.`);
    reply.status(204).send();
  });
}
