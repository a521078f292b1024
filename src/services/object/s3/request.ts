import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { ObjectDeps } from '../logic/deps.js';
import { authorize, type Operation } from '../logic/access.js';
import { findContainer } from '../logic/containers.js';
import { headersOf, sysmetaOf, type ContainerRow } from '../store.js';
import { errors, fromApiError, S3Error } from './errors.js';
import { doc, el, text } from './xml.js';
import type { Authenticated } from './sigv4.js';

/** One S3 request, parsed once by the router: who, which bucket and key, which sub-resource. */
export interface S3Request {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ObjectDeps;
  auth: Authenticated;
  ctx: RequestContext | null;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  requestId: string;
  region: string;
}

/** S3 bucket settings kept in the container's sysmeta. */
export interface BucketSysmeta {
  objectLock?: { enabled: true; rule?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days?: number; years?: number } };
}

export interface Bucket { account: string; container: ContainerRow; settings: BucketSysmeta; headers: Record<string, string> }

export const newRequestId = (): string => randomBytes(8).toString('hex').toUpperCase();

/**
 * The bucket a request names. Buckets are the containers of the caller's own account; a
 * name the caller's account does not hold is looked up among all accounts, so that a
 * container another project shared through a Swift ACL is reachable, and anyone else gets
 * AccessDenied rather than NoSuchBucket.
 */
export async function resolveBucket(s: S3Request, op: Operation, name = s.bucket!): Promise<Bucket> {
  let account = s.ctx?.projectId ?? null;
  let c = account ? await findContainer(s.deps.db, account, name) : undefined;
  if (!c) {
    const other = await s.deps.db.selectFrom('object_container').selectAll().where('name', '=', name).orderBy('created_at', 'asc').limit(1).executeTakeFirst();
    if (other) { c = other; account = other.project_id; }
  }
  if (!c || !account) throw errors.noSuchBucket({ BucketName: name });
  const headers = headersOf(c.headers);
  await guard(() => authorize({ ctx: s.ctx, referrer: s.headers.referer }, account!, op, headers), 'bucket');
  return { account, container: c, settings: sysmetaOf<BucketSysmeta>(c.sysmeta), headers };
}

/** Runs shared logic, turning its errors into S3's. */
export async function guard<T>(fn: () => T | Promise<T>, what: 'bucket' | 'key' | 'version' = 'key'): Promise<Awaited<T>> {
  try { return await fn(); } catch (err) {
    if (err instanceof ApiError) throw fromApiError(err, what);
    throw err;
  }
}

export function sendXml(s: S3Request, status: number, body: string): FastifyReply {
  return s.reply.status(status).header('content-type', 'application/xml').send(body);
}

export function errorXml(err: S3Error, resource: string, requestId: string): string {
  return doc('Error', [text('Code', err.code), text('Message', err.message),
    ...Object.entries(err.extra).map(([k, v]) => text(k, v)), text('Resource', resource), text('RequestId', requestId), el('HostId', requestId)])
    .replace(` xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, '');
}

/** ISO 8601 with milliseconds, as S3 lists dates. */
export const isoDate = (ms: number): string => new Date(ms).toISOString();
/** HTTP date, whole seconds (rounded up, as the Swift API shows the same objects). */
export const httpDate = (ms: number): string => new Date(Math.ceil(ms / 1000) * 1000).toUTCString();

export const quoteEtag = (etag: string): string => `"${etag.replace(/"/g, '')}"`;

export function owner(id: string, name?: string | null): string {
  return el('Owner', text('ID', id), text('DisplayName', name ?? id));
}

/** Truthy header values S3 clients send. */
export const isTrue = (v: string | undefined): boolean => (v ?? '').trim().toLowerCase() === 'true';
