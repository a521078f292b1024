import { isIPv4, isIPv6 } from 'node:net';

/**
 * Address arithmetic for IPAM, on BigInt so IPv4 and IPv6 share one code path.
 * Addresses are written as Neutron writes them: dotted IPv4, compressed lowercase IPv6.
 */
export interface Cidr { version: 4 | 6; base: bigint; prefix: number; bits: number }

export function ipVersion(ip: string): 4 | 6 | null {
  return isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : null;
}

export function ipToBig(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((a, o) => (a << 8n) + BigInt(Number(o)), 0n);
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const n = ipToBig(v4tail[1]!);
    text = text.slice(0, -v4tail[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

export function bigToIp(n: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (two or more), as RFC 5952 says.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseCidr(text: string): Cidr | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const version = ipVersion(m[1]!);
  if (!version) return null;
  const bits = version === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > bits) return null;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { version, base: ipToBig(m[1]!) & mask, prefix, bits };
}

export const cidrText = (c: Cidr): string => `${bigToIp(c.base, c.version)}/${c.prefix}`;
export const lastAddress = (c: Cidr): bigint => c.base + (1n << BigInt(c.bits - c.prefix)) - 1n;
export const size = (c: Cidr): bigint => 1n << BigInt(c.bits - c.prefix);
export const contains = (c: Cidr, ip: bigint): boolean => ip >= c.base && ip <= lastAddress(c);
export const overlaps = (a: Cidr, b: Cidr): boolean => a.version === b.version && a.base <= lastAddress(b) && b.base <= lastAddress(a);

/** The SLAAC address of a MAC in a /64: modified EUI-64 (RFC 4291 appendix A). */
export function eui64(prefix: Cidr, mac: string): bigint {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!].reduce((a, x) => (a << 8n) + BigInt(x), 0n);
  return prefix.base + iid;
}

/** Fixed-width hex of an address: text order equals numeric order. */
export const ipKey = (n: bigint): string => n.toString(16).padStart(32, '0');

/** Normalises an address to Neutron's spelling, or null if it is not one. */
export function normaliseIp(ip: string): string | null {
  const v = ipVersion(ip);
  return v ? bigToIp(ipToBig(ip), v) : null;
}
