import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { headersOf, type ObjectRow } from '../store.js';
import type { ObjectDeps } from './deps.js';
import { findContainer } from './containers.js';
import { allObjects, isExpired } from './objects.js';
import { SLO_LIMITS } from './constraints.js';
import type { ByteRange } from './ranges.js';

/**
 * An object's content as a list of pieces of stored blobs. A plain object is one piece; a
 * dynamic large object (X-Object-Manifest: <container>/<prefix>) is every object under
 * the prefix, in name order, looked up at read time; a static large object is the segment
 * list fixed by its manifest. Reads of any of them, ranged or whole, go through here.
 */
export interface Piece { blobKey: string | null; start: number; length: number }
export interface Content { pieces: Piece[]; size: number; etag: string; large: boolean }

/** One entry of a stored SLO manifest (the form `?multipart-manifest=get` returns). */
export interface SloSegment { name: string; hash: string; bytes: number; content_type: string; last_modified: string; range?: string; sub_slo?: boolean }

const MAX_DEPTH = 10;

export async function readBlob(deps: ObjectDeps, key: string | null): Promise<Buffer> {
  if (!key) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of await deps.blobs.open(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function sloManifest(deps: ObjectDeps, o: ObjectRow): Promise<SloSegment[]> {
  return JSON.parse((await readBlob(deps, o.blob_key)).toString('utf8')) as SloSegment[];
}

/** `/container/object` (the object part may hold slashes) → its parts. */
export function splitPath(path: string): { container: string; object: string } | null {
  const p = path.replace(/^\//, '');
  const i = p.indexOf('/');
  if (i <= 0 || i === p.length - 1) return null;
  return { container: p.slice(0, i), object: p.slice(i + 1) };
}

function parseSegmentRange(spec: string | undefined, size: number): { start: number; length: number } {
  if (!spec) return { start: 0, length: size };
  const m = /^(\d*)-(\d*)$/.exec(spec.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new ApiError(400, `Invalid range ${spec}`);
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start > end) throw new ApiError(400, `Unsatisfiable range ${spec}`);
  return { start, length: end - start + 1 };
}

async function segmentRow(deps: ObjectDeps, account: string, path: string): Promise<ObjectRow | null> {
  const parts = splitPath(path);
  if (!parts) return null;
  const c = await findContainer(deps.db, account, parts.container);
  if (!c) return null;
  const o = await deps.db.selectFrom('object_object').selectAll().where('container_id', '=', c.id).where('name', '=', parts.object).executeTakeFirst();
  return o && o.kind !== 'marker' && !isExpired(o) ? o : null;
}

/** The pieces making up an object, following manifests. */
export async function contentOf(deps: ObjectDeps, account: string, o: ObjectRow, depth = 0): Promise<Content> {
  if (depth > MAX_DEPTH) throw new ApiError(409, 'Max recursion depth exceeded on large object segments');
  const h = headersOf(o.headers);
  if (o.kind === 'slo') {
    const pieces: Piece[] = [];
    for (const seg of await sloManifest(deps, o)) {
      const row = await segmentRow(deps, account, seg.name);
      if (!row) throw new ApiError(409, `Segment ${seg.name} of the large object is missing`);
      const inner = await contentOf(deps, account, row, depth + 1);
      const r = parseSegmentRange(seg.range, inner.size);
      pieces.push(...slice(inner.pieces, r.start, r.start + r.length - 1));
    }
    return { pieces, size: Number(o.size), etag: `"${o.etag}"`, large: true };
  }
  const manifest = h['x-object-manifest'];
  if (manifest !== undefined) {
    const parts = /^\/?([^/]+)\/(.*)$/.exec(manifest);
    const pieces: Piece[] = [];
    const etags = createHash('md5');
    let size = 0;
    const c = parts ? await findContainer(deps.db, account, decodeURIComponent(parts[1]!)) : undefined;
    if (c) {
      for await (const seg of allObjects(deps, c, decodeURIComponent(parts![2]!))) {
        const inner = seg.kind === 'slo' || headersOf(seg.headers)['x-object-manifest'] === undefined
          ? await contentOf(deps, account, seg, depth + 1) : { pieces: [], size: 0, etag: '' };
        pieces.push(...inner.pieces);
        size += inner.size;
        etags.update(seg.etag);
      }
    }
    return { pieces, size, etag: `"${etags.digest('hex')}"`, large: true };
  }
  return { pieces: [{ blobKey: o.blob_key, start: 0, length: Number(o.size) }], size: Number(o.size), etag: o.etag, large: false };
}

/** The pieces covering bytes [start, end] of the whole. */
export function slice(pieces: Piece[], start: number, end: number): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const p of pieces) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + p.length - 1);
    if (from <= to) out.push({ blobKey: p.blobKey, start: p.start + (from - at), length: to - from + 1 });
    at += p.length;
    if (at > end) break;
  }
  return out;
}

