import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointUrl, type CatalogEntry } from '../keystone.js';
import { discoverNetwork, extensionAliases, externalNetworkIds, networkApiUrl } from '../neutron.js';

const PUBLIC = 'europe-se-1-1a-net0';

/** A stand-in Neutron answering /network/v2.0/{extensions,networks}; records what was asked. */
async function fakeNeutron(routes: Record<string, { status: number; body: unknown }>): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers['x-auth-token']}`);
    const path = new URL(req.url!, 'http://x').pathname;
    const route = routes[path];
    res.writeHead(route?.status ?? 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(route?.body ?? { NeutronError: { type: 'HTTPNotFound', message: 'no', detail: '' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/network`, seen, server };
}

describe('asking the Networking service for tempest.conf', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = null;
  });

  it('reads the public network id and the extension aliases with the admin token', async () => {
    const fake = await fakeNeutron({
      '/network/v2.0/extensions': {
        status: 200,
        body: { extensions: [{ alias: 'router', name: 'Router' }, { alias: 'external-net' }, { alias: 'router' }] },
      },
      '/network/v2.0/networks': {
        status: 200,
        body: {
          networks: [
            { id: 'internal', name: PUBLIC, 'router:external': false },
            { id: 'ext-1a', name: PUBLIC, 'router:external': true },
          ],
        },
      },
    });
    server = fake.server;
    const facts = await discoverNetwork(fake.url, 'tok', PUBLIC);
    expect(facts).toEqual({ publicNetworkId: 'ext-1a', extensions: ['external-net', 'router'], problems: [] });
    expect(fake.seen).toContain(`/network/v2.0/networks?name=${PUBLIC} tok`);
    expect(fake.seen).toContain('/network/v2.0/extensions tok');
  });

  it('reports what it could not read instead of failing', async () => {
    const fake = await fakeNeutron({ '/network/v2.0/networks': { status: 200, body: { networks: [] } } });
    server = fake.server;
    const facts = await discoverNetwork(`${fake.url}/v2.0/`, 'tok', PUBLIC);
    expect(facts.publicNetworkId).toBeNull();
    expect(facts.extensions).toBeNull();
    expect(facts.problems).toHaveLength(2);
    expect(facts.problems.join('\n')).toMatch(/extensions failed \(HTTP 404/);
    expect(facts.problems.join('\n')).toContain(`no external network named ${PUBLIC}`);
  });

  it('reports an unreachable service', async () => {
    const facts = await discoverNetwork('http://127.0.0.1:1/network', 'tok', PUBLIC);
    expect(facts).toMatchObject({ publicNetworkId: null, extensions: null });
    expect(facts.problems).toHaveLength(2);
  });

  it('parses strictly', () => {
    expect(() => extensionAliases({})).toThrow(/extensions/);
    expect(() => extensionAliases({ extensions: [{ name: 'x' }] })).toThrow(/alias/);
    expect(extensionAliases({ extensions: [] })).toEqual([]);
    expect(() => externalNetworkIds({ network: {} }, PUBLIC)).toThrow(/networks/);
    expect(externalNetworkIds({ networks: [null, { id: 'a', name: 'other', 'router:external': true }] }, PUBLIC)).toEqual([]);
  });

  it('finds the API under the catalog URL, with or without the version', () => {
    expect(networkApiUrl('http://h:1/network')).toBe('http://h:1/network/v2.0');
    expect(networkApiUrl('http://h:1/network/')).toBe('http://h:1/network/v2.0');
    expect(networkApiUrl('http://h:1/network/v2.0/')).toBe('http://h:1/network/v2.0');
  });

  it('takes the public endpoint in our region from the catalog', () => {
    const catalog: CatalogEntry[] = [
      {
        type: 'network',
        endpoints: [
          { interface: 'internal', region: 'europe-se-1', url: 'http://internal/network' },
          { interface: 'public', region: 'elsewhere-1', url: 'http://far/network' },
          { interface: 'public', region: 'europe-se-1', region_id: 'europe-se-1', url: 'http://near/network' },
        ],
      },
    ];
    expect(endpointUrl(catalog, 'network', 'europe-se-1')).toBe('http://near/network');
    expect(endpointUrl(catalog, 'network', 'nowhere-1')).toBe('http://far/network');
    expect(endpointUrl(catalog, 'image', 'europe-se-1')).toBeNull();
  });
});
