import type { ContainerRow } from '../store.js';
import { headersOf } from '../store.js';
import type { SwiftRequest } from './context.js';

/**
 * Cross-origin requests, configured per container with X-Container-Meta-Access-Control-
 * Allow-Origin (space-separated origins or `*`), -Max-Age and -Expose-Headers. OPTIONS
 * answers preflights; other responses to an allowed origin carry the CORS headers.
 */
const EXPOSED = ['cache-control', 'content-language', 'content-type', 'expires', 'last-modified', 'pragma', 'etag',
  'x-timestamp', 'x-trans-id', 'x-openstack-request-id', 'x-object-meta-*', 'x-container-meta-*', 'x-account-meta-*'];

function allowed(origin: string, h: Record<string, string>): boolean {
  const list = (h['x-container-meta-access-control-allow-origin'] ?? '').split(/\s+/).filter(Boolean);
  return list.includes('*') || list.includes(origin);
}

export function corsHeaders(r: SwiftRequest, h: Record<string, string>): void {
  const origin = r.headers.origin!;
  if (!allowed(origin, h)) return;
  const list = (h['x-container-meta-access-control-allow-origin'] ?? '').split(/\s+/);
  const extra = (h['x-container-meta-access-control-expose-headers'] ?? '').split(/[\s,]+/).filter(Boolean);
  r.reply.header('access-control-allow-origin', list.includes('*') && !r.headers['x-auth-token'] ? '*' : origin)
    .header('access-control-expose-headers', [...EXPOSED, ...extra].join(', '));
  if (!list.includes('*')) r.reply.header('vary', 'Origin');
}

export function preflight(r: SwiftRequest, c: ContainerRow | undefined): unknown {
  const h = c ? headersOf(c.headers) : {};
  const origin = r.headers.origin!;
  const method = r.headers['access-control-request-method'];
  if (!c || !method || !allowed(origin, h)) {
    return r.reply.status(401).header('content-type', 'text/plain; charset=utf-8').send('Unauthorized');
  }
  r.reply.status(200).header('access-control-allow-origin', origin)
    .header('access-control-allow-methods', 'HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE')
    .header('allow', 'HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE')
    .header('content-type', 'text/html; charset=UTF-8').header('content-length', 0);
  if (h['x-container-meta-access-control-max-age']) r.reply.header('access-control-max-age', h['x-container-meta-access-control-max-age']);
  if (r.headers['access-control-request-headers']) r.reply.header('access-control-allow-headers', r.headers['access-control-request-headers']);
  return r.reply.send();
}
