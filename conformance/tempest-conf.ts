// Builds tempest.conf for one run. Every option is set on purpose, with the reason next to it
// in the generated file, so a reader of a failing run can see what Tempest was told.
// Option names follow tempest/config.py of Tempest 33 (the Debian package on this machine).

import type { AdminCredentials } from './keystone.js';
import type { CloudSettings } from './cloud-settings.js';
import { UNUSED_HTTP_IMAGE } from './http-image.js';
import type { NetworkFacts } from './neutron.js';
import { tempestServices } from './services.js';
import type { ComputeFacts } from './nova.js';

export interface TempestConfInput {
  workspaceDir: string;
  uriV3: string;
  admin: AdminCredentials;
  settings: CloudSettings;
  /** Service types found in the Keystone catalog. */
  catalogTypes: ReadonlySet<string>;
  /** Skip TLS verification (self-signed certificates). */
  insecure: boolean;
  /**
   * URL of the runner's own 127.0.0.1 file server (http-image.ts) when a selected test
   * downloads an image; otherwise a dead loopback address is written.
   */
  httpImageUrl?: string | null;
  /**
   * What the Networking service said when asked (conformance/neutron.ts): the public network's
   * id and the extension list. Null or absent when it was not asked (no `network` in the catalog).
   */
  network?: NetworkFacts | null;
  /** Flavors and images the runner prepared in Compute (conformance/nova.ts); null without Compute. */
  compute?: ComputeFacts | null;
}

type Value = string | number | boolean | string[];
interface Option {
  key: string;
  value: Value;
  why?: string;
}
interface Section {
  name: string;
  options: Option[];
}

export function buildTempestConf(input: TempestConfInput): string {
  return render(tempestConfSections(input));
}

