import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import type { Identity } from './identity.js';
import { decryptBlob, signingKey } from './credentials.js';
import { issueFor } from './authenticate.js';

/**
 * What an S3 gateway in this process needs from an EC2 credential: the SigV4 signing key
 * for a scope (so the raw secret never leaves identity, yet streaming chunk signatures can
 * be checked) and, once the signature is verified, the caller as a token on the
 * credential's project would describe it. A token per credential is kept and reused until
 * near its expiry, so revocations, disabled users and role changes apply as they do to
 * every other token.
 */
export interface Ec2Signer {
  /** The credential's project. */
  projectId: string;
  /** HMAC key for `<day>/<region>/<service>/aws4_request`. */
  signingKey(day: string, region: string, service: string): Buffer;
  /** The caller; call only after the request's signature checked out. 401 when the user may no longer act. */
  context(): Promise<RequestContext>;
}

const tokens = new WeakMap<Identity, Map<string, { token: string; expiresAt: number }>>();

export async function ec2Signer(identity: Identity, access: string): Promise<Ec2Signer | null> {
  if (!access) return null;
  const row = await identity.db.selectFrom('credential').selectAll().where('access_key', '=', access).where('type', '=', 'ec2').executeTakeFirst();
  if (!row || !row.project_id) return null;
  let secret: string | undefined;
  try { secret = (JSON.parse(decryptBlob(identity.credentialKeys, row.blob) || '{}') as { secret?: string }).secret; } catch { secret = undefined; }
  if (!secret) return null;
  const projectId = row.project_id;
  const s = secret;
  return {
    projectId,
    signingKey: (day, region, service) => signingKey(s, day, region, service),
    async context() {
      let cache = tokens.get(identity);
      if (!cache) { cache = new Map(); tokens.set(identity, cache); }
      const hit = cache.get(row.id);
      if (hit && hit.expiresAt - 300_000 > now()) {
        try { return await identity.context(hit.token); } catch { cache.delete(row.id); }
      }
      const user = await identity.db.selectFrom('identity_user').selectAll().where('id', '=', row.user_id).executeTakeFirst();
      if (!user || !user.enabled) throw new ApiError(401, 'The request you have made requires authentication.');
      const { token, info } = await issueFor(identity, user, { kind: 'project', id: projectId }, ['ec2credential'], row.id);
      cache.set(row.id, { token, expiresAt: info.payload.expiresAt });
      return identity.context(token);
    },
  };
}
