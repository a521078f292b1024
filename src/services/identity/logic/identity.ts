import type { Config } from '../../../platform/config.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import type { AppCredRow, IdentityDb, ProjectRow, RoleRow, UserRow } from '../store.js';
import { json } from '../store.js';
import type { KeyRepository } from './keys.js';
import { RevocationList, type RevocationFilter } from './revocation.js';
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

/** What a token means apart from its own times and audit ids: shared by every token of one user on one scope. */
type Subject = Omit<TokenInfo, 'token' | 'payload'>;

/**
 * The identity core: issues and validates tokens. Validation is the hot path of every
 * request to every service, so two caches sit in front of the database, both emptied by
 * any identity write (`changed()`): opened tokens, and what a (user, scope, application
 * credential) means — so a fresh token of a known user costs a decryption, not a dozen
 * queries. One process owns the database (see docs/architecture.md for scale-out).
 */
export class Identity {
  readonly revocations: RevocationList;
  private generation = 0;
  private cache = new Map<string, { info: TokenInfo; ctx: RequestContext }>();
  private subjects = new Map<string, Subject | null>();
  private catalogCache: { gen: number; catalog: CatalogEntry[] } | null = null;

  constructor(readonly db: IdentityDb, readonly keys: KeyRepository, readonly credentialKeys: KeyRepository, readonly config: Config) {
    this.revocations = new RevocationList(config.identity.tokenExpirationSeconds * 1000 + config.identity.allowExpiredWindowSeconds * 1000);
  }

  /** Call after any write that can change what a token means (roles, enabled flags, catalog). */
  changed(): void {
    this.generation++;
    this.cache.clear();
    this.subjects.clear();
  }

  /** Writes a revocation event; cached tokens are forgotten so the event applies at once. */
  async revoke(filter: RevocationFilter): Promise<void> {
    await this.revocations.revoke(this.db, filter);
    this.changed();
  }

  seal(p: TokenPayload): string { return sealToken(this.keys, p); }

  /** Opens and checks a token; null for anything not valid now (the caller picks 401 or 404). */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenInfo | null> {
    return (await this.opened(token, opts))?.info ?? null;
  }

  async context(token: string): Promise<RequestContext> {
    const hit = await this.opened(token, {});
    if (!hit) throw new ApiError(401, 'The request you have made requires authentication.');
    return hit.ctx;
  }

  private async opened(token: string, opts: { allowExpired?: boolean }): Promise<{ info: TokenInfo; ctx: RequestContext } | null> {
    const hit = this.cache.get(token);
    if (hit && hit.info.payload.expiresAt > now()) return hit;
    const gen = this.generation;
    const info = await this.load(token, opts);
    if (!info) return null;
    const entry = { info, ctx: toContext(info) };
    // Only cache what was computed against the current state, and only live tokens.
    if (gen === this.generation && info.payload.expiresAt > now()) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(token, entry);
    }
    return entry;
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
    const key = `${p.userId}|${p.scope.kind}|${'id' in p.scope ? p.scope.id : ''}|${p.appCredId ?? ''}`;
    const gen = this.generation;
    let subject = this.subjects.get(key);
    if (subject === undefined) {
      subject = await this.loadSubject(p);
      if (gen === this.generation) {
        if (this.subjects.size >= 10_000) this.subjects.clear();
        this.subjects.set(key, subject);
      }
    }
    if (!subject) return null;
    if (this.revocations.isRevoked(p, subject.project?.domain_id ?? null)) return null;
    return { token, payload: p, ...subject };
  }

  /** The database half of validation; null when the user, scope or roles no longer allow it. */
  private async loadSubject(p: TokenPayload): Promise<Subject | null> {
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
    let roles = p.scope.kind === 'unscoped' ? [] : await effectiveRoles(db, user.id, p.scope);
    let appCred: AppCredRow | null = null;
    let accessRules: TokenInfo['accessRules'] = null;
    if (p.appCredId) {
      appCred = (await db.selectFrom('application_credential').selectAll().where('id', '=', p.appCredId).executeTakeFirst()) ?? null;
      if (!appCred) return null;
      const allowedIds = new Set(json<string[]>(appCred.roles, []));
      roles = roles.filter((r) => allowedIds.has(r.id));
      const rules = await db.selectFrom('app_cred_access_rule').innerJoin('access_rule', 'access_rule.id', 'app_cred_access_rule.access_rule_id')
        .select(['access_rule.id', 'service', 'path', 'method']).where('application_credential_id', '=', appCred.id).execute();
      accessRules = rules.length ? rules : null;
    }
    if (p.scope.kind !== 'unscoped' && roles.length === 0) return null;
    const pw = await currentPassword(db, user.id);
    return { user, userDomain, project, projectDomain, domain, roles, appCred, accessRules, passwordExpiresAt: pw?.expires_at ?? null };
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
