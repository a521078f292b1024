import type { RequestContext } from './context.js';

/**
 * Application-credential access rules: a token minted from a credential that has rules
 * may only call the listed (service type, method, path) triples. In a path, `*` matches
 * one segment and `**` any number of them.
 */
export function permittedByAccessRules(ctx: RequestContext, serviceType: string, method: string, path: string): boolean {
  if (!ctx.accessRules) return true;
  return ctx.accessRules.some((r) => r.service === serviceType && r.method.toUpperCase() === method.toUpperCase() && globMatch(r.path, path));
}

function globMatch(pattern: string, path: string): boolean {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('?')[0]!.split('/').filter(Boolean);
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === s.length;
    if (p[i] === '**') return Array.from({ length: s.length - j + 1 }, (_, k) => k).some((k) => match(i + 1, j + k));
    return j < s.length && (p[i] === '*' || p[i] === s[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
