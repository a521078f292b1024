import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../../platform/db/index.js';

/** Cinder's tables as Stratus keeps them. Booleans are 0/1; times are ms. */
export interface VolumeTypeRow { id: string; name: string; description: string | null; is_public: number; qos_specs_id: string | null; created_at: number; updated_at: number }
export interface QosSpecsRow { id: string; name: string; consumer: string; specs: string; created_at: number }
export interface VolumeRow {
  id: string; project_id: string; user_id: string; name: string | null; description: string | null; size: number;
  status: string; previous_status: string | null; attach_status: string; migration_status: string | null;
  availability_zone: string; volume_type_id: string; snapshot_id: string | null; source_volid: string | null;
  backup_id: string | null; image_id: string | null; bootable: number; multiattach: number; readonly: number;
  host: string | null; provider_location: string | null; fault: string | null; launched_at: number | null;
  created_at: number; updated_at: number;
}
export interface VolumeAttachmentRow {
  id: string; volume_id: string; instance_uuid: string | null; attached_host: string | null; mountpoint: string | null;
  attach_mode: string; attach_status: string; connector: string | null; attach_time: number | null; detach_time: number | null;
  created_at: number; updated_at: number;
}
export interface SnapshotRow {
  id: string; volume_id: string; project_id: string; user_id: string; name: string | null; description: string | null;
  status: string; progress: string; size: number; volume_type_id: string; provider_location: string | null; created_at: number; updated_at: number;
}
export interface BackupRow {
  id: string; project_id: string; user_id: string; volume_id: string; snapshot_id: string | null; parent_id: string | null;
  name: string | null; description: string | null; status: string; fail_reason: string | null; size: number; object_count: number;
  container: string | null; availability_zone: string | null; is_incremental: number; metadata: string; data_timestamp: number;
  created_at: number; updated_at: number;
}
export interface VolumeTransferRow {
  id: string; volume_id: string; name: string | null; salt: string; crypt_hash: string; source_project_id: string;
  destination_project_id: string | null; accepted: number; no_snapshots: number; created_at: number;
}
export interface VolumeMessageRow {
  id: string; project_id: string; request_id: string | null; resource_type: string | null; resource_uuid: string | null;
  event_id: string; message_level: string; action_id: string; detail_id: string; user_message: string; created_at: number; expires_at: number;
}
export interface KeyValueRow { key: string; value: string }

export interface VolumeTables {
  volume_type: VolumeTypeRow;
  volume_type_extra_spec: { type_id: string } & KeyValueRow;
  volume_type_access: { type_id: string; project_id: string };
  qos_specs: QosSpecsRow;
  volume: VolumeRow;
  volume_metadata: { volume_id: string } & KeyValueRow;
  volume_image_metadata: { volume_id: string } & KeyValueRow;
  volume_admin_metadata: { volume_id: string } & KeyValueRow;
  volume_attachment: VolumeAttachmentRow;
  snapshot: SnapshotRow;
  snapshot_metadata: { snapshot_id: string } & KeyValueRow;
  backup: BackupRow;
  volume_transfer: VolumeTransferRow;
  volume_quota: { project_id: string; resource: string; hard_limit: number };
  volume_message: VolumeMessageRow;
}

export type VDb = Kysely<VolumeTables> | Transaction<VolumeTables>;

export const volumeDb = (db: Db): Kysely<VolumeTables> => db as unknown as Kysely<VolumeTables>;

/** Key/value rows as one map. */
export const toMap = (rows: KeyValueRow[]): Record<string, string> => Object.fromEntries(rows.map((r) => [r.key, r.value]));

/** Maps of several owners at once, so a list view reads each map table once. */
export async function metadataOf(db: VDb, table: 'volume_metadata' | 'volume_image_metadata' | 'volume_admin_metadata', ids: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
  if (!ids.length) return out;
  const rows = await db.selectFrom(table).selectAll().where('volume_id', 'in', ids).execute();
  for (const r of rows) out.get(r.volume_id)![r.key] = r.value;
  return out;
}

/** Replaces (or merges into) a volume's metadata map. */
export async function writeMetadata(db: VDb, table: 'volume_metadata' | 'volume_image_metadata' | 'volume_admin_metadata', volumeId: string, map: Record<string, string>, replace: boolean): Promise<void> {
  if (replace) await db.deleteFrom(table).where('volume_id', '=', volumeId).execute();
  else if (Object.keys(map).length) await db.deleteFrom(table).where('volume_id', '=', volumeId).where('key', 'in', Object.keys(map)).execute();
  const rows = Object.entries(map).map(([key, value]) => ({ volume_id: volumeId, key, value }));
  if (rows.length) await db.insertInto(table).values(rows).execute();
}
