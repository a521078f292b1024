// The two Keystone calls the runner itself makes: get an admin token, read the catalog.
// Plain fetch: the runner must not depend on Stratus code, only on the wire API it tests.

export interface AdminCredentials {
  username: string;
  password: string;
  projectName: string;
  domainName: string;
}

export interface CatalogEndpoint {
  interface: string;
  region: string | null;
  region_id?: string | null;
  url: string;
}

export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** `http://h/identity` or `http://h/identity/v3` → `http://h/identity/v3` (what Tempest wants). */
export function identityV3Url(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

export async function issueAdminToken(uriV3: string, creds: AdminCredentials): Promise<string> {
  const body = {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: { name: creds.username, password: creds.password, domain: { name: creds.domainName } },
        },
      },
      scope: { project: { name: creds.projectName, domain: { name: creds.domainName } } },
    },
  };
  const res = await fetch(`${uriV3}/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) {
    throw new Error(`admin login at ${uriV3}/auth/tokens failed: HTTP ${res.status} ${await res.text()}`);
  }
  return token;
}

export async function fetchCatalog(uriV3: string, token: string): Promise<CatalogEntry[]> {
  const res = await fetch(`${uriV3}/auth/catalog`, {
    headers: { 'x-auth-token': token, accept: 'application/json' },
  });
  if (res.status !== 200) {
    throw new Error(`GET ${uriV3}/auth/catalog failed: HTTP ${res.status} ${await res.text()}`);
  }
  const data = (await res.json()) as { catalog?: CatalogEntry[] };
  if (!Array.isArray(data.catalog)) throw new Error(`GET ${uriV3}/auth/catalog: no "catalog" array`);
  return data.catalog;
}

/** Catalog types that have at least one endpoint in the region (any region if none match). */
export function catalogTypes(catalog: CatalogEntry[], region: string): Set<string> {
  const inRegion = (e: CatalogEndpoint): boolean => (e.region_id ?? e.region) === region;
  const types = new Set<string>();
  for (const entry of catalog) {
    if (entry.endpoints.some(inRegion)) types.add(entry.type);
  }
  // A cloud whose region name differs from our setting still deserves a useful config;
  // Tempest itself falls back to the first region it finds.
  if (types.size === 0) for (const entry of catalog) if (entry.endpoints.length > 0) types.add(entry.type);
  return types;
}

/**
 * URL of a service's endpoint in the catalog (public interface, our region preferred, else the
 * first region that has one), or null when the catalog has no such endpoint.
 */
export function endpointUrl(catalog: CatalogEntry[], type: string, region: string, iface = 'public'): string | null {
  const endpoints = catalog.filter((e) => e.type === type).flatMap((e) => e.endpoints.filter((ep) => ep.interface === iface));
  const inRegion = endpoints.find((ep) => (ep.region_id ?? ep.region) === region);
  return (inRegion ?? endpoints[0])?.url ?? null;
}