export function tempestConfSections(input: TempestConfInput): Section[] {
  const { settings, admin, catalogTypes } = input;
  const sc = settings.securityCompliance;
  const has = (t: string): boolean => catalogTypes.has(t);
  const present = tempestServices.filter((s) => s.catalogTypes.some(has));
  const neutron = present.some((s) => s.availableKey === 'neutron');
  const nova = present.some((s) => s.availableKey === 'nova');

  const sections: Section[] = [
    {
      name: 'DEFAULT',
      options: [
        // Absolute, because Tempest resets the default to tempest.log in the working directory.
        { key: 'log_file', value: `${input.workspaceDir}/tempest.log`, why: 'request/response log of every test, for debugging failures' },
      ],
    },
    {
      name: 'oslo_concurrency',
      options: [{ key: 'lock_path', value: `${input.workspaceDir}/tempest_lock`, why: 'per-workspace locks; parallel workers share them' }],
    },
    {
      name: 'auth',
      options: [
        { key: 'use_dynamic_credentials', value: true, why: 'Tempest creates (and deletes) its own projects and users with the admin account' },
        { key: 'admin_username', value: admin.username },
        { key: 'admin_password', value: admin.password },
        { key: 'admin_project_name', value: admin.projectName },
        { key: 'admin_domain_name', value: admin.domainName },
        { key: 'admin_user_domain_name', value: admin.domainName },
        { key: 'admin_project_domain_name', value: admin.domainName },
        { key: 'default_credentials_domain_name', value: settings.defaultDomain.name, why: 'dynamic users and projects are created in the default domain' },
        { key: 'tempest_roles', value: [], why: "dynamic users get only the 'member' role (or what a test asks for)" },
        {
          key: 'create_isolated_networks',
          value: neutron && nova,
          why: 'a network/subnet/router per test project is for booting servers, so only with Neutron and Compute; the network tests make their own, identity and image tests need none',
        },
        // admin_system stays unset: the bootstrap admin is a project admin, and Tempest then uses
        // project-scoped admin tokens for admin APIs.
      ],
    },
    {
      name: 'identity',
      options: [
        { key: 'catalog_type', value: 'identity' },
        { key: 'auth_version', value: 'v3', why: 'Stratus implements Identity v3 only' },
        { key: 'uri_v3', value: input.uriV3 },
        { key: 'region', value: settings.region, why: 'also the region for every other service' },
        { key: 'v3_endpoint_type', value: 'public', why: 'users reach Keystone on its public endpoint; the adminURL default is deprecated' },
        { key: 'admin_role', value: settings.admin.role },
        { key: 'default_domain_id', value: settings.defaultDomain.id },
        { key: 'admin_domain_scope', value: false, why: 'admin APIs accept a project-scoped admin token' },
        { key: 'disable_ssl_certificate_validation', value: input.insecure },
        { key: 'user_lockout_failure_attempts', value: sc.lockoutFailureAttempts, why: 'must equal the server setting' },
        { key: 'user_lockout_duration', value: sc.lockoutDurationSeconds, why: 'must equal the server setting; the lockout test sleeps this long' },
        { key: 'user_unique_last_password_count', value: sc.uniqueLastPasswordCount, why: 'must equal the server setting' },
        // Tempest 33 has no option for minimum password age or expiry; its password tests assume
        // the age is 0 (they change a password several times in a row). See conformance/cloud-settings.ts.
      ],
    },
    {
      name: 'identity-feature-enabled',
      options: [
        { key: 'api_v2', value: false, why: 'v2.0 was removed from Keystone in Queens; Stratus serves v3 only' },
        { key: 'api_v2_admin', value: false, why: 'no v2.0 admin API either' },
        { key: 'api_v3', value: true },
        { key: 'api_extensions', value: ['OS-INHERIT', 'OS-EC2'], why: "the extensions Stratus implements; 'all' would also claim OAuth1, trusts, federation, endpoint filter" },
        { key: 'trust', value: false, why: 'Stratus does not implement OS-TRUST delegation' },
        { key: 'domain_specific_drivers', value: false, why: 'no per-domain identity backends (LDAP); users live in the Stratus database' },
        { key: 'security_compliance', value: true, why: 'lockout and password history are enforced (values in [identity])' },
        { key: 'project_tags', value: true },
        { key: 'application_credentials', value: true },
        { key: 'access_rules', value: true, why: 'application credentials may carry access rules' },
        { key: 'immutable_user_source', value: false, why: 'users are writable, so user CRUD tests run' },
      ],
    },
    {
      name: 'service_available',
      options: [
        ...tempestServices
          .filter((s) => s.availableKey !== null)
          .map((s) => ({ key: s.availableKey!, value: present.includes(s), why: `catalog type ${s.catalogTypes.join(' or ')}` })),
        { key: 'horizon', value: has('dashboard'), why: 'dashboard tests need a dashboard URL' },
      ],
    },
    {
      name: 'enforce_scope',
      // Stratus checks roles on project-scoped tokens (admin ⊃ member ⊃ reader); with these False
      // Tempest uses project-scoped credentials everywhere, which is what our users do.
      options: ['keystone', 'nova', 'neutron', 'glance', 'cinder'].map((key) => ({ key, value: false })),
    },
  ];

  // Each present service gets the catalog type it actually has (Tempest's defaults differ),
  // and its own options; an absent service gets no section, its tests skip.
  for (const service of present) {
    if (service.name === 'identity') continue;
    const type = service.catalogTypes.find(has)!;
    sections.push({ name: service.confSection, options: [{ key: 'catalog_type', value: type }, ...serviceOptions(service.name, input)] });
    sections.push(...featureSections(service.name, input));
  }
  return sections;
}

/** Options of a present service's own section, after its catalog_type. */
function serviceOptions(service: string, input: TempestConfInput): Option[] {
  if (service === 'network') return networkOptions(input);
  if (service === 'compute') return computeOptions(input);
  if (service === 'volume') return volumeOptions();
  if (service === 'object-storage') return objectStorageOptions();
  if (service !== 'image') return [];
  const image = input.settings.image;
  return [
    { key: 'endpoint_type', value: 'public', why: 'users reach Glance on its public endpoint (region: [identity] region)' },
    { key: 'build_timeout', value: 60, why: 'seconds to wait for an image to become active; uploads and imports here are small and local' },
    { key: 'build_interval', value: 1 },
    { key: 'container_formats', value: image.containerFormats, why: 'bare first: Tempest creates most images with the first entry (conformance/cloud-settings.ts)' },
    { key: 'disk_formats', value: image.diskFormats, why: 'raw first, and among the first six: ListUserImagesTest lists by disk_format=raw' },
    input.httpImageUrl
      ? { key: 'http_image', value: input.httpImageUrl, why: "the runner's own file server on 127.0.0.1, for the web-download import test" }
      : { key: 'http_image', value: UNUSED_HTTP_IMAGE, why: "no selected test downloads an image; a dead loopback address so Tempest's internet default is never fetched" },
    { key: 'image_caching_enabled', value: false, why: 'no image cache or cache API (/v2/cache) in Stratus' },
    // alternate_image_endpoint stays unset: Stratus is one process, there is no second worker.
  ];
}

