import { badInput, neutronError } from '../api/common.js';
import { bigToIp, cidrText, contains, ipToBig, ipVersion, lastAddress, normaliseIp, parseCidr, type Cidr } from './ip.js';

/**
 * Checking a subnet's addressing as Neutron does: a canonical CIDR, a gateway, allocation
 * pools inside the CIDR that avoid the gateway, DNS servers and host routes.
 */
export const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'];

export function checkCidr(text: unknown, version: number): Cidr {
  const c = typeof text === 'string' ? parseCidr(text) : null;
  if (!c) throw badInput(`'${String(text)}' is not a valid IP subnet`);
  if (c.version !== version) throw badInput(`Cidr ${String(text)} does not match the IP version ${version}`);
  if (normaliseIp((text as string).split('/')[0]!) !== bigToIp(c.base, c.version)) {
    throw badInput(`'${String(text)}' isn't a recognized IP subnet cidr, '${cidrText(c)}' is recommended`);
  }
  if ((c.version === 4 && c.prefix > 30) || (c.version === 6 && c.prefix > 126)) {
    throw badInput(`Subnet ${cidrText(c)} is too small to allocate addresses from`);
  }
  return c;
}

export function defaultGateway(c: Cidr): string {
  return bigToIp(c.base + 1n, c.version);
}

export function checkGateway(gw: unknown, c: Cidr): string | null {
  if (gw === null) return null;
  const ip = typeof gw === 'string' ? normaliseIp(gw) : null;
  if (!ip || ipVersion(ip) !== c.version) throw badInput(`'${String(gw)}' is not a valid IP address for gateway_ip`);
  const n = ipToBig(ip);
  if (c.version === 4 && contains(c, n) && (n === c.base || n === lastAddress(c))) throw badInput(`Gateway is not valid on subnet: ${ip} is the network or broadcast address of ${cidrText(c)}`);
  return ip;
}

/** The default pools: every host address but the gateway (IPv4 also keeps network and broadcast out). */
export function defaultPools(c: Cidr, gateway: string | null): { start: string; end: string }[] {
  const first = c.base + 1n;
  const last = c.version === 4 ? lastAddress(c) - 1n : lastAddress(c);
  const gw = gateway ? ipToBig(gateway) : null;
  const ranges: [bigint, bigint][] = gw !== null && gw >= first && gw <= last
    ? [[first, gw - 1n], [gw + 1n, last]] : [[first, last]];
  return ranges.filter(([a, b]) => a <= b).map(([a, b]) => ({ start: bigToIp(a, c.version), end: bigToIp(b, c.version) }));
}

export function checkPools(pools: unknown, c: Cidr, gateway: string | null): { start: string; end: string }[] {
  if (!Array.isArray(pools)) throw badInput('allocation_pools must be a list');
  const parsed = pools.map((p) => {
    const { start, end } = (p ?? {}) as { start?: unknown; end?: unknown };
    const s = typeof start === 'string' ? normaliseIp(start) : null;
    const e = typeof end === 'string' ? normaliseIp(end) : null;
    if (!s || !e || ipVersion(s) !== c.version || ipVersion(e) !== c.version) throw badInput(`Invalid allocation pool ${JSON.stringify(p)}`);
    const a = ipToBig(s), b = ipToBig(e);
    if (a > b || !contains(c, a) || !contains(c, b)) throw neutronError(400, 'InvalidAllocationPool', `The allocation pool ${s}-${e} spans beyond the subnet cidr ${cidrText(c)}.`);
    return { a, b, start: s, end: e };
  }).sort((x, y) => (x.a < y.a ? -1 : 1));
  for (let i = 1; i < parsed.length; i++) {
    if (parsed[i]!.a <= parsed[i - 1]!.b) throw neutronError(400, 'OverlappingAllocationPools', `Found overlapping allocation pools: ${parsed[i - 1]!.start}-${parsed[i - 1]!.end} and ${parsed[i]!.start}-${parsed[i]!.end} for subnet ${cidrText(c)}.`);
  }
  if (gateway) {
    const g = ipToBig(gateway);
    const hit = parsed.find((p) => g >= p.a && g <= p.b);
    if (hit) throw neutronError(409, 'GatewayConflictWithAllocationPools', `Gateway ip ${gateway} conflicts with allocation pool ${hit.start}-${hit.end}.`);
  }
  return parsed.map(({ start, end }) => ({ start, end }));
}

export function checkNameservers(v: unknown, version: number): string[] {
  if (!Array.isArray(v)) throw badInput('dns_nameservers must be a list');
  const out = v.map((x) => {
    const ip = typeof x === 'string' ? normaliseIp(x) : null;
    if (!ip) throw badInput(`'${String(x)}' is not a valid nameserver`);
    return ip;
  });
  if (new Set(out).size !== out.length) throw badInput(`Duplicate nameserver in ${JSON.stringify(v)}`);
  void version;
  return out;
}

export function checkHostRoutes(v: unknown, version: number): { destination: string; nexthop: string }[] {
  if (!Array.isArray(v)) throw badInput('host_routes must be a list');
  return v.map((r) => {
    const { destination, nexthop } = (r ?? {}) as { destination?: unknown; nexthop?: unknown };
    const d = typeof destination === 'string' ? parseCidr(destination) : null;
    const n = typeof nexthop === 'string' ? normaliseIp(nexthop) : null;
    if (!d || !n) throw badInput(`Invalid host route ${JSON.stringify(r)}`);
    if (d.version !== version || ipVersion(n) !== version) throw badInput(`Host route ${JSON.stringify(r)} does not match the subnet's IP version`);
    return { destination: cidrText(d), nexthop: n };
  });
}

export function checkIpv6Modes(version: number, ra: unknown, address: unknown, c: Cidr): { ra: string | null; address: string | null } {
  const r = ra === undefined || ra === null ? null : String(ra);
  const a = address === undefined || address === null ? null : String(address);
  if ((r || a) && version !== 6) throw badInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False or ip_version is 4');
  for (const m of [r, a]) if (m && !IPV6_MODES.includes(m)) throw badInput(`'${m}' is not in ${JSON.stringify(IPV6_MODES)}`);
  if (r && a && r !== a) throw badInput(`ipv6_ra_mode set to '${r}' with ipv6_address_mode set to '${a}' is not valid. If both attributes are set, they must be the same value`);
  if ((a === 'slaac' || a === 'dhcpv6-stateless') && c.prefix !== 64) throw badInput(`Invalid CIDR ${cidrText(c)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
  return { ra: r, address: a };
}
