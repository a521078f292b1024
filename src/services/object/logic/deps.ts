import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Platform } from '../../../platform/service.js';
import type { BlobStore } from '../../../platform/blobs/store.js';
import type { ObjectTables } from '../store.js';

/**
 * What the object logic needs. `blobs` is the backend interface: files under the data
 * directory today, an S3-compatible store later; nothing here knows which.
 */
export interface ObjectDeps {
  platform: Platform;
  db: Kysely<ObjectTables>;
  blobs: BlobStore;
}

/** A fresh key per stored version: a new write never touches the bytes a reader may be streaming. */
export function newBlobKey(): string {
  const id = randomUUID();
  return `objects/${id.slice(0, 2)}/${id}`;
}

let last = 0;
/** Milliseconds, strictly increasing within the process: two writes of one name never share a timestamp. */
export function stamp(): number {
  const t = Date.now();
  last = t > last ? t : last + 1;
  return last;
}

/** Swift's X-Timestamp: seconds with five decimals. */
export const xTimestamp = (ms: number): string => (ms / 1000).toFixed(5);
/** Last-Modified and listings work in whole seconds, rounded up as Swift does. */
export const httpDate = (ms: number): string => new Date(Math.ceil(ms / 1000) * 1000).toUTCString();
/** Listings' last_modified: ISO 8601 with microseconds and no zone. */
export const isoListing = (ms: number): string => new Date(ms).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
