// `npm run conformance`: run Tempest against Stratus and record the results in
// docs/conformance.md. Steps: get a cloud (given, or started here) → read its catalog → write
// tempest.conf → select tests from the lists → run → fold the subunit stream into results →
// report. Exit status 1 when a test failed, 2 when the run itself could not be done.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCloud, type RunningCloud } from './cloud.js';
import { startImageFileServer, WEB_DOWNLOAD_TEST, webDownloadExclusions, type ImageFileServer } from './http-image.js';
import { catalogTypes, endpointUrl, fetchCatalog, identityV3Url, issueAdminToken, type AdminCredentials } from './keystone.js';
import { listsDir, namedListSelection, readList, selectsTest, serviceSelection, writeList, type ListEntry, type Selection } from './lists.js';
import { discoverNetwork, type NetworkFacts } from './neutron.js';
import { parseOptions, USAGE, type RunOptions } from './options.js';
import { mergeReport, renderSection, type Exclusion } from './report.js';
import { buildResults, totals, type TestResult } from './results.js';
import { serviceByName, serviceOfTest } from './services.js';
import { decodeSubunit } from './subunit.js';
import { buildTempestConf } from './tempest-conf.js';
import { prepareCompute, type ComputeFacts } from './nova.js';
import { initWorkspace, lastRunSubunit, listTests, runTests, tempestVersion, writeConf, type Filters, type Workspace } from './tempest.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2).filter((a) => a !== '--'));
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = parsed;
  const selection = options.list
    ? namedListSelection(repoRoot, options.list)
    : serviceSelection(repoRoot, options.services ?? servicesWithLists());
  const includes = selection.includeFiles.flatMap(readList);
  const excludes = [...selection.excludeFiles.flatMap(readList), ...runtimeExclusions(options)];

  const tmp = mkdtempSync(join(tmpdir(), 'stratus-conformance-'));
  let cloud: RunningCloud | null = null;
  let imageServer: ImageFileServer | null = null;
  let keep = options.keepWorkspace;
  const stopImageServer = async (): Promise<void> => {
    const running = imageServer;
    imageServer = null;
    await running?.stop();
  };
  const stopCloud = async (): Promise<void> => {
    const running = cloud;
    cloud = null;
    await Promise.all([running?.stop(), stopImageServer()]);
  };
  const onSignal = (): void => void stopCloud().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (options.listOnly) {
      // Listing needs a tempest.conf but no cloud: the catalog only decides what gets skipped.
      const prepared = await prepare(tmp, options, includes, excludes, 'http://127.0.0.1:1/identity/v3', 'unused', new Set(['identity']));
      for (const test of prepared.selected) console.log(test);
      for (const x of exclusionsWithCounts(excludes, prepared.candidates, prepared.selected)) {
        log(`excluded ${x.count} by ${x.pattern} (${x.origin}): ${x.reason ?? 'no reason given'}`);
      }
      log(`${prepared.selected.length} tests selected, ${prepared.candidates.length - prepared.selected.length} excluded`);
      return 0;
    }
    // The web-download test imports an image from http_image; serve one on 127.0.0.1 only
    // when that test is selected (see http-image.ts), before the cloud that must allow it.
    if (selectsTest(includes, excludes, WEB_DOWNLOAD_TEST)) {
      imageServer = await startImageFileServer();
      log(`serving the web-download test image at ${imageServer.url}`);
    }
    cloud = options.authUrl
      ? { authUrl: options.authUrl, adminPassword: options.adminPassword!, logPath: '', exitReason: () => null, stop: async () => {} }
      : await startOwnCloud(tmp, options, imageServer ? ['127.0.0.1'] : []);
    const uriV3 = identityV3Url(cloud.authUrl);
    const token = await issueAdminToken(uriV3, adminCredentials(options, cloud.adminPassword));
    const catalog = await fetchCatalog(uriV3, token);
    const types = catalogTypes(catalog, options.settings.region);
    log(`catalog at ${uriV3}: ${[...types].sort().join(', ')}`);
    warnAboutMissingServices(selection, types);
    // tempest.conf needs the public network's id and the extension list; ask Neutron for them.
    const networkEndpoint = types.has('network') ? endpointUrl(catalog, 'network', options.settings.region) : null;
    const network = networkEndpoint ? await askNetwork(networkEndpoint, token, options) : null;
    if (!types.has('image')) await stopImageServer(); // its test skips without Glance
    const served: ImageFileServer | null = imageServer;
    const httpImageUrl = served?.url ?? null;
    // Compute tests need flavors with a root disk and two public images; make them.
    const compute = types.has('compute') && types.has('image')
      ? await prepareCompute(endpointUrl(catalog, 'compute', options.settings.region)!, endpointUrl(catalog, 'image', options.settings.region)!, token)
      : null;
    if (compute) log(`compute: flavors ${compute.flavorRef}, ${compute.flavorRefAlt}; images ${compute.imageRef}, ${compute.imageRefAlt}`);
    const { workspace, filters, candidates, selected } = await prepare(tmp, options, includes, excludes, uriV3, cloud.adminPassword, types, httpImageUrl, network, compute);
    log(`running ${selected.length} tests (${candidates.length - selected.length} excluded) in ${workspace.dir}`);

    const run = await runTests(
      workspace,
      filters,
      { concurrency: options.concurrency, testTimeoutSeconds: testTimeout(options), echo: !options.quiet },
    );
    const crashed = cloud.exitReason();
    if (crashed) log(`warning: ${crashed}`);
    if (served) log(`web-download test image fetched ${served.downloads()} time(s)`);
    const results = buildResults(selected, decodeSubunit(await lastRunSubunit(workspace)));
    writeFileSync(join(workspace.dir, 'results.json'), JSON.stringify(results, null, 2));
    const sum = totals(results);
    if (run.exitCode !== 0 && sum.failed === 0) {
      throw new Error(`tempest exited with ${run.exitCode} but reported no failed test; see ${run.logPath}`);
    }

    if (options.reportPath) {
      const reportPath = resolve(repoRoot, options.reportPath);
      writeReport(reportPath, selection, results, exclusionsWithCounts(excludes, candidates, selected), await tempestVersion());
      log(`report: ${reportPath.startsWith(repoRoot + '/') ? relative(repoRoot, reportPath) : reportPath}`);
    }
    keep ||= sum.failed > 0;
    if (keep) log(`workspace kept: ${tmp} (tempest/etc/tempest.conf, tempest/tempest.log, tempest/results.json${cloud.logPath ? ', stratus.log' : ''})`);
    console.log(`conformance: ${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
    return sum.failed > 0 ? 1 : 0;
  } catch (error) {
    keep = true;
    console.error(`conformance: run failed: ${(error as Error).message}`);
    console.error(`conformance: files kept in ${tmp}`);
    return 2;
  } finally {
    await stopCloud();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

function adminCredentials(options: RunOptions, password: string): AdminCredentials {
  return {
    username: options.settings.admin.username,
    password,
    projectName: options.settings.admin.projectName,
    domainName: options.settings.defaultDomain.name,
  };
}

/** Workspace with tempest.conf and the merged lists, plus what the lists select. */
async function prepare(
  tmp: string,
  options: RunOptions,
  includes: ListEntry[],
  excludes: ListEntry[],
  uriV3: string,
  adminPassword: string,
  types: ReadonlySet<string>,
  httpImageUrl: string | null = null,
  network: NetworkFacts | null = null,
  compute: ComputeFacts | null = null,
): Promise<{ workspace: Workspace; filters: Filters; candidates: string[]; selected: string[] }> {
  const workspace = await initWorkspace(tmp);
  const admin = adminCredentials(options, adminPassword);
  writeConf(
    workspace,
    buildTempestConf({
      workspaceDir: workspace.dir,
      uriV3,
      admin,
      settings: options.settings,
      catalogTypes: types,
      insecure: options.insecure,
      httpImageUrl,
      network,
      compute,
    }),
  );
  const includeList = join(workspace.dir, 'include.txt');
  const excludeList = join(workspace.dir, 'exclude.txt');
  writeList(includeList, includes);
  writeList(excludeList, excludes);
  const filters: Filters = { includeList, excludeList: excludes.length ? excludeList : null };
  const candidates = await listTests(workspace, { includeList, excludeList: null });
  const selected = await listTests(workspace, filters);
  if (selected.length === 0) throw new Error(`the lists select no tests (${candidates.length} before exclusions)`);
  return { workspace, filters, candidates, selected };
}

/** The public network's id and the extension aliases, logged; problems are warnings, not failures. */
async function askNetwork(endpoint: string, token: string, options: RunOptions): Promise<NetworkFacts> {
  const name = options.settings.network.publicNetworkName;
  const facts = await discoverNetwork(endpoint, token, name);
  for (const problem of facts.problems) log(`warning: network: ${problem}`);
  if (facts.publicNetworkId) log(`network: public network ${name} is ${facts.publicNetworkId}`);
  log(
    facts.extensions
      ? `network: ${facts.extensions.length} extensions from ${endpoint}`
      : `network: using the ${options.settings.network.fallbackExtensions.length} fallback extensions of conformance/cloud-settings.ts`,
  );
  return facts;
}

async function startOwnCloud(tmp: string, options: RunOptions, webDownloadHosts: string[]): Promise<RunningCloud> {
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  log('starting Stratus …');
  const cloud = await startCloud({
    repoRoot,
    dataDir,
    logPath: join(tmp, 'stratus.log'),
    host: '127.0.0.1',
    startTimeoutMs: options.startTimeoutSeconds * 1000,
    settings: options.settings,
    webDownloadHosts,
  });
  log(`Stratus is up at ${cloud.authUrl} (log: ${cloud.logPath})`);
  return cloud;
}

/** Default services: those with an include list in conformance/lists/. */
function servicesWithLists(): string[] {
  return readdirSync(listsDir(repoRoot))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => f.slice(0, -4))
    .filter((name) => serviceByName(name) !== undefined);
}

/**
 * Exclusions decided from this run's settings rather than from a file. Tempest's lockout test
 * sleeps for the full lockout duration, which with production values would stall the run. The
 * web-download test fetches from the runner's 127.0.0.1, which a cloud on another host cannot reach.
 */
function runtimeExclusions(options: RunOptions): ListEntry[] {
  const exclusions = webDownloadExclusions(options.authUrl);
  const { lockoutDurationSeconds } = options.settings.securityCompliance;
  if (lockoutDurationSeconds <= options.settings.maxLockoutWaitSeconds) return exclusions;
  return [
    ...exclusions,
    {
      pattern: 'id-a7ad8bbf-2cff-4520-8c1d-96332e151658',
      reason:
        `test_user_account_lockout would sleep ${lockoutDurationSeconds} s (the lockout duration); ` +
        `it runs when the cloud's lockout duration is at most ${options.settings.maxLockoutWaitSeconds} s (--lockout-duration / --max-lockout-wait)`,
      origin: 'runner',
    },
  ];
}

