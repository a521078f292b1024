import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import type { RequestContext } from '../../platform/auth/context.js';
import { ApiError, type ErrorFormatter } from '../../platform/http/errors.js';
import { FsBlobStore } from '../../platform/blobs/fs.js';
import type { BlobStore } from '../../platform/blobs/store.js';
import { objectMigrations } from './migrations.js';
import { headersOf, objectDb, type ContainerRow, type ObjectRow } from './store.js';
import type { ObjectDeps } from './logic/deps.js';
import { authorize } from './logic/access.js';
import { deleteContainer, findContainer, getAccount, putContainer, type AccountInfo } from './logic/containers.js';
import { deleteObject, findObject, putObject } from './logic/objects.js';
import { contentOf, streamRange } from './logic/large.js';
import { listObjects, type ListOptions } from './logic/listing.js';
import { Expirer } from './logic/expirer.js';
import { swiftRoutes } from './api/routes.js';
import { errorBody } from './api/wire.js';
import { s3Module, type S3Credentials } from './s3/index.js';

/**
 * The object storage service (Swift API v1). Other services (volume backups, later the
 * S3 API) store and read objects through the typed interface below, on behalf of a caller
 * whose access rules apply exactly as they do over HTTP. Accounts are projects: by
 * default a call works in the caller's own project's account.
 */
export interface ContainerInfo {
  name: string; policy: string; objectCount: number; bytesUsed: number; createdAt: number; metadata: Record<string, string>;
}
export interface ObjectInfo {
  container: string; name: string; size: number; etag: string; contentType: string; lastModified: number;
  /** X-Object-Meta-* without the prefix. */
  metadata: Record<string, string>;
  deleteAt: number | null;
}
export interface PutOptions {
  contentType?: string; metadata?: Record<string, string>; contentLength?: number; etag?: string;
  /** Expiry, epoch milliseconds. */
  deleteAt?: number; account?: string;
}

export interface ObjectService extends ServiceModule {
  /** Creates the container if missing (in the given storage policy); returns it either way. */
  ensureContainer(ctx: RequestContext, container: string, opts?: { policy?: string; account?: string }): Promise<ContainerInfo>;
  getContainer(ctx: RequestContext, container: string, opts?: { account?: string }): Promise<ContainerInfo>;
  deleteContainer(ctx: RequestContext, container: string, opts?: { account?: string }): Promise<void>;
  putObject(ctx: RequestContext, container: string, name: string, data: Readable, opts?: PutOptions): Promise<ObjectInfo>;
  headObject(ctx: RequestContext, container: string, name: string, opts?: { account?: string }): Promise<ObjectInfo>;
  /** The object's bytes (a large object's whole content), all or the inclusive range. */
  getObject(ctx: RequestContext, container: string, name: string, opts?: { account?: string; range?: { start: number; end: number } }): Promise<{ info: ObjectInfo; data: Readable }>;
  deleteObject(ctx: RequestContext, container: string, name: string, opts?: { account?: string }): Promise<void>;
  listObjects(ctx: RequestContext, container: string, opts?: Partial<ListOptions> & { account?: string }): Promise<(ObjectInfo | { subdir: string })[]>;
  getAccountInfo(ctx: RequestContext, opts?: { account?: string }): Promise<AccountInfo>;
  /** The S3 API on this service's data, as a module of its own (prefix /s3); `credentials` checks EC2 keys (the identity service). */
  s3(credentials: S3Credentials): ServiceModule;
}

/** Swift's plain error bodies for errors raised before a Swift route takes over (e.g. token checks). */
const swiftError: ErrorFormatter = ({ status, message }) => errorBody(status, message).body;

const accountOf = (ctx: RequestContext, account?: string): string => {
  const a = account ?? ctx.projectId;
  if (!a) throw new ApiError(403, 'Forbidden');
  return a;
};

const containerInfo = (c: ContainerRow): ContainerInfo => ({
  name: c.name, policy: c.policy, objectCount: Number(c.object_count), bytesUsed: Number(c.bytes_used), createdAt: c.created_at,
  metadata: Object.fromEntries(Object.entries(headersOf(c.headers)).filter(([k]) => k.startsWith('x-container-meta-')).map(([k, v]) => [k.slice(17), v])),
});

