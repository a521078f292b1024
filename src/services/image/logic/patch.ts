import type { RequestContext } from '../../../platform/auth/context.js';
import { badRequest, conflict, forbidden } from '../../../platform/http/errors.js';
import type { ImageRow } from '../store.js';
import { checkCore, checkProperty, checkTags, CORE, READ_ONLY } from './properties.js';

/**
 * Glance's JSON-patch dialect (application/openstack-images-v2.1-json-patch): add, replace
 * and remove on one attribute path each. Returns the new columns and, if touched, tags.
 */
export type PatchDialect = 'v2.0' | 'v2.1';

/** v2.1 is RFC 6902 ({op, path, value}); v2.0 names the op as the key ({"replace": "/name", "value"}). */
function normalise(raw: Record<string, unknown>, dialect: PatchDialect): { op?: unknown; path?: unknown; value?: unknown } | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  if (dialect === 'v2.1') return raw;
  const ops = ['add', 'replace', 'remove'].filter((k) => k in raw);
  if (ops.length !== 1) return null;
  return { op: ops[0], path: raw[ops[0]!], ...('value' in raw ? { value: raw.value } : {}) };
}

export function applyPatch(ctx: RequestContext, img: ImageRow, tags: string[], body: unknown, dialect: PatchDialect = 'v2.1'): { row: Partial<ImageRow>; tags: string[] | null } {
  if (!Array.isArray(body)) throw badRequest('The request body must be a JSON-patch list of operations.');
  const row: Partial<ImageRow> = {};
  const props: Record<string, string> = JSON.parse(img.properties);
  let newTags: string[] | null = null;
  let propsChanged = false;
  for (const raw of body as Record<string, unknown>[]) {
    const op = normalise(raw, dialect);
    if (!op || !['add', 'replace', 'remove'].includes(op.op as string) || typeof op.path !== 'string' || !op.path.startsWith('/')) {
      throw badRequest(`Invalid JSON-patch operation: ${JSON.stringify(raw)}`);
    }
    if (op.op !== 'remove' && !('value' in op)) throw badRequest(`Operation "${op.op}" needs a value.`);
    const segments = op.path.replace(/^\//, '').split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    const attr = segments[0]!;
    if (!attr) throw badRequest('Invalid JSON-patch path: empty.');
    if (attr === 'tags') {
      if (segments.length > 1) throw badRequest('Patch a whole tags list, not one element.');
      if (op.op === 'remove') newTags = [];
      else newTags = checkTags(op.value);
      continue;
    }
    if (segments.length > 1) throw badRequest(`Invalid JSON-patch path: ${op.path}`);
    if (READ_ONLY.includes(attr) || attr === 'id') throw forbidden(`Attribute '${attr}' is read-only.`);
    if (CORE.includes(attr)) {
      if (op.op === 'remove') throw forbidden(`Attribute '${attr}' is a core attribute and cannot be removed.`);
      checkCore(attr, op.value, false);
      if ((attr === 'container_format' || attr === 'disk_format') && img.status !== 'queued' && op.value !== (img as unknown as Record<string, unknown>)[attr]) {
        throw forbidden(`Attribute ${attr} can be only replaced for a queued image.`);
      }
      if (attr === 'visibility' && op.value === 'public' && !ctx.isAdmin) throw forbidden('You are not authorized to complete publicize_image action.');
      if (attr === 'owner' && !ctx.isAdmin) throw forbidden("Attribute 'owner' is reserved.");
      const v = op.value;
      (row as Record<string, unknown>)[attr] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
      continue;
    }
    if (attr.startsWith('os_glance')) throw forbidden(`Attribute '${attr}' is reserved.`);
    if (op.op === 'remove') {
      if (!(attr in props)) throw conflict(`Property ${attr} does not exist.`);
      delete props[attr];
    } else {
      if (op.op === 'replace' && !(attr in props)) throw conflict(`Property ${attr} does not exist.`);
      if (op.op === 'add' && dialect === 'v2.0' && attr in props) throw conflict(`Property ${attr} already exists.`);
      props[attr] = checkProperty(attr, op.value, ctx.isAdmin);
    }
    propsChanged = true;
  }
  if (propsChanged) row.properties = JSON.stringify(props);
  if (tags && newTags && newTags.join() === tags.join()) newTags = null;
  return { row, tags: newTags };
}
