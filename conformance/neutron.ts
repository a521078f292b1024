// What the runner asks the Networking service before writing tempest.conf: the id of the
// external network Tempest should use (public_network_id) and the extension aliases the cloud
// offers (api_extensions), which decide which extension-gated tests run. Plain fetch with the
// admin token, like keystone.ts: the runner depends only on the wire API it tests.

export interface NetworkFacts {
  /** Id of the external network with the configured name, or null when there is none. */
  publicNetworkId: string | null;
  /** Aliases from GET /v2.0/extensions, or null when the list could not be read. */
  extensions: string[] | null;
  /** What could not be read, and why; the runner logs these. */
  problems: string[];
}

const TIMEOUT_MS = 15_000;

/** `http://h/network` or `http://h/network/v2.0/` → `http://h/network/v2.0`. */
export function networkApiUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return /\/v2\.0$/.test(trimmed) ? trimmed : `${trimmed}/v2.0`;
}

export async function discoverNetwork(endpoint: string, token: string, publicNetworkName: string): Promise<NetworkFacts> {
  const api = networkApiUrl(endpoint);
  const problems: string[] = [];
  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${api}${path}`, {
      headers: { 'x-auth-token': token, accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.json();
  };

  let extensions: string[] | null = null;
  try {
    extensions = extensionAliases(await get('/extensions'));
  } catch (error) {
    problems.push(`GET ${api}/extensions failed (${(error as Error).message})`);
  }

  let publicNetworkId: string | null = null;
  try {
    const found = externalNetworkIds(await get(`/networks?name=${encodeURIComponent(publicNetworkName)}`), publicNetworkName);
    if (found.length === 0) problems.push(`no external network named ${publicNetworkName}`);
    else if (found.length > 1) problems.push(`${found.length} external networks are named ${publicNetworkName}; using ${found[0]}`);
    publicNetworkId = found[0] ?? null;
  } catch (error) {
    problems.push(`GET ${api}/networks?name=${publicNetworkName} failed (${(error as Error).message})`);
  }
  return { publicNetworkId, extensions, problems };
}

/** Aliases of a `{"extensions": [{"alias": …}, …]}` body, sorted. */
export function extensionAliases(body: unknown): string[] {
  const list = (body as { extensions?: unknown } | null)?.extensions;
  if (!Array.isArray(list)) throw new Error('no "extensions" array in the response');
  const aliases = list.map((e) => (e as { alias?: unknown } | null)?.alias);
  if (!aliases.every((a): a is string => typeof a === 'string' && a !== '')) throw new Error('an extension without an alias');
  return [...new Set(aliases)].sort();
}

/** Ids of the networks in a `{"networks": […]}` body that have this name and are external. */
export function externalNetworkIds(body: unknown, name: string): string[] {
  const list = (body as { networks?: unknown } | null)?.networks;
  if (!Array.isArray(list)) throw new Error('no "networks" array in the response');
  return (list as Record<string, unknown>[])
    .filter((n) => n !== null && typeof n === 'object' && n.name === name && n['router:external'] === true && typeof n.id === 'string')
    .map((n) => n.id as string);
}
