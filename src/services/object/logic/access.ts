import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';

/**
 * Who may do what in an account. The account of project P belongs to P: its members read
 * and write, its readers only read. The `admin` role (Swift's reseller admin; a role named
 * ResellerAdmin counts too) reaches every account. Anyone else gets 403, unless a
 * container ACL lets them in:
 *   X-Container-Read:  `.r:*` / `.r:<host>` / `.r:-<host>` (referrers, objects only),
 *                      `.rlistings` (referrers may also list), and grants
 *   X-Container-Write: grants only.
 * A grant is `<project>:<user>` (ids or names, either may be `*`) or a bare role name.
 */
export type Operation =
  /** Account/container HEAD, GET listings, object GET/HEAD. */
  | 'read' | 'list'
  /** Object PUT/POST/DELETE/COPY. */
  | 'write'
  /** Container create/delete/metadata, account metadata: the account holder only. */
  | 'manage';

export interface Caller { ctx: RequestContext | null; referrer?: string }

export const isResellerAdmin = (ctx: RequestContext): boolean =>
  ctx.isAdmin || ctx.roles.some((r) => r.toLowerCase() === 'reselleradmin');

export type Standing = 'admin' | 'owner-write' | 'owner-read' | 'none';

export function standing(ctx: RequestContext | null, account: string): Standing {
  if (!ctx) return 'none';
  if (isResellerAdmin(ctx)) return 'admin';
  if (ctx.projectId !== account) return 'none';
  if (ctx.roles.includes('member')) return 'owner-write';
  if (ctx.roles.includes('reader')) return 'owner-read';
  return 'none';
}

/** True for those who may see the account holder's own settings (ACLs, TempURL keys). */
export const isHolder = (ctx: RequestContext | null, account: string): boolean => standing(ctx, account) !== 'none';

export function parseAcl(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Validates an ACL header value as Swift does before storing it; returns the normalised form. */
export function normaliseAcl(header: string, value: string): string {
  const items = parseAcl(value);
  for (const item of items) {
    if (item.startsWith('.')) {
      if (header === 'x-container-write') throw new ApiError(400, `Referrers not allowed in write ACL: '${item}'`);
      const m = /^\.(r|ref|referer|referrer):(-?)(.*)$/.exec(item);
      if (item === '.rlistings') continue;
      if (!m || m[3] === '' || (m[3]!.includes('*') && m[3] !== '*')) throw new ApiError(400, `Invalid ACL element: '${item}'`);
    }
  }
  return items.map((i) => i.replace(/^\.(ref|referer|referrer):/, '.r:')).join(',');
}

function hostOf(referrer: string | undefined): string | null {
  if (!referrer) return null;
  try { return new URL(referrer).hostname; } catch { return null; }
}

function referrerAllowed(items: string[], referrer: string | undefined): boolean {
  let ok = false;
  const host = hostOf(referrer);
  for (const item of items) {
    if (!item.startsWith('.r:')) continue;
    let pat = item.slice(3);
    const deny = pat.startsWith('-');
    if (deny) pat = pat.slice(1);
    const match = pat === '*' || (host !== null && (pat.startsWith('.') ? host.endsWith(pat) || host === pat.slice(1) : host === pat));
    if (match) ok = !deny;
  }
  return ok;
}

function granted(items: string[], ctx: RequestContext | null): boolean {
  if (!ctx) return false;
  const projects = [ctx.projectId, ctx.projectName].filter((x): x is string => !!x);
  const users = [ctx.userId, ctx.userName].filter(Boolean);
  for (const item of items) {
    if (item.startsWith('.')) continue;
    const colon = item.indexOf(':');
    if (colon < 0) {
      if (ctx.roles.some((r) => r.toLowerCase() === item.toLowerCase())) return true;
      continue;
    }
    const p = item.slice(0, colon);
    const u = item.slice(colon + 1);
    if ((p === '*' || projects.includes(p)) && (u === '*' || users.includes(u))) return true;
  }
  return false;
}

/**
 * Decides an operation on an account (and a container's ACL headers when the operation is
 * on a container or its objects). Throws 401 for an anonymous caller, 403 otherwise.
 */
export function authorize(caller: Caller, account: string, op: Operation, containerHeaders?: Record<string, string>): void {
  const s = standing(caller.ctx, account);
  if (s === 'admin' || s === 'owner-write') return;
  if (s === 'owner-read' && (op === 'read' || op === 'list')) return;
  if (containerHeaders && op !== 'manage') {
    if (op === 'write') {
      if (granted(parseAcl(containerHeaders['x-container-write']), caller.ctx)) return;
    } else {
      const read = parseAcl(containerHeaders['x-container-read']);
      if (granted(read, caller.ctx)) return;
      if (referrerAllowed(read, caller.referrer) && (op === 'read' || read.includes('.rlistings'))) return;
    }
  }
  if (!caller.ctx) throw new ApiError(401, 'Unauthorized');
  throw new ApiError(403, 'Forbidden');
}