/** `<service>-feature-enabled` sections of a present service. */
function featureSections(service: string, input: TempestConfInput): Section[] {
  if (service === 'network') return [networkFeatureSection(input)];
  if (service === 'compute') return computeFeatureSections();
  if (service === 'volume') return volumeFeatureSections();
  if (service === 'object-storage') return objectStorageFeatureSections();
  if (service !== 'image') return [];
  return [
    {
      name: 'image-feature-enabled',
      options: [
        { key: 'api_v2', value: true, why: 'Stratus serves Image API v2 at /image/v2' },
        { key: 'api_v1', value: false, why: 'v1 was removed from Glance in Rocky; Stratus serves v2 only' },
        { key: 'import_image', value: true, why: 'interoperable import: glance-direct (PUT /v2/images/{id}/stage, POST .../import) and web-download' },
        { key: 'os_glance_reserved', value: true, why: 'os_glance_* properties are reserved; create and update with one are refused (403), as in Glance since Wallaby' },
        { key: 'manage_locations', value: false, why: 'no show_multiple_locations: image locations are neither shown nor settable' },
      ],
    },
  ];
}

/** [compute] after catalog_type. */
function computeOptions(input: TempestConfInput): Option[] {
  const c = input.compute;
  return [
    { key: 'endpoint_type', value: 'public' },
    ...(c
      ? [
          { key: 'image_ref', value: c.imageRef, why: 'public raw image the runner uploaded (conformance/nova.ts)' },
          { key: 'image_ref_alt', value: c.imageRefAlt, why: 'a second one: rebuild and the filter-by-image tests need two' },
          { key: 'flavor_ref', value: c.flavorRef, why: 'tempest.small: the documented flavors have no root disk (they boot from volumes), Tempest boots from images' },
          { key: 'flavor_ref_alt', value: c.flavorRefAlt, why: 'tempest.medium: the resize target and the filter-by-flavor alternative' },
        ]
      : []),
    { key: 'max_microversion', value: '2.96', why: 'Nova Caracal, the release the documented cloud runs; without it the 2.2 and 2.26 test classes skip' },
    { key: 'build_timeout', value: 60, why: 'the fake hypervisor builds in well under a second' },
    { key: 'build_interval', value: 1 },
    { key: 'min_compute_nodes', value: 2, why: 'the fake driver offers three hosts per zone, so migration tests have somewhere to go' },
    { key: 'shelved_offload_time', value: 0, why: 'shelving offloads at once: SHELVED_OFFLOADED' },
  ];
}

/** [compute-feature-enabled] and [validation]. */
function computeFeatureSections(): Section[] {
  const on = (key: string, why: string): Option => ({ key, value: true, why });
  const off = (key: string, why: string): Option => ({ key, value: false, why });
  return [
    {
      name: 'compute-feature-enabled',
      options: [
        on('resize', 'resize with VERIFY_RESIZE, confirm and revert'),
        on('cold_migration', 'admin migrate between the fake hosts'),
        on('live_migration', 'admin live migration between the fake hosts'),
        off('live_migrate_back_and_forth', 'not needed for the API'),
        off('block_migration_for_live_migration', 'no local disks to copy on the fake hypervisor'),
        on('can_migrate_between_any_hosts', 'every fake host accepts every server'),
        on('snapshot', 'createImage uploads the root disk to Glance'),
        on('enable_instance_password', 'adminPass is returned on create and rebuild'),
        on('disk_config', 'OS-DCF:diskConfig is accepted and shown'),
        on('console_output', 'os-getConsoleOutput returns the fake guest log'),
        off('change_password', 'changePassword is accepted but no guest agent sets it'),
        on('pause', 'pause/unpause'),
        on('suspend', 'suspend/resume'),
        on('shelve', 'shelve, shelve offload and unshelve'),
        on('rescue', 'rescue/unrescue'),
        off('stable_rescue', 'no stable device rescue (hw_rescue_device) yet'),
        on('interface_attach', 'os-interface attach and detach'),
        off('vnc_console', 'console URLs are issued but no proxy serves them yet'),
        off('spice_console', 'as vnc_console'),
        off('serial_console', 'as vnc_console'),
        off('rdp_console', 'no RDP'),
        off('personality', 'file injection was removed in 2.57'),
        off('metadata_service', 'no metadata service until the QEMU driver; only read with run_validation'),
        on('config_drive', 'the flag is stored and shown'),
        off('swap_volume', 'volume swap (PUT os-volume_attachments, the retype helper) is not offered'),
        on('volume_multiattach', 'the ssd-multiattach and hdd-multiattach volume types attach to several servers'),
        off('attach_encrypted_volume', 'no volume encryption types (no key manager yet)'),
        off('hostname_fqdn_sanitization', 'hostnames are sanitised to their first label only'),
        off('unified_limits', 'quotas are Nova quota sets, not Keystone unified limits'),
        off('xenapi_apis', 'no XenAPI'),
        {
          key: 'scheduler_enabled_filters',
          value: ['AvailabilityZoneFilter', 'ComputeFilter', 'ImagePropertiesFilter', 'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
            'DifferentHostFilter', 'SameHostFilter', 'AggregateInstanceExtraSpecsFilter'],
          why: "the scheduler's filters (src/services/compute/logic/scheduler.ts), resources included in ComputeFilter's place",
        },
      ],
    },
    {
      name: 'validation',
      options: [
        off('run_validation', 'the fake hypervisor boots no guest to SSH into; the QEMU driver will'),
      ],
    },
  ];
}

