import { ApiError, badRequest, forbidden } from '../../../platform/http/errors.js';
import { CONTAINER_FORMATS, DISK_FORMATS } from './formats.js';

/**
 * Which image attributes a client may set, which are Glance's own, and the checks on each.
 * Everything else is a free-form property whose value must be a string.
 */
export const CORE = ['id', 'name', 'visibility', 'protected', 'os_hidden', 'container_format', 'disk_format', 'min_ram', 'min_disk', 'owner'];
export const READ_ONLY = ['status', 'checksum', 'size', 'virtual_size', 'created_at', 'updated_at', 'file', 'self', 'schema', 'direct_url',
  'os_hash_algo', 'os_hash_value', 'locations', 'stores', 'deleted', 'deleted_at'];
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function validateCore(body: Record<string, unknown>, creating: boolean): Record<string, unknown> {
  for (const [k, v] of Object.entries(body)) if (CORE.includes(k)) checkCore(k, v, creating);
  return body;
}

export function checkCore(k: string, v: unknown, creating: boolean): void {
  const bad = (why: string) => badRequest(`Invalid value for '${k}': ${why}`);
  switch (k) {
    case 'id':
      if (!creating) throw forbidden("Attribute 'id' is read-only.");
      if (typeof v !== 'string' || !UUID.test(v)) throw bad('must be a UUID');
      return;
    case 'name':
      if (v !== null && (typeof v !== 'string' || v.length > 255)) throw bad('must be a string of at most 255 characters or null');
      return;
    case 'visibility':
      if (!['public', 'private', 'shared', 'community'].includes(v as string)) throw bad(`'${String(v)}' is not one of public, private, shared, community`);
      return;
    case 'protected': case 'os_hidden':
      if (typeof v !== 'boolean') throw bad('must be a boolean');
      return;
    case 'container_format':
      if (v !== null && !(CONTAINER_FORMATS as readonly string[]).includes(v as string)) throw bad(`'${String(v)}' is not one of ${CONTAINER_FORMATS.join(', ')}`);
      return;
    case 'disk_format':
      if (v !== null && !(DISK_FORMATS as readonly string[]).includes(v as string)) throw bad(`'${String(v)}' is not one of ${DISK_FORMATS.join(', ')}`);
      return;
    case 'min_ram': case 'min_disk':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw bad('must be a non-negative integer');
      return;
    case 'owner':
      if (v !== null && (typeof v !== 'string' || v.length > 255)) throw bad('must be a string');
      return;
  }
}

/** A free-form property: a string value, not reserved for Glance itself. */
export function checkProperty(k: string, v: unknown, _isAdmin: boolean): string {
  if (k.startsWith('os_glance')) throw forbidden(`Attribute '${k}' is reserved.`);
  if (k.length === 0 || k.length > 255) throw badRequest(`Invalid property name '${k}'.`);
  if (typeof v !== 'string') throw badRequest(`Invalid value for '${k}': ${JSON.stringify(v)} is not of type 'string'`);
  if (v.length > 65535) throw badRequest(`Invalid value for '${k}': too long`);
  return v;
}

/** Tags: unique strings of at most 255 characters, at most 128 of them. */
export function checkTags(tags: unknown): string[] {
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length > 255)) throw badRequest("Invalid value for 'tags': a list of strings of at most 255 characters");
  if (tags.length > 128) throw new ApiError(413, 'Maximum number of tags exceeded (128).');
  return [...new Set(tags as string[])];
}
