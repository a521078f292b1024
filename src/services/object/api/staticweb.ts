import { ApiError } from '../../../platform/http/errors.js';
import { authorize } from '../logic/access.js';
import { findContainer } from '../logic/containers.js';
import { listObjects } from '../logic/listing.js';
import { headersOf, type ContainerRow } from '../store.js';
import type { SwiftRequest } from './context.js';
import { objectRequest } from './object.js';
import { truthy } from './params.js';
import { xmlEscape } from './wire.js';

/**
 * Static websites (X-Container-Meta-Web-Index / -Web-Error / -Web-Listings /
 * -Web-Listings-CSS), for anonymous readers of a public container or anyone who sends
 * X-Web-Mode: true. Returns undefined when the request is an ordinary API call.
 */
export async function staticWeb(r: SwiftRequest): Promise<unknown> {
  if (r.ctx && !truthy(r.headers['x-web-mode'])) return undefined;
  const c = await findContainer(r.deps.db, r.account, r.container!);
  if (!c) return undefined;
  const h = headersOf(c.headers);
  const index = h['x-container-meta-web-index'];
  const listings = truthy(h['x-container-meta-web-listings']);
  const error = h['x-container-meta-web-error'];
  if (!index && !listings && !error) return undefined;
  const dirPath = r.object === undefined ? '' : r.object;
  const isDir = r.object === undefined || r.object.endsWith('/');
  if (r.object === undefined && !r.fullPath.endsWith('/')) {
    if (!index && !listings) return undefined;
    return r.reply.status(301).header('location', `${r.fullPath}/`).header('content-type', 'text/html; charset=UTF-8').send('');
  }
  if (isDir) {
    if (index && await exists(r, c, dirPath + index)) return serve(r, dirPath + index, 200);
    if (listings) {
      authorize(r.caller, r.account, 'list', h);
      return listing(r, c, dirPath, h['x-container-meta-web-listings-css']);
    }
    if (r.object === undefined && !index) return undefined;
    return notFound(r, c, error);
  }
  if (await exists(r, c, r.object!)) return undefined;
  if (index && await exists(r, c, `${r.object}/${index}`)) {
    return r.reply.status(301).header('location', `${r.fullPath}/`).header('content-type', 'text/html; charset=UTF-8').send('');
  }
  if (listings && (await listObjects(r.deps.db, r.deps.platform.dialect, c.id, { prefix: `${r.object}/`, limit: 1 })).length) {
    return r.reply.status(301).header('location', `${r.fullPath}/`).header('content-type', 'text/html; charset=UTF-8').send('');
  }
  return notFound(r, c, error);
}

async function exists(r: SwiftRequest, c: ContainerRow, name: string): Promise<boolean> {
  const o = await r.deps.db.selectFrom('object_object').select(['name', 'kind', 'delete_at']).where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
  return !!o && o.kind !== 'marker' && (o.delete_at === null || o.delete_at > Date.now());
}

async function serve(r: SwiftRequest, name: string, status: number): Promise<unknown> {
  const sub: SwiftRequest = { ...r, object: name };
  const out = await objectRequest(sub);
  if (status !== 200) r.reply.status(status);
  return out;
}

async function notFound(r: SwiftRequest, c: ContainerRow, error: string | undefined): Promise<unknown> {
  authorize(r.caller, r.account, 'read', headersOf(c.headers));
  if (error && await exists(r, c, `404${error}`)) {
    return objectRequest({ ...r, object: `404${error}`, headers: { ...r.headers, range: '' }, errorPage: true });
  }
  throw new ApiError(404, 'Not Found');
}

async function listing(r: SwiftRequest, c: ContainerRow, prefix: string, css: string | undefined): Promise<unknown> {
  const entries = await listObjects(r.deps.db, r.deps.platform.dialect, c.id, { prefix, delimiter: '/', limit: 10000 });
  const rows = entries.map((e) => {
    const name = 'subdir' in e ? e.subdir : e.row.name;
    const label = xmlEscape(name.slice(prefix.length));
    const href = encodeURIComponent(name.slice(prefix.length)).replace(/%2F/g, '/');
    return 'subdir' in e
      ? `<tr class="item subdir"><td class="colname"><a href="${href}">${label}</a></td><td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>`
      : `<tr class="item"><td class="colname"><a href="${href}">${label}</a></td><td class="colsize">${e.row.size}</td><td class="coldate">${new Date(e.row.created_at).toISOString().slice(0, 19).replace('T', ' ')}</td></tr>`;
  });
  const title = xmlEscape(`Listing of /${c.name}/${prefix}`);
  const style = css ? `<link rel="stylesheet" type="text/css" href="${xmlEscape(css)}" />` : '';
  const up = prefix ? '<tr class="item parent"><td class="colname"><a href="../">../</a></td><td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>' : '';
  const body = `<!DOCTYPE html>\n<html><head><title>${title}</title>${style}</head><body><h1 id="title">${title}</h1><table id="listing"><tr id="heading"><th class="colname">Name</th><th class="colsize">Size</th><th class="coldate">Date</th></tr>${up}${rows.join('')}</table></body></html>\n`;
  r.reply.status(200).header('content-type', 'text/html; charset=UTF-8').header('content-length', Buffer.byteLength(body));
  return r.req.method === 'HEAD' ? r.reply.send() : r.reply.send(body);
}
