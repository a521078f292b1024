/**
 * Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
 * against an object's ETag and modification time, in RFC 9110's order of evaluation.
 */
export interface Conditions {
  ifMatch?: string; ifNoneMatch?: string; ifModifiedSince?: string; ifUnmodifiedSince?: string;
}

const tags = (v: string) => v.split(',').map((t) => t.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));

/** 'ok', or the status to answer with instead (304 Not Modified, 412 Precondition Failed). */
export function evaluate(c: Conditions, etag: string, lastModifiedMs: number, isRead: boolean): 'ok' | 304 | 412 {
  const plain = etag.replace(/^"(.*)"$/, '$1');
  const seconds = Math.ceil(lastModifiedMs / 1000);
  if (c.ifMatch !== undefined) {
    const list = tags(c.ifMatch);
    if (!list.includes('*') && !list.includes(plain)) return 412;
  } else if (c.ifUnmodifiedSince !== undefined) {
    const t = Date.parse(c.ifUnmodifiedSince);
    if (!Number.isNaN(t) && seconds > t / 1000) return 412;
  }
  if (c.ifNoneMatch !== undefined) {
    const list = tags(c.ifNoneMatch);
    if (list.includes('*') || list.includes(plain)) return isRead ? 304 : 412;
  } else if (c.ifModifiedSince !== undefined && isRead) {
    const t = Date.parse(c.ifModifiedSince);
    if (!Number.isNaN(t) && seconds <= t / 1000) return 304;
  }
  return 'ok';
}
