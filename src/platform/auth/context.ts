/**
 * Who is calling, as established from a validated token. Every service's policy checks
 * and scoped queries read this and nothing else.
 */
export interface RequestContext {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  /** Exactly one of projectId, domainId or system is set for a scoped token. */
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  projectDomainName: string | null;
  domainId: string | null;
  domainName: string | null;
  system: boolean;
  /** Effective role names on the scope, implied roles included. */
  roles: string[];
  roleIds: string[];
  methods: string[];
  auditIds: string[];
  issuedAt: number;
  expiresAt: number;
  applicationCredentialId: string | null;
  /** Access rules of an application credential: each request is checked against them. */
  accessRules: { service: string; method: string; path: string }[] | null;
  isAdmin: boolean;
}

export const hasRole = (ctx: RequestContext, role: string): boolean => ctx.roles.includes(role);
