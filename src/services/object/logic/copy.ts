import { headersOf, type ObjectRow } from '../store.js';
import type { ObjectDeps } from './deps.js';
import { findObject, putObject } from './objects.js';
import { contentOf, streamPieces } from './large.js';

/**
 * Server-side copy (Swift's COPY and X-Copy-From; S3's copy-object later). The destination
 * gets the source's bytes (a large object's whole content, not its manifest) and, unless
 * `fresh`, the source's metadata with the new entries laid over it.
 */
export interface CopyObject {
  source: { account: string; container: string; name: string };
  target: { account: string; container: string; name: string };
  /** New object headers (x-object-meta-*, content-disposition, ...) laid over the source's. */
  headers: Record<string, string>;
  contentType?: string;
  /** Start from no metadata at all (X-Fresh-Metadata). */
  fresh: boolean;
  deleteAt: number | null | undefined;
}

/** Headers that describe a manifest rather than content: never copied. */
const NOT_COPIED = ['x-object-manifest', 'x-static-large-object'];

export async function copyObject(deps: ObjectDeps, req: CopyObject): Promise<{ row: ObjectRow; source: ObjectRow }> {
  const { object: src } = await findObject(deps, req.source.account, req.source.container, req.source.name);
  const content = await contentOf(deps, req.source.account, src);
  const base = req.fresh ? {} : Object.fromEntries(Object.entries(headersOf(src.headers)).filter(([k]) => !NOT_COPIED.includes(k)));
  const headers = { ...base, ...req.headers };
  const row = await putObject(deps, {
    account: req.target.account, container: req.target.container, name: req.target.name,
    data: streamPieces(deps, content.pieces), contentLength: content.size, contentType: req.contentType || src.content_type,
    headers, deleteAt: req.deleteAt === undefined ? src.delete_at : req.deleteAt,
  });
  return { row, source: src };
}
