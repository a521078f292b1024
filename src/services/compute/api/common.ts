import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/service.js';
import { ApiError } from '../../../platform/http/errors.js';
import { atLeast, formatVersion, negotiate, type Version } from '../../../platform/http/microversion.js';
import type { Kysely } from 'kysely';
import type { ComputeTables } from '../store.js';
import type { ImageService } from '../../image/index.js';
import type { NetworkService } from '../../network/index.js';
import type { VolumeService } from '../../volume/index.js';
import type { VirtDriver } from '../drivers/virt/driver.js';
import type { ComputeManager } from '../logic/manager.js';

/** What every compute route gets: the platform, its tables, the services it calls, the hypervisor. */
export interface ComputeDeps {
  platform: Platform;
  db: Kysely<ComputeTables>;
  image: ImageService;
  network: NetworkService;
  /** Block storage, when the cloud runs it (null: volumes are refused). */
  volume: VolumeService | null;
  driver: VirtDriver;
  manager: ComputeManager;
}

/** Nova's microversion range: 2.1 up to Caracal's 2.96, the release the documented cloud runs. */
export const COMPUTE_VERSIONS = { service: 'compute', min: '2.1', max: '2.96', legacyHeader: 'X-OpenStack-Nova-API-Version' };

declare module 'fastify' {
  interface FastifyRequest { computeVersion?: Version }
}

/** Negotiates the microversion of every request and says it back, as Nova does. */
export function microversions(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const v = negotiate(req.headers, COMPUTE_VERSIONS);
    req.computeVersion = v;
    reply.header('OpenStack-API-Version', `compute ${formatVersion(v)}`);
    reply.header('X-OpenStack-Nova-API-Version', formatVersion(v));
    reply.header('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    reply.header('x-compute-request-id', req.id);
  });
}

export const mv = (req: FastifyRequest, at: string): boolean => atLeast(req.computeVersion ?? { major: 2, minor: 1 }, at);

/** Refuses a request made below the microversion that introduced the route (Nova: 404). */
export function requireVersion(req: FastifyRequest, at: string): void {
  if (!mv(req, at)) throw new ApiError(404, 'The resource could not be found.');
}

export const badRequest = (message: string) => new ApiError(400, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

/** The URL prefix clients reached us on, for links: `http://host:port/compute`. */
export const computeRoot = (req: FastifyRequest, platform: Platform): string => {
  const host = req.headers.host;
  return host ? `${req.protocol}://${host}/compute` : `${platform.baseUrl()}/compute`;
};

/** Nova's self and bookmark links for a resource. */
export function links(req: FastifyRequest, platform: Platform, collection: string, id: string | number) {
  const root = computeRoot(req, platform);
  return [{ rel: 'self', href: `${root}/v2.1/${collection}/${id}` }, { rel: 'bookmark', href: `${root}/${collection}/${id}` }];
}

/** Nova's timestamps: `2024-01-31T12:00:00Z`. */
export const novaTime = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
/** Nova's "naive" timestamps (launched_at, instance actions): `2024-01-31T12:00:00.000000`. */
export const novaNaiveTime = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000'));

/** The single object a request body must be: `{"server": {...}}`. */
export function bodyOf(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b?.[key];
  if (!b || typeof b !== 'object' || !v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v ?? null)}. ${key} is a required property`);
  return v as Record<string, unknown>;
}

export function str(v: unknown, field: string, opts: { max?: number; min?: number; allowNull?: boolean } = {}): string | null {
  if (v === null && opts.allowNull) return null;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
  if (opts.max !== undefined && v.length > opts.max) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${v}. '${v}' is too long`);
  if ((opts.min ?? 0) > 0 && v.length < (opts.min ?? 0)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${v}. '${v}' is too short`);
  return v;
}

/** Nova's name rule: 1–255 characters, no leading or trailing whitespace. */
export function name(v: unknown, field = 'name'): string {
  const s = str(v, field, { max: 255, min: 1 })!;
  if (s.trim() !== s || /[\u0000-\u001f]/.test(s)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${s}. '${s}' does not match the name pattern (no leading or trailing whitespace)`);
  return s;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  // oslo's strutils spellings, any case: True/true/t/1/yes/y/on and their opposites.
  if (typeof v === 'string' && ['true', 'false', 't', 'f', '1', '0', 'yes', 'no', 'y', 'n', 'on', 'off'].includes(v.toLowerCase())) return ['true', 't', '1', 'yes', 'y', 'on'].includes(v.toLowerCase());
  throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'boolean'`);
}

export function int(v: unknown, field: string, min = 0, max = 2 ** 31 - 1): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'integer'`);
  if (n < min) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${n}. ${n} is less than the minimum of ${min}`);
  if (n > max) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${n}. ${n} is greater than the maximum of ${max}`);
  return n;
}

/** Metadata maps: string keys of 1–255 characters and string values up to 255. */
export function metadataMap(v: unknown, field = 'metadata'): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. Metadata keys must be 1 to 255 characters`);
    if (typeof val !== 'string') throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(val)} is not of type 'string'`);
    if (val.length > 255) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. '${val}' is too long`);
    out[k] = val;
  }
  return out;
}

/** Nova's paging: `limit` (positive), `marker` (an id that must exist). */
export function paging(req: FastifyRequest): { limit: number | null; marker: string | null } {
  const q = req.query as Record<string, string | undefined>;
  let limit: number | null = null;
  if (q.limit !== undefined) {
    if (!/^\d+$/.test(q.limit)) throw badRequest(`Invalid input for query parameters limit. Value: ${q.limit}. '${q.limit}' does not match '^[0-9]*$'`);
    limit = Number(q.limit);
  }
  return { limit, marker: q.marker ?? null };
}

/** The `<collection>_links` next link Nova adds when a page is full. */
export function nextLink(req: FastifyRequest, platform: Platform, collection: string, items: Array<{ id: string | number }>, limit: number | null) {
  if (limit === null || items.length < limit || items.length === 0) return {};
  const q = new URLSearchParams(req.query as Record<string, string>);
  q.set('marker', String(items[items.length - 1]!.id));
  const path = req.url.split('?')[0]!.replace(/^\/compute/, '');
  return { [`${collection}_links`]: [{ rel: 'next', href: `${computeRoot(req, platform)}${path}?${q.toString()}` }] };
}
