import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../../platform/service.js';
import { badRequest, mv, notFound, volumeRoot } from './common.js';

/**
 * Cinder's list conventions, shared by volumes, snapshots and backups: `sort=key:dir,…` or
 * `sort_key`/`sort_dir`, `limit`, `marker` (an id; unknown → 404), `offset`, and a
 * `<collection>_links` next link whenever a page is full (even if the next page is empty,
 * as Cinder does).
 */
export interface ListQuery { sort: Array<{ key: string; dir: 'asc' | 'desc' }>; limit: number | null; marker: string | null; offset: number }

export function listQuery(req: FastifyRequest, sortKeys: readonly string[]): ListQuery {
  const q = req.query as Record<string, string | undefined>;
  const sort: ListQuery['sort'] = [];
  const push = (key: string, dir: string) => {
    const k = key === 'display_name' ? 'name' : key;
    if (!sortKeys.includes(k)) throw badRequest(`Invalid input received: Invalid sort key ${key}`);
    const d = dir.toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
    sort.push({ key: k, dir: d });
  };
  if (q.sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined) throw badRequest("Invalid input received: The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
    for (const part of q.sort.split(',').filter(Boolean)) {
      const [k, d = 'desc'] = part.split(':');
      push(k!.trim(), d.trim());
    }
  } else if (q.sort_key !== undefined || q.sort_dir !== undefined) {
    push(q.sort_key ?? 'created_at', q.sort_dir ?? 'desc');
  }
  if (!sort.some((s) => s.key === 'created_at')) sort.push({ key: 'created_at', dir: sort[0]?.dir ?? 'desc' });
  if (!sort.some((s) => s.key === 'id')) sort.push({ key: 'id', dir: sort[0]?.dir ?? 'desc' });
  let limit: number | null = null;
  if (q.limit !== undefined) {
    if (!/^\d+$/.test(q.limit)) throw badRequest(`Invalid input received: limit must be an integer 0 or greater, got '${q.limit}'`);
    limit = Math.min(Number(q.limit), 1000);
  }
  let offset = 0;
  if (q.offset !== undefined) {
    if (!/^\d+$/.test(q.offset)) throw badRequest(`Invalid input received: offset must be an integer 0 or greater, got '${q.offset}'`);
    offset = Number(q.offset);
  }
  return { sort, limit, marker: q.marker ?? null, offset };
}

/**
 * Cinder's resource filters: from 3.34 a query key that is neither a filter of the resource
 * nor a paging/sorting key is refused with 400 (admins may filter on anything).
 */
export function refuseUnknownFilters(req: FastifyRequest, allowed: ReadonlySet<string>): void {
  if (!mv(req, '3.34') || req.ctx.isAdmin) return;
  const bad = Object.keys(req.query as Record<string, unknown>).filter((k) => !allowed.has(k));
  if (bad.length) throw badRequest(`Invalid input received: Invalid filters ${bad.join(',')} are found in query options.`);
}

/** Sorts, then cuts one page after the marker (or offset). */
export function pageOf<T extends { id: string }>(rows: T[], lq: ListQuery, valueOf: (row: T, key: string) => unknown): T[] {
  const sorted = [...rows].sort((a, b) => {
    for (const { key, dir } of lq.sort) {
      const x = valueOf(a, key);
      const y = valueOf(b, key);
      if (x === y) continue;
      const c = x === null || x === undefined ? -1 : y === null || y === undefined ? 1 : x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = lq.offset;
  if (lq.marker) {
    const i = sorted.findIndex((r) => r.id === lq.marker);
    if (i < 0) throw notFound(`Marker ${lq.marker} could not be found.`);
    start = i + 1;
  }
  return lq.limit === null ? sorted.slice(start) : sorted.slice(start, start + lq.limit);
}

/** The `<collection>_links` next link when a page is full. */
export function nextLinks(req: FastifyRequest, platform: Platform, collection: string, items: Array<{ id: string }>, limit: number | null): Record<string, unknown> {
  if (limit === null || limit === 0 || items.length < limit) return {};
  const q = new URLSearchParams(req.query as Record<string, string>);
  q.set('marker', items[items.length - 1]!.id);
  q.delete('offset');
  const path = req.url.split('?')[0]!.replace(/^\/volume/, '');
  return { [`${collection}_links`]: [{ rel: 'next', href: `${volumeRoot(req, platform)}${path}?${q.toString()}` }] };
}

/** Cinder's `metadata` filter: a JSON object or a Python dict literal (Tempest sends the latter). */
export function metadataFilter(raw: string | undefined): Record<string, string> | null {
  if (raw === undefined) return null;
  for (const text of [raw, raw.replaceAll("'", '"')]) {
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    } catch { /* try the next spelling */ }
  }
  throw badRequest(`Invalid input received: metadata filter ${raw} is not a dictionary.`);
}
