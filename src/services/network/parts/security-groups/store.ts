import type { Kysely, Transaction } from 'kysely';
import type { RequestContext } from '../../../../platform/auth/context.js';
import type { NetDb, NetworkTables, Standard } from '../../store.js';

/** The security group part's tables, and the core tables it reads (port bindings, tags). */
export interface SecurityGroupRow extends Standard { id: string; stateful: number }
export interface SecurityGroupRuleRow extends Omit<Standard, 'name'> {
  id: string; security_group_id: string; direction: string; ethertype: string; protocol: string | null;
  port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: string | null; normalized_cidr: string | null;
  remote_group_id: string | null; remote_address_group_id: string | null;
}
export interface AddressGroupRow extends Standard { id: string }

export interface SgTables {
  security_group: SecurityGroupRow;
  security_group_rule: SecurityGroupRuleRow;
  default_security_group: { project_id: string; security_group_id: string };
  address_group: AddressGroupRow;
  address_group_address: { address_group_id: string; address: string };
  port_security_group: NetworkTables['port_security_group'];
  resource_tag: NetworkTables['resource_tag'];
}

export type SgDb = Kysely<SgTables> | Transaction<SgTables>;
export const sgDb = (db: NetDb): Kysely<SgTables> => db as unknown as Kysely<SgTables>;

/** Security groups a caller sees: its project's (admins: all). */
export function visibleGroups(db: SgDb, ctx: RequestContext) {
  let q = db.selectFrom('security_group').selectAll('security_group');
  if (!ctx.isAdmin) q = q.where('security_group.project_id', '=', ctx.projectId ?? '');
  return q;
}

/** Rules a caller sees: its own and those in its project's groups (admins: all). */
export function visibleRules(db: SgDb, ctx: RequestContext) {
  let q = db.selectFrom('security_group_rule').selectAll('security_group_rule');
  if (!ctx.isAdmin) {
    const p = ctx.projectId ?? '';
    q = q.where((eb) => eb.or([
      eb('security_group_rule.project_id', '=', p),
      eb('security_group_rule.security_group_id', 'in', eb.selectFrom('security_group').select('id').where('project_id', '=', p)),
    ]));
  }
  return q;
}

export function visibleAddressGroups(db: SgDb, ctx: RequestContext) {
  let q = db.selectFrom('address_group').selectAll('address_group');
  if (!ctx.isAdmin) q = q.where('address_group.project_id', '=', ctx.projectId ?? '');
  return q;
}

export async function rulesOfGroups(db: SgDb, groupIds: string[]): Promise<SecurityGroupRuleRow[]> {
  if (!groupIds.length) return [];
  return db.selectFrom('security_group_rule').selectAll().where('security_group_id', 'in', groupIds).orderBy('created_at').orderBy('id').execute();
}

export async function defaultGroupIds(db: SgDb, groupIds: string[]): Promise<Set<string>> {
  if (!groupIds.length) return new Set();
  const rows = await db.selectFrom('default_security_group').select('security_group_id').where('security_group_id', 'in', groupIds).execute();
  return new Set(rows.map((r) => r.security_group_id));
}

export async function addressesOf(db: SgDb, groupIds: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (!groupIds.length) return m;
  for (const r of await db.selectFrom('address_group_address').selectAll().where('address_group_id', 'in', groupIds).orderBy('address').execute()) {
    m.get(r.address_group_id)?.push(r.address);
  }
  return m;
}

/** Bumps a group's revision: Neutron counts a rule added or removed as a change to its group. */
export async function touchGroup(db: SgDb, id: string, at: number): Promise<void> {
  const g = await db.selectFrom('security_group').select('revision_number').where('id', '=', id).executeTakeFirst();
  if (g) await db.updateTable('security_group').set({ revision_number: g.revision_number + 1, updated_at: at }).where('id', '=', id).execute();
}
