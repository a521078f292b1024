import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { authorize } from '../logic/access.js';
import { deleteContainer, findContainer, putContainer } from '../logic/containers.js';
import { deleteObject, putObject } from '../logic/objects.js';
import { readTar, TarError } from '../logic/tar.js';
import { headersOf } from '../store.js';
import type { SwiftRequest } from './context.js';
import { errorBody, xmlEscape } from './wire.js';
import { guessType } from './mime.js';

/**
 * Swift's bulk middleware: `?bulk-delete` (a newline-separated list of %-encoded
 * `/container/object` or `/container` paths in the body) and `?extract-archive=tar|tar.gz`
 * (a tar's files become objects). Both answer 200 with a summary in the requested format,
 * per-item failures listed inside it, as Swift does.
 */
export const BULK_LIMITS = { maxDeletes: 10000, maxFailedDeletes: 1000, maxContainers: 10000, maxFailedExtractions: 1000 };

type Summary = Record<string, unknown> & { Errors: [string, string][] };

function respond(r: SwiftRequest, summary: Summary): unknown {
  const accept = r.headers.accept ?? '';
  const format = r.query.get('format') ?? '';
  let type = 'text/plain; charset=utf-8';
  let body: string;
  if (accept.includes('application/json') || format === 'json') {
    type = 'application/json; charset=utf-8';
    body = JSON.stringify(summary);
  } else if (accept.includes('xml') || format === 'xml') {
    type = 'application/xml; charset=utf-8';
    const tag = (k: string) => k.toLowerCase().replace(/ /g, '_');
    const fields = Object.entries(summary).filter(([k]) => k !== 'Errors').map(([k, v]) => `<${tag(k)}>${xmlEscape(String(v))}</${tag(k)}>`).join('');
    const errs = summary.Errors.map(([n, s]) => `<object><name>${xmlEscape(n)}</name><status>${xmlEscape(s)}</status></object>`).join('');
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<delete>${fields}<errors>${errs}</errors></delete>`;
  } else {
    body = Object.entries(summary).filter(([k]) => k !== 'Errors').map(([k, v]) => `${k}: ${v}\n`).join('')
      + `Errors:\n${summary.Errors.map(([n, s]) => `${n}, ${s}\n`).join('')}`;
  }
  return r.reply.status(200).header('content-type', type).send(body);
}

const statusLine = (err: unknown): string => {
  const status = err instanceof ApiError ? err.status : 500;
  return `${status} ${errorBody(status, '').body.match(/<h1>(.*)<\/h1>/)?.[1] ?? 'Error'}`;
};

async function readBody(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > limit) throw new ApiError(413, 'Max delete failures exceeded');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function bulkDelete(r: SwiftRequest): Promise<unknown> {
  const text = await readBody(r.req.raw, BULK_LIMITS.maxDeletes * 1100);
  const paths = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (paths.length > BULK_LIMITS.maxDeletes) throw new ApiError(413, `Maximum Bulk Deletes: ${BULK_LIMITS.maxDeletes} per request`);
  let deleted = 0; let missing = 0;
  const errors: [string, string][] = [];
  for (const raw of paths) {
    let path: string;
    try { path = decodeURIComponent(raw); } catch { errors.push([raw, '412 Precondition Failed']); continue; }
    const p = path.replace(/^\//, '');
    const slash = p.indexOf('/');
    const container = slash < 0 ? p : p.slice(0, slash);
    const object = slash < 0 ? '' : p.slice(slash + 1);
    try {
      const c = await findContainer(r.deps.db, r.account, container);
      if (object) {
        authorize(r.caller, r.account, 'write', c ? headersOf(c.headers) : {});
        await deleteObject(r.deps, r.account, container, object);
      } else {
        authorize(r.caller, r.account, 'manage');
        await deleteContainer(r.deps, r.account, container);
      }
      deleted++;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) missing++;
      else errors.push([raw, statusLine(err)]);
      if (errors.length >= BULK_LIMITS.maxFailedDeletes) break;
    }
  }
  const status = errors.length ? (errors.every(([, s]) => s.startsWith('409')) ? '409 Conflict' : '400 Bad Request') : '200 OK';
  return respond(r, { 'Number Deleted': deleted, 'Number Not Found': missing, 'Response Body': '', 'Response Status': status, Errors: errors });
}

export async function extractArchive(r: SwiftRequest): Promise<unknown> {
  const kind = r.query.get('extract-archive') ?? '';
  if (!['tar', 'tar.gz', 'tgz', 'tar.bz2'].includes(kind)) throw new ApiError(400, 'Unsupported archive format');
  if (kind === 'tar.bz2') throw new ApiError(400, 'Unsupported archive format: tar.bz2 is not offered; use tar or tar.gz');
  if (r.object !== undefined) throw new ApiError(400, 'Archives extract into an account or a container');
  let input: AsyncIterable<Buffer> = r.req.raw;
  if (kind !== 'tar') input = r.req.raw.pipe(createGunzip());
  let created = 0;
  const errors: [string, string][] = [];
  const made = new Set<string>();
  try {
    for await (const entry of readTar(input)) {
      if (entry.type !== 'file') continue;
      const name = entry.name.replace(/^\.?\/+/, '');
      const full = r.container !== undefined ? `${r.container}/${name}` : name;
      const slash = full.indexOf('/');
      if (slash <= 0 || slash === full.length - 1) { errors.push([full, '400 Bad Request']); continue; }
      const container = full.slice(0, slash);
      const object = full.slice(slash + 1);
      try {
        const c = await findContainer(r.deps.db, r.account, container);
        if (!c && !made.has(container)) {
          authorize(r.caller, r.account, 'manage');
          if (made.size >= BULK_LIMITS.maxContainers) throw new ApiError(400, 'More than max containers');
          await putContainer(r.deps, r.account, container, { changes: { set: {}, remove: [] } });
          made.add(container);
        }
        authorize(r.caller, r.account, 'write', c ? headersOf(c.headers) : {});
        await putObject(r.deps, {
          account: r.account, container, name: object, data: entry.data, contentLength: entry.size,
          contentType: guessType(object), headers: {}, deleteAt: null,
        });
        created++;
      } catch (err) {
        errors.push([`/${container}/${object}`, statusLine(err)]);
        if (errors.length >= BULK_LIMITS.maxFailedExtractions) break;
      }
    }
  } catch (err) {
    if (err instanceof TarError || (err as { code?: string }).code === 'Z_DATA_ERROR') {
      return respond(r, { 'Number Files Created': created, 'Response Body': (err as Error).message, 'Response Status': '400 Bad Request', Errors: errors });
    }
    throw err;
  }
  const status = errors.length ? '400 Bad Request' : created === 0 ? '400 Bad Request' : '201 Created';
  return respond(r, { 'Number Files Created': created, 'Response Body': created === 0 && !errors.length ? 'Invalid Tar File: No Valid Files' : '', 'Response Status': status, Errors: errors });
}
