import type { FastifyRequest } from 'fastify';
import { sql, type SqlBool } from 'kysely';
import { badInput } from './common.js';

/**
 * Neutron list semantics shared by every collection: equality filters (a repeated key means
 * "any of"), tag filters, sort_key/sort_dir, limit/marker with page_reverse and the
 * `<collection>_links`, and `fields`. Filters, order and page bounds run in SQL, so a page
 * costs what the page holds, not what the table holds.
 */
export type Kind = 'str' | 'bool' | 'int';
export interface ListSpec {
  collection: string;
  table: string;
  /** Query attribute → column and how to read the value. */
  columns: Record<string, { col: string; kind: Kind }>;
  sortable: string[];
  /** resource_type in resource_tag, when the resource takes tags. */
  tagType?: string;
}

const values = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).map(String);

function convert(v: string, kind: Kind, attr: string): string | number | null {
  if (kind === 'bool') {
    if (['true', 'True', '1'].includes(v)) return 1;
    if (['false', 'False', '0'].includes(v)) return 0;
    throw badInput(`'${v}' is not a valid boolean value for filter ${attr}`);
  }
  if (kind === 'int') {
    if (!/^-?\d+$/.test(v)) throw badInput(`'${v}' is not an integer for filter ${attr}`);
    return Number(v);
  }
  return v;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export async function listRows(req: FastifyRequest, db: any, base: any, spec: ListSpec): Promise<{ rows: any[]; links: { rel: string; href: string }[] }> {
  const q = req.query as Record<string, unknown>;
  let sel = base;
  for (const [key, raw] of Object.entries(q)) {
    const attr = key === 'tenant_id' ? 'project_id' : key;
    const c = spec.columns[attr];
    if (!c) continue;
    const vs = values(raw).map((v) => convert(v, c.kind, attr));
    sel = vs.length === 1 && vs[0] === null ? sel.where(`${spec.table}.${c.col}`, 'is', null) : sel.where(`${spec.table}.${c.col}`, 'in', vs);
  }
  if (spec.tagType) {
    const tagList = (k: string) => (q[k] === undefined ? [] : values(q[k]).flatMap((v) => v.split(',')).filter(Boolean));
    const has = (tag: string) => sql<SqlBool>`exists (select 1 from resource_tag t where t.resource_type = ${spec.tagType} and t.resource_id = ${sql.ref(`${spec.table}.id`)} and t.tag = ${tag})`;
    for (const t of tagList('tags')) sel = sel.where(has(t));
    const any = tagList('tags-any');
    if (any.length) sel = sel.where((eb: any) => eb.or(any.map((t) => has(t))));
    const notAll = tagList('not-tags');
    if (notAll.length) sel = sel.where((eb: any) => eb.not(eb.and(notAll.map((t) => has(t)))));
    for (const t of tagList('not-tags-any')) sel = sel.where((eb: any) => eb.not(has(t)));
  }
  const keys = q.sort_key === undefined ? [] : values(q.sort_key);
  const dirs = q.sort_dir === undefined ? [] : values(q.sort_dir);
  if (dirs.length && dirs.length !== keys.length) throw badInput('The number of sort_keys and sort_dirs must be same');
  const sorts = keys.map((k, i) => {
    if (!spec.sortable.includes(k) || !spec.columns[k]) throw badInput(`${k} is invalid attribute for sort_key`);
    const d = (dirs[i] ?? 'asc').toLowerCase();
    if (d !== 'asc' && d !== 'desc') throw badInput(`${dirs[i]} is invalid value for sort_dir`);
    return { col: spec.columns[k]!.col, dir: d as 'asc' | 'desc' };
  });
  if (!sorts.some((s) => s.col === 'id')) sorts.push({ col: 'id', dir: sorts[sorts.length - 1]?.dir ?? 'asc' });
  const reverse = ['true', 'True', '1'].includes(String(q.page_reverse ?? ''));
  const effective = sorts.map((s) => ({ ...s, dir: reverse ? (s.dir === 'asc' ? 'desc' : 'asc') : s.dir }));
  const marker = q.marker === undefined ? undefined : String(q.marker);
  if (marker) {
    const m = await db.selectFrom(spec.table).selectAll().where('id', '=', marker).executeTakeFirst();
    if (!m) throw badInput(`marker ${marker} could not be found`);
    // Rows strictly after the marker in the (keys..., id) order.
    sel = sel.where((eb: any) => eb.or(effective.map((s, i) => eb.and([
      ...effective.slice(0, i).map((p) => eb(`${spec.table}.${p.col}`, '=', m[p.col])),
      eb(`${spec.table}.${s.col}`, s.dir === 'asc' ? '>' : '<', m[s.col]),
    ]))));
  }
  for (const s of effective) sel = sel.orderBy(`${spec.table}.${s.col}`, s.dir);
  let limit: number | undefined;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 0) throw badInput(`'${String(q.limit)}' is not a valid limit`);
    if (limit === 0) limit = undefined;
  }
  if (limit !== undefined) sel = sel.limit(limit + 1);
  let rows: any[] = await sel.execute();
  const more = limit !== undefined && rows.length > limit;
  if (more) rows = rows.slice(0, limit);
  if (reverse) rows.reverse();
  const links: { rel: string; href: string }[] = [];
  if (limit !== undefined && rows.length) {
    const url = `${req.protocol}://${req.headers.host}${req.url.split('?')[0]}`;
    const link = (rel: string, id: string, rev: boolean) => {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (!['marker', 'page_reverse'].includes(k)) for (const x of values(v)) p.append(k, x);
      p.set('marker', id);
      if (rev) p.set('page_reverse', 'True');
      return { rel, href: `${url}?${p.toString()}` };
    };
    if (reverse ? marker !== undefined || more : more) links.push(link('next', rows[rows.length - 1].id, false));
    if (reverse ? more : marker !== undefined) links.push(link('previous', rows[0].id, true));
  }
  return { rows, links };
}

/** `fields=a&fields=b`: only those attributes (Neutron keeps exactly what was asked). */
export function pickFields<T extends Record<string, unknown>>(req: FastifyRequest, obj: T): Partial<T> {
  const f = (req.query as Record<string, unknown>).fields;
  if (f === undefined) return obj;
  const wanted = values(f).flatMap((x) => x.split(',')).filter(Boolean);
  if (!wanted.length) return obj;
  return Object.fromEntries(Object.entries(obj).filter(([k]) => wanted.includes(k))) as Partial<T>;
}

/** The filters every standard resource takes (Neutron's standard attributes). */
export const standardColumns: ListSpec['columns'] = {
  id: { col: 'id', kind: 'str' }, name: { col: 'name', kind: 'str' }, project_id: { col: 'project_id', kind: 'str' },
  description: { col: 'description', kind: 'str' }, revision_number: { col: 'revision_number', kind: 'int' },
  created_at: { col: 'created_at', kind: 'int' }, updated_at: { col: 'updated_at', kind: 'int' },
};

/** Filters whose query attribute is the column's own name. */
export const sameName = (kind: Kind, names: string[]): ListSpec['columns'] =>
  Object.fromEntries(names.map((n) => [n, { col: n, kind }]));
