import type { Dialect } from '../../../platform/db/index.js';
import { containerPage, objectPage, type ContainerRow, type ObjectDb, type ObjectRow, type RangeQuery } from '../store.js';
import { HIDDEN } from './constraints.js';

/**
 * Listings with Swift's (and S3's) parameters: prefix, delimiter (names sharing the part
 * up to the next delimiter roll up into one `subdir` entry), marker, end_marker, limit,
 * reverse. Pages are read from the database in name order and folded here.
 */
export interface ListOptions {
  prefix?: string; delimiter?: string; marker?: string; endMarker?: string; limit: number; reverse?: boolean;
}

export type Entry<T> = { row: T } | { subdir: string };

const nameOf = <T extends { name: string }>(e: Entry<T>) => ('row' in e ? e.row.name : e.subdir);

async function fold<T extends { name: string }>(
  page: (r: RangeQuery) => Promise<T[]>, keep: (row: T) => boolean, o: ListOptions,
): Promise<Entry<T>[]> {
  const prefix = o.prefix ?? '';
  const out: Entry<T>[] = [];
  let marker = o.marker || undefined;
  let inclusive = false;
  const batch = Math.min(Math.max(o.limit, 100), 1000);
  while (out.length < o.limit) {
    const rows = await page({ prefix: prefix || undefined, marker, markerInclusive: inclusive, endMarker: o.endMarker || undefined, reverse: o.reverse, limit: batch });
    inclusive = false;
    let jumped = false;
    for (const row of rows) {
      if (prefix && !row.name.startsWith(prefix)) {
        if (!o.reverse || row.name < prefix) return out;
        continue;
      }
      marker = row.name;
      if (o.delimiter) {
        const at = row.name.indexOf(o.delimiter, prefix.length);
        if (at >= 0) {
          const subdir = row.name.slice(0, at + o.delimiter.length);
          const last = out[out.length - 1];
          if (!last || nameOf(last) !== subdir) out.push({ subdir });
          if (out.length >= o.limit) return out;
          // Skip the rest of this group: everything starting with `subdir`.
          if (o.reverse) { marker = subdir; inclusive = false; } else { marker = `${subdir}\u{10FFFF}`; inclusive = false; }
          jumped = true;
          break;
        }
      }
      if (!keep(row)) continue;
      out.push({ row });
      if (out.length >= o.limit) return out;
    }
    if (!jumped && rows.length < batch) return out;
  }
  return out;
}

export function listContainers(db: ObjectDb, dialect: Dialect, account: string, o: ListOptions): Promise<Entry<ContainerRow>[]> {
  return fold((r) => containerPage(db, dialect, account, r), (c) => !c.name.startsWith(HIDDEN), o);
}

export function listObjects(db: ObjectDb, dialect: Dialect, containerId: string, o: ListOptions, now = Date.now()): Promise<Entry<ObjectRow>[]> {
  return fold((r) => objectPage(db, dialect, containerId, r), (row) => row.kind !== 'marker' && (row.delete_at === null || row.delete_at > now), o);
}
