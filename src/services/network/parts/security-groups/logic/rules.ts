import { neutronError } from '../../../api/common.js';
import { ipToBig, bigToIp, ipVersion } from '../../../logic/ip.js';

/**
 * Security group rule values as Neutron reads them: protocols by name or number, ports,
 * ethertypes, and remote prefixes; then the checks that relate them to each other.
 * Every refusal carries Neutron's exception name as its type.
 */
const bad = (type: string, message: string) => neutronError(400, type, message);

/** IANA protocol numbers for the names Neutron accepts. */
export const PROTOCOLS: Record<string, number> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4, 'ipv6-encap': 41, 'ipv6-frag': 44,
  'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132,
  tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
// Number → name, with 'ipv6-icmp' (not the legacy 'icmpv6') for 58 and 'ip' for 0.
const NAMES: Record<string, string> = Object.fromEntries(Object.entries(PROTOCOLS).filter(([n]) => n !== 'icmpv6').map(([n, v]) => [String(v), n]));
const PORT_PROTOCOLS = [33, 132, 6, 17, 136];
const IPV6_ONLY = ['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43'];
const supported = () => `[None, 'any', ${Object.keys(PROTOCOLS).map((p) => `'${p}'`).join(', ')}]`;

/** null for "any protocol"; otherwise a lowercase name or the number as text. */
export function parseProtocol(v: unknown): string | null {
  if (v === null || v === undefined || v === 'any') return null;
  const invalid = () => bad('SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${String(v)} not supported. Only protocol values ${supported()} and integer representations [0 to 255] are supported.`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw invalid();
    return String(v);
  }
  if (typeof v !== 'string') throw invalid();
  if (/^\s*[-+]?\d+\s*$/.test(v)) {
    const n = Number(v);
    if (n < 0 || n > 255) throw invalid();
    return v;
  }
  if (v.toLowerCase() in PROTOCOLS) return v.toLowerCase();
  throw invalid();
}

export function parsePort(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 65535 || typeof v === 'boolean') throw bad('SecurityGroupInvalidPortValue', `Invalid value for port ${String(v)}`);
  return n;
}

export function parseEthertype(v: unknown): 'IPv4' | 'IPv6' {
  if (v === undefined || v === null) return 'IPv4';
  if (typeof v === 'string') {
    if (v.toLowerCase() === 'ipv4') return 'IPv4';
    if (v.toLowerCase() === 'ipv6') return 'IPv6';
  }
  throw bad('SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${String(v)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
}

export function parseDirection(v: unknown): 'ingress' | 'egress' {
  if (v === undefined) throw bad('HTTPBadRequest', "Failed to parse request. Required attribute 'direction' not specified");
  if (v !== 'ingress' && v !== 'egress') throw bad('HTTPBadRequest', `Invalid input for direction. Reason: '${String(v)}' is not in ['ingress', 'egress'].`);
  return v;
}

export interface Prefix { text: string; version: 4 | 6; prefix: number; network: string }

/**
 * An address or CIDR as Neutron keeps a remote prefix: the host bits as given and the
 * prefix length added when missing (10.0.0.1 → 10.0.0.1/32); `network` is the CIDR proper.
 */
export function parsePrefix(text: string): Prefix | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const version = ipVersion(addr);
  if (!version) return null;
  const bits = version === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (/^\d{1,3}$/.test(p)) prefix = Number(p);
    else if (version === 4 && ipVersion(p) === 4) {
      // A dotted netmask (255.255.255.0) must be contiguous ones.
      const m = ipToBig(p);
      let ones = 0;
      while (ones < 32 && ((m >> BigInt(31 - ones)) & 1n) === 1n) ones++;
      if (m !== (((1n << 32n) - 1n) ^ ((1n << BigInt(32 - ones)) - 1n))) return null;
      prefix = ones;
    } else return null;
    if (prefix > bits) return null;
  }
  const n = ipToBig(addr);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { text: `${bigToIp(n, version)}/${prefix}`, version, prefix, network: `${bigToIp(n & mask, version)}/${prefix}` };
}

export function parseRemotePrefix(v: unknown): Prefix | null {
  if (v === null || v === undefined || v === '') return null;
  const p = typeof v === 'string' ? parsePrefix(v) : null;
  if (!p) throw bad('InvalidCIDR', `Invalid CIDR ${String(v)} given as IP prefix.`);
  return p;
}

