import { isUniqueViolation, type Dialect } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { json } from '../../../platform/json.js';
import { badInput, conflictError, neutronError } from '../api/common.js';
import type { NetDb, SubnetRow } from '../store.js';
import { bigToIp, contains, eui64, ipKey, ipToBig, ipVersion, normaliseIp, parseCidr } from './ip.js';
import { sql } from 'kysely';

/**
 * IP address management: which address a port gets. The lowest free address of a pool
 * first (the product documents' tutorials rely on it); SLAAC subnets give every port its
 * EUI-64 address. Choosing an address holds the subnet's lock until the transaction ends,
 * so two ports racing for the last address get one success and one
 * IpAddressGenerationFailure; the (subnet, address) primary key backs it up.
 */
export interface FixedIpRequest { subnet_id?: string; ip_address?: string }
export interface FixedIp { subnet_id: string; ip_address: string }

export const isAutoAddress = (s: Pick<SubnetRow, 'ip_version' | 'ipv6_address_mode'>): boolean =>
  s.ip_version === 6 && (s.ipv6_address_mode === 'slaac' || s.ipv6_address_mode === 'dhcpv6-stateless');

const ROUTER_OWNERS = ['network:router_interface', 'network:router_gateway', 'network:router_interface_distributed', 'network:ha_router_replicated_interface', 'network:router_centralized_snat'];
export const isRouterPort = (owner: string): boolean => ROUTER_OWNERS.includes(owner);

/** Parses and checks a port's fixed_ips request against the network's subnets. */
export function resolveRequests(networkId: string, subnets: SubnetRow[], requests: unknown, deviceOwner: string): { subnet: SubnetRow; ip: string | null }[] {
  if (!Array.isArray(requests)) throw badInput(`Invalid data format for fixed IP: '${JSON.stringify(requests)}'`);
  const out: { subnet: SubnetRow; ip: string | null }[] = [];
  for (const r of requests as FixedIpRequest[]) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw badInput(`Invalid data format for fixed IP: '${JSON.stringify(r)}'`);
    const unknown = Object.keys(r).filter((k) => k !== 'subnet_id' && k !== 'ip_address');
    if (unknown.length) throw badInput(`Invalid data format for fixed IP: unexpected ${unknown.join(', ')}`);
    let ip: string | null = null;
    if (r.ip_address !== undefined) {
      ip = typeof r.ip_address === 'string' ? normaliseIp(r.ip_address) : null;
      if (!ip) throw badInput(`'${String(r.ip_address)}' is not a valid IP address`);
    }
    let subnet: SubnetRow | undefined;
    if (r.subnet_id !== undefined) {
      subnet = subnets.find((s) => s.id === r.subnet_id);
      if (!subnet) throw badInput(`Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${String(r.subnet_id)}`);
      if (ip && !contains(parseCidr(subnet.cidr)!, ipToBig(ip))) {
        throw neutronError(400, 'InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`);
      }
    } else if (ip) {
      subnet = subnets.find((s) => s.ip_version === ipVersion(ip!) && contains(parseCidr(s.cidr)!, ipToBig(ip!)));
      if (!subnet) throw neutronError(400, 'InvalidIpForNetwork', `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`);
    } else {
      throw badInput('A fixed IP needs a subnet_id or an ip_address');
    }
    if (ip && isAutoAddress(subnet) && !isRouterPort(deviceOwner)) {
      throw badInput(`IPv6 address ${ip} cannot be directly assigned to a port on subnet ${subnet.id} as the subnet is configured for automatic addresses`);
    }
    out.push({ subnet, ip });
  }
  return out;
}

/** What a port gets when it asks for nothing: one IPv4, one stateful IPv6, and every SLAAC address. */
export function defaultRequests(subnets: SubnetRow[], deviceOwner: string): { subnet: SubnetRow; ip: string | null; anyV4?: boolean }[] {
  const out: { subnet: SubnetRow; ip: string | null; anyV4?: boolean }[] = [];
  const v4 = subnets.filter((s) => s.ip_version === 4);
  const v6stateful = subnets.filter((s) => s.ip_version === 6 && !isAutoAddress(s));
  const v6auto = subnets.filter((s) => isAutoAddress(s));
  if (v4.length) out.push({ subnet: v4[0]!, ip: null, anyV4: true });
  if (v6stateful.length) out.push({ subnet: v6stateful[0]!, ip: null });
  if (!isRouterPort(deviceOwner)) for (const s of v6auto) out.push({ subnet: s, ip: null });
  return out;
}