/** [volume] after catalog_type. */
function volumeOptions(): Option[] {
  return [
    { key: 'endpoint_type', value: 'public', why: 'users reach Cinder on its public endpoint (region: [identity] region)' },
    { key: 'build_timeout', value: 60, why: 'seconds to wait for a volume, snapshot or backup; sparse files are made in milliseconds, 1 GiB uploads in seconds' },
    { key: 'build_interval', value: 1 },
    { key: 'volume_size', value: 1, why: 'GiB; volumes are sparse files, so size costs no disk until written' },
    { key: 'disk_format', value: 'raw', why: 'upload-to-image copies the raw volume' },
    { key: 'backend_names', value: ['file'], why: 'one backend: sparse files in the data directory (volume_backend_name=file)' },
    { key: 'storage_protocol', value: 'file', why: 'what the pool statistics report' },
    { key: 'vendor_name', value: 'Stratus', why: 'what the pool statistics report' },
    { key: 'min_microversion', value: '3.0' },
    { key: 'max_microversion', value: '3.71', why: 'the highest Cinder microversion Stratus serves; tests above it skip' },
  ];
}

/** [volume-feature-enabled]. */
function volumeFeatureSections(): Section[] {
  return [
    {
      name: 'volume-feature-enabled',
      options: [
        { key: 'multi_backend', value: false, why: 'one backend' },
        { key: 'backup', value: true, why: 'full and incremental backups, chunked, compressed and checksummed' },
        { key: 'snapshot', value: true },
        { key: 'clone', value: true, why: 'volumes from volumes (reflink copies where the filesystem has them)' },
        { key: 'manage_volume', value: false, why: 'no manage/unmanage of volumes already on a backend' },
        { key: 'manage_snapshot', value: false, why: 'as manage_volume' },
        { key: 'extend_attached_volume', value: true, why: 'os-extend of an in-use volume at 3.42, as the product documents show' },
        { key: 'extend_attached_encrypted_volume', value: false, why: 'no encryption types' },
      ],
    },
  ];
}

/** [object-storage] after catalog_type. */
function objectStorageOptions(): Option[] {
  return [
    { key: 'endpoint_type', value: 'public', why: 'users reach Swift on its public endpoint (region: [identity] region)' },
    { key: 'operator_role', value: 'member', why: 'members of a project own its account (AUTH_<project_id>)' },
    { key: 'reseller_admin_role', value: 'admin', why: "Swift's ResellerAdmin is the admin role here: it may reach any account and set account quotas" },
    { key: 'build_timeout', value: 10 },
  ];
}

/** [object-storage-feature-enabled]. */
function objectStorageFeatureSections(): Section[] {
  return [
    {
      name: 'object-storage-feature-enabled',
      options: [
        { key: 'container_sync', value: false, why: 'container sync between clusters is not offered (one cluster, no realms)' },
        { key: 'object_versioning', value: true, why: 'X-Versions-Location, X-History-Location and X-Versions-Enabled' },
        { key: 'discoverability', value: true, why: 'GET /info lists the capabilities actually offered' },
        { key: 'tempurl_digest_hashlib', value: 'sha256', why: 'TempURL signatures with sha1, sha256 or sha512' },
      ],
    },
  ];
}

