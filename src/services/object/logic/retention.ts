import { ApiError } from '../../../platform/http/errors.js';
import { sysmetaOf, type ObjectRow } from '../store.js';

/**
 * Object lock (WORM) on object versions: a retention period in GOVERNANCE or COMPLIANCE
 * mode, and a legal hold. They live in the version's sysmeta, so they follow it when it
 * becomes noncurrent, and they bind every API: a version under either cannot be removed
 * for good, through S3 or Swift, by its owner or an admin. GOVERNANCE yields to a caller
 * who asks to bypass it; COMPLIANCE and a legal hold yield to no one.
 */
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';
export interface VersionLock {
  retention?: { mode: RetentionMode; until: number };
  legalHold?: boolean;
}

export const lockOf = (row: Pick<ObjectRow, 'sysmeta'>): VersionLock => {
  const m = sysmetaOf<{ lock: VersionLock }>(row.sysmeta);
  return m.lock ?? {};
};

export const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';

/** Throws 403 unless the version may be removed for good now. */
export function checkDeletable(row: Pick<ObjectRow, 'sysmeta'>, opts: { bypassGovernance?: boolean; now?: number } = {}): void {
  const lock = lockOf(row);
  if (lock.legalHold) throw new ApiError(403, LOCKED_MESSAGE);
  const r = lock.retention;
  if (!r || r.until <= (opts.now ?? Date.now())) return;
  if (r.mode === 'GOVERNANCE' && opts.bypassGovernance) return;
  throw new ApiError(403, LOCKED_MESSAGE);
}
