import { isoMicro, isoSeconds } from '../../platform/clock.js';
import type { CredentialRow, EndpointRow, GroupRow, ProjectRow, RegionRow, RoleRow, ServiceRow, UserRow, AppCredRow } from './store.js';
import { json } from './store.js';
import type { TokenInfo } from './logic/identity.js';
import type { CatalogEntry } from './logic/catalog.js';
import { ROOT } from './migrations.js';

/** Rows → Keystone's wire JSON. `base` is the v3 root URL for links. */
const link = (base: string, path: string) => ({ self: `${base}/${path}` });
const bool = (n: number) => n === 1;

export function listBody(key: string, items: unknown[], selfUrl: string) {
  return { [key]: items, links: { self: selfUrl, previous: null, next: null } };
}

export function domainView(base: string, d: ProjectRow, tags: string[] = []) {
  return { id: d.id, name: d.name, description: d.description ?? '', enabled: bool(d.enabled), tags, options: json(d.options, {}), ...json(d.extra, {}), links: link(base, `domains/${d.id}`) };
}

export function projectView(base: string, p: ProjectRow, tags: string[] = []) {
  return {
    id: p.id, name: p.name, domain_id: p.domain_id === ROOT ? null : p.domain_id, description: p.description ?? '', enabled: bool(p.enabled),
    parent_id: p.parent_id, is_domain: bool(p.is_domain), tags, options: json(p.options, {}), ...json(p.extra, {}), links: link(base, `projects/${p.id}`),
  };
}

export function userView(base: string, u: UserRow, passwordExpiresAt: number | null) {
  const view: Record<string, unknown> = {
    ...json(u.extra, {}), id: u.id, name: u.name, domain_id: u.domain_id, enabled: bool(u.enabled),
    password_expires_at: passwordExpiresAt === null ? null : isoMicro(passwordExpiresAt).replace(/Z$/, ''),
    options: json(u.options, {}), links: link(base, `users/${u.id}`),
  };
  if (u.default_project_id) view.default_project_id = u.default_project_id;
  return view;
}

export function groupView(base: string, g: GroupRow) {
  return { ...json(g.extra, {}), id: g.id, name: g.name, domain_id: g.domain_id, description: g.description ?? '', links: link(base, `groups/${g.id}`) };
}

export function roleView(base: string, r: RoleRow) {
  return { ...json(r.extra, {}), id: r.id, name: r.name, domain_id: r.domain_id === ROOT ? null : r.domain_id, description: r.description ?? null, options: json(r.options, {}), links: link(base, `roles/${r.id}`) };
}

export const roleRef = (base: string, r: RoleRow) => ({ id: r.id, name: r.name, domain_id: r.domain_id === ROOT ? null : r.domain_id, links: link(base, `roles/${r.id}`) });

export function regionView(base: string, r: RegionRow) {
  return { ...json(r.extra, {}), id: r.id, description: r.description, parent_region_id: r.parent_region_id, links: link(base, `regions/${r.id}`) };
}

export function serviceView(base: string, s: ServiceRow) {
  return { ...json(s.extra, {}), id: s.id, type: s.type, enabled: bool(s.enabled), links: link(base, `services/${s.id}`) };
}

export function endpointView(base: string, e: EndpointRow) {
  return { ...json(e.extra, {}), id: e.id, service_id: e.service_id, interface: e.interface, url: e.url, region_id: e.region_id, region: e.region_id, enabled: bool(e.enabled), links: link(base, `endpoints/${e.id}`) };
}

export function credentialView(base: string, c: CredentialRow, blob: string) {
  return { ...json(c.extra, {}), id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type, blob, links: link(base, `credentials/${c.id}`) };
}

export function appCredView(base: string, a: AppCredRow, roles: RoleRow[], accessRules: { id: string; service: string; path: string; method: string }[], secret?: string) {
  const view: Record<string, unknown> = {
    id: a.id, name: a.name, description: a.description, user_id: a.user_id, project_id: a.project_id, system: a.system,
    expires_at: a.expires_at_us === null ? null : microIso(a.expires_at_us), unrestricted: bool(a.unrestricted),
    roles: roles.map((r) => ({ id: r.id, name: r.name, domain_id: r.domain_id === ROOT ? null : r.domain_id })),
    access_rules: accessRules, links: link(base, `users/${a.user_id}/application_credentials/${a.id}`),
  };
  if (secret !== undefined) view.secret = secret;
  return view;
}

/** A token's body: shared by issue (201) and validation (200). */
export function tokenView(info: TokenInfo, catalog: CatalogEntry[] | null) {
  const p = info.payload;
  const token: Record<string, unknown> = {
    methods: p.methods,
    user: {
      id: info.user.id, name: info.user.name, domain: { id: info.userDomain.id, name: info.userDomain.name },
      password_expires_at: info.passwordExpiresAt === null ? null : isoMicro(info.passwordExpiresAt),
    },
    audit_ids: p.auditIds,
    expires_at: isoMicro(p.expiresAt),
    issued_at: isoMicro(p.issuedAt),
  };
  if (info.project) {
    token.project = { id: info.project.id, name: info.project.name, domain: { id: info.projectDomain!.id, name: info.projectDomain!.name } };
    token.is_domain = false;
  } else if (info.domain) {
    token.domain = { id: info.domain.id, name: info.domain.name };
  } else if (p.scope.kind === 'system') {
    token.system = { all: true };
  }
  if (p.scope.kind !== 'unscoped') token.roles = info.roles.map((r) => ({ id: r.id, name: r.name }));
  if (catalog && p.scope.kind !== 'unscoped') token.catalog = substituteCatalog(catalog, info.project?.id ?? null);
  if (info.appCred) {
    token.application_credential = { id: info.appCred.id, name: info.appCred.name, restricted: !bool(info.appCred.unrestricted) };
    if (info.accessRules) (token.application_credential as Record<string, unknown>).access_rules = info.accessRules;
  }
  return { token };
}

/** Endpoint URLs may hold $(project_id)s / $(tenant_id)s, filled per token as Keystone does. */
export function substituteCatalog(catalog: CatalogEntry[], projectId: string | null): CatalogEntry[] {
  return catalog.map((s) => ({
    ...s,
    endpoints: s.endpoints.flatMap((e) => {
      if (!/\$\((project_id|tenant_id)\)s/.test(e.url)) return [e];
      return projectId ? [{ ...e, url: e.url.replace(/\$\((project_id|tenant_id)\)s/g, projectId) }] : [];
    }),
  }));
}

export const createdAt = (ms: number) => isoSeconds(ms);

/** Epoch microseconds as Keystone prints application credential expiry (no zone suffix). */
export function microIso(us: number): string {
  return `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}`;
}
