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

  it('may web-download only from 127.0.0.1, and only when the runner serves an image there', () => {
    const options = parseOptions([]) as RunOptions;
    expect(stratusEnv(options.settings)).not.toHaveProperty('STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS');
    expect(stratusEnv(options.settings, ['127.0.0.1']).STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS).toBe('127.0.0.1');
  });

  it('keeps the production lockout duration for a cloud given by URL', () => {
    const options = parseOptions(['--auth-url', 'http://h/identity', '--admin-password', 'pw']) as RunOptions;
    expect(options.settings.securityCompliance.lockoutDurationSeconds).toBe(1800);
  });
});
