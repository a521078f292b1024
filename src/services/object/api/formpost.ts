import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApiError } from '../../../platform/http/errors.js';
import { findContainer } from '../logic/containers.js';
import { putObject } from '../logic/objects.js';
import { headersOf } from '../store.js';
import type { SwiftRequest } from './context.js';
import { guessType } from './mime.js';

/**
 * FormPost: a browser uploads files straight into a container with an HTML form signed by
 * one of the Temp-URL keys: HMAC over "<path>\n<redirect>\n<max_file_size>\n
 * <max_file_count>\n<expires>". Form bodies are read into memory up to a fixed bound
 * (FORM_LIMIT): FormPost serves browser uploads, not large objects.
 */
const FORM_LIMIT = 256 * 1024 * 1024;

export const isFormPost = (h: Record<string, string>): boolean => (h['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');

interface Part { name: string; filename?: string; type?: string; data: Buffer }

function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delim);
  while (at >= 0) {
    let start = at + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    const chunk = body.subarray(start, next - 2 >= start ? next - 2 : next);
    const sep = chunk.indexOf('\r\n\r\n');
    if (sep >= 0) {
      const head = chunk.subarray(0, sep).toString('utf8');
      const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? '';
      const name = /\bname="([^"]*)"/i.exec(disp)?.[1] ?? '';
      const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
      parts.push({ name, filename, type, data: chunk.subarray(sep + 4) });
    }
    at = next;
  }
  return parts;
}

export async function formPost(r: SwiftRequest): Promise<unknown> {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(r.headers['content-type'] ?? '')?.[2];
  if (!boundary) throw new ApiError(400, 'FormPost: invalid boundary');
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r.req.raw) {
    n += (c as Buffer).length;
    if (n > FORM_LIMIT) throw new ApiError(413, 'FormPost: body too large');
    chunks.push(c as Buffer);
  }
  const parts = parseMultipart(Buffer.concat(chunks), boundary);
  const field = (k: string) => parts.find((p) => p.filename === undefined && p.name === k)?.data.toString('utf8') ?? '';
  const redirect = field('redirect');
  const maxSize = field('max_file_size');
  const maxCount = field('max_file_count');
  const expires = field('expires');
  const signature = field('signature');
  const finish = (status: number, message: string) => {
    if (redirect) {
      const sep = redirect.includes('?') ? '&' : '?';
      const location = `${redirect}${sep}status=${status}&message=${encodeURIComponent(message)}`;
      return r.reply.status(303).header('location', location).header('content-type', 'text/html; charset=UTF-8')
        .send(`<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`);
    }
    return r.reply.status(status).header('content-type', 'text/html; charset=UTF-8').send(`<html><h1>${status}</h1><p>FormPost: ${message}</p></html>`);
  };
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 < Date.now()) throw new ApiError(401, 'FormPost: Form Expired');
  const acct = await r.deps.db.selectFrom('object_account').select('headers').where('project_id', '=', r.account).executeTakeFirst();
  const c = await findContainer(r.deps.db, r.account, r.container!);
  const ah = acct ? headersOf(acct.headers) : {};
  const ch = c ? headersOf(c.headers) : {};
  const keys = [ah['x-account-meta-temp-url-key'], ah['x-account-meta-temp-url-key-2'], ch['x-container-meta-temp-url-key'], ch['x-container-meta-temp-url-key-2']].filter((k): k is string => !!k);
  let decoded = r.fullPath;
  try { decoded = decodeURIComponent(r.fullPath); } catch { /* raw */ }
  const paths = [...new Set([r.fullPath, decoded, r.swiftPath, decoded.slice(r.fullPath.length - r.swiftPath.length)])];
  const signed = paths.some((p) => keys.some((k) => signatureOk(signature, k, `${p}\n${redirect}\n${maxSize}\n${maxCount}\n${expires}`)));
  if (!signed) throw new ApiError(401, 'FormPost: Invalid Signature');
  if (!c) return finish(404, 'container not found');
  const files = parts.filter((p) => p.filename !== undefined && p.filename !== '');
  if (files.length > Number(maxCount || '1')) return finish(400, 'max_file_count exceeded');
  const prefix = r.object ?? '';
  const deleteAfter = field('x_delete_after');
  const deleteAt = field('x_delete_at');
  for (const f of files) {
    if (f.data.length > Number(maxSize || '0')) return finish(400, 'max_file_size exceeded');
    await putObject(r.deps, {
      account: r.account, container: r.container!, name: prefix + f.filename!, data: Readable.from([f.data]), contentLength: f.data.length,
      contentType: f.type || guessType(f.filename!), headers: {},
      deleteAt: deleteAt && /^\d+$/.test(deleteAt) ? Number(deleteAt) * 1000 : deleteAfter && /^\d+$/.test(deleteAfter) ? Date.now() + Number(deleteAfter) * 1000 : null,
    });
  }
  return finish(201, '');
}

function signatureOk(sig: string, key: string, text: string): boolean {
  const m = /^(sha1|sha256|sha512):(.+)$/.exec(sig);
  const alg = m ? m[1]! : ({ 40: 'sha1', 64: 'sha256', 128: 'sha512' } as Record<number, string>)[sig.length];
  if (!alg) return false;
  const want = m ? Buffer.from(m[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : Buffer.from(sig, 'hex');
  const mac = createHmac(alg, key).update(text).digest();
  return mac.length === want.length && timingSafeEqual(mac, want);
}
