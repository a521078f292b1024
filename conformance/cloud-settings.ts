// What the Stratus cloud under test is configured to do, as far as Tempest needs to know.
// Tempest cannot discover these (Keystone does not publish its security-compliance settings),
// so they must mirror the server's configuration: if the server changes, change them here.
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
};
