import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/service.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { permittedByAccessRules } from '../../../platform/auth/access-rules.js';
import type { ObjectDeps } from '../logic/deps.js';
import { findContainer } from '../logic/containers.js';
import { validTempUrl } from '../logic/tempurl.js';
import { headersOf } from '../store.js';
import type { SwiftRequest } from './context.js';
import { headerMap, sendError, transId } from './wire.js';
import { accountRequest } from './account.js';
import { containerRequest } from './container.js';
import { objectRequest } from './object.js';
import { infoRoute } from './info.js';
import { bulkDelete, extractArchive } from './bulk.js';
import { corsHeaders, preflight } from './cors.js';
import { staticWeb } from './staticweb.js';
import { formPost, isFormPost } from './formpost.js';

/**
 * The Swift API under /object-store: `/info` and `/v1/AUTH_<project>[/<container>[/<object>]]`.
 * One catch-all route per path shape parses the path itself (object names keep every byte
 * and slash), authenticates when a token is present (anonymous requests may still be let
 * in by an ACL, a TempURL, a FormPost signature or a public static website), and hands
 * the request to the account, container or object handler. Bodies are never parsed here:
 * uploads stream from the socket to the blob store.
 */
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY', 'OPTIONS'];

export async function swiftRoutes(app: FastifyInstance, deps: ObjectDeps, platform: Platform, prefix: string): Promise<void> {
  if (!app.supportedMethods.includes('COPY')) app.addHttpMethod('COPY', { hasBody: true });
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.setErrorHandler((err, req, reply) => sendError(req, reply, err));
    scope.addHook('onRequest', async (req, reply) => {
      const id = transId();
      reply.header('x-trans-id', id).header('x-openstack-request-id', id);
    });
    scope.route({ method: ['GET', 'HEAD'], url: '/healthcheck', config: { public: true }, handler: (req, reply) =>
      reply.status(200).header('content-type', 'text/plain').header('content-length', 2).send(req.method === 'HEAD' ? undefined : 'OK') });
    scope.route({ method: ['GET', 'HEAD', 'OPTIONS'], url: '/info', config: { public: true }, handler: infoRoute(deps) });
    const handler = (req: FastifyRequest, reply: FastifyReply) => dispatch(req, reply, deps, platform, prefix);
    scope.route({ method: METHODS, url: '/v1/*', config: { public: true }, handler });
    scope.route({ method: METHODS, url: '/v1', config: { public: true }, handler: (req, reply) => sendError(req, reply, new ApiError(412, 'Invalid path')) });
  });
}

function segments(path: string): { account: string; container?: string; object?: string } | null {
  // path: /v1/<account>[/<container>[/<object...>]]
  const rest = path.slice('/v1/'.length);
  const parts = rest.split('/');
  const dec = (s: string) => decodeURIComponent(s);
  try {
    const account = dec(parts[0] ?? '');
    if (parts.length === 1 || (parts.length === 2 && parts[1] === '')) return { account };
    const container = dec(parts[1]!);
    const objectRaw = parts.slice(2).join('/');
    if (parts.length === 2 || (parts.length === 3 && objectRaw === '')) return { account, container };
    return { account, container, object: dec(objectRaw) };
  } catch {
    return null;
  }
}

async function authenticate(platform: Platform, req: FastifyRequest, h: Record<string, string>, prefix: string): Promise<RequestContext | null> {
  const token = h['x-auth-token'] ?? h['x-storage-token'];
  if (!token) return null;
  const ctx = await platform.authenticate(token);
  if (!permittedByAccessRules(ctx, 'object-store', req.method, req.url.slice(prefix.length))) {
    throw new ApiError(401, 'The request you have made is not permitted by the access rules of this application credential.');
  }
  return ctx;
}

