import type { FastifyInstance, FastifyRequest } from 'fastify';
import { enforce } from '../../../platform/auth/policy.js';
import { ApiError, badRequest, forbidden, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId } from '../../../platform/ids.js';
import type { IdentityDb, ProjectRow } from '../store.js';
import { ROOT } from '../migrations.js';
import { getProjectOr404 } from '../logic/lookup.js';
import { deleteProjectCascade, deleteDomainCascade } from '../logic/cascade.js';
import { domainView, listBody, projectView } from '../views.js';
import { check, extras, mergeExtras, query, queryBool, selfUrl, storing, v3Base, wrapped, type IdentityDeps } from './common.js';

/** Domains and projects (Keystone stores both in one table; domains are is_domain projects). */
const KNOWN = ['name', 'domain_id', 'parent_id', 'is_domain', 'enabled', 'description', 'tags', 'options'];

async function tagsOf(db: IdentityDb, ids: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  if (ids.length === 0) return m;
  for (const t of await db.selectFrom('project_tag').selectAll().where('project_id', 'in', ids).orderBy('name').execute()) {
    m.set(t.project_id, [...(m.get(t.project_id) ?? []), t.name]);
  }
  return m;
}

function checkTags(tags: unknown): string[] {
  if (!Array.isArray(tags)) throw badRequest("Invalid input for field 'tags': must be a list");
  if (tags.length > 80) throw badRequest("Invalid input for field 'tags': at most 80 tags");
  for (const t of tags) {
    if (typeof t !== 'string' || t.length === 0 || t.length > 255 || t.includes(',') || t.includes('/')) {
      throw badRequest(`Invalid input for field 'tags': '${String(t)}' is not a valid tag (1-255 characters, no ',' or '/')`);
    }
  }
  return [...new Set(tags as string[])];
}

