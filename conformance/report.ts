// docs/conformance.md: a summary table plus one section per suite (a service, or a named
// list such as interop-identity). A run replaces only the sections it produced; the others are
// kept as they were, and the summary is rebuilt from the stats line every section carries.

import { bareName, causeKey, type Counts, type TestResult } from './results.js';

export interface Exclusion {
  pattern: string;
  reason: string | null;
  origin: string;
  /** Tests of the include list this pattern removed. */
  count: number;
}

export interface SectionData {
  /** Marker key: `identity`, or `list:interop-identity`. */
  key: string;
  date: Date;
  commit: string;
  tempestVersion: string;
  includeFiles: string[];
  excludeFiles: string[];
  results: TestResult[];
  exclusions: Exclusion[];
}

interface Stats extends Counts {
  key: string;
  date: string;
  commit: string;
}

const TITLE = '# Conformance';
const INTRO = [
  'Tempest results for Stratus, written by `npm run conformance` (see [conformance-runner.md](conformance-runner.md)).',
  'Each section is replaced when its suite runs again. To change what runs, edit `conformance/lists/`, not this file.',
].join('\n');

const begin = (key: string): string => `<!-- BEGIN conformance:${key} -->`;
const end = (key: string): string => `<!-- END conformance:${key} -->`;
const SECTION_RE = /<!-- BEGIN conformance:(\S+) -->\n[\s\S]*?<!-- END conformance:\1 -->\n?/g;
const STATS_RE = /<!-- stats (\{.*\}) -->/;

export function renderSection(data: SectionData): string {
  const counts = tally(data.results);
  const stats: Stats = { key: data.key, ...counts, date: data.date.toISOString(), commit: data.commit };
  const out: string[] = [begin(data.key), `## ${title(data.key)}`, '', `<!-- stats ${JSON.stringify(stats)} -->`];
  out.push(
    `Run ${formatDate(data.date)} on Stratus \`${data.commit}\` with Tempest ${data.tempestVersion}. ` +
      `Include: ${data.includeFiles.map(code).join(', ')}` +
      (data.excludeFiles.length ? `; exclude: ${data.excludeFiles.map(code).join(', ')}.` : '.'),
    '',
    '| service | passed | failed | skipped | total |',
    '|---|---:|---:|---:|---:|',
  );
  const services = [...new Set(data.results.map((r) => r.service))].sort();
  for (const service of services) {
    const c = tally(data.results.filter((r) => r.service === service));
    out.push(`| ${service} | ${c.passed} | ${c.failed} | ${c.skipped} | ${c.total} |`);
  }
  if (services.length !== 1) out.push(`| **all** | ${counts.passed} | ${counts.failed} | ${counts.skipped} | ${counts.total} |`);
  out.push('');

  if (data.exclusions.length) {
    out.push('### Not run (excluded)', '', '| pattern | tests | reason |', '|---|---:|---|');
    for (const x of data.exclusions) out.push(`| ${code(x.pattern)} | ${x.count} | ${cell(x.reason ?? '(no reason given)')} |`);
    out.push('');
  }

  const failed = data.results.filter((r) => r.outcome === 'failed');
  if (failed.length) {
    out.push(`### Failed (${failed.length})`, '', 'Grouped by cause; the first error of each group is shown in full.', '');
    for (const group of groupByCause(failed)) {
      out.push(`#### ${group.tests.length} × ${code(group.key)}`, '');
      for (const t of group.tests) out.push(`- ${code(bareName(t.id))}`);
      out.push('', '```', clip(group.tests[0]!.detail ?? '', 20, 2000), '```', '');
    }
  }

  const skipped = data.results.filter((r) => r.outcome === 'skipped');
  if (skipped.length) {
    out.push(`### Skipped (${skipped.length})`, '', '| test | reason |', '|---|---|');
    for (const t of skipped) out.push(`| ${code(bareName(t.id))} | ${cell(t.detail ?? '')} |`);
    out.push('');
  }
  out.push(end(data.key));
  return out.join('\n') + '\n';
}

/** Replaces (or adds) the given sections in an existing report and rebuilds the summary. */
export function mergeReport(existing: string | null, sections: string[]): string {
  const byKey = new Map<string, string>();
  for (const match of (existing ?? '').matchAll(SECTION_RE)) byKey.set(match[1]!, ensureNewline(match[0]));
  for (const section of sections) {
    const key = /<!-- BEGIN conformance:(\S+) -->/.exec(section)?.[1];
    if (!key) throw new Error('section without a BEGIN marker');
    byKey.set(key, ensureNewline(section));
  }
  // Services first, in name order; named lists after them.
  const keys = [...byKey.keys()].sort((a, b) => Number(a.startsWith('list:')) - Number(b.startsWith('list:')) || a.localeCompare(b));
  const summary = ['## Summary', '', '| suite | passed | failed | skipped | total | pass rate | run | commit |', '|---|---:|---:|---:|---:|---:|---|---|'];
  for (const key of keys) {
    const stats = STATS_RE.exec(byKey.get(key)!)?.[1];
    if (!stats) continue;
    const s = JSON.parse(stats) as Stats;
    const ran = s.passed + s.failed;
    const rate = ran ? `${((100 * s.passed) / ran).toFixed(1)} %` : '–';
    summary.push(`| [${title(key)}](#${anchor(title(key))}) | ${s.passed} | ${s.failed} | ${s.skipped} | ${s.total} | ${rate} | ${formatDate(new Date(s.date))} | \`${s.commit}\` |`);
  }
  summary.push('', 'Pass rate counts tests that ran (passed / (passed + failed)); skipped tests are listed per section with the reason Tempest gave.');
  return [TITLE, '', INTRO, '', ...summary, '', ...keys.map((k) => byKey.get(k)!)].join('\n');
}

function groupByCause(failed: TestResult[]): { key: string; tests: TestResult[] }[] {
  const groups = new Map<string, TestResult[]>();
  for (const t of failed) {
    const key = causeKey(t.detail ?? '');
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.entries()].map(([key, tests]) => ({ key, tests })).sort((a, b) => b.tests.length - a.tests.length);
}

function tally(results: TestResult[]): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0, total: results.length };
  for (const r of results) c[r.outcome] += 1;
  return c;
}

function title(key: string): string {
  return key.startsWith('list:') ? `list ${key.slice(5)}` : key;
}

function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function code(text: string): string {
  const clean = text.replace(/\s+/g, ' ');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${clean.replace(/\|/g, '\\|')}${fence}`;
}

function cell(text: string): string {
  return clip(text, 1, 300).replace(/\s+/g, ' ').replace(/\|/g, '\\|');
}

function clip(text: string, maxLines: number, maxChars: number): string {
  let out = text.split('\n').slice(0, maxLines).join('\n');
  if (out.length > maxChars) out = out.slice(0, maxChars) + ' …';
  else if (out.length < text.length) out += '\n…';
  return out;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : text + '\n';
}
