import type { SecurityCompliance } from '../../../platform/config.js';
import { ApiError, badRequest } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId } from '../../../platform/ids.js';
import type { IdentityDb, PasswordRow, UserRow } from '../store.js';
import { json } from '../store.js';
import { hashSecret, verifySecret } from './passwords.js';

/**
 * Keystone's security-compliance rules: account lockout after failed logins, password
 * history, minimum age and expiry. User options can exempt a user from each of them.
 */
const DAY = 86_400_000;

export const userOptions = (u: Pick<UserRow, 'options'>): Record<string, unknown> => json(u.options, {});

export async function currentPassword(db: IdentityDb, userId: string): Promise<PasswordRow | undefined> {
  return db.selectFrom('password').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirst();
}

export function lockedUntil(u: UserRow, sc: SecurityCompliance): number | null {
  if (!sc.lockoutFailureAttempts || userOptions(u).ignore_lockout_failure_attempts) return null;
  if (u.failed_auth_count < sc.lockoutFailureAttempts || u.failed_auth_at === null) return null;
  const until = u.failed_auth_at + sc.lockoutDurationSeconds * 1000;
  return until > now() ? until : null;
}

export async function recordFailure(db: IdentityDb, u: UserRow, sc: SecurityCompliance): Promise<void> {
  // After a lockout expires the count starts again.
  const expired = u.failed_auth_at !== null && u.failed_auth_at + sc.lockoutDurationSeconds * 1000 <= now()
    && u.failed_auth_count >= sc.lockoutFailureAttempts;
  await db.updateTable('identity_user').set({ failed_auth_count: expired ? 1 : u.failed_auth_count + 1, failed_auth_at: now() })
    .where('id', '=', u.id).execute();
}

export async function recordSuccess(db: IdentityDb, u: UserRow): Promise<void> {
  if (u.failed_auth_count === 0 && u.last_active_at !== null && now() - u.last_active_at < 60_000) return;
  await db.updateTable('identity_user').set({ failed_auth_count: 0, failed_auth_at: null, last_active_at: now() })
    .where('id', '=', u.id).execute();
}

export function passwordExpiresAt(u: UserRow, sc: SecurityCompliance, created: number, selfService: boolean): number | null {
  if (sc.passwordExpiresDays === null || userOptions(u).ignore_password_expiry) return null;
  // An admin-set password of a user who must change it on first use is born expired.
  if (!selfService && sc.changePasswordUponFirstUse && !userOptions(u).ignore_change_password_upon_first_use) return created;
  return created + sc.passwordExpiresDays * DAY;
}

/** Stores a new password (admin set or self-service), checking the history rule. */
export async function setPassword(db: IdentityDb, u: UserRow, password: string, sc: SecurityCompliance, costLog2: number, selfService: boolean): Promise<void> {
  if (sc.uniqueLastPasswordCount > 1 && selfService) {
    const history = await db.selectFrom('password').select('hash').where('user_id', '=', u.id)
      .orderBy('created_at', 'desc').limit(sc.uniqueLastPasswordCount - 1).execute();
    for (const h of history) {
      if (await verifySecret(password, h.hash)) {
        throw badRequest(`The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${sc.uniqueLastPasswordCount}.`);
      }
    }
  }
  const created = now();
  await db.insertInto('password').values({
    id: hexId(), user_id: u.id, hash: await hashSecret(password, costLog2), self_service: selfService ? 1 : 0,
    expires_at: passwordExpiresAt(u, sc, created, selfService), created_at: created,
  }).execute();
  // Only the history the rule needs is kept.
  const keep = Math.max(1, sc.uniqueLastPasswordCount);
  const old = await db.selectFrom('password').select('id').where('user_id', '=', u.id).orderBy('created_at', 'desc').offset(keep).limit(1000).execute();
  if (old.length) await db.deleteFrom('password').where('id', 'in', old.map((o) => o.id)).execute();
}

export function checkMinimumAge(current: PasswordRow | undefined, u: UserRow, sc: SecurityCompliance): void {
  if (!current || !sc.minimumPasswordAgeDays || userOptions(u).ignore_password_expiry) return;
  const allowedAt = current.created_at + sc.minimumPasswordAgeDays * DAY;
  if (current.self_service && allowedAt > now()) {
    throw new ApiError(400, `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${sc.minimumPasswordAgeDays} day(s) before it can be changed. Please try again in ${Math.ceil((allowedAt - now()) / DAY)} day(s) or contact your administrator to reset your password.`);
  }
}
