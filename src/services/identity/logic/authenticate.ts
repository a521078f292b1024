import { ApiError, badRequest } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { randomToken } from '../../../platform/ids.js';
import type { AppCredRow, UserRow } from '../store.js';
import { json } from '../store.js';
import type { Identity, TokenInfo } from './identity.js';
import { findDomain, findProject, findUser, type UserRef } from './lookup.js';
import { verifySecret } from './passwords.js';
import { currentPassword, lockedUntil, recordFailure, recordSuccess, userOptions } from './security.js';
import { verifyTotp } from './totp.js';
import { openReceipt, sealReceipt, type Scope, type TokenPayload } from './token-format.js';
import { decryptBlob } from './credentials.js';
import { grantedRoleIds } from './roles.js';

/**
 * POST /v3/auth/tokens: run every requested method, check they name one user, apply the
 * MFA rules, resolve the scope and seal a token. Any failure is a 401 that says no more
 * than upstream does.
 */
const AUTH_FAILED = 'The request you have made requires authentication.';
const fail = (msg = AUTH_FAILED) => new ApiError(401, msg);

interface MethodResult { user: UserRow; appCred?: AppCredRow; fromToken?: TokenInfo }

export interface AuthRequest {
  identity?: { methods?: unknown; [method: string]: unknown };
  scope?: unknown;
}

export async function authenticate(id: Identity, auth: AuthRequest | undefined, receiptHeader: string | undefined): Promise<{ token: string; info: TokenInfo }> {
  if (!auth || typeof auth !== 'object' || !auth.identity || typeof auth.identity !== 'object') {
    throw badRequest("Invalid input for field 'identity': 'identity' is a required property");
  }
  const methods = auth.identity.methods;
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string')) {
    throw badRequest("Invalid input for field 'identity/methods': a non-empty list of method names is required");
  }
  const results: MethodResult[] = [];
  for (const m of new Set(methods as string[])) {
    const data = auth.identity[m];
    if (data === undefined || data === null || typeof data !== 'object') throw badRequest(`Invalid input for field 'identity/${m}': the method's data is required`);
    switch (m) {
      case 'password': results.push(await password(id, data as PasswordData)); break;
      case 'token': results.push(await tokenMethod(id, data as { id?: unknown })); break;
      case 'application_credential': results.push(await appCredential(id, data as AppCredData)); break;
      case 'totp': results.push(await totp(id, data as { user?: UserRef & { passcode?: unknown } })); break;
      default: throw fail('Attempted to authenticate with an unsupported method.');
    }
  }
  let used = [...new Set(methods as string[])];
  const user = results[0]!.user;
  if (results.some((r) => r.user.id !== user.id)) throw fail('User IDs do not match');
  const prior = results.find((r) => r.fromToken)?.fromToken;
  if (prior) used = [...new Set([...prior.payload.methods, ...used])];
  if (receiptHeader) {
    const receipt = openReceipt(id.keys, receiptHeader);
    if (!receipt || receipt.expiresAt <= now() || receipt.userId !== user.id) throw fail('Invalid or expired authentication receipt.');
    used = [...new Set([...receipt.methods, ...used])];
  }
  enforceMfa(id, user, used);
  const appCred = results.find((r) => r.appCred)?.appCred ?? null;
  const scope = await resolveScope(id, auth.scope, user, appCred, prior);
  const issuedAt = now();
  const expiresAt = prior ? prior.payload.expiresAt
    : Math.min(issuedAt + id.config.identity.tokenExpirationSeconds * 1000, appCred?.expires_at_us != null ? Math.floor(appCred.expires_at_us / 1000) : Infinity);
  const auditIds = prior ? [randomToken(16), prior.payload.auditIds[prior.payload.auditIds.length - 1]!] : [randomToken(16)];
  const payload: TokenPayload = { userId: user.id, methods: used, scope, issuedAt, expiresAt, auditIds, appCredId: appCred?.id ?? prior?.payload.appCredId ?? null, credentialId: prior?.payload.credentialId ?? null };
  const token = id.seal(payload);
  const info = await id.validate(token);
  if (!info) {
    if (scope.kind !== 'unscoped') throw fail(`User ${user.id} has no access to ${scope.kind === 'system' ? 'the system' : `${scope.kind} ${scope.id}`}`);
    throw fail();
  }
  return { token, info };
}

