import { ApiError } from '../../../platform/http/errors.js';
import { authorize, isHolder, isResellerAdmin } from '../logic/access.js';
import { getAccount, updateAccount } from '../logic/containers.js';
import { listContainers } from '../logic/listing.js';
import { CONSTRAINTS } from '../logic/constraints.js';
import { isoListing, xTimestamp } from '../logic/deps.js';
import type { SwiftRequest } from './context.js';
import { contentTypes, metaChanges, negotiate, titleCase, xmlEscape } from './wire.js';
import { listParams } from './params.js';

/** Account: HEAD/GET (statistics, metadata, container listing) and POST (metadata). */
export async function accountRequest(r: SwiftRequest): Promise<unknown> {
  switch (r.req.method) {
    case 'HEAD': case 'GET': return showAccount(r);
    case 'POST': return postAccount(r);
    case 'PUT': case 'DELETE': throw new ApiError(405, 'Method Not Allowed');
    default: throw new ApiError(405, 'Method Not Allowed');
  }
}

async function showAccount(r: SwiftRequest): Promise<unknown> {
  authorize(r.caller, r.account, 'list');
  const a = await getAccount(r.deps, r.account);
  const ts = a.created_at || Date.now();
  const h: Record<string, string | number> = {
    'x-account-container-count': a.container_count, 'x-account-object-count': a.object_count,
    'x-account-bytes-used': a.bytes_used, 'x-timestamp': xTimestamp(ts), 'x-put-timestamp': xTimestamp(ts),
    'accept-ranges': 'bytes',
  };
  for (const p of a.policies) {
    h[`X-Account-Storage-Policy-${p.name}-Container-Count`] = p.container_count;
    h[`X-Account-Storage-Policy-${p.name}-Object-Count`] = p.object_count;
    h[`X-Account-Storage-Policy-${p.name}-Bytes-Used`] = p.bytes_used;
  }
  const holder = isHolder(r.ctx, r.account);
  for (const [k, v] of Object.entries(a.headers)) {
    if (!holder && k.startsWith('x-account-meta-temp-url-key')) continue;
    h[titleCase(k)] = v;
  }
  r.reply.headers(h);
  if (r.req.method === 'HEAD') return r.reply.status(204).header('content-type', contentTypes.plain).send();
  const format = negotiate(r.query, r.headers.accept);
  const o = listParams(r.query, CONSTRAINTS.account_listing_limit);
  const entries = await listContainers(r.deps.db, r.deps.platform.dialect, r.account, o);
  r.reply.header('content-type', contentTypes[format]);
  if (format === 'json') {
    return r.reply.status(200).send(JSON.stringify(entries.map((e) => ('subdir' in e ? { subdir: e.subdir }
      : { name: e.row.name, count: Number(e.row.object_count), bytes: Number(e.row.bytes_used), last_modified: isoListing(e.row.updated_at) }))));
  }
  if (format === 'xml') {
    const items = entries.map((e) => ('subdir' in e ? `<subdir name="${xmlEscape(e.subdir)}"><name>${xmlEscape(e.subdir)}</name></subdir>`
      : `<container><name>${xmlEscape(e.row.name)}</name><count>${e.row.object_count}</count><bytes>${e.row.bytes_used}</bytes><last_modified>${isoListing(e.row.updated_at)}</last_modified></container>`));
    return r.reply.status(200).send(`<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlEscape(r.accountPath)}">${items.join('')}</account>`);
  }
  if (entries.length === 0) return r.reply.status(204).send();
  return r.reply.status(200).send(entries.map((e) => ('subdir' in e ? e.subdir : e.row.name)).join('\n') + '\n');
}

async function postAccount(r: SwiftRequest): Promise<unknown> {
  authorize(r.caller, r.account, 'manage');
  const changes = metaChanges(r.headers, 'account');
  const quota = 'x-account-meta-quota-bytes';
  const touchesQuota = quota in changes.set || changes.remove.includes(quota);
  if (touchesQuota) {
    if (!r.ctx || !isResellerAdmin(r.ctx)) throw new ApiError(403, 'Forbidden');
    const v = changes.set[quota];
    if (v !== undefined && v !== '' && !/^\d+$/.test(v)) throw new ApiError(400, 'Invalid bytes quota.');
  }
  await updateAccount(r.deps, r.account, changes);
  return r.reply.status(204).header('content-type', contentTypes.plain).send();
}
