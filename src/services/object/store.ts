import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db, Dialect } from '../../platform/db/index.js';

/**
 * Tables of the object service and the queries on them. Names sort as Swift sorts them:
 * by their UTF-8 bytes (SQLite's BINARY collation does this; PostgreSQL needs "C").
 */
export interface AccountRow { project_id: string; headers: string; created_at: number; updated_at: number }
export interface ContainerRow {
  id: string; project_id: string; name: string; policy: string; headers: string;
  object_count: number; bytes_used: number; created_at: number; updated_at: number;
  /** S3 bucket settings Swift does not show (object lock), JSON; null when none. */
  sysmeta?: string | null;
}
/** data: plain bytes · slo: the blob is a static large object's manifest · marker: a delete marker (versioning). */
export type ObjectKind = 'data' | 'slo' | 'marker';
export interface ObjectRow {
  container_id: string; name: string; size: number; etag: string; content_type: string; headers: string;
  blob_key: string | null; kind: ObjectKind; delete_at: number | null; created_at: number;
  /**
   * Per-version settings Swift does not show and a copy does not carry (S3 retention, legal
   * hold, SSE-C parameters, multipart part count), JSON; null when none. Moves with the row.
   */
  sysmeta?: string | null;
}

/** An S3 multipart upload in progress: the object it will become, and its parts. */
export interface UploadRow {
  id: string; container_id: string; name: string; content_type: string; headers: string; sysmeta: string | null;
  owner: string; created_at: number;
}
export interface PartRow { upload_id: string; part_number: number; size: number; etag: string; blob_key: string; sysmeta: string | null; created_at: number }

export interface ObjectTables {
  object_account: AccountRow;
  object_container: ContainerRow;
  object_object: ObjectRow;
  object_upload: UploadRow;
  object_upload_part: PartRow;
}

export type ObjectDb = Kysely<ObjectTables> | Transaction<ObjectTables>;
export const objectDb = (db: Db): Kysely<ObjectTables> => db as unknown as Kysely<ObjectTables>;

/** Sysmeta is stored as JSON text, absent as null. */
export const sysmetaOf = <T extends object>(text: string | null | undefined): Partial<T> => {
  if (!text) return {};
  try { return JSON.parse(text) as Partial<T>; } catch { return {}; }
};

/** Header maps are stored as JSON text. */
export const headersOf = (text: string): Record<string, string> => {
  try { return JSON.parse(text) as Record<string, string>; } catch { return {}; }
};

export interface RangeQuery {
  /** Names after this one (before it, when reverse). */
  marker?: string;
  /** Include the marker itself (used internally to skip past a delimiter group). */
  markerInclusive?: boolean;
  /** Names before this one (after it, when reverse). */
  endMarker?: string;
  prefix?: string;
  reverse?: boolean;
  limit: number;
}

const collated = (dialect: Dialect, column: string) =>
  dialect === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql`${sql.ref(column)}`;

/** One page of names in byte order, honouring marker/end_marker/prefix (prefix by range, then checked). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function applyRange<Q extends { where: any; orderBy: any; limit: any }>(q: Q, dialect: Dialect, column: string, r: RangeQuery): Q {
  const col = collated(dialect, column);
  const lit = (v: string) => (dialect === 'postgres' ? sql`${v} collate "C"` : sql`${v}`);
  let out = q;
  if (!r.reverse) {
    let low = r.marker;
    let inclusive = r.markerInclusive ?? false;
    if (r.prefix && (low === undefined || Buffer.compare(Buffer.from(r.prefix), Buffer.from(low)) > 0)) { low = r.prefix; inclusive = true; }
    if (low !== undefined) out = out.where(sql<boolean>`${col} ${sql.raw(inclusive ? '>=' : '>')} ${lit(low)}`);
    if (r.endMarker !== undefined) out = out.where(sql<boolean>`${col} < ${lit(r.endMarker)}`);
    out = out.orderBy(col, 'asc');
  } else {
    if (r.marker !== undefined) out = out.where(sql<boolean>`${col} ${sql.raw(r.markerInclusive ? '<=' : '<')} ${lit(r.marker)}`);
    if (r.endMarker !== undefined) out = out.where(sql<boolean>`${col} > ${lit(r.endMarker)}`);
    if (r.prefix) out = out.where(sql<boolean>`${col} >= ${lit(r.prefix)}`);
    out = out.orderBy(col, 'desc');
  }
  return out.limit(r.limit);
}

export async function containerPage(db: ObjectDb, dialect: Dialect, projectId: string, r: RangeQuery): Promise<ContainerRow[]> {
  const q = db.selectFrom('object_container').selectAll().where('project_id', '=', projectId);
  return applyRange(q, dialect, 'name', r).execute();
}

export async function objectPage(db: ObjectDb, dialect: Dialect, containerId: string, r: RangeQuery): Promise<ObjectRow[]> {
  const q = db.selectFrom('object_object').selectAll().where('container_id', '=', containerId);
  return applyRange(q, dialect, 'name', r).execute();
}
