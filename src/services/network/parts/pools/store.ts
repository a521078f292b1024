import type { Kysely, Transaction } from 'kysely';
import type { NetworkTables, Standard } from '../../store.js';

/** The tables this part adds to the network service. Booleans are 0/1; prefixes are JSON text. */
export interface SubnetPoolRow extends Standard {
  id: string; prefixes: string; default_prefixlen: number; min_prefixlen: number; max_prefixlen: number; ip_version: number;
  shared: number; is_default: number; default_quota: number | null; address_scope_id: string | null;
}
export interface AddressScopeRow extends Standard { id: string; ip_version: number; shared: number }
export interface RbacPolicyRow { id: string; project_id: string; object_type: string; object_id: string; action: string; target_project: string }

export interface PoolTables extends NetworkTables {
  subnetpool: SubnetPoolRow;
  address_scope: AddressScopeRow;
  rbac_policy: RbacPolicyRow;
}

export type PoolDb = Kysely<PoolTables> | Transaction<PoolTables>;
export const poolDb = <T extends object>(db: Kysely<T> | Transaction<T>): PoolDb => db as unknown as PoolDb;
export const poolRoot = (db: Kysely<NetworkTables>): Kysely<PoolTables> => db as unknown as Kysely<PoolTables>;
