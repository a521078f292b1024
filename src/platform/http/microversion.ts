import { ApiError } from './errors.js';

/**
 * Microversion negotiation as Nova, Cinder and Placement do it: the client asks with
 * `OpenStack-API-Version: <service> X.Y` (or a legacy header), gets the minimum when it
 * does not ask, the maximum for `latest`, and 406 outside the supported range.
 */
export interface Version { major: number; minor: number }
export interface VersionRange { service: string; min: string; max: string; legacyHeader?: string }

export const parseVersion = (s: string): Version | null => {
  const m = /^(\d+)\.(\d+)$/.exec(s.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
};
export const compareVersions = (a: Version, b: Version): number => a.major - b.major || a.minor - b.minor;
export const atLeast = (v: Version, s: string): boolean => compareVersions(v, parseVersion(s)!) >= 0;
export const formatVersion = (v: Version): string => `${v.major}.${v.minor}`;

export function negotiate(headers: Record<string, string | string[] | undefined>, range: VersionRange): Version {
  const min = parseVersion(range.min)!;
  const max = parseVersion(range.max)!;
  let asked: string | undefined;
  const generic = headers['openstack-api-version'];
  for (const value of (Array.isArray(generic) ? generic : generic ? [generic] : []).flatMap((h) => h.split(','))) {
    const [svc, ver] = value.trim().split(/\s+/);
    if (svc?.toLowerCase() === range.service && ver) asked = ver;
  }
  if (asked === undefined && range.legacyHeader) {
    const legacy = headers[range.legacyHeader.toLowerCase()];
    if (typeof legacy === 'string') asked = legacy;
  }
  if (asked === undefined) return min;
  if (asked.toLowerCase() === 'latest') return max;
  const v = parseVersion(asked);
  if (!v) throw new ApiError(400, `Invalid API version request: ${asked}`);
  if (compareVersions(v, min) < 0 || compareVersions(v, max) > 0) {
    throw new ApiError(406, `Version ${asked} is not supported by the API. Minimum is ${range.min} and maximum is ${range.max}.`);
  }
  return v;
}
