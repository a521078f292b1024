import type { FastifyInstance } from 'fastify';
import { Buffer } from 'node:buffer';
import { ApiError, badRequest } from '../../../platform/http/errors.js';
import { decryptBlob, ec2SignatureMatches, s3SignatureMatches, type Ec2Request } from '../logic/credentials.js';
import { issueFor } from '../logic/authenticate.js';
import { tokenView } from '../views.js';
import type { IdentityDeps } from './common.js';
import type { CredentialRow } from '../store.js';

/**
 * EC2 and S3 signature authentication: the caller proves it holds an EC2 credential's
 * secret by signing a request; it gets a token on the credential's project. MFA rules
 * do not apply here, as the product documents state.
 */
export async function ec2Routes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;
  const denied = () => new ApiError(401, 'The request you have made requires authentication.');

  const credentialFor = async (access: unknown): Promise<{ row: CredentialRow; secret: string }> => {
    if (typeof access !== 'string' || !access) throw badRequest("Invalid input for field 'credentials/access'");
    const row = await db.selectFrom('credential').selectAll().where('access_key', '=', access).where('type', '=', 'ec2').executeTakeFirst();
    if (!row) throw denied();
    const blob = JSON.parse(decryptBlob(identity.credentialKeys, row.blob) || '{}') as { secret?: string };
    if (!blob.secret || !row.project_id) throw denied();
    return { row, secret: blob.secret };
  };

  const issue = async (row: CredentialRow, reply: { header(k: string, v: string): unknown; status(n: number): unknown }) => {
    const user = await db.selectFrom('identity_user').selectAll().where('id', '=', row.user_id).executeTakeFirst();
    if (!user || !user.enabled) throw denied();
    const { token, info } = await issueFor(identity, user, { kind: 'project', id: row.project_id! }, ['ec2credential'], row.id);
    reply.header('x-subject-token', token);
    reply.status(200);
    return tokenView(info, await identity.catalog());
  };

  app.post('/v3/ec2tokens', { config: { public: true } }, async (req, reply) => {
    const body = req.body as { credentials?: Ec2Request; ec2Credentials?: Ec2Request } | undefined;
    const creds = body?.credentials ?? body?.ec2Credentials;
    if (!creds || typeof creds !== 'object') throw badRequest("Invalid input for field 'credentials': required");
    if (typeof creds.signature !== 'string') throw badRequest("Invalid input for field 'credentials/signature': required");
    const { row, secret } = await credentialFor(creds.access);
    if (!ec2SignatureMatches(secret, creds)) throw denied();
    return issue(row, reply);
  });

  app.post('/v3/s3tokens', { config: { public: true } }, async (req, reply) => {
    const creds = (req.body as { credentials?: { access?: unknown; token?: unknown; signature?: unknown } } | undefined)?.credentials;
    if (!creds || typeof creds.token !== 'string' || typeof creds.signature !== 'string') {
      throw badRequest("Invalid input for field 'credentials': access, token and signature are required");
    }
    const { row, secret } = await credentialFor(creds.access);
    if (!s3SignatureMatches(secret, Buffer.from(creds.token, 'base64').toString('utf8'), creds.signature)) throw denied();
    return issue(row, reply);
  });
}