const objectInfo = (container: string, o: ObjectRow, size = Number(o.size), etag = o.etag): ObjectInfo => ({
  container, name: o.name, size, etag: etag.replace(/"/g, ''), contentType: o.content_type, lastModified: o.created_at, deleteAt: o.delete_at,
  metadata: Object.fromEntries(Object.entries(headersOf(o.headers)).filter(([k]) => k.startsWith('x-object-meta-')).map(([k, v]) => [k.slice(14), v])),
});

export function objectService(opts: { blobs?: BlobStore } = {}): ObjectService {
  let deps: ObjectDeps | null = null;
  let expirer: Expirer | null = null;
  const need = () => { if (!deps) throw new Error('object service not started'); return deps; };
  const caller = (ctx: RequestContext) => ({ ctx });
  const prefix = '/object-store';
  return {
    name: 'swift',
    type: 'object-store',
    prefix,
    endpointPath: `${prefix}/v1/AUTH_$(project_id)s`,
    errorFormat: swiftError,
    migrations: objectMigrations,
    async start(platform: Platform) {
      deps = { platform, db: objectDb(platform.db), blobs: opts.blobs ?? new FsBlobStore(join(platform.config.dataDir, 'blobs')) };
      expirer = new Expirer(deps, Number(process.env.STRATUS_OBJECT_EXPIRER_INTERVAL_MS ?? 1000));
      expirer.start();
    },
    async stop() {
      await expirer?.stop();
    },
    async routes(app: FastifyInstance, platform: Platform) {
      const d = { get platform() { return need().platform; }, get db() { return need().db; }, get blobs() { return need().blobs; } } as ObjectDeps;
      await swiftRoutes(app, d, platform, prefix);
    },
    async ensureContainer(ctx, container, o = {}) {
      const account = accountOf(ctx, o.account);
      const existing = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, existing ? 'list' : 'manage', existing ? headersOf(existing.headers) : {});
      if (existing) return containerInfo(existing);
      return containerInfo((await putContainer(need(), account, container, { policy: o.policy, changes: { set: {}, remove: [] } })).container);
    },
    async getContainer(ctx, container, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'list', c ? headersOf(c.headers) : {});
      if (!c) throw new ApiError(404, 'Not Found');
      return containerInfo(c);
    },
    async deleteContainer(ctx, container, o = {}) {
      const account = accountOf(ctx, o.account);
      authorize(caller(ctx), account, 'manage');
      await deleteContainer(need(), account, container);
    },
    async putObject(ctx, container, name, data, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'write', c ? headersOf(c.headers) : {});
      const headers = Object.fromEntries(Object.entries(o.metadata ?? {}).map(([k, v]) => [`x-object-meta-${k.toLowerCase()}`, v]));
      const row = await putObject(need(), {
        account, container, name, data, contentLength: o.contentLength ?? null, etag: o.etag,
        contentType: o.contentType ?? 'application/octet-stream', headers, deleteAt: o.deleteAt ?? null,
      });
      return objectInfo(container, row);
    },
    async headObject(ctx, container, name, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'read', c ? headersOf(c.headers) : {});
      const { object } = await findObject(need(), account, container, name);
      const content = await contentOf(need(), account, object);
      return objectInfo(container, object, content.size, content.etag);
    },
    async getObject(ctx, container, name, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'read', c ? headersOf(c.headers) : {});
      const { object } = await findObject(need(), account, container, name);
      const content = await contentOf(need(), account, object);
      return { info: objectInfo(container, object, content.size, content.etag), data: streamRange(need(), content, o.range) };
    },
    async deleteObject(ctx, container, name, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'write', c ? headersOf(c.headers) : {});
      await deleteObject(need(), account, container, name);
    },
    async listObjects(ctx, container, o = {}) {
      const account = accountOf(ctx, o.account);
      const c = await findContainer(need().db, account, container);
      authorize(caller(ctx), account, 'list', c ? headersOf(c.headers) : {});
      if (!c) throw new ApiError(404, 'Not Found');
      const entries = await listObjects(need().db, need().platform.dialect, c.id, { limit: 10000, ...o });
      return entries.map((e) => ('subdir' in e ? { subdir: e.subdir } : objectInfo(container, e.row)));
    },
    s3: (credentials) => s3Module(need, credentials),
    async getAccountInfo(ctx, o = {}) {
      const account = accountOf(ctx, o.account);
      authorize(caller(ctx), account, 'list');
      return getAccount(need(), account);
    },
  };
}


