import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { authorize } from '../logic/access.js';
import { findContainer } from '../logic/containers.js';
import { commitObject, deleteObject, dropBlobs, findObject, putObject, updateObject } from '../logic/objects.js';
import { copyObject } from '../logic/copy.js';
import { buildSlo, contentOf, sloManifest, splitPath, streamPieces, slice, type Content } from '../logic/large.js';
import { deleteVersion, findVersion, versionIdOf, versioningEnabled } from '../logic/object-versions.js';
import { evaluate } from '../logic/conditions.js';
import { parseRanges } from '../logic/ranges.js';

import { httpDate, newBlobKey, xTimestamp } from '../logic/deps.js';
import { headersOf, type ContainerRow, type ObjectRow } from '../store.js';
import type { SwiftRequest } from './context.js';
import { contentTypes, titleCase } from './wire.js';
import { truthy } from './params.js';
import { guessType } from './mime.js';

/** Object: PUT (upload, copy, SLO manifest), GET/HEAD (ranges, conditions), POST, DELETE, COPY. */
export async function objectRequest(r: SwiftRequest): Promise<unknown> {
  const c = await findContainer(r.deps.db, r.account, r.container!);
  if (!r.tempUrl) authorize(r.caller, r.account, r.req.method === 'GET' || r.req.method === 'HEAD' ? 'read' : 'write', c ? headersOf(c.headers) : {});
  if (!c) throw new ApiError(404, 'Not Found');
  switch (r.req.method) {
    case 'GET': case 'HEAD': return getObject(r, c);
    case 'PUT': return putObjectRequest(r, c);
    case 'POST': return postObject(r);
    case 'DELETE': return deleteObjectRequest(r, c);
    case 'COPY': return copyRequest(r);
    default: throw new ApiError(405, 'Method Not Allowed');
  }
}

/** Object headers Swift stores besides X-Object-Meta-* (its default allowed_headers). */
const STORED = ['content-disposition', 'content-encoding', 'cache-control', 'content-language', 'expires', 'x-robots-tag', 'x-object-manifest'];

export function objectHeadersFrom(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('x-object-meta-')) out[k] = v.trim();
  for (const k of STORED) if (h[k] !== undefined && !(k === 'x-object-manifest' && h[k] === '')) out[k] = h[k]!;
  return out;
}

/** X-Delete-At / X-Delete-After → epoch ms; null to clear (X-Remove-Delete-At); undefined when not given. */
export function deleteAtFrom(h: Record<string, string>): number | null | undefined {
  const now = Date.now();
  if (h['x-delete-at'] !== undefined) {
    if (!/^\d+$/.test(h['x-delete-at'].trim())) throw new ApiError(400, 'Non-integer X-Delete-At');
    const at = Number(h['x-delete-at'].trim()) * 1000;
    if (at <= now) throw new ApiError(400, 'X-Delete-At in past');
    return at;
  }
  if (h['x-delete-after'] !== undefined) {
    if (!/^-?\d+$/.test(h['x-delete-after'].trim())) throw new ApiError(400, 'Non-integer X-Delete-After');
    const after = Number(h['x-delete-after'].trim());
    if (after < 0) throw new ApiError(400, 'X-Delete-After in past');
    return now + after * 1000;
  }
  if (h['x-remove-delete-at'] !== undefined) return null;
  return undefined;
}

function contentTypeFor(r: SwiftRequest, name: string): string {
  const given = r.headers['content-type'];
  if (!given || truthy(r.headers['x-detect-content-type'])) return guessType(name);
  return given;
}

function contentLength(r: SwiftRequest): number | null {
  const cl = r.headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl.trim())) throw new ApiError(400, 'Invalid Content-Length');
    return Number(cl);
  }
  if ((r.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) return null;
  throw new ApiError(411, 'Length Required');
}

