import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { conflictError, neutronError, requireWriter, strValue } from '../../../api/common.js';
import { checkQuota } from '../../../logic/quota.js';
import type { SecurityGroupInfo, SecurityGroupOps, SecurityGroupRuleInfo } from '../../../logic/nova-proxy.js';
import { createRules, readRule } from '../api/security-group-rules.js';
import { deleteGroup, ensureDefaultGroup, insertGroup, sgNotFound } from './groups.js';
import { rulesOfGroups, sgDb, touchGroup, visibleGroups, visibleRules, type SecurityGroupRow, type SecurityGroupRuleRow, type SgDb } from '../store.js';

/**
 * Security groups as Nova's proxy APIs reach them: the same rules as /v2.0/security-groups
 * and /v2.0/security-group-rules (default group made on first look, quota, duplicate
 * and in-use refusals), answering in the network's own terms.
 */
const ruleInfo = (r: SecurityGroupRuleRow): SecurityGroupRuleInfo => ({
  id: r.id, groupId: r.security_group_id, projectId: r.project_id, direction: r.direction, ethertype: r.ethertype, protocol: r.protocol,
  portMin: r.port_range_min, portMax: r.port_range_max, remoteIpPrefix: r.remote_ip_prefix, remoteGroupId: r.remote_group_id,
});

async function infos(db: SgDb, rows: SecurityGroupRow[]): Promise<SecurityGroupInfo[]> {
  const rules = await rulesOfGroups(db, rows.map((g) => g.id));
  return rows.map((g) => ({
    id: g.id, name: g.name, description: g.description, projectId: g.project_id,
    rules: rules.filter((r) => r.security_group_id === g.id).map(ruleInfo),
  }));
}

async function one(db: SgDb, id: string): Promise<SecurityGroupInfo> {
  const g = await db.selectFrom('security_group').selectAll().where('id', '=', id).executeTakeFirst();
  if (!g) throw sgNotFound(id);
  return (await infos(db, [g]))[0]!;
}

function groupName(v: unknown): string {
  const name = strValue(v, 'name')!;
  if (name.toLowerCase() === 'default') throw conflictError('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
  return name;
}

export const novaSecurityGroups: SecurityGroupOps = {
  async list(deps, ctx, allProjects) {
    const db = sgDb(deps.db);
    if (ctx.projectId) await deps.db.transaction().execute((trx) => ensureDefaultGroup(sgDb(trx), ctx.projectId!));
    let q = visibleGroups(db, ctx);
    if (!(ctx.isAdmin && allProjects)) q = q.where('security_group.project_id', '=', ctx.projectId ?? '');
    return infos(db, await q.orderBy('security_group.created_at').execute());
  },
  async byIds(deps, ids) {
    const db = sgDb(deps.db);
    if (!ids.length) return [];
    return infos(db, await db.selectFrom('security_group').selectAll().where('id', 'in', ids).execute());
  },
  async get(deps, ctx, id) {
    const db = sgDb(deps.db);
    const g = await visibleGroups(db, ctx).where('security_group.id', '=', id).executeTakeFirst();
    if (!g) throw sgNotFound(id);
    return (await infos(db, [g]))[0]!;
  },
  async create(deps, ctx, name, description) {
    requireWriter(ctx);
    const owner = ctx.projectId ?? '';
    const t = now();
    const group: SecurityGroupRow = { id: uuid(), project_id: owner, name: groupName(name), description: strValue(description, 'description')!, created_at: t, updated_at: t, revision_number: 1, stateful: 1 };
    await deps.db.transaction().execute(async (trx) => {
      await ensureDefaultGroup(sgDb(trx), owner);
      await checkQuota(trx, deps.platform.dialect, owner, 'security_group');
      await checkQuota(trx, deps.platform.dialect, owner, 'security_group_rule', 2);
      await insertGroup(sgDb(trx), group, false);
    });
    return one(sgDb(deps.db), group.id);
  },
  async update(deps, ctx, id, name, description) {
    const g = await this.get(deps, ctx, id);
    requireWriter(ctx);
    if (g.name === 'default' && name !== g.name) throw conflictError('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    const set = { name: name === g.name ? name : groupName(name), description: strValue(description, 'description')! };
    const db = sgDb(deps.db);
    const row = await db.selectFrom('security_group').select('revision_number').where('id', '=', id).executeTakeFirstOrThrow();
    await db.updateTable('security_group').set({ ...set, updated_at: now(), revision_number: row.revision_number + 1 }).where('id', '=', id).execute();
    return one(db, id);
  },
  async delete(deps, ctx, id) {
    const g = await this.get(deps, ctx, id);
    requireWriter(ctx);
    await deps.db.transaction().execute((trx) => deleteGroup(sgDb(trx), ctx, g));
    deps.agent?.wake();
  },
  async createRule(deps, ctx, rule) {
    requireWriter(ctx);
    const [id] = await createRules(deps, ctx, [readRule(ctx, rule)]);
    deps.agent?.wake();
    return this.getRule(deps, ctx, id!);
  },
  async getRule(deps, ctx, id) {
    const r = await visibleRules(sgDb(deps.db), ctx).where('security_group_rule.id', '=', id).executeTakeFirst();
    if (!r) throw neutronError(404, 'SecurityGroupRuleNotFound', `Security group rule ${id} does not exist`);
    return ruleInfo(r);
  },
  async deleteRule(deps, ctx, id) {
    const r = await this.getRule(deps, ctx, id);
    requireWriter(ctx);
    await deps.db.transaction().execute(async (trx) => {
      await sgDb(trx).deleteFrom('security_group_rule').where('id', '=', id).execute();
      await touchGroup(sgDb(trx), r.groupId, now());
    });
    deps.agent?.wake();
  },
  async ofDevice(deps, deviceId) {
    const bound = await deps.db.selectFrom('port_security_group').innerJoin('port', 'port.id', 'port_security_group.port_id')
      .select('port_security_group.security_group_id').where('port.device_id', '=', deviceId).execute();
    return this.byIds(deps, [...new Set(bound.map((b) => b.security_group_id))]);
  },
};
