// Driving the `tempest` and `stestr` commands. The workspace is a throwaway directory made by
// `tempest init` (which also creates the stestr repository the results are read from); it is
// registered in a workspace file inside the temp dir so ~/.tempest is left alone.

import { spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Workspace {
  dir: string;
  confPath: string;
}

interface CommandResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command to completion, collecting its output (optionally echoing it). */
function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean; logPath?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = options.logPath ? createWriteStream(options.logPath) : null;
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      log?.write(chunk);
      if (options.echo) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      log?.write(chunk);
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      log?.end();
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/**
 * Tempest's commands need the system Python (its modules are Debian packages); a `python3`
 * shim earlier on PATH (pyenv) would not find them when stestr starts its workers.
 */
function tempestEnv(workspace?: Workspace): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHON: '/usr/bin/python3' };
  if (workspace) {
    env.TEMPEST_CONFIG_DIR = join(workspace.dir, 'etc');
    env.TEMPEST_CONFIG = 'tempest.conf';
  }
  return env;
}

export async function tempestVersion(): Promise<string> {
  const result = await runCommand('tempest', ['--version'], { env: tempestEnv() });
  return (result.stdout.toString() + result.stderr).trim().replace(/^tempest\s+/, '') || 'unknown';
}

export async function initWorkspace(parentDir: string): Promise<Workspace> {
  const dir = join(parentDir, 'tempest');
  const result = await runCommand('tempest', ['init', '--workspace-path', join(parentDir, 'workspace.yaml'), dir], {
    env: tempestEnv(),
  });
  if (result.code !== 0) throw new Error(`tempest init failed (${result.code}): ${result.stderr}`);
  return { dir, confPath: join(dir, 'etc', 'tempest.conf') };
}

export function writeConf(workspace: Workspace, text: string): void {
  writeFileSync(workspace.confPath, text, { mode: 0o600 });
}

export interface Filters {
  includeList: string;
  excludeList: string | null;
}

function filterArgs(filters: Filters): string[] {
  const args = ['--config-file', 'etc/tempest.conf', '--include-list', filters.includeList];
  if (filters.excludeList) args.push('--exclude-list', filters.excludeList);
  return args;
}

/** The test ids a filter selects, without running anything. */
export async function listTests(workspace: Workspace, filters: Filters): Promise<string[]> {
  const result = await runCommand('tempest', ['run', '--list-tests', ...filterArgs(filters)], {
    cwd: workspace.dir,
    env: tempestEnv(workspace),
  });
  if (result.code !== 0) throw new Error(`tempest run --list-tests failed (${result.code}): ${result.stderr}`);
  // Only lines that look like test ids: stestr may print warnings on stdout too.
  return result.stdout
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[A-Za-z_][\w.]*(\[[^\]]*\])?$/.test(l) && l.includes('.'));
}

export interface RunOutcome {
  exitCode: number;
  logPath: string;
}

export async function runTests(
  workspace: Workspace,
  filters: Filters,
  options: { concurrency: number; testTimeoutSeconds: number; echo: boolean },
): Promise<RunOutcome> {
  const logPath = join(workspace.dir, 'tempest-run.log');
  const env = tempestEnv(workspace);
  // Tempest's base test class turns this into a per-test timeout, so a hung request fails one
  // test instead of the whole run.
  env.OS_TEST_TIMEOUT = String(options.testTimeoutSeconds);
  const args = ['run', ...filterArgs(filters), '--concurrency', String(options.concurrency)];
  const result = await runCommand('tempest', args, { cwd: workspace.dir, env, echo: options.echo, logPath });
  return { exitCode: result.code, logPath };
}

/** The subunit v2 stream of the last run in the workspace's stestr repository. */
export async function lastRunSubunit(workspace: Workspace): Promise<Buffer> {
  const result = await runCommand('stestr', ['last', '--subunit'], { cwd: workspace.dir, env: tempestEnv(workspace) });
  // stestr exits non-zero when the run had failures; the stream is still complete.
  if (result.stdout.length === 0) throw new Error(`stestr last --subunit produced no output: ${result.stderr}`);
  return result.stdout;
}
