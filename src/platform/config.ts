import { join, resolve } from 'node:path';

/** Security-compliance settings, named after Keystone's [security_compliance] options. */
export interface SecurityCompliance {
  lockoutFailureAttempts: number;      // 0 disables lockout
  lockoutDurationSeconds: number;
  uniqueLastPasswordCount: number;     // password history depth (1 = only the current one)
  minimumPasswordAgeDays: number;
  passwordExpiresDays: number | null;  // null: passwords never expire
  changePasswordUponFirstUse: boolean;
}

export interface Config {
  dataDir: string;
  host: string;
  port: number;
  /** Base URL clients reach us on; endpoints in the catalog are built from it. */
  publicUrl: string | null;
  /** `sqlite` (file in the data dir) or a postgres:// URL. */
  database: string;
  region: string;
  logLevel: string;
  bodyLimitBytes: number;
  identity: {
    tokenExpirationSeconds: number;
    /** How long an expired token can still be used to fetch a new one — none by default. */
    allowExpiredWindowSeconds: number;
    passwordHashCost: number;          // scrypt N as a power of two
    security: SecurityCompliance;
  };
  image: {
    /** Per-project limits, named after Glance's unified-limit resources. */
    imageCountTotal: number;
    imageSizeTotalBytes: number;
    imageStageTotalBytes: number;
    /** Hosts web-download may fetch from; empty means the method is refused. */
    webDownloadAllowedHosts: string[];
  };
  network: {
    /** The data plane this host's network agent drives (`noop`: records only). */
    dataplane: string;
    /** Least time between two agent passes: a burst of writes costs a few passes. */
    agentIntervalMs: number;
    /** A pass even when nothing woke the agent, to repair anything a lost wake-up missed. */
    agentResyncSeconds: number;
  };
  compute: {
    /** Availability zones the hosts are in (the documented two). */
    zones: string[];
    /** The fake virt driver's hosts per zone and each host's size. */
    fakeHostsPerZone: number;
    fakeHostVcpus: number;
    fakeHostMemoryMb: number;
    fakeHostDiskGb: number;
    /** How long each fake hypervisor operation takes, so clients see transitional states. */
    fakeDelayMs: number;
  };
  volume: {
    /** Where backups go: `object` (Object Storage, the owner's `volumebackups` container) or `fs` (files in the data directory). */
    backupStore: 'object' | 'fs';
  };
}

export const DEFAULT_PORT = 8774;
export const DEFAULT_REGION = 'europe-se-1';

const envInt = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
};

export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const dataDir = resolve(overrides.dataDir ?? process.env.STRATUS_DATA_DIR ?? join(process.cwd(), 'data'));
  return {
    dataDir,
    host: process.env.STRATUS_HOST ?? '127.0.0.1',
    port: Number(process.env.STRATUS_PORT ?? DEFAULT_PORT),
    publicUrl: process.env.STRATUS_PUBLIC_URL ?? null,
    database: process.env.STRATUS_DATABASE ?? 'sqlite',
    region: process.env.STRATUS_REGION ?? DEFAULT_REGION,
    logLevel: process.env.STRATUS_LOG_LEVEL ?? 'info',
    // Keystone's max_request_body_size is 112 KiB; later services (image upload) stream
    // their bodies and are not bound by this JSON limit.
    bodyLimitBytes: 112 * 1024,
    identity: {
      tokenExpirationSeconds: envInt('STRATUS_TOKEN_EXPIRATION', 3600),
      allowExpiredWindowSeconds: 0,
      passwordHashCost: 14,
      security: {
        lockoutFailureAttempts: envInt('STRATUS_LOCKOUT_FAILURE_ATTEMPTS', 5),
        lockoutDurationSeconds: envInt('STRATUS_LOCKOUT_DURATION', 1800),
        uniqueLastPasswordCount: envInt('STRATUS_PASSWORD_HISTORY', 3),
        minimumPasswordAgeDays: envInt('STRATUS_MINIMUM_PASSWORD_AGE_DAYS', 0),
        passwordExpiresDays: process.env.STRATUS_PASSWORD_EXPIRES_DAYS ? envInt('STRATUS_PASSWORD_EXPIRES_DAYS', 0) : null,
        changePasswordUponFirstUse: false,
      },
    },
    image: {
      imageCountTotal: envInt('STRATUS_IMAGE_COUNT_TOTAL', 100),
      imageSizeTotalBytes: envInt('STRATUS_IMAGE_SIZE_TOTAL_MB', 1024 * 1024) * 1024 * 1024,
      imageStageTotalBytes: envInt('STRATUS_IMAGE_STAGE_TOTAL_MB', 100 * 1024) * 1024 * 1024,
      webDownloadAllowedHosts: (process.env.STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    },
    network: {
      dataplane: process.env.STRATUS_NETWORK_DATAPLANE ?? 'noop',
      agentIntervalMs: envInt('STRATUS_NETWORK_AGENT_INTERVAL_MS', 200),
      agentResyncSeconds: envInt('STRATUS_NETWORK_AGENT_RESYNC_SECONDS', 30),
    },
    compute: {
      zones: (process.env.STRATUS_COMPUTE_ZONES ?? 'europe-se-1a,europe-se-1b').split(',').map((z) => z.trim()).filter(Boolean),
      fakeHostsPerZone: envInt('STRATUS_FAKE_HOSTS_PER_ZONE', 3),
      fakeHostVcpus: envInt('STRATUS_FAKE_HOST_VCPUS', 64),
      fakeHostMemoryMb: envInt('STRATUS_FAKE_HOST_MEMORY_MB', 512 * 1024),
      fakeHostDiskGb: envInt('STRATUS_FAKE_HOST_DISK_GB', 4096),
      fakeDelayMs: envInt('STRATUS_FAKE_DELAY_MS', 50),
    },
    volume: {
      backupStore: process.env.STRATUS_VOLUME_BACKUP_STORE === 'fs' ? 'fs' : 'object',
    },
    ...overrides,
  };
}