/** Keystone's multi_factor_auth_rules: some rule's methods must all have been used. */
function enforceMfa(id: Identity, user: UserRow, used: string[]): void {
  const opts = userOptions(user);
  if (!opts.multi_factor_auth_enabled) return;
  const rules = (Array.isArray(opts.multi_factor_auth_rules) ? opts.multi_factor_auth_rules : []) as string[][];
  const effective = rules.filter((r) => Array.isArray(r) && r.length > 0);
  if (effective.length === 0 || effective.some((rule) => rule.every((m) => used.includes(m)))) return;
  const issuedAt = now();
  const expiresAt = issuedAt + 300_000;
  const receipt = sealReceipt(id.keys, { userId: user.id, methods: used, issuedAt, expiresAt });
  throw new ApiError(401, 'Insufficient auth methods received for user ' + user.id + '. Auth Methods Provided: ' + used.join(', ') + '.',
    { 'openstack-auth-receipt': receipt }, undefined, {
      receipt: { methods: used, user: { id: user.id, name: user.name, domain: { id: user.domain_id } }, expires_at: new Date(expiresAt).toISOString(), issued_at: new Date(issuedAt).toISOString() },
      required_auth_methods: effective,
    });
}

interface PasswordData { user?: UserRef & { password?: unknown } }

async function password(id: Identity, data: PasswordData): Promise<MethodResult> {
  const ref = data.user;
  if (!ref || typeof ref !== 'object') throw badRequest("Invalid input for field 'identity/password/user': required");
  if (typeof ref.password !== 'string') throw badRequest("Invalid input for field 'identity/password/user/password': a string is required");
  const user = await activeUser(id, ref);
  const sc = id.config.identity.security;
  if (lockedUntil(user, sc)) throw fail(`The account is locked for user: ${user.id}.`);
  const pw = await currentPassword(id.db, user.id);
  if (!pw || !(await verifySecret(ref.password, pw.hash))) {
    await recordFailure(id.db, user, sc);
    throw fail('The request you have made requires authentication.');
  }
  if (pw.expires_at !== null && pw.expires_at <= now()) throw fail(`The password is expired and needs to be changed for user: ${user.id}.`);
  await recordSuccess(id.db, user);
  return { user };
}

async function tokenMethod(id: Identity, data: { id?: unknown }): Promise<MethodResult> {
  if (typeof data.id !== 'string') throw badRequest("Invalid input for field 'identity/token/id': a string is required");
  const info = await id.validate(data.id);
  // Keystone answers a revoked or unknown token in the token method with 404, not 401.
  if (!info) throw new ApiError(404, `Could not find token: ${data.id.slice(0, 8)}...`);
  if (info.appCred) throw fail('Application credential tokens cannot be used to obtain another token.');
  return { user: info.user, fromToken: info };
}

interface AppCredData { id?: unknown; name?: unknown; secret?: unknown; user?: UserRef }

async function appCredential(id: Identity, data: AppCredData): Promise<MethodResult> {
  if (typeof data.secret !== 'string') throw badRequest("Invalid input for field 'identity/application_credential/secret': a string is required");
  let cred: AppCredRow | undefined;
  if (typeof data.id === 'string') {
    cred = await id.db.selectFrom('application_credential').selectAll().where('id', '=', data.id).executeTakeFirst();
  } else if (typeof data.name === 'string') {
    const owner = await findUser(id.db, data.user);
    if (owner) cred = await id.db.selectFrom('application_credential').selectAll().where('user_id', '=', owner.id).where('name', '=', data.name).executeTakeFirst();
  } else {
    throw badRequest("Invalid input for field 'identity/application_credential': give 'id', or 'name' and 'user'");
  }
  if (!cred || !(await verifySecret(data.secret, cred.secret_hash))) throw fail('Invalid application credential: could not authenticate.');
  if (cred.expires_at_us !== null && cred.expires_at_us <= now() * 1000) throw fail(`Application credential ${cred.id} has expired.`);
  const user = await id.db.selectFrom('identity_user').selectAll().where('id', '=', cred.user_id).executeTakeFirst();
  if (!user || !user.enabled) throw fail();
  return { user, appCred: cred };
}

