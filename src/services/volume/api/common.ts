import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { Kysely } from 'kysely';
import type { Platform } from '../../../platform/service.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { atLeast, formatVersion, negotiate, type Version } from '../../../platform/http/microversion.js';
import type { VolumeTables } from '../store.js';
import type { ImageService } from '../../image/index.js';
import type { VolumeBackend } from '../drivers/backend/driver.js';
import type { VolumeManager } from '../logic/manager.js';
import type { BackupStore } from '../drivers/backup/driver.js';

/** What every block-storage route gets: the platform, its tables, the image service, the backend and the manager. */
export interface VolumeDeps {
  platform: Platform;
  db: Kysely<VolumeTables>;
  image: ImageService;
  backend: VolumeBackend;
  manager: VolumeManager;
  /** Where backups are kept (Object Storage when it runs, else files); see logic/backups.ts. */
  backupStore?: BackupStore;
}

/** Cinder's microversions: 3.0 up to 3.71 (Caracal's ceiling is higher; 3.71 is what the product documents' cloud runs). */
export const VOLUME_VERSIONS = { service: 'volume', min: '3.0', max: '3.71' };

declare module 'fastify' {
  interface FastifyRequest { volumeVersion?: Version }
}

/** Negotiates the microversion of every request and says it back, as Cinder does. */
export function microversions(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const v = negotiate(req.headers, VOLUME_VERSIONS);
    req.volumeVersion = v;
    // Routing ignores trailing slashes, but Cinder answers `/volumes/` (an empty id) with 404.
    const path = req.url.split('?')[0]!;
    if (path.endsWith('/') && !/^\/volume(\/v3)?\/$/.test(path)) throw new ApiError(404, 'The resource could not be found.');
    reply.header('OpenStack-API-Version', `volume ${formatVersion(v)}`);
    reply.header('Vary', 'OpenStack-API-Version');
  });
}

export const mv = (req: FastifyRequest, at: string): boolean => atLeast(req.volumeVersion ?? { major: 3, minor: 0 }, at);

/** A route that appeared at a microversion answers 404 below it, as Cinder's versioned methods do. */
export function requireVersion(req: FastifyRequest, at: string): void {
  if (!mv(req, at)) throw new ApiError(404, 'The resource could not be found.');
}

type Method = 'get' | 'post' | 'put' | 'delete' | 'head' | 'patch';

/**
 * Registers a route under `/v3/{project_id}` and, since 3.67 made the project optional,
 * under `/v3` as well. A project id in the URL must be the caller's own project unless the
 * caller is an admin (Cinder answers 400 "Malformed request url" otherwise).
 */
export function route(app: FastifyInstance, method: Method, path: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown): void {
  const withProject: RouteHandlerMethod = async (req, reply) => {
    const pid = (req.params as { project_id?: string }).project_id;
    if (pid !== undefined && pid !== req.ctx.projectId && !req.ctx.isAdmin) throw new ApiError(400, 'Malformed request url');
    return handler(req, reply);
  };
  app[method](`/v3/:project_id${path}`, withProject);
  app[method](`/v3${path}`, async (req, reply) => {
    if (!mv(req, '3.67')) throw new ApiError(404, 'The resource could not be found.');
    return handler(req, reply);
  });
}

export const badRequest = (message: string) => new ApiError(400, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);
/** Cinder's InvalidVolume and friends: a request that is valid but not now. */
export const invalid = (message: string) => new ApiError(400, message);

/** Cinder's naive timestamps: `2024-01-31T12:00:00.000000`. */
export const cinderTime = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000'));

/** The URL prefix clients reached us on, for links: `http://host:port/volume`. */
export const volumeRoot = (req: FastifyRequest, platform: Platform): string => {
  const host = req.headers.host;
  return host ? `${req.protocol}://${host}/volume` : `${platform.baseUrl()}/volume`;
};

/** Cinder's self and bookmark links for a resource of the caller's project. */
export function links(req: FastifyRequest, platform: Platform, collection: string, id: string, projectId: string) {
  const root = volumeRoot(req, platform);
  return [{ rel: 'self', href: `${root}/v3/${projectId}/${collection}/${id}` }, { rel: 'bookmark', href: `${root}/${projectId}/${collection}/${id}` }];
}

/** The single object a request body must be: `{"volume": {...}}`. */
export function bodyOf(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b?.[key];
  if (!b || typeof b !== 'object' || v === undefined) throw badRequest(`Missing required element '${key}' in request body.`);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  return v as Record<string, unknown>;
}

/** Optional string of at most `max` characters (Cinder's name and description rule), or null. */
export function optString(v: unknown, field: string, max = 255): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
  if (v.length > max) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${v}. '${v}' is too long`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && ['true', 'false', 't', 'f', '1', '0', 'yes', 'no', 'y', 'n', 'on', 'off'].includes(v.toLowerCase())) return ['true', 't', '1', 'yes', 'y', 'on'].includes(v.toLowerCase());
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a valid boolean.`);
}

/** A size in GiB: a positive integer (or its string spelling). */
export function size(v: unknown, field = 'size'): number {
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'integer', 'string'`);
  if (n < 1) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${n} is less than the minimum of 1`);
  if (n > 2 ** 31 - 1) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${n}. ${n} is greater than the maximum of 2147483647`);
  return n;
}

/** Metadata maps: string keys of 1–255 characters and string values up to 255. */
export function metadataMap(v: unknown, field = 'metadata'): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. Metadata keys must be 1 to 255 characters.`);
    if (typeof val !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(val)} is not of type 'string'`);
    if (val.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. '${val}' is too long`);
    out[k] = val;
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** Writers: the project's members, or admins (readers get 403). */
export function requireMember(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}
export function requireAdmin(ctx: RequestContext, rule: string): void {
  if (!ctx.isAdmin) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}

/** `all_tenants` (admin only; others' flag is ignored, as Cinder does) and an optional `project_id` filter. */
export function projectScope(req: FastifyRequest): string | null {
  const q = req.query as Record<string, string | undefined>;
  if (req.ctx.isAdmin && q.all_tenants !== undefined && q.all_tenants !== '0' && q.all_tenants.toLowerCase() !== 'false') return q.project_id ?? null;
  return req.ctx.projectId;
}
