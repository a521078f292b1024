import type { IdentityDb, RevocationEventRow } from '../store.js';
import { hexId } from '../../../platform/ids.js';
import { now } from '../../../platform/clock.js';
import type { TokenPayload } from './token-format.js';

/**
 * Revocation by events (Keystone's revoke API): no token rows, only facts such as "every
 * token of user U issued before T". Events are few and checked on every validation, so
 * they are kept in memory and written through to the database, which reloads them on start.
 */
export type RevocationFilter = Partial<Pick<RevocationEventRow,
  'user_id' | 'project_id' | 'domain_id' | 'audit_id' | 'audit_chain_id' | 'application_credential_id' | 'credential_id'>>;

export class RevocationList {
  private events: RevocationEventRow[] = [];

  constructor(private maxTokenLifetimeMs: number) {}

  async load(db: IdentityDb): Promise<void> {
    // Events older than the longest token lifetime can match no live token.
    const horizon = now() - this.maxTokenLifetimeMs;
    await db.deleteFrom('revocation_event').where('revoked_at', '<', horizon).execute();
    this.events = await db.selectFrom('revocation_event').selectAll().execute();
  }

  async revoke(db: IdentityDb, filter: RevocationFilter): Promise<void> {
    const t = now();
    const row: RevocationEventRow = {
      id: hexId(), user_id: null, project_id: null, domain_id: null, audit_id: null, audit_chain_id: null,
      application_credential_id: null, credential_id: null, ...filter, issued_before: t, revoked_at: t,
    };
    await db.insertInto('revocation_event').values(row).execute();
    this.events.push(row);
    // A token issued in the same millisecond after this call must not match the event.
    await new Promise((r) => setTimeout(r, 2));
  }

  isRevoked(p: TokenPayload, projectDomainId: string | null): boolean {
    const projectId = p.scope.kind === 'project' ? p.scope.id : null;
    const domainId = p.scope.kind === 'domain' ? p.scope.id : projectDomainId;
    const chain = p.auditIds[p.auditIds.length - 1];
    return this.events.some((e) => p.issuedAt <= e.issued_before
      && (e.user_id === null || e.user_id === p.userId)
      && (e.project_id === null || e.project_id === projectId)
      && (e.domain_id === null || e.domain_id === domainId)
      && (e.audit_id === null || e.audit_id === p.auditIds[0])
      && (e.audit_chain_id === null || e.audit_chain_id === chain)
      && (e.application_credential_id === null || e.application_credential_id === p.appCredId)
      && (e.credential_id === null || e.credential_id === p.credentialId));
  }
}
