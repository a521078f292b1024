import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { now } from '../../../../../platform/clock.js';
import { conflictError, neutronError, ownerOf, requireWriter, strValue, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, sameName, type ListSpec } from '../../../api/listing.js';
import { checkQuota } from '../../../logic/quota.js';
import type { NetDb } from '../../../store.js';
import { ruleRow, sgNotFound } from '../logic/groups.js';
import { parseDirection, parseEthertype, parsePort, parseProtocol, parseRemotePrefix, ruleKey, validateRule, type RuleFields } from '../logic/rules.js';
import { sgDb, touchGroup, visibleRules, type SecurityGroupRuleRow, type SgDb } from '../store.js';
import { ruleViews } from '../views.js';
import { ensureDefaultFor } from './security-groups.js';

/** /v2.0/security-group-rules: create (one or a bulk list), list, show, delete. Rules are not updated. */
const ATTRS = ['security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix',
  'remote_group_id', 'remote_address_group_id', 'description', 'tenant_id', 'project_id'];

export const ruleList: ListSpec = {
  collection: 'security_group_rules', table: 'security_group_rule',
  columns: {
    ...sameName('str', ['id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'remote_ip_prefix', 'normalized_cidr', 'remote_group_id', 'remote_address_group_id', 'project_id', 'description']),
    ...sameName('int', ['port_range_min', 'port_range_max', 'revision_number', 'created_at', 'updated_at']),
  },
  sortable: ['id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix',
    'remote_group_id', 'remote_address_group_id', 'project_id', 'created_at', 'updated_at'],
};

const ruleNotFound = (id: string) => neutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
const badRequest = (message: string) => neutronError(400, 'HTTPBadRequest', message);

/** One rule of a request body, read and checked on its own (no database yet). */
export function readRule(ctx: RequestContext, b: unknown): { owner: string; groupId: string; fields: RuleFields; description: string } {
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest("Resource body required: each rule must be a 'security_group_rule' object.");
  const r = b as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !ATTRS.includes(k));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  if (r.security_group_id === undefined) throw badRequest("Failed to parse request. Required attribute 'security_group_id' not specified");
  const groupId = strValue(r.security_group_id, 'security_group_id', 36)!;
  const id = (k: string) => (r[k] === undefined || r[k] === null ? null : strValue(r[k], k));
  const fields: RuleFields = {
    direction: parseDirection(r.direction), ethertype: parseEthertype(r.ethertype), protocol: parseProtocol(r.protocol),
    port_range_min: parsePort(r.port_range_min), port_range_max: parsePort(r.port_range_max), remote_ip_prefix: parseRemotePrefix(r.remote_ip_prefix),
    remote_group_id: id('remote_group_id'), remote_address_group_id: id('remote_address_group_id'),
  };
  validateRule(fields);
  return { owner: ownerOf(ctx, r), groupId, fields, description: r.description === undefined || r.description === null ? '' : strValue(r.description, 'description')! };
}

/** Creates rules of one group in one transaction: references checked, duplicates refused, quota held. */
export async function createRules(deps: NetDeps, ctx: RequestContext, items: ReturnType<typeof readRule>[]): Promise<string[]> {
  const groupId = items[0]!.groupId;
  const owner = items[0]!.owner;
  if (items.some((i) => i.groupId !== groupId)) throw neutronError(400, 'SecurityGroupNotSingleGroupRules', 'Only allowed to update rules for one security profile at a time');
  if (items.some((i) => i.owner !== owner)) throw neutronError(400, 'SecurityGroupRulesNotSingleProject', 'Multiple project_ids in bulk security group rule create not allowed');
  // A group is usable by the rule's project (admins: any group).
  const usable = async (db: SgDb, table: 'security_group' | 'address_group', id: string) => {
    let q = db.selectFrom(table).select('id').where('id', '=', id);
    if (!ctx.isAdmin) q = q.where('project_id', '=', owner);
    return (await q.executeTakeFirst()) !== undefined;
  };
  return deps.db.transaction().execute(async (trx) => {
    const db = sgDb(trx);
    for (const { fields } of items) {
      if (fields.remote_group_id && !(await usable(db, 'security_group', fields.remote_group_id))) throw sgNotFound(fields.remote_group_id);
      if (fields.remote_address_group_id && !(await usable(db, 'address_group', fields.remote_address_group_id))) {
        throw neutronError(404, 'AddressGroupNotFound', `Address group ${fields.remote_address_group_id} could not be found.`);
      }
    }
    if (!(await usable(db, 'security_group', groupId))) throw sgNotFound(groupId);
    const t = now();
    const rows = items.map((i) => ruleRow(i.owner, groupId, t, {
      ...i.fields, remote_ip_prefix: i.fields.remote_ip_prefix?.text ?? null, normalized_cidr: i.fields.remote_ip_prefix?.network ?? null, description: i.description,
    }));
    const seen = new Set<string>();
    for (const r of rows) {
      const k = ruleKey(r);
      if (seen.has(k)) throw conflictError('DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.');
      seen.add(k);
    }
    for (const e of await db.selectFrom('security_group_rule').selectAll().where('security_group_id', '=', groupId).execute()) {
      if (seen.has(ruleKey(e))) throw conflictError('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${e.id}.`);
    }
    await checkQuota(trx as unknown as NetDb, deps.platform.dialect, owner, 'security_group_rule', rows.length);
    await db.insertInto('security_group_rule').values(rows).execute();
    await touchGroup(db, groupId, t);
    return rows.map((r) => r.id);
  });
}

export async function securityGroupRuleRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = sgDb(deps.db);
  const views = async (req: FastifyRequest, ids: string[]) => {
    const rows = await db.selectFrom('security_group_rule').selectAll().where('id', 'in', ids).execute();
    const byId = new Map((await ruleViews(db, rows)).map((v) => [v.id, v]));
    return ids.map((id) => pickFields(req, byId.get(id)!));
  };

  app.post('/v2.0/security-group-rules', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const body = req.body as Record<string, unknown> | undefined;
    if (body && Array.isArray(body.security_group_rules)) {
      const list = body.security_group_rules as unknown[];
      if (!list.length) throw badRequest('Resources required: security_group_rules must not be empty.');
      const items = list.map((x) => readRule(ctx, (x as Record<string, unknown> | null)?.security_group_rule ?? x));
      const ids = await createRules(deps, ctx, items);
      reply.status(201);
      return { security_group_rules: await views(req, ids) };
    }
    const inner = body?.security_group_rule;
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
      throw badRequest("Resource body required: the body must be a JSON object with a 'security_group_rule' object.");
    }
    const [id] = await createRules(deps, ctx, [readRule(ctx, inner)]);
    reply.status(201);
    return { security_group_rule: (await views(req, [id!]))[0] };
  });

  app.get('/v2.0/security-group-rules', async (req) => {
    const q = req.query as Record<string, unknown>;
    const asked = q.project_id ?? q.tenant_id;
    await ensureDefaultFor(deps, req.ctx, asked === undefined ? req.ctx.projectId : String(Array.isArray(asked) ? asked[0] : asked));
    const { rows, links } = await listRows(req, db, visibleRules(db, req.ctx), ruleList);
    const list = await ruleViews(db, rows as SecurityGroupRuleRow[]);
    return { security_group_rules: list.map((v) => pickFields(req, v)), ...(links.length ? { security_group_rules_links: links } : {}) };
  });

  app.get('/v2.0/security-group-rules/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    const r = await visibleRules(db, req.ctx).where('security_group_rule.id', '=', id).executeTakeFirst();
    if (!r) throw ruleNotFound(id);
    return { security_group_rule: (await views(req, [r.id]))[0] };
  });

  app.delete('/v2.0/security-group-rules/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const r = await visibleRules(db, ctx).where('security_group_rule.id', '=', id).executeTakeFirst();
    if (!r) throw ruleNotFound(id);
    requireWriter(ctx);
    await deps.db.transaction().execute(async (trx) => {
      await sgDb(trx).deleteFrom('security_group_rule').where('id', '=', id).execute();
      await touchGroup(sgDb(trx), r.security_group_id, now());
    });
    reply.status(204).send();
  });
}