export async function projectRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;

  const view = async (req: FastifyRequest, rows: ProjectRow[]) => {
    const tags = await tagsOf(db, rows.map((r) => r.id));
    return rows.map((r) => (r.is_domain ? domainView : projectView)(v3Base(req), r, tags.get(r.id) ?? []));
  };

  // ---- domains
  app.post('/v3/domains', async (req, reply) => {
    enforce('identity:create_domain', req.ctx);
    const d = wrapped(req, 'domain');
    check(d, { name: ['string', { required: true, min: 1, max: 64 }], description: 'nullable-string', enabled: 'boolean', tags: 'array', options: 'object' });
    const row: ProjectRow = {
      id: typeof d.explicit_domain_id === 'string' ? d.explicit_domain_id : hexId(), name: d.name as string, domain_id: ROOT, parent_id: null, is_domain: 1,
      enabled: d.enabled === false ? 0 : 1, description: (d.description as string) ?? '', extra: extras(d, [...KNOWN, 'explicit_domain_id']),
      options: JSON.stringify(d.options ?? {}), created_at: now(),
    };
    const tags = d.tags === undefined ? [] : checkTags(d.tags);
    await storing('domain', d.name, () => db.transaction().execute(async (trx) => {
      await trx.insertInto('project').values(row).execute();
      if (tags.length) await trx.insertInto('project_tag').values(tags.map((name) => ({ project_id: row.id, name }))).execute();
    }));
    reply.status(201);
    return { domain: (await view(req, [row]))[0] };
  });

  app.get('/v3/domains', async (req) => {
    enforce('identity:list_domains', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('project').selectAll().where('is_domain', '=', 1);
    if (q.name) sel = sel.where('name', '=', q.name);
    if (q.enabled !== undefined) sel = sel.where('enabled', '=', queryBool(q.enabled) ? 1 : 0);
    return listBody('domains', await view(req, await sel.orderBy('name').execute()), selfUrl(req));
  });

  app.get('/v3/domains/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:get_domain', req.ctx, { domain_id: id });
    return { domain: (await view(req, [await getProjectOr404(db, id, true)]))[0] };
  });

  app.patch('/v3/domains/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_domain', req.ctx);
    const d = wrapped(req, 'domain');
    check(d, { name: ['string', { min: 1, max: 64 }], description: 'nullable-string', enabled: 'boolean', tags: 'array', options: 'object' });
    const row = await getProjectOr404(db, id, true);
    if (d.id !== undefined && d.id !== id) throw badRequest('Cannot change the id of a domain');
    await updateProjectRow(identity, row, d);
    return { domain: (await view(req, [await getProjectOr404(db, id, true)]))[0] };
  });

  app.delete('/v3/domains/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_domain', req.ctx);
    const row = await getProjectOr404(db, id, true);
    if (row.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
    await deleteDomainCascade(identity, id);
    reply.status(204).send();
  });

  // ---- projects
  app.post('/v3/projects', async (req, reply) => {
    enforce('identity:create_project', req.ctx);
    const p = wrapped(req, 'project');
    check(p, {
      name: ['string', { required: true, min: 1, max: 64 }], domain_id: 'nullable-string', parent_id: 'nullable-string',
      is_domain: 'boolean', enabled: 'boolean', description: 'nullable-string', tags: 'array', options: 'object',
    });
    if (p.is_domain === true) {
      // Creating a project with is_domain creates a domain (Keystone's projects-as-domains).
      if (p.parent_id) throw badRequest('A domain cannot have a parent.');
    }
    let domainId = (p.domain_id as string | null | undefined) ?? null;
    let parentId = (p.parent_id as string | null | undefined) ?? null;
    if (parentId) {
      const parent = await db.selectFrom('project').selectAll().where('id', '=', parentId).executeTakeFirst();
      if (!parent) throw notFound(`Could not find project: ${parentId}.`);
      const parentDomain = parent.is_domain ? parent.id : parent.domain_id;
      if (domainId && domainId !== parentDomain) throw badRequest('The project must be in the same domain as its parent.');
      domainId = parentDomain;
    }
    if (!domainId) domainId = req.ctx.domainId ?? req.ctx.projectDomainId ?? 'default';
    if (p.is_domain !== true) {
      const domain = await db.selectFrom('project').select('id').where('id', '=', domainId).where('is_domain', '=', 1).executeTakeFirst();
      if (!domain) throw notFound(`Could not find domain: ${domainId}.`);
      if (!parentId) parentId = domainId;
      await checkDepth(db, parentId);
    }
    const isDomain = p.is_domain === true;
    const row: ProjectRow = {
      id: hexId(), name: p.name as string, domain_id: isDomain ? ROOT : domainId, parent_id: isDomain ? null : parentId,
      is_domain: isDomain ? 1 : 0, enabled: p.enabled === false ? 0 : 1, description: (p.description as string) ?? '',
      extra: extras(p, KNOWN), options: JSON.stringify(p.options ?? {}), created_at: now(),
    };
    const tags = p.tags === undefined ? [] : checkTags(p.tags);
    await storing('project', p.name, () => db.transaction().execute(async (trx) => {
      await trx.insertInto('project').values(row).execute();
      if (tags.length) await trx.insertInto('project_tag').values(tags.map((name) => ({ project_id: row.id, name }))).execute();
    }));
    reply.status(201);
    const [v] = await view(req, [row]);
    return { project: isDomain ? { ...projectView(v3Base(req), row, tags) } : v };
  });

  app.get('/v3/projects', async (req) => {
    enforce('identity:list_projects', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('project').selectAll();
    if (q.is_domain !== undefined) sel = sel.where('is_domain', '=', queryBool(q.is_domain) ? 1 : 0);
    else sel = sel.where('is_domain', '=', 0);
    if (q.name) sel = sel.where('name', '=', q.name);
    if (q.domain_id) sel = sel.where('domain_id', '=', q.domain_id);
    if (q.parent_id) sel = sel.where('parent_id', '=', q.parent_id);
    if (q.enabled !== undefined) sel = sel.where('enabled', '=', queryBool(q.enabled) ? 1 : 0);
    let rows = await sel.orderBy('name').execute();
    rows = await filterByTags(db, rows, q);
    return listBody('projects', (await view(req, rows)).map((v, i) => rows[i]!.is_domain ? projectView(v3Base(req), rows[i]!, (v as { tags: string[] }).tags) : v), selfUrl(req));
  });

  app.get('/v3/projects/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:get_project', req.ctx, { project_id: id });
    const row = await db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find project: ${id}.`);
    const body: Record<string, unknown> = projectView(v3Base(req), row, (await tagsOf(db, [id])).get(id) ?? []);
    const q = query(req);
    if (queryBool(q.parents_as_ids) || queryBool(q.parents_as_list)) body.parents = await parentsOf(db, row, queryBool(q.parents_as_list) ? req : null);
    if (queryBool(q.subtree_as_ids) || queryBool(q.subtree_as_list)) body.subtree = await subtreeOf(db, row.id, queryBool(q.subtree_as_list) ? req : null);
    return { project: body };
  });

  app.patch('/v3/projects/:id', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_project', req.ctx);
    const p = wrapped(req, 'project');
    check(p, { name: ['string', { min: 1, max: 64 }], description: 'nullable-string', enabled: 'boolean', tags: 'array', options: 'object' });
    const row = await db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find project: ${id}.`);
    if (p.domain_id !== undefined && p.domain_id !== (row.is_domain ? null : row.domain_id)) throw badRequest('Cannot update the domain_id of a project.');
    if (p.parent_id !== undefined && p.parent_id !== row.parent_id) throw forbidden('Update of `parent_id` is not allowed.');
    if (p.is_domain !== undefined && p.is_domain !== !!row.is_domain) throw badRequest('Update of `is_domain` is not allowed.');
    await updateProjectRow(identity, row, p);
    const fresh = await getProjectOr404(db, id, !!row.is_domain);
    return { project: projectView(v3Base(req), fresh, (await tagsOf(db, [id])).get(id) ?? []) };
  });

  app.delete('/v3/projects/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_project', req.ctx);
    const row = await db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find project: ${id}.`);
    if (row.is_domain) {
      if (row.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
      await deleteDomainCascade(identity, id);
    } else {
      const child = await db.selectFrom('project').select('id').where('parent_id', '=', id).limit(1).executeTakeFirst();
      if (child && !queryBool(query(req).cascade)) throw forbidden(`Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
      await deleteProjectCascade(identity, id);
    }
    reply.status(204).send();
  });

  // ---- project tags
  app.get('/v3/projects/:id/tags', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:list_project_tags', req.ctx, { project_id: id });
    await getProjectOr404(db, id, false);
    return { tags: (await tagsOf(db, [id])).get(id) ?? [] };
  });
  app.get('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    enforce('identity:get_project_tag', req.ctx, { project_id: id });
    await getProjectOr404(db, id, false);
    const t = await db.selectFrom('project_tag').select('name').where('project_id', '=', id).where('name', '=', tag).executeTakeFirst();
    if (!t) throw notFound(`Could not find project tag: ${tag}.`);
    reply.status(204).send();
  });
  app.put('/v3/projects/:id/tags', async (req) => {
    const { id } = req.params as { id: string };
    enforce('identity:update_project_tags', req.ctx);
    await getProjectOr404(db, id, false);
    const tags = checkTags((req.body as { tags?: unknown } | undefined)?.tags);
    await replaceTags(db, id, tags);
    identity.changed();
    return { tags };
  });
  app.put('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    enforce('identity:create_project_tag', req.ctx);
    await getProjectOr404(db, id, false);
    const current = (await tagsOf(db, [id])).get(id) ?? [];
    const tags = checkTags([...current, tag]);
    await replaceTags(db, id, tags);
    reply.status(201).header('location', `${v3Base(req)}/projects/${id}/tags/${encodeURIComponent(tag)}`).send();
  });
  app.delete('/v3/projects/:id/tags', async (req, reply) => {
    const { id } = req.params as { id: string };
    enforce('identity:delete_project_tags', req.ctx);
    await getProjectOr404(db, id, false);
    await db.deleteFrom('project_tag').where('project_id', '=', id).execute();
    reply.status(204).send();
  });
  app.delete('/v3/projects/:id/tags/:tag', async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    enforce('identity:delete_project_tag', req.ctx);
    await getProjectOr404(db, id, false);
    const r = await db.deleteFrom('project_tag').where('project_id', '=', id).where('name', '=', tag).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound(`Could not find project tag: ${tag}.`);
    reply.status(204).send();
  });
}

