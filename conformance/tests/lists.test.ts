import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseList, readList, selectsTest, testIdToPattern } from '../lists.js';

const listsDir = new URL('../lists/', import.meta.url);
const listed = (name: string) => readList(new URL(name, listsDir).pathname);

describe('list files', () => {
  it('turns interop test ids into regexes that match the id whatever its other attributes', () => {
    const pattern = new RegExp(testIdToPattern('tempest.api.x.T.test_a[id-1234]')!);
    expect(pattern.test('tempest.api.x.T.test_a[id-1234]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_a[id-1234,smoke]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_a[smoke,id-1234]')).toBe(true);
    expect(pattern.test('tempest.api.x.T.test_ab[id-1234]')).toBe(false);
  });

  it('keeps the comment of an exclude line as its reason', () => {
    const [entry] = parseList('# header\n\n^a\\.b  # not implemented\n', 'x.txt');
    expect(entry).toEqual({ pattern: '^a\\.b', reason: 'not implemented', origin: 'x.txt:3' });
  });

  it('rejects a broken regex with its file and line', () => {
    expect(() => parseList('ok\n(unclosed\n', 'bad.txt')).toThrow(/bad\.txt:2/);
  });

  it('gives every exclusion a reason', () => {
    for (const file of readdirSync(listsDir).filter((f) => f.endsWith('-exclude.txt'))) {
      for (const entry of listed(file)) expect(entry.reason, entry.origin).toBeTruthy();
    }
  });

  it('holds exactly the 17 identity tests of the interop guideline', () => {
    const entries = listed('interop-identity.txt');
    expect(entries).toHaveLength(17);
    const guideline = readFileSync(new URL('interop-identity.txt', listsDir), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('tempest.'));
    guideline.forEach((id, i) => expect(new RegExp(entries[i]!.pattern).test(id)).toBe(true));
  });

  it('holds exactly the 23 image tests of the interop guideline, all Image API v2', () => {
    const entries = listed('interop-image.txt');
    expect(entries).toHaveLength(23);
    const ids = readFileSync(new URL('interop-image.txt', listsDir), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('tempest.'));
    expect(ids).toHaveLength(23);
    for (const id of ids) expect(id).toMatch(/^tempest\.api\.image\.v2\./);
    ids.forEach((id, i) => expect(new RegExp(entries[i]!.pattern).test(id)).toBe(true));
  });

  it('holds exactly the 81 network tests of the interop guideline', () => {
    const entries = listed('interop-network.txt');
    expect(entries).toHaveLength(81);
    const ids = readFileSync(new URL('interop-network.txt', listsDir), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('tempest.'));
    expect(ids).toHaveLength(81);
    for (const id of ids) expect(id).toMatch(/^tempest\.api\.network\./);
    ids.forEach((id, i) => expect(new RegExp(entries[i]!.pattern).test(id)).toBe(true));
  });

  it('never excludes an interop test from its service list', () => {
    for (const service of ['identity', 'image', 'network']) {
      const includes = listed(`${service}.txt`);
      const excludes = listed(`${service}-exclude.txt`);
      const ids = readFileSync(new URL(`interop-${service}.txt`, listsDir), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('tempest.'));
      for (const id of ids) expect(selectsTest(includes, excludes, id), id).toBe(true);
    }
  });

  it('runs Image API v2 only, without the areas Stratus does not implement', () => {
    const includes = listed('image.txt');
    const excludes = listed('image-exclude.txt');
    const runs = (id: string): boolean => selectsTest(includes, excludes, id);
    expect(runs('tempest.api.image.v1.test_images.ListImagesTest.test_index_no_params[id-246178ab-3b33-4212-9a4b-a7fe8261794d]')).toBe(false);
    expect(runs('tempest.api.image.v2.test_images.ImageLocationsTest.test_set_location[id-37599b8a-d5c0-4590-aee5-73878502be15]')).toBe(false);
    expect(runs('tempest.api.image.v2.admin.test_image_caching.ImageCachingTest.test_image_caching_cycle[id-4bf6adba-2f9f-47e9-a6d5-37f21ad4387c]')).toBe(false);
    expect(runs('tempest.api.image.v2.test_images_metadefs_schema.MetadataSchemaTest.test_get_metadata_tag_schema[id-dde4a891-b38b-3bf0-a3b2-e03ee67b3a3e]')).toBe(false);
    expect(runs('tempest.api.image.v2.test_images.ImportImagesTest.test_image_glance_download_import_success[id-8876c818-c40e-4b90-9742-31d231616305]')).toBe(false);
    expect(runs('tempest.api.image.v2.test_images.ImportImagesTest.test_image_glance_direct_import[id-32ca0c20-e16f-44ac-8590-07869c9b4cc2]')).toBe(true);
    expect(runs('tempest.api.image.v2.test_images.ImportImagesTest.test_image_web_download_import[id-f6feb7a4-b04f-4706-a011-206129f83e62]')).toBe(true);
    expect(runs('tempest.api.image.v2.admin.test_images.BasicOperationsImagesAdminTest.test_create_image_owner_param[id-646a6eaa-135f-4493-a0af-12583021224e]')).toBe(true);
  });

  it('runs the network API tests without agent scheduling, metering and what needs Compute', () => {
    const includes = listed('network.txt');
    const excludes = listed('network-exclude.txt');
    const runs = (id: string): boolean => selectsTest(includes, excludes, id);
    expect(runs('tempest.api.network.admin.test_dhcp_agent_scheduler.DHCPAgentSchedulersTestJSON.test_list_dhcp_agent_hosting_network[id-5032b1fe-eb42-4a64-8f3b-6e189d8b5c7d]')).toBe(false);
    expect(runs('tempest.api.network.admin.test_metering_extensions.MeteringTestJSON.test_list_metering_labels[id-e2fb2f8c-45bf-429a-9f17-171c70444612]')).toBe(false);
    expect(runs('tempest.api.network.test_routers_negative.DvrRoutersNegativeTest.test_router_create_tenant_distributed_returns_forbidden[id-4990b055-8fc7-48ab-bba7-aa28beaad0b9,negative]')).toBe(true);
    expect(runs('tempest.api.network.admin.test_ports.PortsAdminExtendedAttrsIpV6TestJSON.test_list_ports_binding_ext_attr[id-1c82a44a-6c6e-48ff-89e1-abe7eaf8f9f8]')).toBe(false);
    expect(runs('tempest.api.network.admin.test_ports.PortsAdminExtendedAttrsTestJSON.test_show_port_binding_ext_attr[id-b54ac0ff-35fc-4c79-9ca3-c7dbd4ea4f13]')).toBe(true);
    expect(runs('tempest.api.network.test_agent_management_negative.AgentManagementNegativeTest.test_list_agents_non_admin[id-e335be47-b9a1-46fd-be30-0874c0b751e6,negative]')).toBe(true);
    expect(runs('tempest.api.network.test_dhcp_ipv6.NetworksTestDHCPv6.test_dhcpv6_stateless_eui64[id-e5517e62-6f16-430d-a672-f80875493d4c]')).toBe(true);
    expect(runs('tempest.api.network.admin.test_quotas.QuotasTest.test_quotas[id-2390f766-836d-40ef-9aeb-e810d78207fb]')).toBe(true);
  });
});
