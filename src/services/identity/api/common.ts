import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/service.js';
import { badRequest, conflict } from '../../../platform/http/errors.js';
import { isUniqueViolation } from '../../../platform/db/index.js';
import type { Identity } from '../logic/identity.js';

/** What every identity route file receives. */
export interface IdentityDeps {
  platform: Platform;
  identity: Identity;
}

/** Links are built from the host the client used, as Keystone does without public_endpoint. */
export function v3Base(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? '127.0.0.1'}/identity/v3`;
}

export const selfUrl = (req: FastifyRequest): string => `${req.protocol}://${req.headers.host ?? '127.0.0.1'}${req.url}`;

/** The wrapped object of a request body (`{"user": {...}}`), or a Keystone-style 400. */
export function wrapped(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined;
  const inner = b?.[key];
  if (!b || typeof b !== 'object' || inner === undefined) throw badRequest(`Invalid input for field '${key}': '${key}' is a required property`);
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw badRequest(`Invalid input for field '${key}': must be an object`);
  return inner as Record<string, unknown>;
}

type Kind = 'string' | 'boolean' | 'object' | 'array' | 'nullable-string' | 'number';

/** Checks the fields Keystone types strictly; unknown fields stay (Keystone keeps them as extras). */
export function check(obj: Record<string, unknown>, spec: Record<string, Kind | [Kind, { required?: boolean; min?: number; max?: number }]>): void {
  for (const [field, s] of Object.entries(spec)) {
    const [kind, opt] = Array.isArray(s) ? s : [s, {}];
    const v = obj[field];
    if (v === undefined) {
      if (opt.required) throw badRequest(`Invalid input for field '${field}': '${field}' is a required property`);
      continue;
    }
    const ok = kind === 'nullable-string' ? v === null || typeof v === 'string'
      : kind === 'array' ? Array.isArray(v)
      : kind === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
      : typeof v === kind;
    if (!ok) throw badRequest(`Invalid input for field '${field}': ${JSON.stringify(v)} is not of type '${kind}'`);
    if (typeof v === 'string') {
      if (opt.min !== undefined && v.trim().length < opt.min) throw badRequest(`Invalid input for field '${field}': '${v}' is too short`);
      if (opt.max !== undefined && v.length > opt.max) throw badRequest(`Invalid input for field '${field}': '${v}' is too long`);
    }
  }
}

/** Fields a resource keeps verbatim beyond its columns (email, custom attributes). */
export function extras(obj: Record<string, unknown>, known: string[]): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k) && k !== 'links' && k !== 'id') out[k] = v;
  return JSON.stringify(out);
}

/** Runs a write; a unique-index collision becomes Keystone's 409. */
export async function storing<T>(kind: string, name: unknown, fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store ${kind} - Duplicate entry found with name ${String(name)}.`);
    throw err;
  }
}

export const query = (req: FastifyRequest): Record<string, string> => req.query as Record<string, string>;

/** Keystone's boolean query values: "true"/"1"/"" (present) are true; "false"/"0" false. */
export function queryBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return !['false', '0', 'no', 'off'].includes(v.toLowerCase());
}

/** PATCH of the extras: the stored JSON with the body's unknown fields laid over, or null if none. */
export function mergeExtras(stored: string, obj: Record<string, unknown>, known: string[]): string | null {
  const extra = JSON.parse(extras(obj, [...known, 'id'])) as Record<string, unknown>;
  return Object.keys(extra).length ? JSON.stringify({ ...JSON.parse(stored), ...extra }) : null;
}
