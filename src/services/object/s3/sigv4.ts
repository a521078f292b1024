import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../../platform/auth/context.js';
import { errors, S3Error } from './errors.js';

/**
 * AWS Signature Version 4 as S3 uses it: in the Authorization header or in the query
 * string (presigned URLs). The canonical request is rebuilt from what arrived on the wire
 * (path as sent, query re-encoded and sorted, the signed headers' raw values); the key
 * comes from the EC2 credential through the identity service. Any region is accepted
 * (clients configured with none sign for us-east-1); the service must be `s3`.
 */
export interface Ec2SignerLike {
  signingKey(day: string, region: string, service: string): Buffer;
  context(): Promise<RequestContext>;
}
export type SignerLookup = (access: string) => Promise<Ec2SignerLike | null>;

export interface SignedRequest {
  method: string;
  /** The path exactly as the client sent it (%-encoded). */
  rawPath: string;
  /** The query string as sent, without '?'. */
  rawQuery: string;
  /** Raw header list (name, value, name, value, ...) as Node keeps it. */
  rawHeaders: string[];
}

/** Who is calling and, for streaming uploads, what chunk signatures chain from. */
export interface Authenticated {
  ctx: RequestContext | null;
  access?: string;
  /** x-amz-content-sha256 as signed (a hex digest, UNSIGNED-PAYLOAD or a STREAMING-* mode). */
  payload: string;
  chain?: { key: Buffer; date: string; scope: string; seed: string };
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES = 7 * 24 * 3600;

export const sha256hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
export const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is %XX (upper case). */
export const uriEncode = (s: string, keepSlash = false): string => {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? e.replace(/%2F/g, '/') : e;
};

const safeDecode = (s: string): string => { try { return decodeURIComponent(s); } catch { return s; } };

export function parseQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw.split('&').filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    return i < 0 ? [safeDecode(p), ''] : [safeDecode(p.slice(0, i)), safeDecode(p.slice(i + 1))];
  });
}

function canonicalQuery(pairs: [string, string][], skip?: string): string {
  return pairs.filter(([k]) => k !== skip).map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValues(raw: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const list = out.get(k) ?? [];
    list.push(raw[i + 1]!.trim().replace(/\s+/g, ' '));
    out.set(k, list);
  }
  return out;
}

/** The paths a client may have signed for this request: as sent, and re-encoded the canonical way. */
function candidatePaths(rawPath: string): string[] {
  const encoded = rawPath.split('/').map((seg) => uriEncode(safeDecode(seg))).join('/');
  return [...new Set([rawPath || '/', encoded || '/'])];
}

