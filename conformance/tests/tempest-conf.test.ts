import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cloudSettings } from '../cloud-settings.js';
import { catalogTypes, identityV3Url, type CatalogEntry } from '../keystone.js';
import type { NetworkFacts } from '../neutron.js';
import { buildTempestConf } from '../tempest-conf.js';

const catalog = (JSON.parse(readFileSync(new URL('./fixtures/catalog.json', import.meta.url), 'utf8')) as { catalog: CatalogEntry[] }).catalog;

/** Parses the generated ini back into section → key → value, the way oslo.config reads it. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) out[(section = header[1]!)] = {};
    else {
      const [key, ...rest] = line.split(' = ');
      out[section]![key!] = rest.join(' = ');
    }
  }
  return out;
}

function conf(overrides: { password?: string; types?: Set<string>; httpImageUrl?: string | null; network?: NetworkFacts | null } = {}) {
  return parseIni(
    buildTempestConf({
      workspaceDir: '/tmp/ws',
      uriV3: identityV3Url('http://127.0.0.1:5050/identity'),
      admin: { username: 'admin', password: overrides.password ?? 's3cret', projectName: 'admin', domainName: 'Default' },
      settings: cloudSettings,
      catalogTypes: overrides.types ?? catalogTypes(catalog, 'europe-se-1'),
      insecure: false,
      httpImageUrl: overrides.httpImageUrl ?? null,
      network: overrides.network ?? null,
    }),
  );
}

const withImage = new Set(['identity', 'image']);

describe('tempest.conf from a catalog', () => {
  it('points Tempest at Keystone v3 with the admin account and dynamic credentials', () => {
    const c = conf();
    expect(c.identity).toMatchObject({ auth_version: 'v3', uri_v3: 'http://127.0.0.1:5050/identity/v3', region: 'europe-se-1' });
    expect(c.auth).toMatchObject({
      use_dynamic_credentials: 'True',
      admin_username: 'admin',
      admin_password: 's3cret',
      admin_project_name: 'admin',
      admin_domain_name: 'Default',
    });
  });

  it('tells Tempest the security-compliance settings of the server', () => {
    expect(conf().identity).toMatchObject({
      user_lockout_failure_attempts: '5',
      user_lockout_duration: '1800',
      user_unique_last_password_count: '3',
    });
    expect(conf()['identity-feature-enabled']).toMatchObject({ security_compliance: 'True', api_v2: 'False', trust: 'False', api_v3: 'True' });
  });

  it('marks only services with an endpoint in our region as available', () => {
    const available = conf().service_available;
    expect(available).toMatchObject({ cinder: 'True', nova: 'False', glance: 'False', neutron: 'False', swift: 'False', horizon: 'False' });
    expect(conf().volume).toMatchObject({ catalog_type: 'volumev3', max_microversion: '3.71', backend_names: 'file' });
    expect(conf().auth!.create_isolated_networks).toBe('False');
  });

  it('escapes dollars so oslo.config does not substitute them', () => {
    expect(conf({ password: 'a$b' }).auth!.admin_password).toBe('a$$b');
  });

  it('accepts an auth URL with or without /v3', () => {
    expect(identityV3Url('http://h/identity/v3/')).toBe('http://h/identity/v3');
    expect(identityV3Url('http://h/identity')).toBe('http://h/identity/v3');
  });
});

describe('tempest.conf for the image service', () => {
  it('writes no image sections when Glance is not in the catalog', () => {
    const c = conf();
    expect(c.service_available!.glance).toBe('False');
    expect(c).not.toHaveProperty('image');
    expect(c).not.toHaveProperty('image-feature-enabled');
  });

  it('sets the v2 features Stratus has and turns off the ones it does not', () => {
    const c = conf({ types: withImage });
    expect(c.service_available!.glance).toBe('True');
    expect(c['image-feature-enabled']).toEqual({
      api_v2: 'True',
      api_v1: 'False',
      import_image: 'True',
      os_glance_reserved: 'True',
      manage_locations: 'False',
    });
    expect(c.image).toMatchObject({ catalog_type: 'image', endpoint_type: 'public', build_timeout: '60', image_caching_enabled: 'False' });
    expect(c.image).not.toHaveProperty('alternate_image_endpoint');
  });

  it('lists bare and raw first, with raw among the six disk formats ListUserImagesTest uses', () => {
    const image = conf({ types: withImage }).image!;
    expect(image.container_formats!.split(',')[0]).toBe('bare');
    expect(image.disk_formats!.split(',')[0]).toBe('raw');
  });

  it('points http_image at loopback only: the runner\'s file server, or a dead address', () => {
    expect(conf({ types: withImage, httpImageUrl: 'http://127.0.0.1:4321/stratus-conformance.img' }).image!.http_image).toBe(
      'http://127.0.0.1:4321/stratus-conformance.img',
    );
    expect(conf({ types: withImage }).image!.http_image).toMatch(/^http:\/\/127\.0\.0\.1:9\//);
  });

  it('keeps the identity sections as they were', () => {
    const a = conf();
    const b = conf({ types: new Set([...catalogTypes(catalog, 'europe-se-1'), 'image']) });
    for (const section of ['auth', 'identity', 'identity-feature-enabled', 'enforce_scope', 'volume']) expect(b[section]).toEqual(a[section]);
  });
});

describe('tempest.conf for the networking service', () => {
  const withNetwork = new Set(['identity', 'image', 'network']);
  const facts: NetworkFacts = { publicNetworkId: 'a1b2c3', extensions: ['external-net', 'router', 'security-group'], problems: [] };

  it('writes no network sections when Neutron is not in the catalog', () => {
    const c = conf({ types: withImage, network: facts });
    expect(c.service_available!.neutron).toBe('False');
    expect(c).not.toHaveProperty('network');
    expect(c).not.toHaveProperty('network-feature-enabled');
    expect(c.auth!.create_isolated_networks).toBe('False');
  });

  it('uses the public network id and the extension list the cloud gave', () => {
    const c = conf({ types: withNetwork, network: facts });
    expect(c.service_available!.neutron).toBe('True');
    // No Compute: nothing boots servers, so test projects get no network of their own.
    expect(c.auth!.create_isolated_networks).toBe('False');
    expect(conf({ types: new Set([...withNetwork, 'compute']), network: facts }).auth!.create_isolated_networks).toBe('True');
    expect(c.network).toMatchObject({
      catalog_type: 'network',
      endpoint_type: 'public',
      public_network_id: 'a1b2c3',
      floating_network_name: 'europe-se-1-1a-net0',
      project_network_cidr: '10.100.0.0/16',
      project_network_mask_bits: '28',
      project_network_v6_mask_bits: '64',
      project_networks_reachable: 'False',
      shared_physical_network: 'False',
      public_router_id: '',
    });
    expect(c['network-feature-enabled']).toMatchObject({
      api_extensions: 'external-net,router,security-group',
      ipv6: 'True',
      ipv6_subnet_attributes: 'True',
      port_security: 'True',
      floating_ips: 'True',
    });
  });

  it('keeps project ranges apart from the documentation ranges of the external networks', () => {
    const n = conf({ types: withNetwork, network: facts }).network!;
    expect(n.project_network_v6_cidr).toMatch(/^fd[0-9a-f]{2}:/);
    expect(n.project_network_v6_cidr!.endsWith('/48')).toBe(true);
    for (const prefix of n.default_network!.split(',')) expect(prefix).toMatch(/^10\./);
  });

  it('writes an empty api_extensions when the cloud offers none, and the fallback when it could not be asked', () => {
    expect(conf({ types: withNetwork, network: { ...facts, extensions: [] } })['network-feature-enabled']!.api_extensions).toBe('');
    const fallback = conf({ types: withNetwork, network: { publicNetworkId: null, extensions: null, problems: ['x'] } });
    expect(fallback['network-feature-enabled']!.api_extensions).toBe(cloudSettings.network.fallbackExtensions.join(','));
    expect(fallback.network!.public_network_id).toBe('');
  });

  it('keeps the identity and image sections as they were', () => {
    const a = conf({ types: withImage });
    const b = conf({ types: withNetwork, network: facts });
    for (const section of ['auth', 'identity', 'identity-feature-enabled', 'enforce_scope', 'image', 'image-feature-enabled']) expect(b[section]).toEqual(a[section]);
  });
});