async function totp(id: Identity, data: { user?: UserRef & { passcode?: unknown } }): Promise<MethodResult> {
  const ref = data.user;
  if (!ref || typeof ref.passcode !== 'string') throw badRequest("Invalid input for field 'identity/totp/user/passcode': a string is required");
  const user = await activeUser(id, ref);
  const creds = await id.db.selectFrom('credential').selectAll().where('user_id', '=', user.id).where('type', '=', 'totp').execute();
  const ok = creds.some((c) => verifyTotp(decryptBlob(id.credentialKeys, c.blob).trim(), ref.passcode as string, now()));
  if (!ok) throw fail('Invalid time based one-time passcode.');
  return { user };
}

async function activeUser(id: Identity, ref: UserRef): Promise<UserRow> {
  const user = await findUser(id.db, ref);
  if (!user) throw fail();
  if (!user.enabled) throw fail(`User ${user.id} is disabled.`);
  const domain = await id.db.selectFrom('project').select('enabled').where('id', '=', user.domain_id).executeTakeFirst();
  if (!domain?.enabled) throw fail();
  return user;
}

async function resolveScope(id: Identity, raw: unknown, user: UserRow, appCred: AppCredRow | null, prior?: TokenInfo): Promise<Scope> {
  if (appCred) {
    // An application credential always yields a token on its own project (or the system).
    const requested = raw && typeof raw === 'object' ? (raw as { project?: { id?: string } }).project : undefined;
    if (requested?.id && requested.id !== appCred.project_id) throw fail('Application credentials cannot request a scope.');
    return appCred.system ? { kind: 'system' } : { kind: 'project', id: appCred.project_id! };
  }
  if (raw === 'unscoped') return { kind: 'unscoped' };
  if (raw === undefined || raw === null) {
    if (prior) return prior.payload.scope;
    // Like Keystone: no scope asked means the default project, if the user has a role there.
    if (user.default_project_id) {
      const p = await id.db.selectFrom('project').select(['id', 'enabled']).where('id', '=', user.default_project_id).executeTakeFirst();
      if (p?.enabled && (await grantedRoleIds(id.db, user.id, { kind: 'project', id: p.id })).size > 0) return { kind: 'project', id: p.id };
    }
    return { kind: 'unscoped' };
  }
  if (typeof raw !== 'object') throw badRequest("Invalid input for field 'scope'");
  const s = raw as Record<string, unknown>;
  const kinds = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => s[k] !== undefined);
  if (kinds.length !== 1) throw badRequest("Invalid input for field 'scope': exactly one of project, domain or system");
  if (kinds[0] === 'OS-TRUST:trust') throw fail('Trusts are not supported by this cloud.');
  if (prior && prior.payload.scope.kind !== 'unscoped' && prior.payload.methods.length === 0) throw fail();
  if (kinds[0] === 'system') {
    if ((s.system as { all?: unknown })?.all !== true) throw badRequest("Invalid input for field 'scope/system': {\"all\": true} is required");
    return { kind: 'system' };
  }
  if (kinds[0] === 'domain') {
    const d = await findDomain(id.db, s.domain as { id?: string; name?: string });
    if (!d.enabled) throw fail(`Domain ${d.id} is disabled.`);
    return { kind: 'domain', id: d.id };
  }
  const project = await findProject(id.db, s.project as { id?: string });
  if (!project.enabled) throw fail(`Project ${project.id} is disabled.`);
  return { kind: 'project', id: project.id };
}


/** A fresh token for a user already proven by other means (EC2 signature, v2.0 password). */
export async function issueFor(id: Identity, user: UserRow, scope: Scope, methods: string[], credentialId: string | null = null): Promise<{ token: string; info: TokenInfo }> {
  const issuedAt = now();
  const token = id.seal({ userId: user.id, methods, scope, issuedAt, expiresAt: issuedAt + id.config.identity.tokenExpirationSeconds * 1000, auditIds: [randomToken(16)], appCredId: null, credentialId });
  const info = await id.validate(token);
  if (!info) throw fail(scope.kind === 'project' ? `User ${user.id} has no access to project ${scope.id}` : AUTH_FAILED);
  return { token, info };
}

export { password as passwordMethod };
