import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../../platform/db/index.js';

export type ImageStatus = 'queued' | 'saving' | 'uploading' | 'importing' | 'active' | 'deactivated' | 'killed' | 'deleted' | 'pending_delete';
export type Visibility = 'public' | 'private' | 'shared' | 'community';

export interface ImageRow {
  id: string; name: string | null; status: ImageStatus; visibility: Visibility; protected: number; os_hidden: number;
  owner: string; size: number | null; virtual_size: number | null; checksum: string | null; os_hash_algo: string | null;
  os_hash_value: string | null; container_format: string | null; disk_format: string | null; min_ram: number; min_disk: number;
  /** Free-form string properties (hw_*, os_distro, ...), kept exactly. */
  properties: string; reserved_bytes: number; created_at: number; updated_at: number;
}
export interface ImageMemberRow { image_id: string; member: string; status: 'pending' | 'accepted' | 'rejected'; created_at: number; updated_at: number }

export interface ImageTables {
  image: ImageRow;
  image_tag: { image_id: string; value: string };
  image_member: ImageMemberRow;
}

export type ImageDb = Kysely<ImageTables> | Transaction<ImageTables>;
export const imageDb = (db: Db): Kysely<ImageTables> => db as unknown as Kysely<ImageTables>;

export async function tagsOf(db: ImageDb, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!ids.length) return out;
  for (const t of await db.selectFrom('image_tag').selectAll().where('image_id', 'in', ids).orderBy('value').execute()) {
    out.set(t.image_id, [...(out.get(t.image_id) ?? []), t.value]);
  }
  return out;
}
