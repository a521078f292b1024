import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cloudSettings } from '../cloud-settings.js';
import { catalogTypes, identityV3Url, type CatalogEntry } from '../keystone.js';
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

function conf(overrides: { password?: string } = {}) {
  return parseIni(
    buildTempestConf({
      workspaceDir: '/tmp/ws',
      uriV3: identityV3Url('http://127.0.0.1:5050/identity'),
      admin: { username: 'admin', password: overrides.password ?? 's3cret', projectName: 'admin', domainName: 'Default' },
      settings: cloudSettings,
      catalogTypes: catalogTypes(catalog, 'europe-se-1'),
      insecure: false,
    }),
  );
}

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
    expect(conf().volume).toEqual({ catalog_type: 'volumev3' });
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