async function dispatch(req: FastifyRequest, reply: FastifyReply, deps: ObjectDeps, platform: Platform, prefix: string): Promise<unknown> {
  const url = req.raw.url ?? req.url;
  const q = url.indexOf('?');
  const fullPath = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const swiftPath = fullPath.slice(prefix.length);
  const seg = segments(swiftPath);
  if (!seg) throw new ApiError(412, 'Invalid UTF8 or contains NULL');
  if (!seg.account.startsWith('AUTH_') || seg.account.length <= 5) throw new ApiError(404, 'Not Found');
  const h = headerMap(req);
  const r: SwiftRequest = {
    req, reply, deps, ctx: null, caller: { ctx: null, referrer: h.referer }, account: seg.account.slice(5), accountPath: seg.account,
    container: seg.container, object: seg.object, query, headers: h, fullPath, swiftPath,
  };
  if (r.container !== undefined && h.origin) {
    const c = await findContainer(deps.db, r.account, r.container);
    if (req.method === 'OPTIONS') return preflight(r, c);
    if (c) corsHeaders(r, headersOf(c.headers));
  } else if (req.method === 'OPTIONS') {
    return reply.status(200).header('allow', METHODS.join(', ')).header('content-type', 'text/html; charset=UTF-8').header('content-length', 0).send();
  }
  if (query.has('temp_url_sig') && query.has('temp_url_expires') && r.object !== undefined) {
    await checkTempUrl(r);
  } else if (req.method === 'POST' && r.container !== undefined && isFormPost(h)) {
    return formPost(r);
  } else {
    r.ctx = await authenticate(platform, req, h, prefix);
    r.caller = { ctx: r.ctx, referrer: h.referer };
  }
  if (query.has('bulk-delete') && (req.method === 'POST' || req.method === 'DELETE') && r.container === undefined) return bulkDelete(r);
  if (query.has('extract-archive') && req.method === 'PUT') return extractArchive(r);
  if ((req.method === 'GET' || req.method === 'HEAD') && r.container !== undefined && !r.tempUrl) {
    const served = await staticWeb(r);
    if (served !== undefined) return served;
  }
  if (r.object !== undefined) return objectRequest(r);
  if (r.container !== undefined) return containerRequest(r);
  return accountRequest(r);
}

async function checkTempUrl(r: SwiftRequest): Promise<void> {
  const q = r.query;
  const acct = await r.deps.db.selectFrom('object_account').select('headers').where('project_id', '=', r.account).executeTakeFirst();
  const c = await findContainer(r.deps.db, r.account, r.container!);
  const ah = acct ? headersOf(acct.headers) : {};
  const ch = c ? headersOf(c.headers) : {};
  const keys = [ah['x-account-meta-temp-url-key'], ah['x-account-meta-temp-url-key-2'], ch['x-container-meta-temp-url-key'], ch['x-container-meta-temp-url-key-2']]
    .filter((k): k is string => !!k);
  const prefix = q.get('temp_url_prefix') ?? undefined;
  if (prefix !== undefined && !r.object!.startsWith(prefix)) throw new ApiError(401, 'Temp URL invalid');
  const base = (p: string) => (prefix !== undefined ? p.slice(0, p.length - r.object!.length) + prefix : p);
  let decoded = r.fullPath;
  try { decoded = decodeURIComponent(r.fullPath); } catch { /* keep the raw form */ }
  const paths = [...new Set([r.fullPath, decoded, r.swiftPath, decoded.slice(r.fullPath.length - r.swiftPath.length)].map(base))];
  const ok = validTempUrl({ sig: q.get('temp_url_sig')!, expires: q.get('temp_url_expires')!, prefix, ipRange: q.get('temp_url_ip_range') ?? undefined },
    r.req.method, paths, keys, r.req.ip);
  if (!ok || !['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].includes(r.req.method)) throw new ApiError(401, 'Temp URL invalid');
  r.tempUrl = { method: r.req.method };
  const filename = q.get('filename');
  if (filename !== null || q.has('inline')) {
    const disp = q.has('inline') ? 'inline' : 'attachment';
    r.reply.header('content-disposition', filename ? `${disp}; filename="${filename.replace(/"/g, '\\"')}"` : disp);
  }
}
