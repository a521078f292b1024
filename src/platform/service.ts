import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import type { Config } from './config.js';
import type { Db, Dialect } from './db/index.js';
import type { Logger } from './log.js';
import type { ErrorFormatter } from './http/errors.js';
import type { RequestContext } from './auth/context.js';
import type { TaskQueue } from './tasks/queue.js';

/** What the platform hands every service: no service knowledge in here. */
export interface Platform {
  config: Config;
  db: Db;
  dialect: Dialect;
  log: Logger;
  tasks: TaskQueue;
  /** Base URL clients reach this process on (scheme://host:port), no trailing slash. */
  baseUrl(): string;
  /** Turns a token into a caller; provided by the identity service. */
  authenticate(token: string): Promise<RequestContext>;
}

/**
 * A service module: one OpenStack service, its catalog entry, routes, tables and workers.
 * Adding a service is adding a folder under src/services/ that exports one of these.
 */
export interface ServiceModule {
  /** Service name in the catalog (`keystone`, `nova`, ...). */
  name: string;
  /** Catalog type (`identity`, `compute`, ...). */
  type: string;
  /** Path prefix on the shared listener (`/identity`). */
  prefix: string;
  /** Endpoint URL path as it goes in the catalog, may hold `$(project_id)s`. */
  endpointPath: string;
  /**
   * More catalog entries for the same endpoint, for clients that look a service up by an
   * older type (Cinder is `block-storage`, and `volumev3` for clients that ask for that).
   */
  catalogAliases?: Array<{ name: string; type: string }>;
  errorFormat: ErrorFormatter;
  migrations: Record<string, Migration>;
  /** Routes, relative to `prefix`. */
  routes(app: FastifyInstance, platform: Platform): Promise<void>;
  /** After migrations and before listening: bootstrap data, start workers. */
  start?(platform: Platform, services: ServiceModule[]): Promise<void>;
  stop?(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig {
    /** Route needs no token (version documents, token issue). */
    public?: boolean;
  }
}
