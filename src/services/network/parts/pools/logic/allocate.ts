import { sql } from 'kysely';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { badInput, neutronError } from '../../../api/common.js';
import { cidrText, parseCidr, type Cidr } from '../../../logic/ip.js';
import type { NetDb } from '../../../store.js';
import { json } from '../../../../../platform/json.js';
import { poolDb, type SubnetPoolRow } from '../store.js';
import { covers, firstFree, intersects, rangesOf, subtract } from './prefixes.js';
import { poolNotFound, visiblePools } from './rbac.js';

/**
 * Subnet allocation from a pool: the lowest free block of the asked size (or the asked CIDR,
 * if it is free and inside the pool). The pool row is written first, which serialises
 * allocations from one pool on every engine, so two subnets never get the same block.
 */
export interface AllocateRequest {
  ctx: RequestContext; poolId: string | null; useDefault: boolean; ipVersion: number; prefixlen: unknown; cidr: unknown; projectId: string;
}

export function intValue(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw badInput(`'${String(v)}' is not an integer for ${field}`);
  return n;
}

export const poolCidrs = (pool: SubnetPoolRow): Cidr[] => json<string[]>(pool.prefixes, []).map((p) => parseCidr(p)).filter((c): c is Cidr => c !== null);

const allocationError = (status: number, reason: string) => neutronError(status, 'SubnetAllocationError', `Failed to allocate subnet: ${reason}.`);

export async function allocateFromPool(trx: NetDb, req: AllocateRequest): Promise<{ cidr: string; poolId: string }> {
  const db = poolDb(trx);
  if (req.poolId && req.useDefault) throw badInput('subnetpool_id and use_default_subnetpool cannot both be specified');
  let pool: SubnetPoolRow | undefined;
  if (req.poolId) {
    if (typeof req.poolId !== 'string') throw badInput(`'${String(req.poolId)}' is not a valid subnet pool id`);
    pool = await visiblePools(db, req.ctx).where('subnetpool.id', '=', req.poolId).executeTakeFirst();
    if (!pool) throw poolNotFound(req.poolId);
  } else {
    pool = await visiblePools(db, req.ctx).where('subnetpool.is_default', '=', 1).where('subnetpool.ip_version', '=', req.ipVersion).executeTakeFirst();
    if (!pool) throw badInput(`No default subnetpool found for IPv${req.ipVersion}`);
  }
  if (pool.ip_version !== req.ipVersion) throw badInput(`Cannot allocate IPv${req.ipVersion} subnet from IPv${pool.ip_version} subnet pool`);

  let wanted: Cidr | null = null;
  if (req.cidr !== undefined && req.cidr !== null) {
    wanted = typeof req.cidr === 'string' ? parseCidr(req.cidr) : null;
    if (!wanted) throw badInput(`'${String(req.cidr)}' is not a valid IP subnet`);
    if (wanted.version !== pool.ip_version) throw badInput(`Cannot allocate IPv${wanted.version} subnet from IPv${pool.ip_version} subnet pool`);
  }
  const prefixlen = wanted ? wanted.prefix : req.prefixlen === undefined || req.prefixlen === null ? pool.default_prefixlen : intValue(req.prefixlen, 'prefixlen');
  if (prefixlen > pool.max_prefixlen) {
    throw neutronError(400, 'MaxPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${pool.max_prefixlen}.`);
  }
  if (prefixlen < pool.min_prefixlen) {
    throw neutronError(400, 'MinPrefixSubnetAllocationError', `Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${pool.min_prefixlen}.`);
  }

  // Take the pool's row lock before reading what it has handed out.
  await db.updateTable('subnetpool').set({ revision_number: sql<number>`revision_number` }).where('id', '=', pool.id).execute();
  const taken = await db.selectFrom('subnet').select(['cidr', 'project_id']).where('subnetpool_id', '=', pool.id).execute();
  const takenCidrs = taken.map((s) => parseCidr(s.cidr)).filter((c): c is Cidr => c !== null);

  if (pool.default_quota !== null) {
    // Neutron counts a pool's per-project quota in /32s (IPv4) or /64s (IPv6).
    const unit = pool.ip_version === 4 ? 32 : 64;
    const units = (p: number) => 2 ** (unit - p);
    const used = taken.filter((s) => s.project_id === req.projectId).reduce((n, s) => n + units(parseCidr(s.cidr)?.prefix ?? unit), 0);
    if (used + units(prefixlen) > pool.default_quota) throw neutronError(409, 'SubnetPoolQuotaExceeded', 'Per-project subnet pool prefix quota exceeded.');
  }

  const poolRanges = rangesOf(poolCidrs(pool));
  const takenRanges = rangesOf(takenCidrs);
  if (wanted) {
    const r = rangesOf([wanted]);
    const reason = 'Cannot allocate requested subnet from the available set of prefixes';
    if (!covers(poolRanges, r)) throw allocationError(400, reason);
    if (intersects(takenRanges, r)) throw allocationError(409, reason);
    // The text as given: the subnet checks insist on its canonical spelling.
    return { cidr: req.cidr as string, poolId: pool.id };
  }
  const got = firstFree(subtract(poolRanges, takenRanges), prefixlen, pool.ip_version as 4 | 6);
  if (!got) throw allocationError(409, `Insufficient prefix space to allocate subnet size /${prefixlen}`);
  return { cidr: cidrText(got), poolId: pool.id };
}
