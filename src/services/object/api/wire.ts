import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, statusTitle } from '../../../platform/http/errors.js';
import type { HeaderChanges } from '../logic/containers.js';

/**
 * Swift's wire conventions shared by every handler: transaction ids, the short HTML error
 * bodies the proxy server sends, text/plain on empty answers, header maps in and out.
 */

/** tx + 21 hex + '-' + 10 hex of the epoch seconds: the form Swift (and Tempest's checks) use. */
export function transId(): string {
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(Date.now() / 1000).toString(16).padStart(10, '0')}`;
}

const EXPLAIN: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401: 'This server could not verify that you are authorized to access the document you requested.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  405: 'The method is not allowed for this resource.',
  409: 'There was a conflict when trying to complete your request.',
  411: 'Content-Length header required.',
  412: 'A precondition for this request was not met.',
  413: 'The body of your request was too large for this server.',
  416: 'The Range requested is not available.',
  422: 'Unable to process the contained instructions',
  499: 'The client disconnected during the request.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
  501: 'The method is not implemented.',
  503: 'The server is currently unavailable. Please try again at a later time.',
};

/** Messages that only restate the status get Swift's standard body; specific ones are sent as they are. */
const GENERIC = new Set(['The request you have made requires authentication.', 'Not Found', 'Forbidden', 'Unauthorized', 'Conflict', 'Unprocessable Entity', 'Precondition Failed', 'The resource could not be found.']);

export function errorBody(status: number, message: string): { type: string; body: string } {
  if (status === 400 || status === 401 || status === 413 || status === 412 || status === 409 || status === 416 || status === 499) {
    if (message && !GENERIC.has(message) && !message.startsWith('There was a conflict')) return { type: 'text/plain; charset=utf-8', body: message };
  }
  const title = status === 499 ? 'Client Disconnect' : statusTitle(status);
  const explain = EXPLAIN[status] ?? message;
  return { type: 'text/html; charset=UTF-8', body: `<html><h1>${title}</h1><p>${explain}</p></html>` };
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let status = 500;
  let message = '';
  if (err instanceof ApiError) {
    status = err.status;
    message = err.message;
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  } else {
    const fe = err as { statusCode?: number; message?: string; code?: string };
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) { status = fe.statusCode; message = fe.message ?? ''; }
    else req.log.error({ err, request_id: req.id }, 'unhandled error');
  }
  const { type, body } = errorBody(status, message);
  reply.status(status).header('content-type', type);
  if (req.method === 'HEAD') return reply.header('content-length', Buffer.byteLength(body)).send();
  return reply.send(body);
}

/** The request's headers as a lower-cased map of single values. */
export function headerMap(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  // Underscores read as dashes, as they do behind Swift's WSGI server (X-Object-Meta-a_b is a-b).
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase().replace(/_/g, '-')] = Array.isArray(v) ? v.join(',') : String(v);
  return out;
}

/** `X-<Kind>-Meta-*` to set (empty value: remove) and `X-Remove-<Kind>-Meta-*` to remove. */
export function metaChanges(h: Record<string, string>, kind: 'account' | 'container'): HeaderChanges {
  const prefix = `x-${kind}-meta-`;
  const rm = `x-remove-${kind}-meta-`;
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(prefix)) set[k] = v.trim();
    else if (k.startsWith(rm)) remove.push(prefix + k.slice(rm.length));
  }
  return { set, remove };
}

export function negotiate(query: URLSearchParams, accept: string | undefined): 'json' | 'xml' | 'plain' {
  const f = query.get('format')?.toLowerCase();
  if (f === 'json') return 'json';
  if (f === 'xml') return 'xml';
  if (f === 'plain' || f === 'txt') return 'plain';
  const a = (accept ?? '').toLowerCase();
  if (a.includes('application/json')) return 'json';
  if (a.includes('application/xml') || a.includes('text/xml')) return 'xml';
  return 'plain';
}

export const contentTypes = { json: 'application/json; charset=utf-8', xml: 'application/xml; charset=utf-8', plain: 'text/plain; charset=utf-8' };

export const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Swift's `Header-Name` capitalisation for stored lower-case names (clients read them case-insensitively). */
export const titleCase = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
