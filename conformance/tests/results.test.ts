import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildResults, causeKey, countByService, exceptionOf } from '../results.js';
import { decodeSubunit } from '../subunit.js';

const fixture = (name: string) => decodeSubunit(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const T = 'tempest.api.identity.v3.test_tokens.TokensV3Test';
const R = 'tempest.api.identity.admin.v3.test_roles.RolesV3TestJSON';

describe('subunit results', () => {
  it('reads a pass, a failure with its exception and a skip with its reason', () => {
    const listed = [
      `${T}.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]`,
      `${T}.test_validate_token[id-a9512ac3-3909-48a4-b395-11f438e16260]`,
      `${T}.test_token_auth_creation_existence_deletion[id-0f9f5a5f-d5cd-4a86-8a5b-c5ded151f212]`,
    ];
    const byId = new Map(buildResults(listed, fixture('mixed.subunit')).map((r) => [r.id, r]));
    expect(byId.get(listed[0]!)?.outcome).toBe('passed');
    expect(byId.get(listed[1]!)).toMatchObject({ outcome: 'failed', service: 'identity' });
    expect(byId.get(listed[1]!)?.detail).toMatch(/^tempest\.lib\.exceptions\.NotFound: Object not found\nDetails: /);
    expect(byId.get(listed[2]!)).toMatchObject({ outcome: 'skipped', detail: 'Auth through token is disabled' });
  });

  it('spreads a failed setUpClass over the selected tests of that class', () => {
    const listed = [`${R}.test_role_create_update_show_list[id-18afc6c0]`, `${R}.test_list_roles[id-f5d9bd3c]`];
    const results = buildResults(listed, fixture('mixed.subunit')).filter((r) => r.id.startsWith(R));
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'failed']);
    expect(results[0]!.detail).toMatch(/ServerFault/);
  });

  it('reports a failed tearDownClass and an unfinished test as failures', () => {
    const results = buildResults([], fixture('mixed.subunit'));
    expect(results.find((r) => r.id === `tearDownClass (${T})`)?.outcome).toBe('failed');
    expect(results.find((r) => r.id.includes('test_never_finished'))?.detail).toMatch(/never finished/);
  });

  it('counts a selected test without any result as failed', () => {
    const [result] = buildResults([`${T}.test_ghost[id-1]`], []);
    expect(result).toMatchObject({ outcome: 'failed', service: 'identity' });
  });

  it('counts class-level skips from a real Tempest run per test and per service', () => {
    const listed = [
      'tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_trust_impersonate[id-5a0a91a4-baef-4a14-baba-59bf4d7fcace]',
      'tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_trust_noimpersonate[id-ed2a8779-a7ac-49dc-afd7-30f32f936ed2]',
      'tempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON.test_list_flavors[id-e36c0eaa-dff5-4082-ad1f-3f9a80aa3f59,smoke]',
    ];
    const results = buildResults(listed, fixture('class-skips.subunit'));
    expect(results.every((r) => r.outcome === 'skipped')).toBe(true);
    expect(Object.fromEntries(countByService(results))).toEqual({
      compute: { passed: 0, failed: 0, skipped: 1, total: 1 },
      identity: { passed: 0, failed: 0, skipped: 2, total: 2 },
    });
    expect(results[0]!.detail).toBe('Nova is not available');
  });

  it('finds the exception at the end of a real traceback', () => {
    const listed = ['tempest.api.identity.v3.test_api_discovery.TestApiDiscovery.test_api_media_types[id-657c1970-4722-4189-8831-7325f3bc4265]'];
    const [result] = buildResults(listed, fixture('setup-failure.subunit')).filter((r) => r.id === listed[0]);
    expect(result!.detail).toMatch(/^urllib3\.exceptions\.MaxRetryError: .*Connection refused/);
    expect(causeKey(result!.detail!)).not.toMatch(/0x/);
  });

  it('keeps only the exception text, not source lines or carets', () => {
    const tb = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    g()\n    ^^^\nValueError: bad\n';
    expect(exceptionOf(tb)).toBe('ValueError: bad');
  });
});
