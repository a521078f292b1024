// What the Stratus cloud under test is configured to do, as far as Tempest needs to know.
// Tempest cannot discover these (Keystone does not publish its security-compliance settings),
// so for a cloud given with --auth-url they must mirror that server's configuration (the
// defaults below are Stratus's defaults, src/platform/config.ts). A cloud the runner starts
// itself is configured from these values through its STRATUS_* environment (cloud.ts).
// Every value can be overridden for one run from the command line (see options.ts).

export interface SecurityCompliance {
  /** Failed logins before a user is locked out (keystone: lockout_failure_attempts). */
  lockoutFailureAttempts: number;
  /** Seconds a locked-out user stays locked (keystone: lockout_duration). */
  lockoutDurationSeconds: number;
  /** Last N passwords that may not be reused (keystone: unique_last_password_count). */
  uniqueLastPasswordCount: number;
  /** Days before a password may be changed again (keystone: minimum_password_age). */
  minimumPasswordAgeDays: number;
  /** Days until a password expires; null = never (keystone: password_expires_days). */
  passwordExpiresDays: number | null;
}

export interface CloudSettings {
  region: string;
  defaultDomain: { id: string; name: string };
  admin: { username: string; projectName: string; role: string };
  securityCompliance: SecurityCompliance;
  /**
   * Tempest's lockout test sleeps for the whole lockout duration. Above this many seconds the
   * runner leaves that test out (and says so in the report) instead of stalling the run.
   */
  maxLockoutWaitSeconds: number;
  /**
   * Lockout duration for a cloud the runner starts itself (it passes all security-compliance
   * values to that cloud, so both sides agree by construction). Short, so the lockout test
   * runs in seconds instead of being left out.
   */
  ownCloudLockoutDurationSeconds: number;
  image: ImageSettings;
  network: NetworkSettings;
}

/**
 * Image formats Tempest may use (tempest.conf [image] container_formats, disk_formats). Each
 * must be one the server accepts (Stratus accepts Glance's defaults). Order matters: Tempest
 * creates most images with the first of each, and ListUserImagesTest creates one image for each
 * of the first six (container, disk) pairs and then lists by disk_format=raw, so `bare` comes
 * first and `raw` must be among the first six disk formats.
 */
export interface ImageSettings {
  containerFormats: string[];
  diskFormats: string[];
}

/**
 * How Tempest uses the Networking service (tempest.conf [network] and
 * [network-feature-enabled]). The public network's id and the extension list are read from the
 * cloud when tempest.conf is written (conformance/neutron.ts); these are the names and ranges
 * to use, and the fallback when the cloud cannot be asked.
 */
export interface NetworkSettings {
  /**
   * External network Tempest uses for router gateways and floating IPs: one of the networks
   * Stratus creates at bootstrap (default topology). Its id becomes public_network_id.
   */
  publicNetworkName: string;
  /**
   * Block Tempest cuts project IPv4 subnets from (project_network_cidr), and their prefix
   * length. Any range works, as project networks may overlap; it must not overlap the external
   * networks' subnets, or a router could not have both a gateway and an interface there.
   */
  projectNetworkCidr: string;
  projectNetworkMaskBits: number;
  /**
   * The same for IPv6. A unique-local block, because the external networks use the
   * documentation range 2001:db8::/32 (Tempest's default). /64: SLAAC and the EUI-64 address
   * tests need 64-bit prefixes.
   */
  projectNetworkV6Cidr: string;
  projectNetworkV6MaskBits: number;
  /** Prefixes of the subnet pools Tempest creates (default_network); private ranges. */
  subnetPoolPrefixes: string[];
  /**
   * Extension aliases written as api_extensions when GET /v2.0/extensions cannot be read:
   * what Stratus is meant to offer. Normally the cloud's own list is used.
   */
  fallbackExtensions: string[];
}

export const cloudSettings: CloudSettings = {
  region: 'europe-se-1',
  defaultDomain: { id: 'default', name: 'Default' },
  admin: { username: 'admin', projectName: 'admin', role: 'admin' },
  securityCompliance: {
    lockoutFailureAttempts: 5,
    lockoutDurationSeconds: 1800,
    uniqueLastPasswordCount: 3,
    minimumPasswordAgeDays: 0,
    passwordExpiresDays: null,
  },
  maxLockoutWaitSeconds: 120,
  ownCloudLockoutDurationSeconds: 10,
  image: {
    containerFormats: ['bare', 'ovf', 'ova', 'docker', 'compressed', 'ami', 'ari', 'aki'],
    diskFormats: ['raw', 'qcow2', 'vmdk', 'vdi', 'iso', 'vhd', 'vhdx', 'ploop', 'ami', 'ari', 'aki'],
  },
  network: {
    publicNetworkName: 'europe-se-1-1a-net0',
    projectNetworkCidr: '10.100.0.0/16',
    projectNetworkMaskBits: 28,
    projectNetworkV6Cidr: 'fd5e:7a75:5000::/48',
    projectNetworkV6MaskBits: 64,
    subnetPoolPrefixes: ['10.200.0.0/16', '10.201.0.0/16'],
    fallbackExtensions: [
      'address-group',
      'address-scope',
      'agent',
      'allowed-address-pairs',
      'availability_zone',
      'binding',
      'dns-integration',
      'external-net',
      'ext-gw-mode',
      'extra_dhcp_opt',
      'extraroute',
      'net-mtu',
      'network-ip-availability',
      'network_availability_zone',
      'pagination',
      'port-security',
      'project-id',
      'provider',
      'quotas',
      'rbac-policies',
      'router',
      'router_availability_zone',
      'security-group',
      'security-groups-remote-address-group',
      'sorting',
      'standard-attr-description',
      'standard-attr-revisions',
      'standard-attr-tag',
      'standard-attr-timestamp',
      'stateful-security-group',
      'subnet-service-types',
      'subnet_allocation',
    ],
  },
};
