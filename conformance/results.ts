// Turns the subunit events of a run into one outcome per selected test.
// Tempest skips or fails whole classes in setUpClass (e.g. "Trusts aren't enabled", or the
// admin login failing); the stream then holds one `setUpClass (pkg.Class)` entry instead of the
// class's tests. We spread such an entry over the tests that were selected for that class, so
// totals count tests, not classes. Selected tests with no outcome at all (a crashed worker)
// count as failures.

import type { SubunitEvent, SubunitStatus } from './subunit.js';
import { serviceOfTest } from './services.js';

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** Full test id as Tempest names it, attributes included. */
  id: string;
  service: string;
  outcome: Outcome;
  /** Skip reason, or the exception that failed the test (short form). */
  detail: string | null;
  /** Full traceback(s) for failures. */
  traceback: string | null;
  /** Tempest's log of the failed test (every request and response), from the stream. */
  log?: string;
}

interface RawResult {
  status: SubunitStatus | null;
  files: Map<string, string>;
}

const FINAL: Partial<Record<SubunitStatus, Outcome>> = {
  success: 'passed',
  xfail: 'passed',
  skip: 'skipped',
  fail: 'failed',
  uxsuccess: 'failed',
};

const FIXTURE = /^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$/;

export function collectRaw(events: SubunitEvent[]): Map<string, RawResult> {
  const raw = new Map<string, RawResult>();
  for (const event of events) {
    if (event.testId === null) continue;
    let entry = raw.get(event.testId);
    if (!entry) raw.set(event.testId, (entry = { status: null, files: new Map() }));
    if (event.fileName !== null && event.fileBytes !== null) {
      // Attachments may arrive in several chunks; they are appended in stream order.
      entry.files.set(event.fileName, (entry.files.get(event.fileName) ?? '') + event.fileBytes.toString('utf8'));
    }
    if (FINAL[event.status] !== undefined || (event.status === 'inprogress' && entry.status === null)) {
      entry.status = event.status;
    }
  }
  return raw;
}

/** `listed` is what `tempest run --list-tests` selected; results cover all of it. */
export function buildResults(listed: string[], events: SubunitEvent[]): TestResult[] {
  const raw = collectRaw(events);
  const fixtures = new Map<string, { kind: string; result: TestResult }>();
  const results = new Map<string, TestResult>();

  for (const [id, entry] of raw) {
    const fixture = FIXTURE.exec(id);
    const result = toResult(id, fixture ? fixture[2]! : id, entry);
    if (fixture) {
      if (result.outcome !== 'passed') fixtures.set(`${fixture[1]} ${fixture[2]}`, { kind: fixture[1]!, result });
    } else {
      results.set(id, result);
    }
  }

  const claimed = new Set<string>();
  for (const id of listed) {
    if (results.has(id)) continue;
    const owner = ownerFixture(id, fixtures);
    if (owner) {
      claimed.add(owner.key);
      results.set(id, { ...owner.result, id, service: serviceOfTest(id) });
    } else {
      results.set(id, {
        id,
        service: serviceOfTest(id),
        outcome: 'failed',
        detail: 'no result: the test never ran (worker crashed or the run was aborted)',
        traceback: null,
      });
    }
  }
  // Fixture problems that did not stand in for any test (tearDownClass errors, or classes
  // missing from the listing) are reported as entries of their own so they are not lost.
  for (const [key, { result }] of fixtures) {
    if (!claimed.has(key)) results.set(result.id, result);
  }
  return [...results.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function ownerFixture(
  testId: string,
  fixtures: Map<string, { kind: string; result: TestResult }>,
): { key: string; result: TestResult } | null {
  const name = bareName(testId);
  const cls = name.slice(0, name.lastIndexOf('.'));
  const module = cls.slice(0, cls.lastIndexOf('.'));
  for (const key of [`setUpClass ${cls}`, `setUpModule ${module}`]) {
    const hit = fixtures.get(key);
    if (hit) return { key, result: hit.result };
  }
  return null;
}

function toResult(id: string, serviceId: string, entry: RawResult): TestResult {
  const outcome = (entry.status && FINAL[entry.status]) ?? 'failed';
  // A test can carry several tracebacks (traceback, traceback-1, …: e.g. a cleanup failing too).
  const tracebacks = [...entry.files.entries()].filter(([name]) => /^traceback(-\d+)?$/.test(name)).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const traceback = tracebacks.length ? tracebacks.map(([, text]) => text).join('\n') : null;
  let detail: string | null = null;
  if (outcome === 'skipped') detail = entry.files.get('reason')?.trim() ?? null;
  if (outcome === 'failed') {
    detail = traceback
      ? exceptionOf(tracebacks[0]![1])
      : entry.status === 'uxsuccess'
        ? 'unexpected success'
        : entry.status === 'inprogress'
          ? 'started but never finished (worker crashed or timed out)'
          : 'failed without a traceback';
  }
  const result: TestResult = { id, service: serviceOfTest(serviceId), outcome, detail, traceback };
  const log = entry.files.get("pythonlogging:''");
  if (outcome === 'failed' && log) result.log = log;
  return result;
}

/** Test id without Tempest's `[id-…,smoke]` attribute suffix. */
export function bareName(testId: string): string {
  const bracket = testId.indexOf('[');
  return bracket === -1 ? testId : testId.slice(0, bracket);
}

/**
 * The exception at the end of a Python traceback, e.g.
 * `tempest.lib.exceptions.NotFound: Object not found\nDetails: {...}`.
 */
export function exceptionOf(traceback: string): string {
  const lines = traceback.replace(/\s+$/, '').split('\n');
  let start = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s+File "/.test(lines[i]!)) {
      start = i + 1;
      break;
    }
  }
  // Skip the source line and caret markers that follow the last frame.
  while (start < lines.length && /^\s/.test(lines[start]!)) start++;
  const text = lines.slice(start).join('\n').trim();
  return text || lines[lines.length - 1]!.trim();
}

/**
 * A key that puts failures with the same cause together: the exception line, plus Tempest's
 * "Details:" line (which says what the server answered), with ids, addresses, random names'
 * digits and other numbers blanked out.
 */
export function causeKey(detail: string): string {
  const lines = detail.split('\n');
  const details = lines.find((l) => l.startsWith('Details:'));
  const text = details && details !== lines[0] ? `${lines[0]} ${details}` : lines[0]!;
  const key = text
    .replace(/[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/gi, '<id>')
    .replace(/0x[0-9a-f]+/gi, '<addr>')
    .replace(/\b[0-9a-f]{32}\b/gi, '<id>')
    .replace(/\d+(\.\d+)?/g, 'N');
  return key.length > 240 ? `${key.slice(0, 240)} …` : key;
}

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

export function countByService(results: TestResult[]): Map<string, Counts> {
  const counts = new Map<string, Counts>();
  for (const r of results) {
    let c = counts.get(r.service);
    if (!c) counts.set(r.service, (c = { passed: 0, failed: 0, skipped: 0, total: 0 }));
    c[r.outcome] += 1;
    c.total += 1;
  }
  return counts;
}

export function totals(results: TestResult[]): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0, total: results.length };
  for (const r of results) c[r.outcome] += 1;
  return c;
}
