import type { NetDb } from '../../../store.js';
import type { DesiredState } from '../../../dataplane/driver.js';
import { sgDb } from '../store.js';

/** Security groups with their rules, and address groups with their addresses, as the data plane takes them. */
export async function securityGroupState(db: NetDb, state: DesiredState): Promise<void> {
  const sg = sgDb(db);
  const [groups, rules, addressGroups, addresses] = await Promise.all([
    sg.selectFrom('security_group').select(['id', 'stateful']).orderBy('id').execute(),
    sg.selectFrom('security_group_rule').select(['id', 'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
      'remote_ip_prefix', 'remote_group_id', 'remote_address_group_id']).orderBy('security_group_id').orderBy('id').execute(),
    sg.selectFrom('address_group').select('id').orderBy('id').execute(),
    sg.selectFrom('address_group_address').selectAll().orderBy('address_group_id').orderBy('address').execute(),
  ]);
  const rulesOf = new Map(groups.map((g) => [g.id, [] as DesiredState['securityGroups'][number]['rules']]));
  for (const { security_group_id, ...r } of rules) rulesOf.get(security_group_id)?.push({ ...r, direction: r.direction as 'ingress' | 'egress' });
  state.securityGroups = groups.map((g) => ({ id: g.id, stateful: g.stateful === 1, rules: rulesOf.get(g.id) ?? [] }));
  const addressesOf = new Map(addressGroups.map((g) => [g.id, [] as string[]]));
  for (const a of addresses) addressesOf.get(a.address_group_id)?.push(a.address);
  state.addressGroups = addressGroups.map((g) => ({ id: g.id, addresses: addressesOf.get(g.id) ?? [] }));
}
