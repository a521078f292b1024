import { ApiError } from '../../../platform/http/errors.js';
import type { ListOptions } from '../logic/listing.js';

/** Swift's listing query parameters; `path=p` is prefix `p/` with delimiter `/`, objects only. */
export function listParams(q: URLSearchParams, max: number): ListOptions & { path?: string } {
  const limitText = q.get('limit');
  let limit = max;
  if (limitText !== null && limitText !== '') {
    if (!/^\d+$/.test(limitText)) throw new ApiError(412, 'Value of limit must be a positive integer');
    limit = Number(limitText);
    if (limit > max) throw new ApiError(412, `Maximum limit is ${max}`);
  }
  const delimiter = q.get('delimiter') ?? undefined;
  if (delimiter !== undefined && [...delimiter].length > 1) throw new ApiError(412, 'Bad delimiter');
  const reverse = ['true', '1', 'yes', 'on', 't', 'y'].includes((q.get('reverse') ?? '').toLowerCase());
  const path = q.get('path');
  if (path !== null) {
    const prefix = path === '' ? '' : path.replace(/\/?$/, '/');
    return { prefix, delimiter: '/', marker: q.get('marker') ?? undefined, endMarker: q.get('end_marker') ?? undefined, limit, reverse, path };
  }
  return {
    prefix: q.get('prefix') ?? undefined, delimiter: delimiter || undefined, marker: q.get('marker') ?? undefined,
    endMarker: q.get('end_marker') ?? undefined, limit, reverse,
  };
}

export const truthy = (v: string | undefined | null): boolean => ['true', '1', 'yes', 'on', 't', 'y'].includes((v ?? '').trim().toLowerCase());
