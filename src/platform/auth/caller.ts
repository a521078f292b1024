import type { RequestContext } from './context.js';

/**
 * The part of a caller that outlives the request: what a queued task carries so that the
 * worker can call other services on the caller's behalf later (same process, no token).
 */
export interface CallerContext { projectId: string; userId: string; roles: string[]; isAdmin: boolean; projectName?: string | null; userName?: string }

export const callerOf = (ctx: RequestContext): CallerContext => ({
  projectId: ctx.projectId ?? '', userId: ctx.userId, roles: ctx.roles, isAdmin: ctx.isAdmin, projectName: ctx.projectName, userName: ctx.userName,
});

/** A context for calls into other services on a stored caller's behalf (no token: same process). */
export function serviceContext(c: CallerContext): RequestContext {
  return {
    token: '', userId: c.userId, userName: c.userName ?? '', userDomainId: 'default', userDomainName: 'Default', projectId: c.projectId,
    projectName: c.projectName ?? null, projectDomainId: 'default', projectDomainName: 'Default', domainId: null, domainName: null, system: false,
    roles: c.roles, roleIds: [], methods: ['password'], auditIds: [], issuedAt: Date.now(), expiresAt: Date.now() + 3600_000,
    applicationCredentialId: null, accessRules: null, isAdmin: c.isAdmin,
  };
}
