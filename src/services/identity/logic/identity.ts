import type { Config } from '../../../platform/config.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import type { AppCredRow, IdentityDb, ProjectRow, RoleRow, UserRow } from '../store.js';
import { json } from '../store.js';
import type { KeyRepository } from './keys.js';
import { RevocationList } from './revocation.js';
import { effectiveRoles } from './roles.js';
import { openToken, sealToken, type TokenPayload } from './token-format.js';
import { buildCatalog, type CatalogEntry } from './catalog.js';
import { currentPassword } from './security.js';

/** A token opened and checked against the current state of users, projects and roles. */
export interface TokenInfo {
  token: string;
  payload: TokenPayload;
  user: UserRow;
  userDomain: ProjectRow;
  project: ProjectRow | null;
  projectDomain: ProjectRow | null;
  domain: ProjectRow | null;
  roles: RoleRow[];
  appCred: AppCredRow | null;
  accessRules: { id: string; service: string; path: string; method: string }[] | null;
  passwordExpiresAt: number | null;
}

/**
 * The identity core: issues and validates tokens. Validation is the hot path of every
 * request to every service, so opened tokens are cached until any identity write
 * (`changed()`) or their expiry, whichever comes first.
 */
export class Identity {
  readonly revocations: RevocationList;
  private generation = 0;
  private cache = new Map<string, { gen: number; info: TokenInfo; ctx: RequestContext }>();
  private catalogCache: { gen: number; catalog: CatalogEntry[] } | null = null;

  constructor(readonly db: IdentityDb, readonly keys: KeyRepository, readonly credentialKeys: KeyRepository, readonly config: Config) {
    this.revocations = new RevocationList(config.identity.tokenExpirationSeconds * 1000 + config.identity.allowExpiredWindowSeconds * 1000);
  }

  /** Call after any write that can change what a token means (roles, enabled flags, catalog). */
  changed(): void {
    this.generation++;
    this.cache.clear();
  }

  seal(p: TokenPayload): string { return sealToken(this.keys, p); }

  /** Opens and checks a token; null for anything not valid now (the caller picks 401 or 404). */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenInfo | null> {
    const hit = this.cache.get(token);
    if (hit && hit.gen === this.generation && hit.info.payload.expiresAt > now()) return hit.info;
    const info = await this.load(token, opts);
    return info;
  }

  async context(token: string): Promise<RequestContext> {
    const hit = this.cache.get(token);
    if (hit && hit.gen === this.generation && hit.info.payload.expiresAt > now()) return hit.ctx;
    const info = await this.load(token, {});
    if (!info) throw new ApiError(401, 'The request you have made requires authentication.');
    const ctx = toContext(info);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { gen: this.generation, info, ctx });
    return ctx;
  }

  async catalog(): Promise<CatalogEntry[]> {
    if (this.catalogCache?.gen !== this.generation) this.catalogCache = { gen: this.generation, catalog: await buildCatalog(this.db) };
    return this.catalogCache.catalog;
  }

  private async load(token: string, opts: { allowExpired?: boolean }): Promise<TokenInfo | null> {
    const p = openToken(this.keys, token);
    if (!p) return null;
    const window = opts.allowExpired ? this.config.identity.allowExpiredWindowSeconds * 1000 : 0;
    if (p.expiresAt + window <= now()) return null;
    const db = this.db;
    const user = await db.selectFrom('identity_user').selectAll().where('id', '=', p.userId).executeTakeFirst();
    if (!user || !user.enabled) return null;
    const userDomain = await db.selectFrom('project').selectAll().where('id', '=', user.domain_id).executeTakeFirst();
    if (!userDomain || !userDomain.enabled) return null;
    let project: ProjectRow | null = null;
    let projectDomain: ProjectRow | null = null;
    let domain: ProjectRow | null = null;
    if (p.scope.kind === 'project') {
      project = (await db.selectFrom('project').selectAll().where('id', '=', p.scope.id).executeTakeFirst()) ?? null;
      if (!project || !project.enabled) return null;
      projectDomain = (await db.selectFrom('project').selectAll().where('id', '=', project.domain_id).executeTakeFirst()) ?? null;
      if (!projectDomain || !projectDomain.enabled) return null;
    } else if (p.scope.kind === 'domain') {
      domain = (await db.selectFrom('project').selectAll().where('id', '=', p.scope.id).where('is_domain', '=', 1).executeTakeFirst()) ?? null;
      if (!domain || !domain.enabled) return null;
    }
    if (this.revocations.isRevoked(p, project?.domain_id ?? null)) return null;
    let roles = p.scope.kind === 'unscoped' ? [] : await effectiveRoles(db, user.id, p.scope);
    let appCred: AppCredRow | null = null;
    let accessRules: TokenInfo['accessRules'] = null;
    if (p.appCredId) {
      appCred = (await db.selectFrom('application_credential').selectAll().where('id', '=', p.appCredId).executeTakeFirst()) ?? null;
      if (!appCred || (appCred.expires_at_us !== null && appCred.expires_at_us <= now() * 1000)) return null;
      const allowedIds = new Set(json<string[]>(appCred.roles, []));
      roles = roles.filter((r) => allowedIds.has(r.id));
      const rules = await db.selectFrom('app_cred_access_rule').innerJoin('access_rule', 'access_rule.id', 'app_cred_access_rule.access_rule_id')
        .select(['access_rule.id', 'service', 'path', 'method']).where('application_credential_id', '=', appCred.id).execute();
      accessRules = rules.length ? rules : null;
    }
    if (p.scope.kind !== 'unscoped' && roles.length === 0) return null;
    const pw = await currentPassword(db, user.id);
    return { token, payload: p, user, userDomain, project, projectDomain, domain, roles, appCred, accessRules, passwordExpiresAt: pw?.expires_at ?? null };
  }
}

function toContext(i: TokenInfo): RequestContext {
  const roles = i.roles.map((r) => r.name);
  return {
    token: i.token,
    userId: i.user.id, userName: i.user.name, userDomainId: i.userDomain.id, userDomainName: i.userDomain.name,
    projectId: i.project?.id ?? null, projectName: i.project?.name ?? null,
    projectDomainId: i.projectDomain?.id ?? null, projectDomainName: i.projectDomain?.name ?? null,
    domainId: i.domain?.id ?? null, domainName: i.domain?.name ?? null,
    system: i.payload.scope.kind === 'system',
    roles, roleIds: i.roles.map((r) => r.id), methods: i.payload.methods, auditIds: i.payload.auditIds,
    issuedAt: i.payload.issuedAt, expiresAt: i.payload.expiresAt,
    applicationCredentialId: i.appCred?.id ?? null,
    accessRules: i.accessRules,
    isAdmin: roles.includes('admin'),
  };
}
