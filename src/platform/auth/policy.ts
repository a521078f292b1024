import type { RequestContext } from './context.js';
import { ApiError } from '../http/errors.js';

/**
 * A policy rule decides whether a caller may act on a target. Rules are plain functions
 * composed from the helpers below, registered by name so every route can declare the rule
 * it enforces (the names are OpenStack's own, e.g. `identity:get_user`).
 */
export type Target = Record<string, unknown>;
export type Rule = (ctx: RequestContext, target: Target) => boolean;

const rules = new Map<string, Rule>();

export function registerPolicies(defs: Record<string, Rule>): void {
  for (const [name, rule] of Object.entries(defs)) rules.set(name, rule);
}

export function allowed(name: string, ctx: RequestContext, target: Target = {}): boolean {
  const rule = rules.get(name);
  if (!rule) throw new Error(`no policy rule named ${name}`);
  return rule(ctx, target);
}

/** Throws the 403 upstream services return when a rule denies. */
export function enforce(name: string, ctx: RequestContext, target: Target = {}): void {
  if (!allowed(name, ctx, target)) {
    throw new ApiError(403, `You are not authorized to perform the requested action: ${name}.`);
  }
}

// Building blocks. Role inheritance (admin ⊃ member ⊃ reader) is already expanded in ctx.roles.
export const admin: Rule = (ctx) => ctx.isAdmin;
export const anyone: Rule = () => true;
export const member: Rule = (ctx) => ctx.roles.includes('member');
export const reader: Rule = (ctx) => ctx.roles.includes('reader');
export const sameProject: Rule = (ctx, t) => ctx.projectId !== null && ctx.projectId === (t.project_id ?? t.tenant_id);
export const sameUser: Rule = (ctx, t) => ctx.userId === t.user_id;
export const sameDomain: Rule = (ctx, t) => ctx.domainId !== null && ctx.domainId === t.domain_id;
export const or = (...rs: Rule[]): Rule => (ctx, t) => rs.some((r) => r(ctx, t));
export const and = (...rs: Rule[]): Rule => (ctx, t) => rs.every((r) => r(ctx, t));

/** The usual defaults for something a project owns. */
export const projectReader: Rule = or(admin, and(reader, sameProject));
export const projectMember: Rule = or(admin, and(member, sameProject));
