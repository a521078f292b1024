import type { RequestContext } from '../../../../../platform/auth/context.js';
import { badInput, conflictError, neutronError } from '../../../api/common.js';
import { parseCidr, type Cidr } from '../../../logic/ip.js';
import type { PoolDb, SubnetPoolRow } from '../store.js';
import { cidrsOf, intersects, rangesOf } from './prefixes.js';
import { intValue, poolCidrs } from './allocate.js';
import { visibleScopes } from './rbac.js';

/**
 * A pool's rules, as Neutron checks them on create and update: one IP version, prefixes
 * kept compact, min ≤ default ≤ max ≤ the version's width, one default pool per version,
 * and inside an address scope no two pools sharing an address.
 */
export function parsePrefixes(v: unknown): { version: 4 | 6; cidrs: Cidr[] } {
  if (!Array.isArray(v)) throw badInput(`'${String(v)}' is not a list of prefixes`);
  if (!v.length) throw neutronError(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  const cidrs = v.map((p) => {
    const c = typeof p === 'string' ? parseCidr(p) : null;
    if (!c) throw badInput(`'${String(p)}' is not a valid IP subnet`);
    return c;
  });
  if (cidrs.some((c) => c.version !== cidrs[0]!.version)) throw neutronError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  return { version: cidrs[0]!.version, cidrs };
}

export const compact = (cidrs: Cidr[], version: 4 | 6): string[] => cidrsOf(rangesOf(cidrs), version);

const bounds = (type: string, len: number, base: string, baseLen: number) =>
  neutronError(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: ${type}=${len}, ${base}=${baseLen}.`);

/** min/default/max prefix lengths, given values winning over the current (or default) ones. */
export function prefixBounds(version: 4 | 6, b: Record<string, unknown>, current?: SubnetPoolRow): { min: number; max: number; def: number } {
  const width = version === 4 ? 32 : 128;
  const pick = (k: string, fallback: number) => (b[k] === undefined || b[k] === null ? fallback : intValue(b[k], k));
  const min = pick('min_prefixlen', current?.min_prefixlen ?? (version === 4 ? 8 : 64));
  const max = pick('max_prefixlen', current?.max_prefixlen ?? width);
  const def = pick('default_prefixlen', current?.default_prefixlen ?? min);
  if (min < 0) throw neutronError(400, 'UnsupportedMinSubnetPoolPrefix', `Prefix '${min}' not supported in IPv${version} pool.`);
  if (min > max) throw bounds('min_prefixlen', min, 'max_prefixlen', max);
  if (max > width) throw bounds('max_prefixlen', max, 'ip_version_max', width);
  if (def < min) throw bounds('default_prefixlen', def, 'min_prefixlen', min);
  if (def > max) throw bounds('default_prefixlen', def, 'max_prefixlen', max);
  return { min, max, def };
}

export function quotaValue(v: unknown): number | null {
  if (v === null) return null;
  const n = intValue(v, 'default_quota');
  if (n < 0) throw badInput(`'${n}' should be non-negative for default_quota`);
  return n;
}

export async function checkNoOtherDefault(db: PoolDb, version: number, exceptId?: string): Promise<void> {
  let q = db.selectFrom('subnetpool').select('id').where('is_default', '=', 1).where('ip_version', '=', version);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) {
    throw badInput('A default subnetpool for this IP family has already been set. Only one default may exist per IP family');
  }
}

/** A pool may join an address scope it can see, of its IP version, without overlapping the scope's other pools. */
export async function checkScope(db: PoolDb, ctx: RequestContext, scopeId: string | null, poolId: string, version: number, cidrs: Cidr[]): Promise<void> {
  if (scopeId === null) return;
  if (typeof scopeId !== 'string') throw badInput(`'${String(scopeId)}' is not a valid address scope id`);
  const scope = await visibleScopes(db, ctx).where('address_scope.id', '=', scopeId).executeTakeFirst();
  if (!scope) throw neutronError(404, 'AddressScopeNotFound', `Address scope ${scopeId} could not be found.`);
  if (scope.ip_version !== version) {
    throw neutronError(400, 'IllegalSubnetPoolIpVersionAssociationToAddressScope',
      `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scopeId} because subnetpool ip_version is not ${scope.ip_version}.`);
  }
  const mine = rangesOf(cidrs);
  for (const other of await db.selectFrom('subnetpool').selectAll().where('address_scope_id', '=', scopeId).where('id', '!=', poolId).execute()) {
    if (intersects(mine, rangesOf(poolCidrs(other)))) {
      throw conflictError('AddressScopePrefixConflict', 'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.');
    }
  }
}