/** A stream of the pieces' bytes, one blob at a time. */
export function streamPieces(deps: ObjectDeps, pieces: Piece[]): Readable {
  async function* gen() {
    for (const p of pieces) {
      if (p.length <= 0 || !p.blobKey) continue;
      const s = await deps.blobs.open(p.blobKey, { start: p.start, end: p.start + p.length - 1 });
      for await (const chunk of s) yield chunk as Buffer;
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

export function streamRange(deps: ObjectDeps, content: Content, range?: ByteRange): Readable {
  return streamPieces(deps, range ? slice(content.pieces, range.start, range.end) : content.pieces);
}

/**
 * Validates a static large object manifest (`?multipart-manifest=put` body) against the
 * segments as stored, and returns what to store: the resolved segment list, the total size
 * and the ETag of the whole (md5 of the segments' ETags, with any range).
 */
export async function buildSlo(deps: ObjectDeps, account: string, body: Buffer): Promise<{ segments: SloSegment[]; size: number; etag: string }> {
  if (body.length > SLO_LIMITS.max_manifest_size) throw new ApiError(413, 'Manifest File > 8388608 bytes');
  let parsed: unknown;
  try { parsed = JSON.parse(body.toString('utf8')); } catch { throw new ApiError(400, 'Manifest must be valid JSON.'); }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new ApiError(400, 'Manifest must be a list of segments.');
  if (parsed.length > SLO_LIMITS.max_manifest_segments) throw new ApiError(400, `Too many segments: max ${SLO_LIMITS.max_manifest_segments}`);
  const errors: string[] = [];
  const segments: SloSegment[] = [];
  const etags = createHash('md5');
  let size = 0;
  for (const [i, raw] of parsed.entries()) {
    const seg = raw as { path?: unknown; etag?: unknown; size_bytes?: unknown; range?: unknown };
    if (!seg || typeof seg !== 'object' || typeof seg.path !== 'string') { errors.push(`Index ${i}: "path" must be a string`); continue; }
    const path = seg.path.startsWith('/') ? seg.path : `/${seg.path}`;
    const row = await segmentRow(deps, account, path);
    if (!row) { errors.push(`${path}: 404 Not Found`); continue; }
    const inner = await contentOf(deps, account, row);
    const rowEtag = inner.etag.replace(/"/g, '');
    if (seg.etag !== undefined && seg.etag !== null && String(seg.etag).replace(/"/g, '').toLowerCase() !== rowEtag) { errors.push(`${path}: Etag Mismatch`); continue; }
    if (seg.size_bytes !== undefined && seg.size_bytes !== null && Number(seg.size_bytes) !== inner.size) { errors.push(`${path}: Size Mismatch`); continue; }
    const range = typeof seg.range === 'string' ? seg.range : undefined;
    const r = parseSegmentRange(range, inner.size);
    if (r.length < SLO_LIMITS.min_segment_size && i < parsed.length - 1) { errors.push(`${path}: Too small; each segment must be at least ${SLO_LIMITS.min_segment_size} byte.`); continue; }
    size += r.length;
    etags.update(range ? `${rowEtag}:${r.start}-${r.start + r.length - 1};` : rowEtag);
    segments.push({
      name: path, hash: rowEtag, bytes: inner.size, content_type: row.content_type, last_modified: new Date(row.created_at).toISOString().replace('Z', ''),
      ...(range ? { range: `${r.start}-${r.start + r.length - 1}` } : {}), ...(row.kind === 'slo' ? { sub_slo: true } : {}),
    });
  }
  if (errors.length) throw new ApiError(400, `Errors:\n${errors.join('\n')}`);
  return { segments, size, etag: etags.digest('hex') };
}
