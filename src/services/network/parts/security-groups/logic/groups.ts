import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { badInput, conflictError, neutronError } from '../../../api/common.js';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { visibleGroups, type SecurityGroupRow, type SecurityGroupRuleRow, type SgDb } from '../store.js';

/**
 * Security groups: the project's `default` group (made on first use), the rules every new
 * group starts with, and which groups a port may use.
 */
export const DEFAULT_SG_DESCRIPTION = 'Default security group';

export const sgNotFound = (id: string) => neutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

export function ruleRow(projectId: string, groupId: string, at: number, r: Partial<SecurityGroupRuleRow>): SecurityGroupRuleRow {
  return {
    id: uuid(), project_id: projectId, description: '', created_at: at, updated_at: at, revision_number: 1, security_group_id: groupId,
    direction: 'ingress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null,
    normalized_cidr: null, remote_group_id: null, remote_address_group_id: null, ...r,
  };
}

/**
 * Inserts a group with upstream's template rules: any egress over IPv4 and IPv6 and, for
 * the default group, ingress from members of the group itself.
 */
export async function insertGroup(db: SgDb, group: SecurityGroupRow, isDefault: boolean): Promise<void> {
  await db.insertInto('security_group').values(group).execute();
  const t = group.created_at;
  const rules = (['IPv4', 'IPv6'] as const).map((ethertype) => ruleRow(group.project_id, group.id, t, { direction: 'egress', ethertype }));
  if (isDefault) rules.push(...(['IPv4', 'IPv6'] as const).map((ethertype) => ruleRow(group.project_id, group.id, t, { direction: 'ingress', ethertype, remote_group_id: group.id })));
  await db.insertInto('security_group_rule').values(rules).execute();
}

/**
 * The project's default group, created if the project has none. Claiming the project's
 * row in default_security_group first means concurrent first requests agree on one group.
 */
export async function ensureDefaultGroup(db: SgDb, projectId: string): Promise<string> {
  const existing = await db.selectFrom('default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirst();
  if (existing) return existing.security_group_id;
  const id = uuid();
  const claimed = await db.insertInto('default_security_group').values({ project_id: projectId, security_group_id: id })
    .onConflict((oc) => oc.column('project_id').doNothing()).executeTakeFirst();
  if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) {
    const winner = await db.selectFrom('default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirstOrThrow();
    return winner.security_group_id;
  }
  const t = now();
  await insertGroup(db, { id, project_id: projectId, name: 'default', description: DEFAULT_SG_DESCRIPTION, created_at: t, updated_at: t, revision_number: 1, stateful: 1 }, true);
  return id;
}

/**
 * The groups a port of `projectId` asks for: ids only (clients resolve names), each
 * existing and the project's own unless an admin asks, all stateful or all stateless.
 */
export async function checkPortGroups(db: SgDb, projectId: string, ids: unknown[], isAdmin: boolean): Promise<string[]> {
  for (const id of ids) if (!isUuid(id)) throw badInput(`'${String(id)}' is not a valid UUID`);
  const wanted = [...new Set(ids as string[])];
  if (!wanted.length) return [];
  const rows = await db.selectFrom('security_group').select(['id', 'project_id', 'stateful']).where('id', 'in', wanted).execute();
  const ok = rows.filter((r) => isAdmin || r.project_id === projectId);
  const missing = wanted.filter((id) => !ok.some((r) => r.id === id));
  if (missing.length) throw sgNotFound(missing.join(', '));
  if (ok.some((r) => r.stateful === 1) && ok.some((r) => r.stateful !== 1)) {
    throw conflictError('SecurityGroupConflict', 'Error Cannot apply both stateful and stateless security groups on the same port at the same time while attempting the operation.');
  }
  return wanted;
}

/**
 * Groups as another service names them (Nova's `--security-group` takes ids or names):
 * an id or a name among the groups the caller sees; `default` is the project's own,
 * made on first use. An unknown name is 404, a name two groups share is 409.
 */
export async function resolveGroupRefs(db: SgDb, ctx: RequestContext, refs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const ref of refs) {
    if (ref === 'default' && ctx.projectId) { out.push(await ensureDefaultGroup(db, ctx.projectId)); continue; }
    if (isUuid(ref)) {
      const byId = await visibleGroups(db, ctx).where('security_group.id', '=', ref).executeTakeFirst();
      if (byId) { out.push(byId.id); continue; }
    }
    const named = await visibleGroups(db, ctx).where('security_group.name', '=', ref).execute();
    const mine = named.filter((g) => g.project_id === ctx.projectId);
    const pick = mine.length ? mine : named;
    if (!pick.length) throw sgNotFound(ref);
    if (pick.length > 1) throw conflictError('DuplicateSecurityGroupName', `Multiple security_group matches found for name '${ref}', use an ID to be more specific.`);
    out.push(pick[0]!.id);
  }
  return [...new Set(out)];
}

/**
 * Deletes a group that no port uses (409 otherwise); the default group only by an admin.
 * Rules in other groups that name it as their remote group go with it.
 */
export async function deleteGroup(db: SgDb, ctx: RequestContext, g: { id: string; name: string }): Promise<void> {
  const id = g.id;
  const bound = await db.selectFrom('port_security_group').select('port_id').where('security_group_id', '=', id).limit(1).executeTakeFirst();
  if (bound) throw conflictError('SecurityGroupInUse', `Security Group ${id} in use.`);
  if (g.name === 'default' && !ctx.isAdmin) throw conflictError('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
  await db.deleteFrom('security_group_rule').where((eb) => eb.or([eb('security_group_id', '=', id), eb('remote_group_id', '=', id)])).execute();
  await db.deleteFrom('default_security_group').where('security_group_id', '=', id).execute();
  await db.deleteFrom('resource_tag').where('resource_type', '=', 'security-groups').where('resource_id', '=', id).execute();
  await db.deleteFrom('security_group').where('id', '=', id).execute();
}