/** Inserts the allocations for a port, choosing addresses where none was asked for. */
export async function allocate(trx: NetDb, dialect: Dialect, portId: string, mac: string, wants: { subnet: SubnetRow; ip: string | null; anyV4?: boolean }[], v4Fallback: SubnetRow[] = []): Promise<FixedIp[]> {
  const got: FixedIp[] = [];
  for (const want of wants) {
    const subnet = want.subnet;
    if (want.ip) {
      await insertOrConflict(trx, subnet, portId, want.ip);
      got.push({ subnet_id: subnet.id, ip_address: want.ip });
      continue;
    }
    if (isAutoAddress(subnet)) {
      const ip = bigToIp(eui64(parseCidr(subnet.cidr)!, mac), 6);
      await insertOrConflict(trx, subnet, portId, ip);
      got.push({ subnet_id: subnet.id, ip_address: ip });
      continue;
    }
    // A default IPv4 address may come from any IPv4 subnet of the network, in order; a
    // request naming a subnet gets an address from that subnet only.
    const candidates = want.anyV4 && v4Fallback.length ? v4Fallback : [subnet];
    let ip: string | null = null;
    let from: SubnetRow | null = null;
    for (const s of candidates) {
      ip = await lowestFree(trx, dialect, s, portId);
      if (ip) { from = s; break; }
    }
    if (!ip || !from) throw conflictError('IpAddressGenerationFailure', `No more IP addresses available on network ${subnet.network_id}.`);
    got.push({ subnet_id: from.id, ip_address: ip });
  }
  return got;
}

async function insertOrConflict(trx: NetDb, subnet: SubnetRow, portId: string, ip: string): Promise<void> {
  try {
    await trx.insertInto('ip_allocation').values({ subnet_id: subnet.id, ip_address: ip, ip_key: ipKey(ipToBig(ip)), network_id: subnet.network_id, port_id: portId }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflictError('IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${subnet.id}`);
    throw err;
  }
}

/**
 * Takes the lowest free address of the subnet's pools; null when they are full. Finds it by
 * bisection on range counts over the (subnet, ip_key) index, so the cost grows with the
 * logarithm of the pool, not with the number of ports already on it.
 */
async function lowestFree(trx: NetDb, dialect: Dialect, subnet: SubnetRow, portId: string): Promise<string | null> {
  await lockKey(trx, dialect, `ipam:${subnet.id}`);
  const version = subnet.ip_version as 4 | 6;
  const pools = json<{ start: string; end: string }[]>(subnet.allocation_pools, [])
    .map((p) => ({ start: ipToBig(p.start), end: ipToBig(p.end) })).sort((a, b) => (a.start < b.start ? -1 : 1));
  const used = async (a: bigint, b: bigint): Promise<bigint> => {
    const r = await trx.selectFrom('ip_allocation').select(sql<number>`count(*)`.as('n'))
      .where('subnet_id', '=', subnet.id).where('ip_key', '>=', ipKey(a)).where('ip_key', '<=', ipKey(b)).executeTakeFirst();
    return BigInt(Number(r?.n ?? 0));
  };
  for (const p of pools) {
    if ((await used(p.start, p.end)) > p.end - p.start) continue; // full
    let lo = p.start;
    let hi = p.end;
    // Invariant: [lo, hi] holds a free address. Halve towards the lowest one.
    while (lo < hi) {
      const mid = lo + (hi - lo) / 2n;
      if ((await used(lo, mid)) <= mid - lo) hi = mid; else lo = mid + 1n;
    }
    const chosen = bigToIp(lo, version);
    await trx.insertInto('ip_allocation').values({ subnet_id: subnet.id, ip_address: chosen, ip_key: ipKey(lo), network_id: subnet.network_id, port_id: portId }).execute();
    return chosen;
  }
  return null;
}
