import { ApiError } from '../../../platform/http/errors.js';
import { authorize, isHolder, normaliseAcl } from '../logic/access.js';
import { deleteContainer, findContainer, putContainer, updateContainer, type HeaderChanges } from '../logic/containers.js';
import { listObjects } from '../logic/listing.js';
import { CONSTRAINTS } from '../logic/constraints.js';
import { httpDate, isoListing, xTimestamp } from '../logic/deps.js';
import { headersOf, type ContainerRow } from '../store.js';
import type { SwiftRequest } from './context.js';
import { contentTypes, metaChanges, negotiate, titleCase, xmlEscape } from './wire.js';
import { listParams } from './params.js';
import { setVersioning } from '../logic/object-versions.js';

/** Container: PUT (create/update), POST (metadata), HEAD/GET (statistics, listing), DELETE. */
export async function containerRequest(r: SwiftRequest): Promise<unknown> {
  switch (r.req.method) {
    case 'PUT': return createContainer(r);
    case 'POST': return postContainer(r);
    case 'HEAD': case 'GET': return showContainer(r);
    case 'DELETE': {
      authorize(r.caller, r.account, 'manage');
      await deleteContainer(r.deps, r.account, r.container!);
      return r.reply.status(204).header('content-type', contentTypes.plain).send();
    }
    default: throw new ApiError(405, 'Method Not Allowed');
  }
}

const SETTINGS = ['x-container-read', 'x-container-write', 'x-versions-location', 'x-history-location'];

/** Metadata, ACL and versioning headers of a PUT/POST as changes to the stored header map. */
function containerChanges(r: SwiftRequest): HeaderChanges {
  const h = r.headers;
  const changes = metaChanges(h, 'container');
  for (const name of SETTINGS) {
    const v = h[name];
    if (v !== undefined) {
      let value = v.trim();
      if (value && (name === 'x-container-read' || name === 'x-container-write')) value = normaliseAcl(name, value);
      if (value && (name === 'x-versions-location' || name === 'x-history-location')) {
        try { value = decodeURIComponent(value); } catch { throw new ApiError(400, `Invalid ${name}`); }
        if (value.includes('/')) throw new ApiError(400, `${titleCase(name)} must be a simple container name`);
      }
      changes.set[name] = value;
    }
    if (h[name.replace(/^x-/, 'x-remove-')] !== undefined) changes.remove.push(name);
  }
  if (changes.set['x-versions-location'] && changes.set['x-history-location']) {
    throw new ApiError(400, 'Only one of X-Versions-Location or X-History-Location may be specified');
  }
  // Setting one mode clears the other, as Swift does.
  if (changes.set['x-versions-location']) changes.remove.push('x-history-location');
  if (changes.set['x-history-location']) changes.remove.push('x-versions-location');
  for (const q of ['x-container-meta-quota-bytes', 'x-container-meta-quota-count']) {
    const v = changes.set[q];
    if (v !== undefined && v !== '' && !/^\d+$/.test(v)) throw new ApiError(400, `Invalid ${titleCase(q)}: must be an integer`);
  }
  return changes;
}

async function createContainer(r: SwiftRequest): Promise<unknown> {
  authorize(r.caller, r.account, 'manage');
  const changes = containerChanges(r);
  const policy = r.headers['x-storage-policy'];
  const { created, container } = await putContainer(r.deps, r.account, r.container!, { policy: policy === '' ? undefined : policy, changes });
  await versioningHeader(r, container);
  return r.reply.status(created ? 201 : 202).header('content-type', 'text/html; charset=UTF-8').header('content-length', 0).send();
}

async function postContainer(r: SwiftRequest): Promise<unknown> {
  authorize(r.caller, r.account, 'manage');
  const changes = containerChanges(r);
  const c = await updateContainer(r.deps, r.account, r.container!, changes);
  await versioningHeader(r, c);
  return r.reply.status(204).header('content-type', contentTypes.plain).send();
}

/** X-Versions-Enabled turns object versioning (the newer mode, with version ids) on or off. */
async function versioningHeader(r: SwiftRequest, c: ContainerRow): Promise<void> {
  const v = r.headers['x-versions-enabled'];
  if (v === undefined) return;
  const on = ['true', '1', 'yes', 'on', 't', 'y'].includes(v.trim().toLowerCase());
  if (!on && !['false', '0', 'no', 'off', 'f', 'n'].includes(v.trim().toLowerCase())) throw new ApiError(400, 'X-Versions-Enabled must be true or false');
  await setVersioning(r.deps, c, on);
}

export function containerHeaders(r: SwiftRequest, c: ContainerRow): Record<string, string | number> {
  const h: Record<string, string | number> = {
    'x-container-object-count': Number(c.object_count), 'x-container-bytes-used': Number(c.bytes_used),
    'x-timestamp': xTimestamp(c.created_at), 'x-put-timestamp': xTimestamp(c.updated_at), 'x-storage-policy': c.policy,
    'last-modified': httpDate(c.updated_at), 'accept-ranges': 'bytes',
  };
  const holder = isHolder(r.ctx, r.account);
  for (const [k, v] of Object.entries(headersOf(c.headers))) {
    if (!holder && (k === 'x-container-read' || k === 'x-container-write' || k.startsWith('x-container-meta-temp-url-key'))) continue;
    if (k === 'x-versions-enabled') { h['X-Versions-Enabled'] = v === 'true' ? 'True' : 'False'; continue; }
    h[titleCase(k)] = v;
  }
  return h;
}

async function showContainer(r: SwiftRequest): Promise<unknown> {
  const c = await findContainer(r.deps.db, r.account, r.container!);
  authorize(r.caller, r.account, 'list', c ? headersOf(c.headers) : {});
  if (!c) throw new ApiError(404, 'Not Found');
  r.reply.headers(containerHeaders(r, c));
  if (r.req.method === 'HEAD') return r.reply.status(204).header('content-type', contentTypes.plain).send();
  const format = negotiate(r.query, r.headers.accept);
  const o = listParams(r.query, CONSTRAINTS.container_listing_limit);
  let entries = await listObjects(r.deps.db, r.deps.platform.dialect, c.id, o);
  if (o.path !== undefined) entries = entries.filter((e) => !('subdir' in e));
  r.reply.header('content-type', contentTypes[format]);
  if (format === 'json') {
    return r.reply.status(200).send(JSON.stringify(entries.map((e) => ('subdir' in e ? { subdir: e.subdir } : {
      hash: e.row.etag, last_modified: isoListing(e.row.created_at), bytes: Number(e.row.size), name: e.row.name, content_type: e.row.content_type,
      ...(e.row.kind === 'slo' ? { slo_etag: `"${e.row.etag}"` } : {}),
    }))));
  }
  if (format === 'xml') {
    const items = entries.map((e) => ('subdir' in e ? `<subdir name="${xmlEscape(e.subdir)}"><name>${xmlEscape(e.subdir)}</name></subdir>`
      : `<object><name>${xmlEscape(e.row.name)}</name><hash>${e.row.etag}</hash><bytes>${e.row.size}</bytes><content_type>${xmlEscape(e.row.content_type)}</content_type><last_modified>${isoListing(e.row.created_at)}</last_modified></object>`));
    return r.reply.status(200).send(`<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlEscape(c.name)}">${items.join('')}</container>`);
  }
  if (entries.length === 0) return r.reply.status(204).send();
  return r.reply.status(200).send(entries.map((e) => ('subdir' in e ? e.subdir : e.row.name)).join('\n') + '\n');
}
