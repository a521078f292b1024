import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { boolValue, conflictError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, standardColumns, sameName, type ListSpec } from '../../../api/listing.js';
import { checkQuota } from '../../../logic/quota.js';
import { deleteGroup, ensureDefaultGroup, insertGroup, sgNotFound } from '../logic/groups.js';
import { sgDb, visibleGroups, type SecurityGroupRow, type SgDb } from '../store.js';
import { groupViews } from '../views.js';

/** /v2.0/security-groups. Listing or creating groups first makes the project's `default` group. */
const ATTRS = ['name', 'description', 'stateful', 'tenant_id', 'project_id'];

export const groupList: ListSpec = {
  collection: 'security_groups', table: 'security_group', tagType: 'security-groups',
  columns: {
    ...standardColumns, ...sameName('bool', ['stateful']),
  },
  sortable: ['id', 'name', 'description', 'project_id', 'stateful', 'revision_number', 'created_at', 'updated_at'],
};

export async function getGroup(db: SgDb, ctx: RequestContext, id: string): Promise<SecurityGroupRow> {
  const g = await visibleGroups(db, ctx).where('security_group.id', '=', id).executeTakeFirst();
  if (!g) throw sgNotFound(id);
  return g;
}

/** Names may be anything but `default`, which each project's own default group holds. */
function groupName(v: unknown): string {
  const name = strValue(v, 'name')!;
  if (name.toLowerCase() === 'default') throw conflictError('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  return name;
}

/** A project's default group is made when that project (or an admin for it) first looks. */
export async function ensureDefaultFor(deps: NetDeps, ctx: RequestContext, projectId: string | null | undefined): Promise<void> {
  if (!projectId || (projectId !== ctx.projectId && !ctx.isAdmin)) return;
  await deps.db.transaction().execute((trx) => ensureDefaultGroup(sgDb(trx), projectId));
}

export async function securityGroupRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const { platform } = deps;
  const db = sgDb(deps.db);
  const show = async (req: FastifyRequest, id: string) =>
    pickFields(req, (await groupViews(db, [(await db.selectFrom('security_group').selectAll().where('id', '=', id).executeTakeFirstOrThrow())]))[0]!);

  app.post('/v2.0/security-groups', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'security_group', ATTRS);
    const owner = ownerOf(ctx, b);
    const t = now();
    const group: SecurityGroupRow = {
      id: uuid(), project_id: owner, name: b.name === undefined ? '' : groupName(b.name),
      description: b.description === undefined ? '' : strValue(b.description, 'description')!,
      created_at: t, updated_at: t, revision_number: 1, stateful: b.stateful === undefined ? 1 : boolValue(b.stateful, 'stateful') ? 1 : 0,
    };
    await deps.db.transaction().execute(async (trx) => {
      await ensureDefaultGroup(sgDb(trx), owner);
      await checkQuota(trx, platform.dialect, owner, 'security_group');
      await checkQuota(trx, platform.dialect, owner, 'security_group_rule', 2);
      await insertGroup(sgDb(trx), group, false);
    });
    reply.status(201);
    return { security_group: await show(req, group.id) };
  });

  app.get('/v2.0/security-groups', async (req) => {
    const q = req.query as Record<string, unknown>;
    const asked = q.project_id ?? q.tenant_id;
    await ensureDefaultFor(deps, req.ctx, asked === undefined ? req.ctx.projectId : String(Array.isArray(asked) ? asked[0] : asked));
    const { rows, links } = await listRows(req, db, visibleGroups(db, req.ctx), groupList);
    const views = await groupViews(db, rows as SecurityGroupRow[]);
    return { security_groups: views.map((v) => pickFields(req, v)), ...(links.length ? { security_groups_links: links } : {}) };
  });

  app.get('/v2.0/security-groups/:id', async (req) => {
    const g = await getGroup(db, req.ctx, (req.params as { id: string }).id);
    return { security_group: await show(req, g.id) };
  });

  app.put('/v2.0/security-groups/:id', async (req) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const g = await getGroup(db, ctx, id);
    requireWriter(ctx);
    const b = resourceBody(req, 'security_group', ['name', 'description', 'stateful']);
    const set: Partial<SecurityGroupRow> = {};
    if (b.name !== undefined) set.name = groupName(b.name);
    if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
    if (b.stateful !== undefined) set.stateful = boolValue(b.stateful, 'stateful') ? 1 : 0;
    if (g.name === 'default' && b.name !== undefined) throw conflictError('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    await deps.db.transaction().execute(async (trx) => {
      const t = sgDb(trx);
      if (set.stateful !== undefined && set.stateful !== g.stateful) {
        const bound = await t.selectFrom('port_security_group').select('port_id').where('security_group_id', '=', id).limit(1).executeTakeFirst();
        if (bound) throw conflictError('SecurityGroupInUse', `Security Group ${id} in use.`);
      }
      await t.updateTable('security_group').set({ ...set, updated_at: now(), revision_number: g.revision_number + 1 }).where('id', '=', id).execute();
    });
    return { security_group: await show(req, id) };
  });

  app.delete('/v2.0/security-groups/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const g = await getGroup(db, ctx, id);
    requireWriter(ctx);
    await deps.db.transaction().execute((trx) => deleteGroup(sgDb(trx), ctx, g));
    reply.status(204).send();
  });
}