/** [network] after catalog_type. */
function networkOptions(input: TempestConfInput): Option[] {
  const net = input.settings.network;
  const publicId = input.network?.publicNetworkId ?? null;
  return [
    { key: 'endpoint_type', value: 'public', why: 'users reach Neutron on its public endpoint (region: [identity] region)' },
    { key: 'build_timeout', value: 60, why: 'seconds to wait for a port or network to go away; Stratus deletes synchronously' },
    { key: 'build_interval', value: 1 },
    {
      key: 'project_network_cidr',
      value: net.projectNetworkCidr,
      why: 'Tempest cuts project IPv4 subnets from here; project networks may overlap, and this block does not overlap the external subnets',
    },
    { key: 'project_network_mask_bits', value: net.projectNetworkMaskBits, why: 'prefix length of those subnets (/28: 13 usable addresses after the gateway)' },
    {
      key: 'project_network_v6_cidr',
      value: net.projectNetworkV6Cidr,
      why: 'unique-local, because the external networks use the documentation range 2001:db8::/32 (the Tempest default)',
    },
    { key: 'project_network_v6_mask_bits', value: net.projectNetworkV6MaskBits, why: 'SLAAC and the EUI-64 address tests need /64 subnets' },
    { key: 'project_networks_reachable', value: false, why: 'no data plane: nothing on a project network answers packets' },
    publicId
      ? { key: 'public_network_id', value: publicId, why: `id of the external network ${net.publicNetworkName}, read from the cloud when this file was written` }
      : {
          key: 'public_network_id',
          value: '',
          why: `no external network named ${net.publicNetworkName} was found; router-gateway and floating IP tests skip`,
        },
    { key: 'floating_network_name', value: net.publicNetworkName, why: 'external network floating IPs come from (Compute and scenario tests use the name)' },
    { key: 'public_router_id', value: '', why: 'no shared router: every project gets its own, since overlapping project subnets are allowed' },
    { key: 'shared_physical_network', value: false, why: "projects' networks are separate, so Tempest may create a network per test project" },
    { key: 'default_network', value: net.subnetPoolPrefixes, why: 'prefixes of the subnet pools Tempest creates; private ranges instead of the public 1.0.0.0/16 and 2.0.0.0/16 defaults' },
    // subnet_id, port_vnic_type and port_profile stay unset: they are only read by Compute and
    // scenario tests (which subnet of the public network floating IPs come from, how servers'
    // ports are bound). dns_servers is deprecated and unused.
  ];
}

/** [network-feature-enabled]. */
function networkFeatureSection(input: TempestConfInput): Section {
  const discovered = input.network?.extensions ?? null;
  return {
    name: 'network-feature-enabled',
    options: [
      discovered
        ? { key: 'api_extensions', value: discovered, why: 'exactly the aliases GET /v2.0/extensions returned when this file was written; they decide which extension-gated tests run' }
        : {
            key: 'api_extensions',
            value: input.settings.network.fallbackExtensions,
            why: 'GET /v2.0/extensions could not be read, so this is the list Stratus is meant to offer (conformance/cloud-settings.ts)',
          },
      { key: 'ipv6', value: true, why: 'IPv6 subnets, ports and routers are implemented; the IPv6 variants of the tests run' },
      { key: 'ipv6_subnet_attributes', value: true, why: 'ipv6_ra_mode and ipv6_address_mode (SLAAC, DHCPv6 stateless and stateful) are implemented' },
      { key: 'port_security', value: true, why: 'ports and networks have port_security_enabled (port-security extension)' },
      { key: 'floating_ips', value: true, why: 'floating IPs on the external networks, associated with ports behind a router with a gateway' },
      { key: 'port_admin_state_change', value: true, why: "admin_state_up of a port can be changed (recorded; no data plane to switch); only a scenario test reads this" },
      { key: 'qos_min_bw_and_pps', value: false, why: 'no QoS policies, so no minimum bandwidth or packet-rate inventories' },
      // available_features keeps its default ('all'): Tempest 33 reads it nowhere.
      // qos_placement_physnet stays unset (no QoS); provider_net_base_segmentation_id keeps its
      // default, as only scenario tests that create provider networks read it.
    ],
  };
}

function render(sections: Section[]): string {
  const lines = ['# Generated by conformance/tempest-conf.ts for one run; do not edit.', ''];
  for (const section of sections) {
    lines.push(`[${section.name}]`);
    for (const option of section.options) {
      if (option.why) lines.push(`# ${option.why}`);
      lines.push(`${option.key} = ${formatValue(option.value)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function formatValue(value: Value): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  const text = Array.isArray(value) ? value.join(',') : value;
  if (/[\r\n]/.test(text)) throw new Error('tempest.conf values cannot contain line breaks');
  // oslo.config substitutes $name references; a literal dollar (e.g. in a password) is $$.
  return text.replace(/\$/g, '$$$$');
}