function responseHeaders(row: ObjectRow, content: Content, c: ContainerRow): Record<string, string | number> {
  const h: Record<string, string | number> = {
    'content-type': row.content_type, etag: content.etag, 'last-modified': httpDate(row.created_at),
    'x-timestamp': xTimestamp(row.created_at), 'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(headersOf(row.headers))) h[titleCase(k)] = v;
  if (row.delete_at !== null) h['x-delete-at'] = Math.floor(row.delete_at / 1000);
  if (row.kind === 'slo') h['x-static-large-object'] = 'True';
  if (versioningEnabled(c)) h['x-object-version-id'] = versionIdOf(row);
  return h;
}

async function getObject(r: SwiftRequest, c: ContainerRow): Promise<unknown> {
  const versionId = r.query.get('version-id');
  let row: ObjectRow;
  if (versionId !== null) {
    row = await findVersion(r.deps, c, r.object!, versionId);
    if (row.kind === 'marker') throw new ApiError(404, 'Not Found');
  } else {
    row = (await findObject(r.deps, r.account, r.container!, r.object!)).object;
  }
  const reply = r.reply;
  const manifestGet = r.query.get('multipart-manifest') === 'get';
  if (row.kind === 'slo' && manifestGet) {
    const segments = await sloManifest(r.deps, row);
    const raw = r.query.get('format') === 'raw';
    const body = JSON.stringify(raw ? segments.map((s) => ({ path: s.name, etag: s.hash, size_bytes: s.bytes, ...(s.range ? { range: s.range } : {}) })) : segments);
    reply.headers({ ...responseHeaders(row, { pieces: [], size: 0, etag: '', large: false }, c), 'content-type': 'application/json; charset=utf-8', etag: createHash('md5').update(body).digest('hex') });
    reply.header('content-length', Buffer.byteLength(body));
    return r.req.method === 'HEAD' ? reply.status(200).send() : reply.status(200).send(body);
  }
  const content = manifestGet && headersOf(row.headers)['x-object-manifest'] !== undefined
    ? { pieces: [{ blobKey: row.blob_key, start: 0, length: Number(row.size) }], size: Number(row.size), etag: row.etag, large: false }
    : await contentOf(r.deps, r.account, row);
  const verdict = evaluate({
    ifMatch: r.headers['if-match'], ifNoneMatch: r.headers['if-none-match'],
    ifModifiedSince: r.headers['if-modified-since'], ifUnmodifiedSince: r.headers['if-unmodified-since'],
  }, content.etag, row.created_at, true);
  reply.headers(responseHeaders(row, content, c));
  if (verdict !== 'ok') {
    if (verdict === 412) throw new ApiError(412, 'Precondition Failed', { etag: content.etag, 'last-modified': httpDate(row.created_at) });
    return reply.status(304).header('content-type', row.content_type).send();
  }
  const ranges = parseRanges(r.headers.range, content.size);
  if (ranges === 'unsatisfiable') {
    throw new ApiError(416, 'Requested Range Not Satisfiable', { 'content-range': `bytes */${content.size}` });
  }
  if (!ranges || ranges.length === 0 || r.errorPage) {
    const status = r.errorPage ? 404 : 200;
    reply.header('content-length', content.size);
    if (r.req.method === 'HEAD') return reply.status(status).send();
    return reply.status(status).send(streamPieces(r.deps, content.pieces));
  }
  if (ranges.length === 1) {
    const [range] = ranges as [{ start: number; end: number }];
    reply.header('content-range', `bytes ${range.start}-${range.end}/${content.size}`).header('content-length', range.end - range.start + 1);
    if (r.req.method === 'HEAD') return reply.status(206).send();
    return reply.status(206).send(streamPieces(r.deps, slice(content.pieces, range.start, range.end)));
  }
  // Several ranges: one multipart/byteranges body, each part with its own Content-Range.
  const boundary = randomBytes(16).toString('hex');
  const heads = ranges.map((rg) => Buffer.from(`--${boundary}\r\nContent-Type: ${row.content_type}\r\nContent-Range: bytes ${rg.start}-${rg.end}/${content.size}\r\n\r\n`));
  const tail = Buffer.from(`--${boundary}--`);
  const length = heads.reduce((n, h, i) => n + h.length + (ranges[i]!.end - ranges[i]!.start + 1) + 2, 0) + tail.length;
  reply.header('content-type', `multipart/byteranges;boundary=${boundary}`).header('content-length', length);
  if (r.req.method === 'HEAD') return reply.status(206).send();
  const deps = r.deps;
  const list = ranges;
  async function* parts() {
    for (const [i, rg] of list.entries()) {
      yield heads[i]!;
      for await (const chunk of streamPieces(deps, slice(content.pieces, rg.start, rg.end))) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield tail;
  }
  return reply.status(206).send(Readable.from(parts()));
}

async function putObjectRequest(r: SwiftRequest, c: ContainerRow): Promise<unknown> {
  const h = r.headers;
  if (h['x-copy-from'] !== undefined) return copyInto(r, h['x-copy-from'], { container: r.container!, object: r.object! }, 'PUT');
  const length = contentLength(r);
  const deleteAt = deleteAtFrom(h) ?? null;
  const headers = objectHeadersFrom(h);
  if (h['if-none-match'] === '*') {
    const exists = await r.deps.db.selectFrom('object_object').select('name').where('container_id', '=', c.id).where('name', '=', r.object!).executeTakeFirst();
    if (exists) throw new ApiError(412, 'Precondition Failed');
  }
  let row: ObjectRow;
  if (r.query.get('multipart-manifest') === 'put') {
    row = await putSlo(r, c, headers, deleteAt);
  } else {
    row = await putObject(r.deps, {
      account: r.account, container: r.container!, name: r.object!, data: r.req.raw, contentLength: length,
      etag: h.etag, contentType: contentTypeFor(r, r.object!), headers, deleteAt,
    });
  }
  r.reply.headers({
    etag: row.kind === 'slo' ? `"${row.etag}"` : row.etag, 'last-modified': httpDate(row.created_at),
    'content-type': 'text/html; charset=UTF-8', 'content-length': 0,
  });
  if (versioningEnabled(c)) r.reply.header('x-object-version-id', versionIdOf(row));
  return r.reply.status(201).send();
}

async function putSlo(r: SwiftRequest, c: ContainerRow, headers: Record<string, string>, deleteAt: number | null): Promise<ObjectRow> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of r.req.raw) {
    n += (chunk as Buffer).length;
    if (n > 8 * 1024 * 1024) throw new ApiError(413, 'Manifest File > 8388608 bytes');
    chunks.push(chunk as Buffer);
  }
  const slo = await buildSlo(r.deps, r.account, Buffer.concat(chunks));
  const manifest = Buffer.from(JSON.stringify(slo.segments));
  const key = newBlobKey();
  await r.deps.blobs.put(key, Readable.from([manifest]), { hashes: ['md5'] });
  const etag = r.headers.etag?.replace(/"/g, '');
  if (etag && etag !== slo.etag) { await dropBlobs(r.deps, [key]); throw new ApiError(422, 'Unprocessable Entity'); }
  delete headers['x-object-manifest'];
  try {
    return await commitObject(r.deps, {
      account: r.account, container: r.container!, name: r.object!, contentType: contentTypeFor(r, r.object!), headers, deleteAt, kind: 'slo',
    }, c.id, { size: slo.size, etag: slo.etag, blobKey: key });
  } catch (err) {
    await dropBlobs(r.deps, [key]);
    throw err;
  }
}

async function postObject(r: SwiftRequest): Promise<unknown> {
  const { object } = await findObject(r.deps, r.account, r.container!, r.object!);
  const h = r.headers;
  const headers = objectHeadersFrom(h);
  const old = headersOf(object.headers);
  // POST replaces user metadata and the stored headers it names; a manifest stays unless replaced.
  if (old['x-object-manifest'] !== undefined && h['x-object-manifest'] === undefined) headers['x-object-manifest'] = old['x-object-manifest'];
  const ctype = h['content-type'] && !h['content-type'].startsWith('application/x-www-form-urlencoded') ? h['content-type'] : undefined;
  await updateObject(r.deps, r.account, r.container!, r.object!, { headers, contentType: ctype, deleteAt: deleteAtFrom(h) });
  return r.reply.status(202).header('content-type', 'text/html; charset=UTF-8').header('content-length', 0).send();
}

async function deleteObjectRequest(r: SwiftRequest, c: ContainerRow): Promise<unknown> {
  const versionId = r.query.get('version-id');
  if (versionId !== null) {
    await dropBlobs(r.deps, await deleteVersion(r.deps, c, r.object!, versionId));
    return r.reply.status(204).header('content-type', contentTypes.plain).header('x-object-version-id', versionId).send();
  }
  if (r.query.get('multipart-manifest') === 'delete') {
    const { object } = await findObject(r.deps, r.account, r.container!, r.object!);
    if (object.kind === 'slo') {
      let deleted = 0; let missing = 0;
      for (const seg of await sloManifest(r.deps, object)) {
        const p = splitPath(seg.name);
        if (!p) continue;
        try { await deleteObject(r.deps, r.account, p.container, p.object); deleted++; } catch { missing++; }
      }
      await deleteObject(r.deps, r.account, r.container!, r.object!);
      deleted++;
      const json = (r.headers.accept ?? '').includes('application/json');
      const result = { 'Number Deleted': deleted, 'Number Not Found': missing, 'Response Body': '', 'Response Status': '200 OK', Errors: [] };
      const body = json ? JSON.stringify(result)
        : `Number Deleted: ${deleted}\nNumber Not Found: ${missing}\nResponse Body: \nResponse Status: 200 OK\nErrors:\n`;
      return r.reply.status(200).header('content-type', json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8').send(body);
    }
  }
  await deleteObject(r.deps, r.account, r.container!, r.object!);
  return r.reply.status(204).header('content-type', contentTypes.plain).send();
}

function decodePath(value: string): string {
  try { return decodeURIComponent(value); } catch { throw new ApiError(412, 'Invalid path: must be UTF-8, %-encoded'); }
}

async function copyRequest(r: SwiftRequest): Promise<unknown> {
  const dest = r.headers.destination;
  if (!dest) throw new ApiError(412, 'You must specify Destination header');
  const target = splitPath(decodePath(dest));
  if (!target) throw new ApiError(412, 'Destination header must be of the form <container name>/<object name>');
  const account = r.headers['destination-account'] ? r.headers['destination-account'].replace(/^AUTH_/, '') : r.account;
  if (account !== r.account) {
    const tc = await findContainer(r.deps.db, account, target.container);
    authorize(r.caller, account, 'write', tc ? headersOf(tc.headers) : {});
  }
  return copyInto(r, `/${r.container}/${r.object}`, target, 'COPY', account, true);
}

/** Copies the object at `from` (`container/object`, %-encoded for X-Copy-From) into the target. */
async function copyInto(r: SwiftRequest, from: string, target: { container: string; object: string }, method: 'PUT' | 'COPY', targetAccount = r.account, decoded = false): Promise<unknown> {
  const src = splitPath(decoded ? from : decodePath(from));
  if (!src) throw new ApiError(412, 'X-Copy-From header must be of the form <container name>/<object name>');
  const srcAccount = r.headers['x-copy-from-account'] ? r.headers['x-copy-from-account'].replace(/^AUTH_/, '') : r.account;
  if (method === 'PUT') {
    const sc = await findContainer(r.deps.db, srcAccount, src.container);
    authorize(r.caller, srcAccount, 'read', sc ? headersOf(sc.headers) : {});
  }
  const h = r.headers;
  const given = h['content-type'];
  const { row, source } = await copyObject(r.deps, {
    source: { account: srcAccount, container: src.container, name: src.object },
    target: { account: targetAccount, container: target.container, name: target.object },
    headers: objectHeadersFrom(h), contentType: given || undefined,
    fresh: truthy(h['x-fresh-metadata']), deleteAt: deleteAtFrom(h),
  });
  r.reply.headers({
    etag: row.etag, 'last-modified': httpDate(row.created_at), 'content-type': 'text/html; charset=UTF-8', 'content-length': 0,
    'x-copied-from': `${encodeURIComponent(src.container)}/${encodeURIComponent(src.object).replace(/%2F/g, '/')}`,
    'x-copied-from-last-modified': httpDate(source.created_at),
    ...(srcAccount !== r.account ? { 'x-copied-from-account': `AUTH_${srcAccount}` } : {}),
  });
  for (const [k, v] of Object.entries(headersOf(row.headers))) r.reply.header(titleCase(k), v);
  return r.reply.status(201).send();
}


