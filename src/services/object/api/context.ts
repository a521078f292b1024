import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/auth/context.js';
import type { ObjectDeps } from '../logic/deps.js';
import type { Caller } from '../logic/access.js';

/** One Swift request, parsed once by the router and handed to the account, container or object handler. */
export interface SwiftRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ObjectDeps;
  ctx: RequestContext | null;
  caller: Caller;
  /** The project the account belongs to (AUTH_<project_id>). */
  account: string;
  /** `AUTH_<project_id>` as it appears in paths. */
  accountPath: string;
  container?: string;
  object?: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Path as signed by TempURL clients: the whole request path, prefix included. */
  fullPath: string;
  /** Path from /v1 on, as Swift itself sees it. */
  swiftPath: string;
  /** Set when a valid TempURL authorised this one request. */
  tempUrl?: { method: string };
  /** A static website's error page: served with 404 instead of 200. */
  errorPage?: boolean;
}
