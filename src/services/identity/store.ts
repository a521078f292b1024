import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../../platform/db/index.js';

/** Identity's tables, read once: this is Keystone's data model as Stratus keeps it. */
export interface ProjectRow {
  id: string; name: string; domain_id: string; parent_id: string | null; is_domain: number; enabled: number;
  description: string | null; extra: string; options: string; created_at: number;
}
export interface UserRow {
  id: string; name: string; domain_id: string; enabled: number; default_project_id: string | null; extra: string;
  options: string; failed_auth_count: number; failed_auth_at: number | null; last_active_at: number | null; created_at: number;
}
export interface PasswordRow { id: string; user_id: string; hash: string; self_service: number; expires_at: number | null; created_at: number }
export interface GroupRow { id: string; name: string; domain_id: string; description: string | null; extra: string; created_at: number }
export interface RoleRow { id: string; name: string; domain_id: string; description: string | null; extra: string; options: string }
export interface AssignmentRow { type: AssignmentType; actor_id: string; target_id: string; role_id: string; inherited: number }
export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';
export interface AppCredRow {
  id: string; name: string; user_id: string; project_id: string | null; system: string | null; secret_hash: string;
  description: string | null; expires_at_us: number | null; unrestricted: number; roles: string; created_at: number;
}
export interface AccessRuleRow { id: string; user_id: string; service: string; path: string; method: string }
export interface CredentialRow {
  id: string; user_id: string; project_id: string | null; type: string; blob: string; access_key: string | null; extra: string; created_at: number;
}
export interface RegionRow { id: string; description: string; parent_region_id: string | null; extra: string }
export interface ServiceRow { id: string; type: string; enabled: number; extra: string }
export interface EndpointRow { id: string; service_id: string; interface: string; url: string; region_id: string | null; enabled: number; extra: string }
export interface PolicyRow { id: string; type: string; blob: string; extra: string }
export interface RevocationEventRow {
  id: string; user_id: string | null; project_id: string | null; domain_id: string | null; audit_id: string | null;
  audit_chain_id: string | null; application_credential_id: string | null; credential_id: string | null; issued_before: number; revoked_at: number;
}

export interface IdentityTables {
  project: ProjectRow;
  project_tag: { project_id: string; name: string };
  identity_user: UserRow;
  password: PasswordRow;
  identity_group: GroupRow;
  group_membership: { user_id: string; group_id: string };
  role: RoleRow;
  implied_role: { prior_role_id: string; implied_role_id: string };
  assignment: AssignmentRow;
  application_credential: AppCredRow;
  access_rule: AccessRuleRow;
  app_cred_access_rule: { application_credential_id: string; access_rule_id: string };
  credential: CredentialRow;
  region: RegionRow;
  service: ServiceRow;
  endpoint: EndpointRow;
  revocation_event: RevocationEventRow;
  policy: PolicyRow;
}

export type IdentityDb = Kysely<IdentityTables> | Transaction<IdentityTables>;
export const identityDb = (db: Db): Kysely<IdentityTables> => db as unknown as Kysely<IdentityTables>;

export { json } from '../../platform/json.js';
