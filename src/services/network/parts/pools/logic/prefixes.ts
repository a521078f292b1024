import { bigToIp, lastAddress, parseCidr, type Cidr } from '../../../logic/ip.js';

/**
 * Sets of addresses as sorted, disjoint, inclusive ranges: what a pool's prefixes are, what
 * its subnets take, and what is left. Written back as the fewest CIDRs covering them, which
 * is how Neutron normalises a pool's prefix list (10.0.0.0/24 + 10.0.1.0/24 → 10.0.0.0/23).
 */
export type Range = [bigint, bigint];

export function rangesOf(cidrs: Cidr[]): Range[] {
  const sorted = cidrs.map((c): Range => [c.base, lastAddress(c)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1n) { if (r[1] > last[1]) last[1] = r[1]; } else out.push([r[0], r[1]]);
  }
  return out;
}

export function subtract(from: Range[], take: Range[]): Range[] {
  let out = from.map((r): Range => [r[0], r[1]]);
  for (const [ts, te] of take) {
    out = out.flatMap(([s, e]): Range[] => {
      if (te < s || ts > e) return [[s, e]];
      const parts: Range[] = [];
      if (ts > s) parts.push([s, ts - 1n]);
      if (te < e) parts.push([te + 1n, e]);
      return parts;
    });
  }
  return out;
}

/** Is every address of `inner` in `outer`? */
export const covers = (outer: Range[], inner: Range[]): boolean => subtract(inner, outer).length === 0;
export const intersects = (a: Range[], b: Range[]): boolean => a.some(([s, e]) => b.some(([t, f]) => s <= f && t <= e));

/** The fewest CIDRs spelling the ranges, in address order. */
export function cidrsOf(ranges: Range[], version: 4 | 6): string[] {
  const bits = version === 4 ? 32 : 128;
  const out: string[] = [];
  for (const [s0, e] of ranges) {
    let s = s0;
    while (s <= e) {
      // The largest aligned block starting at s that stays inside the range.
      let host = 0;
      while (host < bits && (s & ((1n << BigInt(host + 1)) - 1n)) === 0n && s + (1n << BigInt(host + 1)) - 1n <= e) host++;
      out.push(`${bigToIp(s, version)}/${bits - host}`);
      s += 1n << BigInt(host);
    }
  }
  return out;
}

/** The lowest-addressed free block of /prefixlen inside the ranges, or null when none fits. */
export function firstFree(free: Range[], prefixlen: number, version: 4 | 6): Cidr | null {
  const bits = version === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - prefixlen);
  for (const [s, e] of free) {
    const start = ((s + size - 1n) / size) * size;
    if (start + size - 1n <= e) return parseCidr(`${bigToIp(start, version)}/${prefixlen}`);
  }
  return null;
}
