// Command-line options of `npm run conformance`. Defaults for the cloud's identity settings come
// from cloud-settings.ts so there is one place to change them.

import { parseArgs } from 'node:util';
import { cloudSettings, type CloudSettings } from './cloud-settings.js';

export interface RunOptions {
  /** Use this running cloud instead of starting one. */
  authUrl: string | null;
  adminPassword: string | null;
  services: string[] | null;
  list: string | null;
  concurrency: number;
  reportPath: string | null;
  insecure: boolean;
  keepWorkspace: boolean;
  quiet: boolean;
  /** Only print what would run (no cloud needed). */
  listOnly: boolean;
  testTimeoutSeconds: number;
  startTimeoutSeconds: number;
  settings: CloudSettings;
}

export const USAGE = `usage: npm run conformance -- [options]

  --auth-url URL          test a running cloud (Keystone URL, with or without /v3);
                          default: start a throwaway Stratus on a free port
  --admin-password PW     admin password for --auth-url (or env STRATUS_ADMIN_PASSWORD)
  --admin-user NAME       admin user name (default ${cloudSettings.admin.username})
  --admin-project NAME    admin project name (default ${cloudSettings.admin.projectName})
  --service NAME          service to test, repeatable (default: every service with a list
                          in conformance/lists/)
  --list NAME|FILE        run one list instead, e.g. interop-identity
  --concurrency N         Tempest workers (default 2)
  --report FILE           report to update (default docs/conformance.md)
  --no-report             do not write the report
  --insecure              do not verify TLS certificates
  --keep-workspace        keep the Tempest workspace even when everything passed
  --quiet                 do not echo Tempest's output
  --list-tests            print the tests the lists select, and what is excluded; run nothing
  --test-timeout S        per-test timeout in seconds (default 300)
  --start-timeout S       seconds to wait for a self-started cloud (default 60)
  --lockout-attempts N    server's lockout_failure_attempts (default ${cloudSettings.securityCompliance.lockoutFailureAttempts})
  --lockout-duration S    server's lockout_duration (default ${cloudSettings.securityCompliance.lockoutDurationSeconds} with --auth-url,
                          ${cloudSettings.ownCloudLockoutDurationSeconds} for a cloud the runner starts)
  --password-history N    server's unique_last_password_count (default ${cloudSettings.securityCompliance.uniqueLastPasswordCount})
  --max-lockout-wait S    leave the lockout test out when the duration exceeds this (default ${cloudSettings.maxLockoutWaitSeconds})
  --region NAME           region (default ${cloudSettings.region})
`;

export function parseOptions(argv: string[]): RunOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'auth-url': { type: 'string' },
      'admin-password': { type: 'string' },
      'admin-user': { type: 'string' },
      'admin-project': { type: 'string' },
      service: { type: 'string', multiple: true },
      list: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      report: { type: 'string', default: 'docs/conformance.md' },
      'no-report': { type: 'boolean', default: false },
      insecure: { type: 'boolean', default: false },
      'keep-workspace': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'list-tests': { type: 'boolean', default: false },
      'test-timeout': { type: 'string', default: '300' },
      'start-timeout': { type: 'string', default: '60' },
      'lockout-attempts': { type: 'string' },
      'lockout-duration': { type: 'string' },
      'password-history': { type: 'string' },
      'max-lockout-wait': { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.service && values.list) throw new Error('--service and --list cannot be combined');

  const base = cloudSettings;
  const sc = base.securityCompliance;
  const authUrl = values['auth-url'] ?? null;
  // A cloud we start ourselves gets a short lockout (see cloud-settings.ts) unless one is asked for.
  const lockoutDefault = authUrl ? sc.lockoutDurationSeconds : base.ownCloudLockoutDurationSeconds;
  const settings: CloudSettings = {
    ...base,
    region: values.region ?? base.region,
    admin: {
      ...base.admin,
      username: values['admin-user'] ?? base.admin.username,
      projectName: values['admin-project'] ?? base.admin.projectName,
    },
    securityCompliance: {
      ...sc,
      lockoutFailureAttempts: int(values['lockout-attempts'], sc.lockoutFailureAttempts, '--lockout-attempts'),
      lockoutDurationSeconds: int(values['lockout-duration'], lockoutDefault, '--lockout-duration'),
      uniqueLastPasswordCount: int(values['password-history'], sc.uniqueLastPasswordCount, '--password-history'),
    },
    maxLockoutWaitSeconds: int(values['max-lockout-wait'], base.maxLockoutWaitSeconds, '--max-lockout-wait'),
  };

  const adminPassword = values['admin-password'] ?? (authUrl ? process.env.STRATUS_ADMIN_PASSWORD ?? null : null);
  if (authUrl && !adminPassword) throw new Error('--auth-url needs --admin-password (or env STRATUS_ADMIN_PASSWORD)');

  const concurrency = int(values.concurrency, 2, '--concurrency');
  if (concurrency < 1) throw new Error('--concurrency must be at least 1');
  return {
    authUrl,
    adminPassword,
    services: values.service ?? null,
    list: values.list ?? null,
    concurrency,
    reportPath: values['no-report'] ? null : values.report!,
    insecure: values.insecure!,
    keepWorkspace: values['keep-workspace']!,
    quiet: values.quiet!,
    listOnly: values['list-tests']!,
    testTimeoutSeconds: int(values['test-timeout'], 300, '--test-timeout'),
    startTimeoutSeconds: int(values['start-timeout'], 60, '--start-timeout'),
    settings,
  };
}

function int(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${name} expects a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}
