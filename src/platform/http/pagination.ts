import { badRequest } from './errors.js';

/**
 * List helpers shared by every service: `limit`/`marker` pages with a next link,
 * `sort_key`/`sort_dir` (or Glance's `sort=key:dir`), and equality filters.
 * They work on arrays the store already narrowed by scope; stores push the common
 * filters into SQL where lists grow large.
 */
export interface PageQuery { limit?: number; marker?: string }
export interface SortSpec { key: string; dir: 'asc' | 'desc' }

export function parseLimit(raw: unknown, max = 1000): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`limit must be a non-negative integer, got '${String(raw)}'`);
  return Math.min(n, max);
}

export function parseSort(query: Record<string, unknown>, allowed: readonly string[], fallback: SortSpec): SortSpec[] {
  const keys = toList(query.sort_key);
  const dirs = toList(query.sort_dir);
  if (typeof query.sort === 'string') {
    for (const part of query.sort.split(',')) {
      const [k, d = 'asc'] = part.split(':');
      keys.push(k!);
      dirs.push(d);
    }
  }
  if (keys.length === 0) return [fallback];
  return keys.map((key, i) => {
    if (!allowed.includes(key)) throw badRequest(`Invalid sort key '${key}'; allowed keys: ${allowed.join(', ')}`);
    const dir = (dirs[i] ?? dirs[0] ?? 'asc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction '${dir}'; use asc or desc`);
    return { key, dir };
  });
}

export function sortRows<T extends Record<string, unknown>>(rows: T[], specs: SortSpec[]): T[] {
  return [...rows].sort((a, b) => {
    for (const { key, dir } of specs) {
      const c = compare(a[key], b[key]);
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
}

/** Returns one page after `marker` (an id), and whether more follow. Unknown marker → 400. */
export function page<T>(rows: T[], q: PageQuery, idOf: (r: T) => string, notFound = (m: string) => badRequest(`marker ${m} not found`)): { items: T[]; more: boolean } {
  let start = 0;
  if (q.marker) {
    const i = rows.findIndex((r) => idOf(r) === q.marker);
    if (i < 0) throw notFound(q.marker);
    start = i + 1;
  }
  if (q.limit === undefined) return { items: rows.slice(start), more: false };
  const items = rows.slice(start, start + q.limit);
  return { items, more: start + q.limit < rows.length };
}

/** The `next` link: the same URL with the marker moved to the last item of this page. */
export function nextLink(url: string, lastId: string): string {
  const u = new URL(url);
  u.searchParams.set('marker', lastId);
  return u.toString();
}

export function toList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return a < b ? -1 : 1;
}