export function stringToSign(date: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${date}\n${scope}\n${sha256hex(canonicalRequest)}`;
}

/** Parses `YYYYMMDDTHHMMSSZ`. */
export function amzDate(s: string | undefined): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? '');
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

interface Parsed { access: string; day: string; region: string; service: string; signedHeaders: string[]; signature: string; date: string }

function parseCredential(cred: string, bad: (m: string) => S3Error): Pick<Parsed, 'access' | 'day' | 'region' | 'service'> {
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) throw bad(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  if (parts[3] !== 's3') throw bad(`Error parsing the X-Amz-Credential parameter; incorrect service "${parts[3]}". This endpoint belongs to "s3".`);
  return { access: parts[0]!, day: parts[1]!, region: parts[2]!, service: parts[3]! };
}

/** True when the request carries an AWS signature of either form. */
export const isSigned = (authorization: string | undefined, query: [string, string][]): boolean =>
  !!authorization || query.some(([k]) => k === 'X-Amz-Algorithm' || k === 'X-Amz-Signature');

/**
 * Verifies the request's signature and returns the caller (null when anonymous). Throws
 * the S3 error a client expects: malformed, unknown key, mismatch, skew or expiry.
 */
export async function authenticate(req: SignedRequest, lookup: SignerLookup, nowMs = Date.now()): Promise<Authenticated> {
  const headers = headerValues(req.rawHeaders);
  const h1 = (n: string) => headers.get(n)?.join(',');
  const query = parseQuery(req.rawQuery);
  const q = (k: string) => query.find(([n]) => n === k)?.[1];
  const authorization = h1('authorization');
  if (!isSigned(authorization, query)) return { ctx: null, payload: h1('x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD' };

  let p: Parsed;
  let presigned = false;
  if (authorization) {
    if (authorization.startsWith('AWS ')) throw errors.invalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
    if (!authorization.startsWith(`${ALGORITHM} `)) throw errors.authorizationHeaderMalformed('The authorization header is malformed; the authorization mechanism is not supported.');
    const fields = Object.fromEntries(authorization.slice(ALGORITHM.length + 1).split(',').map((f) => f.trim()).filter(Boolean)
      .map((f) => { const i = f.indexOf('='); return [f.slice(0, i), f.slice(i + 1)]; }));
    if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) throw errors.authorizationHeaderMalformed('The authorization header is malformed; it must hold Credential, SignedHeaders and Signature.');
    const date = h1('x-amz-date') ?? '';
    p = { ...parseCredential(fields.Credential, errors.authorizationHeaderMalformed), signedHeaders: fields.SignedHeaders.split(';'), signature: fields.Signature, date };
    let t = amzDate(date);
    if (t === null && h1('date')) { const d = Date.parse(h1('date')!); t = Number.isNaN(d) ? null : d; p.date = new Date(d).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); }
    if (t === null) throw new S3Error('AccessDenied', 403, 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(nowMs - t) > MAX_SKEW_MS) throw errors.requestTimeTooSkewed();
    if (!h1('x-amz-content-sha256')) throw errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
  } else {
    presigned = true;
    if (q('X-Amz-Algorithm') !== ALGORITHM) throw errors.authorizationQueryParametersError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    const cred = q('X-Amz-Credential'); const date = q('X-Amz-Date'); const sh = q('X-Amz-SignedHeaders'); const sig = q('X-Amz-Signature'); const exp = q('X-Amz-Expires');
    if (!cred || !date || !sh || !sig || !exp) throw errors.authorizationQueryParametersError('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
    p = { ...parseCredential(cred, errors.authorizationQueryParametersError), signedHeaders: sh.split(';'), signature: sig, date };
    const t = amzDate(date);
    if (t === null) throw errors.authorizationQueryParametersError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
    if (!/^\d+$/.test(exp) || Number(exp) > MAX_EXPIRES) throw errors.authorizationQueryParametersError('X-Amz-Expires must be less than a week (in seconds) that is 604800');
    if (t - nowMs > MAX_SKEW_MS) throw new S3Error('AccessDenied', 403, 'Request is not valid yet');
    if (nowMs > t + Number(exp) * 1000) throw errors.expired();
  }
  if (!p.signedHeaders.includes('host')) throw errors.authorizationHeaderMalformed('The host header must be signed.');
  if (p.date.slice(0, 8) !== p.day) throw errors.authorizationHeaderMalformed(`Invalid credential date "${p.day}". This date is not the same as X-Amz-Date: "${p.date.slice(0, 8)}".`);

  const signer = await lookup(p.access);
  if (!signer) throw errors.invalidAccessKeyId();
  const payload = presigned ? (q('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD') : h1('x-amz-content-sha256')!;
  const canonicalHeaders = p.signedHeaders.map((n) => `${n}:${(headers.get(n) ?? []).join(',')}\n`).join('');
  const cq = canonicalQuery(query, presigned ? 'X-Amz-Signature' : undefined);
  const scope = `${p.day}/${p.region}/${p.service}/aws4_request`;
  const key = signer.signingKey(p.day, p.region, p.service);
  let ok = false;
  for (const path of candidatePaths(req.rawPath)) {
    const canonical = [req.method, path, cq, canonicalHeaders, p.signedHeaders.join(';'), payload].join('\n');
    if (same(hmac(key, stringToSign(p.date, scope, canonical)).toString('hex'), p.signature)) { ok = true; break; }
  }
  if (!ok) throw errors.signatureDoesNotMatch();
  let ctx: RequestContext;
  try { ctx = await signer.context(); } catch { throw errors.accessDenied(); }
  return {
    ctx, access: p.access, payload,
    ...(payload.startsWith('STREAMING-AWS4-HMAC-SHA256') ? { chain: { key, date: p.date, scope, seed: p.signature } } : {}),
  };
}
