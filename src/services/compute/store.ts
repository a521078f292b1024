import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db, Dialect } from '../../platform/db/index.js';
import { lockKey } from '../../platform/db/locks.js';

/** Nova's tables as Stratus keeps them. Booleans are 0/1; times are ms; lists and maps are JSON text. */
export interface FlavorRow {
  id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number; swap: number; rxtx_factor: number;
  is_public: number; disabled: number; description: string | null; created_at: number; updated_at: number;
}
export interface KeypairRow { id: number; user_id: string; name: string; type: string; public_key: string; fingerprint: string; created_at: number }
export interface ComputeNodeRow {
  host: string; id: number; uuid: string; availability_zone: string; vcpus: number; memory_mb: number; local_gb: number;
  cpu_allocation_ratio: number; ram_allocation_ratio: number; disk_allocation_ratio: number; hypervisor_type: string;
  status: string; disabled_reason: string | null; forced_down: number; created_at: number; updated_at: number;
}
export interface InstanceRow {
  id: string; project_id: string; user_id: string; name: string; hostname: string; description: string | null;
  vm_state: string; task_state: string | null; power_state: number;
  /** The flavor as it was when applied (Nova's embedded flavor), JSON: EmbeddedFlavor. */
  flavor: string; old_flavor: string | null; new_flavor: string | null;
  image_ref: string; key_name: string | null; key_data: string | null; user_data: string | null; config_drive: string;
  availability_zone: string | null; requested_zone: string | null; host: string | null;
  locked: number; locked_by: string | null; locked_reason: string | null; access_ip_v4: string; access_ip_v6: string; progress: number;
  reservation_id: string; launch_index: number; metadata: string; system_metadata: string; security_groups: string;
  requested_networks: string; scheduler_hints: string; fault: string | null; trusted_image_certificates: string | null;
  launched_at: number | null; terminated_at: number | null; deleted: number; deleted_at: number | null; created_at: number; updated_at: number;
}
export interface AllocationRow { consumer_id: string; host: string; project_id: string; vcpus: number; memory_mb: number; disk_gb: number }
export interface BlockDeviceMappingRow {
  id: string; instance_id: string; source_type: string; destination_type: string; boot_index: number | null; device_name: string | null;
  volume_id: string | null; image_id: string | null; snapshot_id: string | null; volume_size: number | null; volume_type: string | null;
  delete_on_termination: number; attachment_id: string | null; tag: string | null; created_at: number;
}
export interface InstanceActionRow { request_id: string; instance_id: string; action: string; project_id: string; user_id: string; message: string | null; start_time: number; updated_at: number }
export interface InstanceActionEventRow { request_id: string; event: string; host: string | null; result: string | null; traceback: string | null; start_time: number; finish_time: number | null }
export interface ServerGroupRow { id: string; project_id: string; user_id: string; name: string; policy: string; rules: string; created_at: number }
export interface AggregateRow { id: number; uuid: string; name: string; created_at: number; updated_at: number }
export interface MigrationRow {
  id: number; uuid: string; instance_id: string; project_id: string; user_id: string; migration_type: string; status: string;
  source_compute: string | null; dest_compute: string | null; old_flavor_id: string | null; new_flavor_id: string | null; created_at: number; updated_at: number;
}

export interface ComputeTables {
  flavor: FlavorRow;
  flavor_extra_spec: { flavor_id: string; key: string; value: string };
  flavor_access: { flavor_id: string; project_id: string };
  keypair: KeypairRow;
  compute_node: ComputeNodeRow;
  instance: InstanceRow;
  instance_tag: { instance_id: string; tag: string };
  allocation: AllocationRow;
  block_device_mapping: BlockDeviceMappingRow;
  instance_action: InstanceActionRow;
  instance_action_event: InstanceActionEventRow;
  server_group: ServerGroupRow;
  server_group_member: { group_id: string; instance_id: string };
  aggregate: AggregateRow;
  aggregate_host: { aggregate_id: number; host: string };
  aggregate_metadata: { aggregate_id: number; key: string; value: string };
  compute_quota: { project_id: string; resource: string; hard_limit: number };
  compute_user_quota: { project_id: string; user_id: string; resource: string; hard_limit: number };
  migration: MigrationRow;
}

export type CDb = Kysely<ComputeTables> | Transaction<ComputeTables>;
export const computeDb = (db: Db): Kysely<ComputeTables> => db as unknown as Kysely<ComputeTables>;

/** The flavor an instance carries: what it was created or resized with. */
export interface EmbeddedFlavor {
  id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number; swap: number;
  extra_specs: Record<string, string>; description: string | null;
}

/** Integer ids for the tables Nova numbers (aggregates, migrations): the next one under a lock, inside the caller's transaction. */
export async function nextId(trx: CDb, dialect: Dialect, table: 'aggregate' | 'migration' | 'keypair' | 'compute_node'): Promise<number> {
  await lockKey(trx, dialect, `compute-id:${table}`);
  const r = await trx.selectFrom(table).select(sql<number>`max(id)`.as('m')).executeTakeFirst();
  return Number(r?.m ?? 0) + 1;
}