async function replaceTags(db: IdentityDb, id: string, tags: string[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('project_tag').where('project_id', '=', id).execute();
    if (tags.length) await trx.insertInto('project_tag').values(tags.map((name) => ({ project_id: id, name }))).execute();
  });
}

/** Shared by domain and project PATCH: disabling revokes the scope's tokens. */
async function updateProjectRow(identity: IdentityDeps['identity'], row: ProjectRow, p: Record<string, unknown>): Promise<void> {
  const db = identity.db;
  const set: Partial<ProjectRow> = {};
  if (p.name !== undefined) set.name = p.name as string;
  if (p.description !== undefined) set.description = (p.description as string | null) ?? '';
  if (p.enabled !== undefined) set.enabled = p.enabled ? 1 : 0;
  if (p.options !== undefined) set.options = JSON.stringify({ ...JSON.parse(row.options), ...(p.options as object) });
  const extra = mergeExtras(row.extra, p, [...KNOWN, 'id']);
  if (extra) set.extra = extra;
  await storing(row.is_domain ? 'domain' : 'project', p.name, () => db.transaction().execute(async (trx) => {
    if (Object.keys(set).length) await trx.updateTable('project').set(set).where('id', '=', row.id).execute();
    if (p.tags !== undefined) {
      await trx.deleteFrom('project_tag').where('project_id', '=', row.id).execute();
      const tags = checkTags(p.tags);
      if (tags.length) await trx.insertInto('project_tag').values(tags.map((name) => ({ project_id: row.id, name }))).execute();
    }
  }));
  if (p.enabled === false && row.enabled) {
    await identity.revoke(row.is_domain ? { domain_id: row.id } : { project_id: row.id });
  }
  identity.changed();
}

