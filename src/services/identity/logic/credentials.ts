import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyRepository } from './keys.js';

/**
 * Credential blobs (EC2 key pairs, TOTP secrets) are encrypted at rest with their own key
 * repository, as Keystone's credential provider does; the API shows them decrypted to
 * their owner.
 */
export const encryptBlob = (keys: KeyRepository, blob: string): string => keys.encrypt(Buffer.from(blob, 'utf8')).toString('base64');
export function decryptBlob(keys: KeyRepository, stored: string): string {
  const plain = keys.decrypt(Buffer.from(stored, 'base64'));
  return plain ? plain.toString('utf8') : '';
}

/** SHA-256 of the access key: what EC2 credential ids are derived from upstream. */
export const ec2CredentialId = (access: string): string => createHash('sha256').update(access).digest('hex');

const safeEqual = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Signature check of /v3/ec2tokens: signature version 2 (HmacSHA256 over the canonical
 * query) or version 4 (AWS4-HMAC-SHA256, the string to sign built from the request).
 */
export interface Ec2Request {
  access: string; signature: string; host?: string; verb?: string; path?: string;
  params?: Record<string, string>; headers?: Record<string, string>; body_hash?: string;
}

export function ec2Signature(secret: string, req: Ec2Request): string {
  const params = req.params ?? {};
  const authHeader = req.headers?.Authorization ?? req.headers?.authorization;
  if (params['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256' || authHeader?.startsWith('AWS4-HMAC-SHA256')) return sigV4(secret, req, authHeader);
  const canonical = Object.keys(params).filter((k) => k !== 'Signature').sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k]!)}`).join('&');
  const toSign = `${(req.verb ?? 'GET').toUpperCase()}\n${(req.host ?? '').toLowerCase()}\n${req.path ?? '/'}\n${canonical}`;
  const alg = params.SignatureMethod === 'HmacSHA1' ? 'sha1' : 'sha256';
  return createHmac(alg, secret).update(toSign).digest('base64');
}

function sigV4(secret: string, req: Ec2Request, authHeader: string | undefined): string {
  const params = req.params ?? {};
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  let credential: string;
  let signedHeaders: string;
  let date: string;
  if (authHeader) {
    credential = /Credential=([^,]+)/.exec(authHeader)?.[1] ?? '';
    signedHeaders = /SignedHeaders=([^,]+)/.exec(authHeader)?.[1] ?? '';
    date = headers['x-amz-date'] ?? '';
  } else {
    credential = params['X-Amz-Credential'] ?? '';
    signedHeaders = params['X-Amz-SignedHeaders'] ?? '';
    date = params['X-Amz-Date'] ?? '';
  }
  const [, day, region, service] = credential.split('/');
  const canonicalQuery = Object.keys(params).filter((k) => k !== 'X-Amz-Signature').sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(params[k]!)}`).join('&');
  const canonicalHeaders = signedHeaders.split(';').map((h) => `${h}:${h === 'host' ? (headers.host ?? req.host ?? '') : headers[h] ?? ''}\n`).join('');
  const canonical = [(req.verb ?? 'GET').toUpperCase(), req.path ?? '/', canonicalQuery, canonicalHeaders, signedHeaders, req.body_hash ?? ''].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  return createHmac('sha256', signingKey(secret, day!, region!, service!)).update(toSign).digest('hex');
}

export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  let k = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  for (const part of [region, service, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  return k;
}

/**
 * /v3/s3tokens: the S3 gateway forwards the string to sign and the client's signature.
 * AWS4 strings are signed with the derived key; v2 strings with HMAC-SHA1 of the secret.
 */
export function s3SignatureMatches(secret: string, stringToSign: string, signature: string): boolean {
  if (stringToSign.startsWith('AWS4-HMAC-SHA256')) {
    const scope = stringToSign.split('\n')[2] ?? '';
    const [day, region, service] = scope.split('/');
    const sig = createHmac('sha256', signingKey(secret, day ?? '', region ?? '', service ?? '')).update(stringToSign).digest('hex');
    return safeEqual(sig, signature);
  }
  return safeEqual(createHmac('sha1', secret).update(stringToSign).digest('base64'), signature);
}

export const ec2SignatureMatches = (secret: string, req: Ec2Request): boolean => safeEqual(ec2Signature(secret, req), req.signature);

const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
