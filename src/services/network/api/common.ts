import type { NetworkAgent } from '../agent/agent.js';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { Platform } from '../../../platform/service.js';
import type { NetworkTables } from '../store.js';
import type { NetworkHooks } from '../logic/hooks.js';

/** What every network route file receives. */
export interface NetDeps {
  platform: Platform;
  db: Kysely<NetworkTables>;
  hooks: NetworkHooks;
  /** This host's network agent, once the service has started. */
  agent?: NetworkAgent;
}

/** Neutron's error: the exception name is the `type` clients and Tempest look at. */
export const neutronError = (status: number, type: string, message: string): ApiError => new ApiError(status, message, {}, type);
export const notFoundError = (kind: string, id: string): ApiError =>
  neutronError(404, `${kind.replace(/ /g, '')}NotFound`, `${kind} ${id} could not be found.`);
export const badInput = (message: string): ApiError => neutronError(400, 'HTTPBadRequest', `Invalid input for operation: ${message}`);
export const conflictError = (type: string, message: string): ApiError => neutronError(409, type, message);

/** The wrapped object of a body (`{"network": {...}}`), refusing attributes the resource does not have. */
export function resourceBody(req: FastifyRequest, key: string, allowed: readonly string[]): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const inner = b?.[key];
  if (!b || typeof b !== 'object' || typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    throw neutronError(400, 'HTTPBadRequest', `Resource body required: the body must be a JSON object with a '${key}' object.`);
  }
  const unknown = Object.keys(inner).filter((k) => !allowed.includes(k));
  if (unknown.length) throw neutronError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  return inner as Record<string, unknown>;
}

/**
 * Bulk create: `{"networks": [{...}, ...]}` instead of `{"network": {...}}`. Returns the
 * checked items of either form, and whether the request was a bulk one.
 */
export function createBodies(req: FastifyRequest, key: string, collection: string, allowed: readonly string[]): { items: Record<string, unknown>[]; bulk: boolean } {
  const b = req.body as Record<string, unknown> | undefined;
  if (b && typeof b === 'object' && Array.isArray(b[collection])) {
    const items = b[collection] as unknown[];
    if (!items.length) throw badInput(`No ${collection} to create`);
    return { bulk: true, items: items.map((item) => checkItem(item, key, allowed)) };
  }
  return { bulk: false, items: [resourceBody(req, key, allowed)] };
}

function checkItem(inner: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw neutronError(400, 'HTTPBadRequest', `Each ${key} must be a JSON object.`);
  const unknown = Object.keys(inner).filter((k) => !allowed.includes(k));
  if (unknown.length) throw neutronError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
  return inner as Record<string, unknown>;
}

/** Neutron accepts true/false and their string spellings for booleans. */
export function boolValue(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && ['true', 'false', 'True', 'False', '1', '0'].includes(v)) return v === 'true' || v === 'True' || v === '1';
  throw badInput(`'${String(v)}' cannot be converted to boolean for ${field}`);
}

export function strValue(v: unknown, field: string, max = 255, nullable = false): string | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'string') throw badInput(`'${String(v)}' is not a valid string for ${field}`);
  if (v.length > max) throw badInput(`'${v}' exceeds maximum length of ${max} for ${field}`);
  return v;
}

/** project_id/tenant_id on create: your own project; another only for admins. */
export function ownerOf(ctx: RequestContext, body: Record<string, unknown>): string {
  const asked = (body.project_id ?? body.tenant_id) as string | undefined;
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) {
    throw badInput('project_id and tenant_id do not match');
  }
  if (asked !== undefined && typeof asked !== 'string') throw badInput(`'${String(asked)}' is not a valid project id`);
  if (asked && asked !== ctx.projectId && !ctx.isAdmin) {
    throw neutronError(403, 'HTTPForbidden', 'Specifying \'project_id\' or \'tenant_id\' other than the authenticated project in request requires admin privileges');
  }
  const owner = asked ?? ctx.projectId;
  if (!owner) throw badInput('a project-scoped token or a project_id is required');
  return owner;
}

/** Writes need a role that may write (readers are read-only) — Neutron answers 403. */
export function requireWriter(ctx: RequestContext): void {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw neutronError(403, 'HTTPForbidden', 'rule:... is disallowed by policy: a read-only role cannot write.');
}

export const isOwnerOrAdmin = (ctx: RequestContext, projectId: string): boolean => ctx.isAdmin || ctx.projectId === projectId;
