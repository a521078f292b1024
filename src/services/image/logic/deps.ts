import type { Kysely } from 'kysely';
import type { Platform } from '../../../platform/service.js';
import type { BlobStore } from '../../../platform/blobs/store.js';
import type { ImageTables } from '../store.js';

/** What the image routes and workers share. */
export interface ImageDeps {
  platform: Platform;
  db: Kysely<ImageTables>;
  blobs: BlobStore;
}

export const imageKey = (id: string): string => `images/${id}`;
export const stagingKey = (id: string): string => `staging/${id}`;