async function checkDepth(db: IdentityDb, parentId: string): Promise<void> {
  // Keystone's max_project_tree_depth is 5 by default.
  let depth = 1;
  let cur = await db.selectFrom('project').select(['parent_id', 'is_domain']).where('id', '=', parentId).executeTakeFirst();
  while (cur && !cur.is_domain && cur.parent_id) {
    depth++;
    cur = await db.selectFrom('project').select(['parent_id', 'is_domain']).where('id', '=', cur.parent_id).executeTakeFirst();
  }
  if (depth >= 5) throw new ApiError(403, 'Max hierarchy depth reached for the project tree.');
}

async function filterByTags(db: IdentityDb, rows: ProjectRow[], q: Record<string, string>): Promise<ProjectRow[]> {
  if (!q.tags && !q['tags-any'] && !q['not-tags'] && !q['not-tags-any']) return rows;
  const tags = await tagsOf(db, rows.map((r) => r.id));
  const split = (s?: string) => (s ? s.split(',') : null);
  const all = split(q.tags), any = split(q['tags-any']), notAll = split(q['not-tags']), notAny = split(q['not-tags-any']);
  return rows.filter((r) => {
    const t = tags.get(r.id) ?? [];
    if (all && !all.every((x) => t.includes(x))) return false;
    if (any && !any.some((x) => t.includes(x))) return false;
    if (notAll && notAll.every((x) => t.includes(x))) return false;
    if (notAny && notAny.some((x) => t.includes(x))) return false;
    return true;
  });
}

async function parentsOf(db: IdentityDb, row: ProjectRow, req: FastifyRequest | null): Promise<unknown> {
  const out: ProjectRow[] = [];
  let cur = row;
  while (cur.parent_id) {
    const parent = await db.selectFrom('project').selectAll().where('id', '=', cur.parent_id).executeTakeFirst();
    if (!parent || parent.is_domain) break;
    out.push(parent);
    cur = parent;
  }
  if (req) return out.map((p) => ({ project: projectView(v3Base(req), p) }));
  return out.reduceRight<Record<string, unknown> | null>((acc, p) => ({ [p.id]: acc }), null);
}

async function subtreeOf(db: IdentityDb, id: string, req: FastifyRequest | null): Promise<unknown> {
  const children = await db.selectFrom('project').selectAll().where('parent_id', '=', id).where('is_domain', '=', 0).execute();
  if (req) {
    const out: unknown[] = [];
    for (const c of children) out.push({ project: projectView(v3Base(req), c) }, ...((await subtreeOf(db, c.id, req)) as unknown[]));
    return out;
  }
  if (children.length === 0) return null;
  const out: Record<string, unknown> = {};
  for (const c of children) out[c.id] = await subtreeOf(db, c.id, null);
  return out;
}
