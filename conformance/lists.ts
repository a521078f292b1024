// Include and exclude lists. Files hold one entry a line; `#` starts a comment, and on an
// exclude line the comment is the reason shown in the report. An entry is either a regex
// (matched with re.search against test ids, as stestr does) or a literal test id with its
// attributes, e.g. `tempest.api.x.Test.test_y[id-…,smoke]`, as interop guidelines list them.
// Literal ids are turned into anchored regexes here, because their brackets would otherwise be
// read as a character class and match nothing.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export interface ListEntry {
  /** Regex handed to stestr. */
  pattern: string;
  /** Text after `#` on the same line, if any. */
  reason: string | null;
  /** file:line, for error messages and the report. */
  origin: string;
}

export function parseList(text: string, fileName: string): ListEntry[] {
  const entries: ListEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf('#');
    const body = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    const reason = hash === -1 ? null : raw.slice(hash + 1).trim() || null;
    if (body === '') return;
    const origin = `${fileName}:${index + 1}`;
    const pattern = testIdToPattern(body) ?? body;
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new Error(`${origin}: invalid regex ${JSON.stringify(body)}: ${(error as Error).message}`);
    }
    entries.push({ pattern, reason, origin });
  });
  return entries;
}

export function readList(path: string): ListEntry[] {
  return parseList(readFileSync(path, 'utf8'), basename(path));
}

/**
 * `a.b.C.test_x[id-1234,smoke]` → a regex matching that test whatever other attributes it
 * carries, keyed on the idempotent id so a reordered attribute list still matches.
 */
export function testIdToPattern(line: string): string | null {
  const match = /^([A-Za-z0-9_.]+)\[([^\]]*)\]$/.exec(line);
  if (!match) return null;
  const [, name, attrs] = match as unknown as [string, string, string];
  const id = attrs.split(',').find((a) => a.startsWith('id-'));
  if (!id) return null;
  return `^${escapeRegex(name)}\\[(?:[^\\]]*,)?${escapeRegex(id)}(?:,[^\\]]*)?\\]$`;
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Writes entries in the stestr list format (`regex  # reason`). */
export function writeList(path: string, entries: ListEntry[]): void {
  const lines = entries.map((e) => (e.reason ? `${e.pattern}  # ${e.reason.replace(/#/g, '')}` : e.pattern));
  writeFileSync(path, lines.join('\n') + '\n');
}

/** What one run selects: which list files, and the report section it fills. */
export interface Selection {
  /** Report section key: a service name, or `list:<name>` for --list runs. */
  sections: string[];
  includeFiles: string[];
  excludeFiles: string[];
}

export function listsDir(repoRoot: string): string {
  return join(repoRoot, 'conformance', 'lists');
}

export function serviceSelection(repoRoot: string, services: string[]): Selection {
  const dir = listsDir(repoRoot);
  const includeFiles: string[] = [];
  const excludeFiles: string[] = [];
  for (const service of services) {
    const include = join(dir, `${service}.txt`);
    if (!existsSync(include)) throw new Error(`no include list for service ${service}: ${include}`);
    includeFiles.push(include);
    const exclude = join(dir, `${service}-exclude.txt`);
    if (existsSync(exclude)) excludeFiles.push(exclude);
  }
  return { sections: services, includeFiles, excludeFiles };
}

/** `--list NAME` (a file in conformance/lists/) or `--list PATH`; a sibling NAME-exclude.txt applies. */
export function namedListSelection(repoRoot: string, list: string): Selection {
  const candidates = [resolve(list), join(listsDir(repoRoot), list), join(listsDir(repoRoot), `${list}.txt`)];
  const include = candidates.find((c) => existsSync(c) && c.endsWith('.txt'));
  if (!include) throw new Error(`list not found: ${list} (looked in ${listsDir(repoRoot)})`);
  const exclude = include.replace(/\.txt$/, '-exclude.txt');
  return {
    sections: [`list:${basename(include, '.txt')}`],
    includeFiles: [include],
    excludeFiles: existsSync(exclude) ? [exclude] : [],
  };
}

/**
 * Whether the lists select a test, decided the way stestr does (an include pattern matches and
 * no exclude pattern does), without asking Tempest: the runner needs to know before it starts
 * the cloud whether it must serve anything for that test.
 */
export function selectsTest(includes: ListEntry[], excludes: ListEntry[], testId: string): boolean {
  const matches = (e: ListEntry): boolean => new RegExp(e.pattern).test(testId);
  return includes.some(matches) && !excludes.some(matches);
}
