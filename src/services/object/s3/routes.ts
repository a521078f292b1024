import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/service.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { ObjectDeps } from '../logic/deps.js';
import { errors, fromApiError, S3Error } from './errors.js';
import { authenticate, parseQuery, type SignerLookup } from './sigv4.js';
import { errorXml, newRequestId, resolveBucket, type S3Request } from './request.js';
import * as bucket from './buckets.js';
import * as object from './objects.js';
import * as multipart from './multipart.js';

/**
 * The S3 API. The shared listener sends every request carrying an AWS signature (and
 * anonymous ones addressed to `<bucket>.s3.<domain>`) here, under /s3; the path and host
 * the client used are read from the original URL, so path-style (`/bucket/key`) and
 * virtual-host-style (`bucket.<host>/key`) both work and signatures cover what was sent.
 */
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

/** Bucket sub-resources this API does not offer: answered with NotImplemented rather than misread as listings. */
const UNSUPPORTED = ['accelerate', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'lifecycle', 'logging', 'metrics',
  'notification', 'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'tagging', 'website', 'torrent', 'restore', 'select', 'attributes'];

export async function s3Routes(app: FastifyInstance, deps: ObjectDeps, platform: Platform, prefix: string, lookup: SignerLookup): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.setErrorHandler((err, req, reply) => sendError(req, reply, err));
    const handler = (req: FastifyRequest, reply: FastifyReply) => dispatch(req, reply, deps, platform, prefix, lookup);
    scope.route({ method: METHODS, url: '/', config: { public: true }, handler });
    scope.route({ method: METHODS, url: '/*', config: { public: true }, handler });
  });
}

/** The bucket named by the Host header (virtual-host style), if any. */
export function bucketFromHost(host: string | undefined, baseUrl: string): string | null {
  if (!host) return null;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  let base = '';
  try { base = new URL(baseUrl).hostname.toLowerCase(); } catch { base = ''; }
  const isIp = /^\d+\.\d+\.\d+\.\d+$/.test(base) || base.startsWith('[');
  if (base && !isIp && name.endsWith(`.${base}`)) {
    const b = name.slice(0, -base.length - 1);
    return b.startsWith('s3.') || b === 's3' ? null : b.replace(/\.s3$/, '');
  }
  const m = /^(.+)\.s3\.[^.]/.exec(name);
  return m ? m[1]! : null;
}

