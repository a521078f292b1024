import { describe, expect, it } from 'vitest';
import { stratusEnv } from '../cloud.js';
import { cloudSettings } from '../cloud-settings.js';
import { parseOptions, type RunOptions } from '../options.js';

describe('a cloud the runner starts', () => {
  it('is configured with the same security-compliance values Tempest is told', () => {
    const options = parseOptions([]) as RunOptions;
    expect(options.settings.securityCompliance.lockoutDurationSeconds).toBe(cloudSettings.ownCloudLockoutDurationSeconds);
    expect(stratusEnv(options.settings)).toEqual({
      STRATUS_REGION: 'europe-se-1',
      STRATUS_LOCKOUT_FAILURE_ATTEMPTS: '5',
      STRATUS_LOCKOUT_DURATION: String(cloudSettings.ownCloudLockoutDurationSeconds),
      STRATUS_PASSWORD_HISTORY: '3',
      STRATUS_MINIMUM_PASSWORD_AGE_DAYS: '0',
    });
  });

  it('keeps the production lockout duration for a cloud given by URL', () => {
    const options = parseOptions(['--auth-url', 'http://h/identity', '--admin-password', 'pw']) as RunOptions;
    expect(options.settings.securityCompliance.lockoutDurationSeconds).toBe(1800);
  });
});
