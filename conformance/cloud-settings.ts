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
};