async function dispatch(req: FastifyRequest, reply: FastifyReply, deps: ObjectDeps, platform: Platform, prefix: string, lookup: SignerLookup): Promise<unknown> {
  const requestId = (reply.getHeader('x-amz-request-id') as string | undefined) ?? newRequestId();
  reply.header('x-amz-request-id', requestId).header('x-amz-id-2', requestId);
  const original = req.originalUrl ?? req.url;
  const q = original.indexOf('?');
  const rawPath = q < 0 ? original : original.slice(0, q);
  const rawQuery = q < 0 ? '' : original.slice(q + 1);
  // A request that came to /s3 itself (not rewritten) addresses /s3/<bucket>/<key>.
  const path = req.url === original && rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) || '/' : rawPath;
  const auth = await authenticate({ method: req.method, rawPath, rawQuery, rawHeaders: req.raw.rawHeaders }, lookup);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  const query = new URLSearchParams(parseQuery(rawQuery));
  let segs: string[];
  try { segs = path.split('/').slice(1).map((x) => decodeURIComponent(x)); } catch { throw errors.invalidArgument('Invalid URI encoding'); }
  const hostBucket = bucketFromHost(headers.host, platform.baseUrl());
  let bucketName: string | undefined;
  let key: string | undefined;
  if (hostBucket) {
    bucketName = hostBucket;
    key = segs.join('/') || undefined;
  } else {
    bucketName = segs[0] || undefined;
    key = segs.slice(1).join('/') || undefined;
  }
  const s: S3Request = { req, reply, deps, auth, ctx: auth.ctx, bucket: bucketName, key, query, headers, requestId, region: platform.config.region };
  const m = req.method;
  const has = (n: string) => query.has(n);
  if (!bucketName) {
    if (m === 'GET') return bucket.listBuckets(s);
    throw errors.methodNotAllowed();
  }
  if (key === undefined) {
    const unsupported = UNSUPPORTED.find(has);
    if (unsupported) throw errors.notImplemented();
    switch (m) {
      case 'PUT':
        if (has('versioning')) return bucket.putVersioning(s);
        if (has('object-lock')) return bucket.putObjectLockConfiguration(s);
        if (has('acl')) return aclAccepted(s);
        return bucket.createBucket(s);
      case 'GET':
        if (has('versioning')) return bucket.getVersioning(s);
        if (has('object-lock')) return bucket.getObjectLockConfiguration(s);
        if (has('location')) return bucket.getLocation(s);
        if (has('versions')) return bucket.listObjectVersions(s);
        if (has('uploads')) return multipart.listMultipartUploads(s);
        if (has('acl')) return bucket.getBucketAcl(s);
        return bucket.listObjectsRequest(s);
      case 'HEAD': return bucket.headBucket(s);
      case 'DELETE': return bucket.deleteBucket(s);
      case 'POST':
        if (has('delete')) return object.deleteObjectsRequest(s);
        throw errors.methodNotAllowed();
      default: throw errors.methodNotAllowed();
    }
  }
  if (has('tagging') || has('torrent') || has('restore') || has('select') || has('attributes')) throw errors.notImplemented();
  switch (m) {
    case 'PUT':
      if (has('uploadId') && has('partNumber')) return multipart.uploadPart(s);
      if (has('retention')) return object.putRetention(s);
      if (has('legal-hold')) return object.putLegalHold(s);
      if (has('acl')) return aclAccepted(s);
      return object.putObjectRequest(s);
    case 'GET': case 'HEAD':
      if (m === 'GET' && has('uploadId')) return multipart.listPartsRequest(s);
      if (has('retention')) return object.getRetention(s);
      if (has('legal-hold')) return object.getLegalHold(s);
      if (has('acl')) return object.getObjectAcl(s);
      return object.getObjectRequest(s);
    case 'DELETE':
      if (has('uploadId')) return multipart.abortMultipart(s);
      return object.deleteObjectRequest(s);
    case 'POST':
      if (has('uploads')) return multipart.createMultipart(s);
      if (has('uploadId')) return multipart.completeMultipart(s);
      throw errors.methodNotAllowed();
    default: throw errors.methodNotAllowed();
  }
}

/** Canned `private` ACLs are what every object and bucket has; anything else is not offered. */
async function aclAccepted(s: S3Request): Promise<unknown> {
  const canned = s.headers['x-amz-acl'];
  if (canned !== undefined && canned !== 'private') throw errors.notImplemented();
  await resolveBucket(s, s.key === undefined ? 'manage' : 'write');
  for await (const _ of s.req.raw) { /* drain the document */ }
  return s.reply.status(200).header('content-length', 0).send();
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let e: S3Error;
  if (err instanceof S3Error) e = err;
  else if (err instanceof ApiError) e = fromApiError(err);
  else {
    const fe = err as { statusCode?: number; message?: string; code?: string };
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) e = errors.invalidRequest(fe.message ?? 'Invalid request');
    else {
      req.log.error({ err, request_id: req.id }, 'unhandled error');
      e = new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
    }
  }
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  // A refused upload's remaining bytes are not read: close the connection after answering.
  if (!req.raw.complete) { reply.header('connection', 'close'); req.raw.unpipe(); req.raw.resume(); }
  const requestId = (reply.getHeader('x-amz-request-id') as string | undefined) ?? newRequestId();
  reply.header('x-amz-request-id', requestId);
  const resource = (req.originalUrl ?? req.url).split('?')[0] ?? '/';
  reply.status(e.status).header('content-type', 'application/xml');
  if (req.method === 'HEAD') return reply.header('content-length', 0).send();
  return reply.send(errorXml(e, resource, requestId));
}
