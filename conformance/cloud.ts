// Starts a throwaway Stratus cloud for one conformance run: fresh data dir, free port, known
// admin password. The server runs in its own process group so SIGTERM reaches tsx's child
// node process too, not only the launcher.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CloudSettings } from './cloud-settings.js';

export interface RunningCloud {
  authUrl: string;
  adminPassword: string;
  logPath: string;
  /** Why the server is gone, if it stopped on its own (a crash mid-run explains many failures). */
  exitReason(): string | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  repoRoot: string;
  dataDir: string;
  logPath: string;
  host: string;
  startTimeoutMs: number;
  settings: CloudSettings;
  /**
   * Hosts the cloud's image service may web-download from (STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS):
   * 127.0.0.1 when the runner serves an image there for a selected test, else none.
   */
  webDownloadHosts?: string[];
}

/** The server's environment variables for the settings Tempest must agree with. */
export function stratusEnv(settings: CloudSettings, webDownloadHosts: string[] = []): Record<string, string> {
  const sc = settings.securityCompliance;
  const env: Record<string, string> = {
    STRATUS_REGION: settings.region,
    STRATUS_LOCKOUT_FAILURE_ATTEMPTS: String(sc.lockoutFailureAttempts),
    STRATUS_LOCKOUT_DURATION: String(sc.lockoutDurationSeconds),
    STRATUS_PASSWORD_HISTORY: String(sc.uniqueLastPasswordCount),
    STRATUS_MINIMUM_PASSWORD_AGE_DAYS: String(sc.minimumPasswordAgeDays),
  };
  if (sc.passwordExpiresDays !== null) env.STRATUS_PASSWORD_EXPIRES_DAYS = String(sc.passwordExpiresDays);
  // Unset means web-download may fetch from nowhere; set only for the runner's own file server.
  if (webDownloadHosts.length) env.STRATUS_IMAGE_WEB_DOWNLOAD_HOSTS = webDownloadHosts.join(',');
  return env;
}

const READY = 'Stratus ready';

export async function startCloud(options: StartOptions): Promise<RunningCloud> {
  const port = await freePort(options.host);
  const adminPassword = randomBytes(18).toString('base64url');
  const localTsx = join(options.repoRoot, 'node_modules', '.bin', 'tsx');
  const [command, prefix] = existsSync(localTsx) ? [localTsx, []] : ['npx', ['tsx']];
  const args = [...prefix, 'src/cli.ts', 'start', '--data-dir', options.dataDir, '--port', String(port), '--host', options.host];
  const child = spawn(command, args, {
    cwd: options.repoRoot,
    env: { ...withoutStratusEnv(process.env), ...stratusEnv(options.settings, options.webDownloadHosts), STRATUS_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const log = createWriteStream(options.logPath);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });

  let stopping = false;
  const stop = (): Promise<void> => {
    stopping = true;
    return stopProcess(child).finally(() => log.end());
  };
  const exitReason = (): string | null =>
    stopping || (child.exitCode === null && child.signalCode === null)
      ? null
      : `Stratus exited during the run (code ${child.exitCode}, signal ${child.signalCode}); see ${options.logPath}`;
  try {
    const readyLine = await waitForReady(child, options.startTimeoutMs);
    // Prefer the URL the server announces; fall back to the documented layout.
    const announced = /https?:\/\/\S+\/identity(\/v3)?\/?/.exec(readyLine)?.[0];
    const authUrl = announced ?? `http://${options.host}:${port}/identity/v3`;
    // The password file wins over our env var only if the server ignored the variable.
    const passwordFile = join(options.dataDir, 'admin-password');
    const password = existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() || adminPassword : adminPassword;
    return { authUrl, adminPassword: password, logPath: options.logPath, exitReason, stop };
  } catch (error) {
    await stop();
    const tail = existsSync(options.logPath) ? readFileSync(options.logPath, 'utf8').split('\n').slice(-30).join('\n') : '';
    throw new Error(`${(error as Error).message}\n--- last lines of ${options.logPath} ---\n${tail}`);
  }
}

/** Our own STRATUS_* settings must not be overridden by ones left in the caller's shell. */
function withoutStratusEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('STRATUS_')));
}

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.includes(READY));
      if (line !== undefined) finish(() => resolvePromise(line));
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(() => reject(new Error(`Stratus exited before it was ready (code ${code}, signal ${signal})`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`Stratus did not print "${READY}" within ${timeoutMs / 1000} s`))),
      timeoutMs,
    );
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', onExit);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Asks the OS for an unused port. A tiny race remains until the server binds it. */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}
