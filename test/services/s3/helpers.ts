import { createHash, createHmac } from 'node:crypto';
import type { TestCloud } from '../../helpers/cloud.js';

/**
 * A small AWS Signature V4 signer and S3 client for tests: header-signed requests (with
 * the payload's SHA-256, UNSIGNED-PAYLOAD, or aws-chunked streaming with chunk
 * signatures or unsigned trailers) and presigned URLs.
 */
export interface Keys { access: string; secret: string }
export interface S3Response { status: number; headers: Headers; body: Buffer; text: string }

const sha256 = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
export const encodePath = (p: string) => p.split('/').map(enc).join('/');

function signingKey(secret: string, day: string, region: string) {
  let k = hmac(`AWS4${secret}`, day);
  for (const p of [region, 's3', 'aws4_request']) k = hmac(k, p);
  return k;
}

export const amzDate = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function canonicalQuery(q: [string, string][]) {
  return q.map(([k, v]) => [enc(k), enc(v)]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
}

export interface SignOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** 'sha256' (default), 'unsigned', 'chunked' (signed chunks), 'trailer' (unsigned chunks + crc32 trailer). */
  payload?: 'sha256' | 'unsigned' | 'chunked' | 'trailer';
  chunkSize?: number;
  date?: Date;
  region?: string;
  /** Virtual-host style: the Host header to sign and send. */
  host?: string;
  /** Sign this payload hash instead of the body's (to test the server's check). */
  claimedSha256?: string;
  /** Tamper with the chunk signatures. */
  badChunk?: boolean;
}

export function s3Client(c: () => TestCloud, keys: () => Keys) {
  const request = async (method: string, path: string, query: [string, string][] = [], o: SignOptions = {}): Promise<S3Response> => {
    const url = new URL(c().url);
    const host = o.host ?? url.host;
    const date = amzDate(o.date);
    const day = date.slice(0, 8);
    const region = o.region ?? 'us-east-1';
    const scope = `${day}/${region}/s3/aws4_request`;
    const k = keys();
    const key = signingKey(k.secret, day, region);
    const body = o.body === undefined ? Buffer.alloc(0) : Buffer.from(o.body);
    const headers: Record<string, string> = { host, 'x-amz-date': date, ...o.headers };
    let payloadHash: string;
    const mode = o.payload ?? 'sha256';
    if (mode === 'unsigned') payloadHash = 'UNSIGNED-PAYLOAD';
    else if (mode === 'chunked') { payloadHash = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'; headers['content-encoding'] = 'aws-chunked'; headers['x-amz-decoded-content-length'] = String(body.length); }
    else if (mode === 'trailer') {
      payloadHash = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'; headers['content-encoding'] = 'aws-chunked'; headers['x-amz-decoded-content-length'] = String(body.length);
      headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
    } else payloadHash = o.claimedSha256 ?? sha256(body);
    headers['x-amz-content-sha256'] = payloadHash;
    const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
    const lower = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
    const canonical = [method, encodePath(path), canonicalQuery(query), names.map((n) => `${n}:${lower[n]!.trim()}\n`).join(''), names.join(';'), payloadHash].join('\n');
    const toSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(canonical)}`;
    const signature = hmac(key, toSign).toString('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${k.access}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    let wire: Buffer = body;
    if (mode === 'chunked' || mode === 'trailer') {
      const size = o.chunkSize ?? 64 * 1024;
      const parts: Buffer[] = [];
      let prev = signature;
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
      chunks.push(Buffer.alloc(0));
      for (const ch of chunks) {
        if (mode === 'chunked') {
          const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${date}\n${scope}\n${prev}\n${sha256('')}\n${sha256(ch)}`;
          let sig = hmac(key, sts).toString('hex');
          if (o.badChunk && ch.length) sig = sig.replace(/^./, (x) => (x === '0' ? '1' : '0'));
          prev = sig;
          parts.push(Buffer.from(`${ch.length.toString(16)};chunk-signature=${sig}\r\n`), ch, Buffer.from('\r\n'));
        } else {
          parts.push(Buffer.from(`${ch.length.toString(16)}\r\n`));
          if (ch.length) parts.push(ch, Buffer.from('\r\n'));
        }
      }
      if (mode === 'trailer') {
        const { crc32 } = await import('node:zlib');
        const b = Buffer.alloc(4); b.writeUInt32BE(crc32(body) >>> 0);
        parts.push(Buffer.from(`x-amz-checksum-crc32:${b.toString('base64')}\r\n\r\n`));
      }
      wire = Buffer.concat(parts);
    }
    const qs = query.length ? `?${query.map(([k2, v]) => (v === '' && !['prefix', 'delimiter', 'marker'].includes(k2) ? enc(k2) : `${enc(k2)}=${enc(v)}`)).join('&')}` : '';
    const { host: _h, ...sendHeaders } = headers;
    const res = await fetchWithHost(`${c().url}${encodePath(path)}${qs}`, method, host === url.host ? sendHeaders : headers, method === 'GET' || method === 'HEAD' ? undefined : wire);
    return res;
  };

  /** A presigned URL (query-string authentication). */
  const presign = (method: string, path: string, expires: number, o: { date?: Date; query?: [string, string][] } = {}): string => {
    const url = new URL(c().url);
    const date = amzDate(o.date);
    const day = date.slice(0, 8);
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const k = keys();
    const q: [string, string][] = [...(o.query ?? []), ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'], ['X-Amz-Credential', `${k.access}/${scope}`], ['X-Amz-Date', date],
      ['X-Amz-Expires', String(expires)], ['X-Amz-SignedHeaders', 'host']];
    const canonical = [method, encodePath(path), canonicalQuery(q), `host:${url.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const sig = hmac(signingKey(k.secret, day, 'us-east-1'), `AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256(canonical)}`).toString('hex');
    return `${c().url}${encodePath(path)}?${canonicalQuery(q)}&X-Amz-Signature=${sig}`;
  };
  return { request, presign };
}

/** fetch() refuses to set Host; node:http does not. */
async function fetchWithHost(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<S3Response> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && h['transfer-encoding'] === undefined) h['content-length'] = String(body.length);
    const req = http.request({ hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const hs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) hs.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode ?? 0, headers: hs, body: buf, text: buf.toString('utf8') });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** EC2 credentials for a user on a project, through the Keystone API (as `openstack ec2 credentials create`). */
export async function ec2Credentials(c: TestCloud, token: string): Promise<Keys> {
  const me = await c.api('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } });
  const userId = me.body.token.user.id;
  const projectId = me.body.token.project.id;
  const r = await c.api('POST', `/identity/v3/users/${userId}/credentials/OS-EC2`, { token, body: { tenant_id: projectId } });
  if (r.status !== 201) throw new Error(`ec2 credentials: ${r.status} ${r.text}`);
  return { access: r.body.credential.access, secret: r.body.credential.secret };
}

/** The text of the first <name> element. */
export const xmlText = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
export const xmlAll = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);
