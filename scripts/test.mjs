#!/usr/bin/env node
// `npm test`: every test, on SQLite and then on PostgreSQL. Installs the Debian client
// packages the client tests drive when it can (root + apt-get), and says exactly what is
// missing when it cannot. Ends with one "N passed, N failed, N skipped" line.
import { spawnSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEBIAN_PACKAGES = {
  openstack: 'python3-openstackclient', glance: 'python3-glanceclient', cinder: 'python3-cinderclient', swift: 'python3-swiftclient',
  'ssh-keygen': 'openssh-client', openssl: 'openssl', 'qemu-img': 'qemu-utils', aws: 'awscli', s3cmd: 's3cmd',
};
const PG_URL = process.env.STRATUS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;

function ensureDebian() {
  const missing = Object.entries(DEBIAN_PACKAGES).filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (isRoot && has('apt-get')) {
    console.log(`test: installing ${missing.join(' ')} with apt-get`);
    execSync('apt-get update -qq', { stdio: 'inherit' });
    execSync(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`, { stdio: 'inherit' });
    return;
  }
  console.error(`test: missing Debian packages: ${missing.join(' ')}. Install them with: sudo apt-get install ${missing.join(' ')}`);
  process.exit(2);
}

function ensurePostgres() {
  const ready = () => spawnSync('pg_isready', ['-q', '-d', PG_URL], { stdio: 'ignore' }).status === 0;
  if (ready()) return true;
  if (isRoot && has('pg_ctlcluster')) {
    const version = spawnSync('sh', ['-c', 'ls /etc/postgresql | head -n1'], { encoding: 'utf8' }).stdout.trim();
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
    for (let i = 0; i < 30 && !ready(); i++) spawnSync('sleep', ['1']);
  }
  if (ready()) return true;
  console.error(`test: PostgreSQL is not reachable at ${PG_URL}; start it or set STRATUS_TEST_POSTGRES. The PostgreSQL pass is required.`);
  process.exit(2);
}

function vitest(label, env, paths) {
  const out = join(mkdtempSync(join(tmpdir(), 'stratus-vitest-')), 'report.json');
  console.log(`\ntest: ${label}`);
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...paths], {
    stdio: 'inherit', env: { ...process.env, ...env },
  });
  let report = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  try { report = JSON.parse(readFileSync(out, 'utf8')); } catch { report.numFailedTests = 1; }
  return { passed: report.numPassedTests, failed: report.numFailedTests + (r.status !== 0 && report.numFailedTests === 0 ? 1 : 0), skipped: report.numPendingTests + report.numTodoTests };
}

ensureDebian();
ensurePostgres();
const args = process.argv.slice(2);
const runs = [
  vitest('SQLite (default)', { STRATUS_TEST_DATABASE: 'sqlite' }, args),
  // The client tests exercise the CLI, not the engine: the SQLite pass covers them.
  vitest('PostgreSQL', { STRATUS_TEST_DATABASE: PG_URL }, args.length ? args : ['test/services', 'test/platform']),
];
const total = runs.reduce((a, r) => ({ passed: a.passed + r.passed, failed: a.failed + r.failed, skipped: a.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
