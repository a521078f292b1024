import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * TempURL signatures: HMAC over "<method>\n<expires>\n<path>" (or "prefix:<path prefix>"
 * for a prefix-wide URL, with an "ip=<range>\n" line first when the URL is bound to one),
 * keyed by one of the account's or container's Temp-URL keys. The signature is hex
 * (its length says sha1/sha256/sha512) or "<alg>:<base64>".
 */
export const TEMPURL_DIGESTS = ['sha1', 'sha256', 'sha512'] as const;
export const TEMPURL_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'] as const;

export interface TempUrlQuery { sig: string; expires: string; prefix?: string; ipRange?: string }

/** Epoch seconds of temp_url_expires (integer or ISO 8601 `YYYY-MM-DDThh:mm:ssZ`), or null. */
export function expiresAt(value: string): number | null {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(value)) return Math.floor(Date.parse(value) / 1000);
  return null;
}

function decodeSig(sig: string): { alg: string; digest: Buffer } | null {
  const m = /^(sha1|sha256|sha512):(.+)$/.exec(sig);
  if (m) {
    const digest = Buffer.from(m[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return { alg: m[1]!, digest };
  }
  if (!/^[0-9a-fA-F]+$/.test(sig)) return null;
  const alg = ({ 40: 'sha1', 64: 'sha256', 128: 'sha512' } as Record<number, string>)[sig.length];
  return alg ? { alg, digest: Buffer.from(sig, 'hex') } : null;
}

/**
 * True when `q` signs `method` on one of `paths` (the same object as clients may have
 * written its path) with one of `keys`, and has not expired.
 */
export function validTempUrl(q: TempUrlQuery, method: string, paths: string[], keys: string[], clientIp?: string): boolean {
  const exp = expiresAt(q.expires);
  if (exp === null || exp * 1000 < Date.now()) return false;
  const sig = decodeSig(q.sig);
  if (!sig || keys.length === 0) return false;
  const methods = method === 'HEAD' ? ['HEAD', 'GET', 'PUT', 'POST'] : [method];
  if (q.ipRange !== undefined && clientIp !== undefined && !ipInRange(clientIp, q.ipRange)) return false;
  for (const key of keys) for (const m of methods) for (const path of paths) {
    const subject = q.prefix !== undefined ? `prefix:${path}` : path;
    const body = `${q.ipRange !== undefined ? `ip=${q.ipRange}\n` : ''}${m}\n${q.expires}\n${subject}`;
    const mac = createHmac(sig.alg, key).update(body).digest();
    if (mac.length === sig.digest.length && timingSafeEqual(mac, sig.digest)) return true;
  }
  return false;
}

function ipInRange(ip: string, range: string): boolean {
  const v4 = (s: string) => s.replace(/^::ffff:/, '').split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const [base, bits] = range.split('/');
  if (!base || base.includes(':')) return ip === base;
  const mask = bits === undefined ? 0xffffffff : Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((v4(ip) & mask) >>> 0) === ((v4(base) & mask) >>> 0);
}
