import type { Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import type { CDb, ComputeNodeRow } from '../store.js';

/**
 * The scheduler, as Nova's filter scheduler works: every enabled host passes through the
 * filters (zone, resources with allocation ratios, server group policies, different/same
 * host hints, image properties, aggregate metadata the flavor asks for), the survivors are
 * weighed (free RAM spreads servers; soft affinity and soft anti-affinity pull and push),
 * and the best gets the allocation. Choosing and allocating happen under one lock in one
 * transaction, so concurrent builds never overcommit a host.
 */
export const DEFAULT_ZONE = 'nova';

export interface RequestSpec {
  consumerId: string;
  projectId: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  availabilityZone: string | null;
  /** An admin's `zone:host`, or a resize's "stay where you are". */
  forcedHost?: string | null;
  /** Hosts a move must leave (a cold migration) — never chosen. */
  ignoreHosts?: string[];
  group?: { id: string; policy: string; rules: Record<string, unknown> } | null;
  differentHost?: string[];
  sameHost?: string[];
  imageProperties?: Record<string, string>;
  extraSpecs?: Record<string, string>;
}

export class NoValidHost extends Error {
  constructor(readonly reason: string) { super(`No valid host was found. ${reason}`); }
}

export interface HostState {
  node: ComputeNodeRow;
  zone: string;
  metadata: Record<string, string>;
  used: { vcpus: number; memoryMb: number; diskGb: number };
  instances: Set<string>;
}

/** Each host's zone (from aggregate metadata, `nova` otherwise), aggregate metadata and what it has allocated. */
export async function hostStates(db: CDb): Promise<HostState[]> {
  const [nodes, aggHosts, aggMeta, allocs] = await Promise.all([
    db.selectFrom('compute_node').selectAll().orderBy('host').execute(),
    db.selectFrom('aggregate_host').selectAll().execute(),
    db.selectFrom('aggregate_metadata').selectAll().execute(),
    db.selectFrom('allocation').selectAll().execute(),
  ]);
  const metaOf = new Map<number, Record<string, string>>();
  for (const m of aggMeta) (metaOf.get(m.aggregate_id) ?? metaOf.set(m.aggregate_id, {}).get(m.aggregate_id)!)[m.key] = m.value;
  return nodes.map((node) => {
    const metadata: Record<string, string> = {};
    for (const a of aggHosts.filter((h) => h.host === node.host)) Object.assign(metadata, metaOf.get(a.aggregate_id) ?? {});
    const mine = allocs.filter((a) => a.host === node.host);
    return {
      node, zone: metadata.availability_zone ?? DEFAULT_ZONE, metadata,
      used: { vcpus: sum(mine.map((a) => a.vcpus)), memoryMb: sum(mine.map((a) => a.memory_mb)), diskGb: sum(mine.map((a) => a.disk_gb)) },
      instances: new Set(mine.map((a) => a.consumer_id)),
    };
  });
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

type Filter = (h: HostState, spec: RequestSpec, ctx: { hostsOf: (ids: string[]) => Set<string>; groupHosts: Map<string, number> }) => boolean;

const FILTERS: Array<[string, Filter]> = [
  ['ComputeFilter', (h) => h.node.status === 'enabled' && !h.node.forced_down],
  ['AvailabilityZoneFilter', (h, s) => !s.availabilityZone || h.zone === s.availabilityZone],
  ['ForcedHostFilter', (h, s) => !s.forcedHost || h.node.host === s.forcedHost],
  ['IgnoreHostsFilter', (h, s) => !s.ignoreHosts?.includes(h.node.host)],
  ['ResourcesFilter', (h, s) => {
    const n = h.node;
    return h.used.vcpus + s.vcpus <= n.vcpus * n.cpu_allocation_ratio
      && h.used.memoryMb + s.memoryMb <= n.memory_mb * n.ram_allocation_ratio
      && h.used.diskGb + s.diskGb <= n.local_gb * n.disk_allocation_ratio;
  }],
  ['ServerGroupAffinityFilter', (h, s, c) => s.group?.policy !== 'affinity' || c.groupHosts.size === 0 || c.groupHosts.has(h.node.host)],
  ['ServerGroupAntiAffinityFilter', (h, s, c) => {
    if (s.group?.policy !== 'anti-affinity') return true;
    const max = Number(s.group.rules.max_server_per_host ?? 1);
    return (c.groupHosts.get(h.node.host) ?? 0) < max;
  }],
  ['DifferentHostFilter', (h, s, c) => !s.differentHost?.length || !c.hostsOf(s.differentHost).has(h.node.host)],
  ['SameHostFilter', (h, s, c) => !s.sameHost?.length || c.hostsOf(s.sameHost).has(h.node.host)],
  ['ImagePropertiesFilter', (h, s) => {
    const p = s.imageProperties ?? {};
    const arch = p.hw_architecture ?? p.architecture;
    if (arch && !['x86_64', 'i686', 'i386'].includes(arch)) return false;
    const hv = p.img_hv_type ?? p.hypervisor_type;
    return !hv || [h.node.hypervisor_type, 'qemu', 'kvm'].includes(hv);
  }],
  ['AggregateInstanceExtraSpecsFilter', (h, s) => Object.entries(s.extraSpecs ?? {})
    .filter(([k]) => k.startsWith('aggregate_instance_extra_specs:'))
    .every(([k, v]) => h.metadata[k.slice('aggregate_instance_extra_specs:'.length)] === v)],
];

/**
 * Chooses a host for the spec and records the allocation. Call inside a transaction; the
 * scheduler lock is held until it ends.
 */
export async function schedule(trx: CDb, dialect: Dialect, spec: RequestSpec): Promise<string> {
  await lockKey(trx, dialect, 'compute-scheduler');
  const hosts = await hostStates(trx);
  const placed = new Map<string, string>();
  for (const h of hosts) for (const id of h.instances) placed.set(id, h.node.host);
  const hostsOf = (ids: string[]) => new Set(ids.map((id) => placed.get(id)).filter((x): x is string => !!x));
  const groupHosts = new Map<string, number>();
  if (spec.group) {
    const members = await trx.selectFrom('server_group_member').select('instance_id').where('group_id', '=', spec.group.id).execute();
    for (const m of members) {
      if (m.instance_id === spec.consumerId) continue;
      const host = placed.get(m.instance_id);
      if (host) groupHosts.set(host, (groupHosts.get(host) ?? 0) + 1);
    }
  }
  let survivors = hosts;
  for (const [name, f] of FILTERS) {
    survivors = survivors.filter((h) => f(h, spec, { hostsOf, groupHosts }));
    if (!survivors.length) throw new NoValidHost(`There are not enough hosts available. (${name} returned 0 hosts)`);
  }
  const weight = (h: HostState) => {
    const freeRam = h.node.memory_mb * h.node.ram_allocation_ratio - h.used.memoryMb;
    let w = freeRam / Math.max(1, h.node.memory_mb);
    const members = groupHosts.get(h.node.host) ?? 0;
    if (spec.group?.policy === 'soft-affinity') w += members * 10;
    if (spec.group?.policy === 'soft-anti-affinity') w -= members * 10;
    return w;
  };
  survivors.sort((a, b) => weight(b) - weight(a) || a.node.host.localeCompare(b.node.host));
  const chosen = survivors[0]!.node.host;
  await trx.insertInto('allocation').values({
    consumer_id: spec.consumerId, host: chosen, project_id: spec.projectId, vcpus: spec.vcpus, memory_mb: spec.memoryMb, disk_gb: spec.diskGb,
  }).execute();
  return chosen;
}

export async function releaseAllocations(trx: CDb, consumerId: string): Promise<void> {
  await trx.deleteFrom('allocation').where('consumer_id', '=', consumerId).execute();
}