/** Per-test timeout: long enough for the lockout test's sleep when it does run. */
function testTimeout(options: RunOptions): number {
  const lockout = options.settings.securityCompliance.lockoutDurationSeconds;
  return lockout <= options.settings.maxLockoutWaitSeconds ? Math.max(options.testTimeoutSeconds, lockout + 120) : options.testTimeoutSeconds;
}

function exclusionsWithCounts(excludes: ListEntry[], candidates: string[], selected: string[]): (Exclusion & { tests: string[] })[] {
  const kept = new Set(selected);
  const removed = candidates.filter((t) => !kept.has(t));
  const regexes = excludes.map((e) => new RegExp(e.pattern));
  const tests = excludes.map(() => [] as string[]);
  for (const test of removed) {
    // stestr drops a test if any pattern matches; credit the first, as a reader scans the file.
    const index = regexes.findIndex((r) => r.test(test));
    if (index !== -1) tests[index]!.push(test);
  }
  return excludes.map((e, i) => ({ pattern: e.pattern, reason: e.reason, origin: e.origin, count: tests[i]!.length, tests: tests[i]! }));
}

function writeReport(
  reportPath: string,
  selection: Selection,
  results: TestResult[],
  exclusions: (Exclusion & { tests: string[] })[],
  version: string,
): void {
  const common = {
    date: new Date(),
    commit: gitCommit(),
    tempestVersion: version,
  };
  const rel = (files: string[]): string[] => files.map((f) => relative(repoRoot, f));
  const sections = selection.sections.map((key) => {
    if (key.startsWith('list:')) {
      return renderSection({ ...common, key, includeFiles: rel(selection.includeFiles), excludeFiles: rel(selection.excludeFiles), results, exclusions });
    }
    // One section per service: its own tests, and the exclusions from its file or that hit its tests.
    const ownFile = (origin: string): boolean => origin.startsWith(`${key}-exclude.txt:`);
    return renderSection({
      ...common,
      key,
      includeFiles: rel(selection.includeFiles.filter((f) => f.endsWith(`/${key}.txt`))),
      excludeFiles: rel(selection.excludeFiles.filter((f) => f.endsWith(`/${key}-exclude.txt`))),
      results: results.filter((r) => r.service === key),
      exclusions: exclusions.filter((x) => ownFile(x.origin) || x.tests.some((t) => serviceOfTest(t) === key)),
    });
  });
  mkdirSync(dirname(reportPath), { recursive: true });
  const existing = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : null;
  writeFileSync(reportPath, mergeReport(existing, sections));
}

function gitCommit(): string {
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--short=12', 'HEAD');
  } catch {
    return 'no commit yet';
  }
  // The report itself changes on every run, so it does not make the tree "dirty".
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!docs/conformance.md') !== '';
  return dirty ? `${commit}+changes` : commit;
}

function warnAboutMissingServices(selection: Selection, types: ReadonlySet<string>): void {
  for (const key of selection.sections) {
    const service = serviceByName(key);
    if (service && !service.catalogTypes.some((t) => types.has(t))) {
      log(`warning: ${key} is not in the catalog; its tests will be skipped`);
    }
  }
}

function log(message: string): void {
  console.log(`conformance: ${message}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`conformance: ${(error as Error).message}`);
    process.exit(2);
  },
);