export interface RuleFields {
  direction: 'ingress' | 'egress'; ethertype: 'IPv4' | 'IPv6'; protocol: string | null;
  port_range_min: number | null; port_range_max: number | null; remote_ip_prefix: Prefix | null;
  remote_group_id: string | null; remote_address_group_id: string | null;
}

const protocolNumber = (p: string): number => (p in PROTOCOLS ? PROTOCOLS[p]! : Number(p));

/** The checks Neutron makes on a rule once each value is read, in Neutron's order. Normalises in place. */
export function validateRule(r: RuleFields): void {
  // Legacy IPv6 ICMP spellings become 'ipv6-icmp' (and 1 becomes 58) on IPv6 rules.
  if (r.ethertype === 'IPv6') {
    if (r.protocol === 'icmp' || r.protocol === 'icmpv6') r.protocol = 'ipv6-icmp';
    else if (r.protocol === '1') r.protocol = '58';
  }
  // The whole port range is the same as no range.
  if (r.port_range_min === 1 && r.port_range_max === 65535) r.port_range_min = r.port_range_max = null;
  if (r.port_range_min !== null || r.port_range_max !== null) {
    if (r.protocol === null) throw bad('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
    const n = protocolNumber(r.protocol);
    if (PORT_PROTOCOLS.includes(n)) {
      if (r.port_range_min === 0 || r.port_range_max === 0) throw bad('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
      if (r.port_range_min === null || r.port_range_max === null || r.port_range_min > r.port_range_max) {
        throw bad('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
    } else if (n === 1 || n === 58) {
      for (const [v, field, attr] of [[r.port_range_min, 'type', 'port_range_min'], [r.port_range_max, 'code', 'port_range_max']] as const) {
        if (v !== null && (v < 0 || v > 255)) throw bad('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${v}. It must be 0 to 255.`);
      }
      if (r.port_range_min === null && r.port_range_max !== null) {
        throw bad('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${r.port_range_max} is provided but ICMP type (port-range-min) is missing.`);
      }
    } else {
      throw bad('SecurityGroupInvalidProtocolForPort', `Ports cannot be specified for protocol ${n}. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.`);
    }
  }
  if (r.remote_ip_prefix && `IPv${r.remote_ip_prefix.version}` !== r.ethertype) {
    throw bad('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${r.ethertype} for CIDR ${r.remote_ip_prefix.text}`);
  }
  if (r.protocol !== null && r.ethertype === 'IPv4' && IPV6_ONLY.includes(r.protocol)) {
    throw bad('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${r.ethertype} for protocol ${r.protocol}.`);
  }
  if ([r.remote_ip_prefix, r.remote_group_id, r.remote_address_group_id].filter((x) => x).length > 1) {
    throw bad('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
  }
}

/**
 * What makes two rules the same rule: every matching attribute, with a protocol's name
 * and number equal and "anywhere" (0.0.0.0/0, ::/0) equal to no prefix.
 */
export function ruleKey(r: { security_group_id: string; direction: string; ethertype: string; protocol: string | null; port_range_min: number | null;
  port_range_max: number | null; remote_ip_prefix: string | null; remote_group_id: string | null; remote_address_group_id: string | null }): string {
  let proto = '+';
  if (r.protocol !== null) {
    let p = r.protocol;
    if (r.ethertype === 'IPv6') { if (p === 'icmp' || p === 'icmpv6') p = 'ipv6-icmp'; else if (p === '1') p = '58'; }
    proto = p in PROTOCOLS ? `${p}/${PROTOCOLS[p]}` : p in NAMES ? `${NAMES[p]}/${p}` : `${p}/${p}`;
  }
  const prefix = r.remote_ip_prefix === null || r.remote_ip_prefix === '0.0.0.0/0' || r.remote_ip_prefix === '::/0' ? '+' : r.remote_ip_prefix;
  return [r.direction, r.ethertype, r.port_range_max ?? '+', r.port_range_min ?? '+', proto, r.remote_group_id ?? '+',
    r.remote_address_group_id ?? '+', prefix, r.security_group_id].join('_');
}
