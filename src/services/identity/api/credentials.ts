import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { enforce } from '../../../platform/auth/policy.js';
import { badRequest, conflict, forbidden, notFound } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { hexId } from '../../../platform/ids.js';
import type { CredentialRow } from '../store.js';
import { getUserOr404 } from '../logic/lookup.js';
import { decryptBlob, ec2CredentialId, encryptBlob } from '../logic/credentials.js';
import { credentialView, listBody } from '../views.js';
import { check, extras, query, selfUrl, v3Base, wrapped, type IdentityDeps } from './common.js';

/**
 * /v3/credentials (any type; `ec2` and `totp` have meaning here) and the EC2 shortcut
 * /v3/users/{id}/credentials/OS-EC2 that `openstack ec2 credentials create` uses.
 * Blobs are encrypted at rest; EC2 credentials are found by access key, kept in a column.
 */
export async function credentialRoutes(app: FastifyInstance, { identity }: IdentityDeps): Promise<void> {
  const db = identity.db;
  const keys = identity.credentialKeys;
  const view = (req: FastifyRequest, c: CredentialRow) => credentialView(v3Base(req), c, decryptBlob(keys, c.blob));

  const parseEc2 = (blob: string): { access: string; secret?: string } => {
    let parsed: unknown;
    try { parsed = JSON.parse(blob); } catch { throw badRequest('Invalid blob in credential: an ec2 credential blob must be JSON'); }
    const access = (parsed as { access?: unknown })?.access;
    if (typeof access !== 'string' || !access) throw badRequest("Invalid blob in credential: an ec2 credential needs 'access'");
    return parsed as { access: string };
  };

  app.post('/v3/credentials', async (req, reply) => {
    const c = wrapped(req, 'credential');
    check(c, { type: ['string', { required: true, min: 1, max: 255 }], blob: ['string', { required: true }], user_id: ['string', { required: true }], project_id: 'nullable-string' });
    enforce('identity:create_credential', req.ctx, { user_id: c.user_id });
    await getUserOr404(db, c.user_id as string);
    let id = hexId();
    let access: string | null = null;
    if (c.type === 'ec2') {
      if (!c.project_id) throw badRequest('Project ID not provided for an ec2 credential.');
      access = parseEc2(c.blob as string).access;
      id = ec2CredentialId(access);
    }
    if (c.type === 'totp' && req.ctx.userId !== c.user_id && !req.ctx.isAdmin) throw forbidden();
    const row: CredentialRow = {
      id, user_id: c.user_id as string, project_id: (c.project_id as string | null) ?? null, type: c.type as string,
      blob: encryptBlob(keys, c.blob as string), access_key: access, extra: extras(c, ['type', 'blob', 'user_id', 'project_id']), created_at: now(),
    };
    const dup = await db.selectFrom('credential').select('id').where('id', '=', id).executeTakeFirst();
    if (dup) throw conflict(`Conflict occurred attempting to store credential - Duplicate ID, ${id}.`);
    await db.insertInto('credential').values(row).execute();
    if (row.type === 'totp') identity.changed();
    reply.status(201);
    return { credential: view(req, row) };
  });

  app.get('/v3/credentials', async (req) => {
    enforce('identity:list_credentials', req.ctx);
    const q = query(req);
    let sel = db.selectFrom('credential').selectAll();
    // Non-admins see only their own credentials, whatever they filter on.
    if (!req.ctx.isAdmin) sel = sel.where('user_id', '=', req.ctx.userId);
    if (q.user_id) sel = sel.where('user_id', '=', q.user_id);
    if (q.type) sel = sel.where('type', '=', q.type);
    return listBody('credentials', (await sel.orderBy('created_at').execute()).map((c) => view(req, c)), selfUrl(req));
  });

  const getCred = async (req: FastifyRequest, rule: string) => {
    const { id } = req.params as { id: string };
    const row = await db.selectFrom('credential').selectAll().where('id', '=', id).executeTakeFirst();
    // Someone else's credential is as invisible as a missing one.
    if (!row || (!req.ctx.isAdmin && row.user_id !== req.ctx.userId)) throw notFound(`Could not find credential: ${id}.`);
    enforce(rule, req.ctx, { user_id: row.user_id });
    return row;
  };
  app.get('/v3/credentials/:id', async (req) => ({ credential: view(req, await getCred(req, 'identity:get_credential')) }));
  app.patch('/v3/credentials/:id', async (req) => {
    const row = await getCred(req, 'identity:update_credential');
    const c = wrapped(req, 'credential');
    check(c, { type: ['string', { min: 1, max: 255 }], blob: 'string', user_id: 'string', project_id: 'nullable-string' });
    if (c.user_id !== undefined && c.user_id !== row.user_id && !req.ctx.isAdmin) throw forbidden();
    const type = (c.type as string | undefined) ?? row.type;
    const set: Partial<CredentialRow> = {};
    if (c.type !== undefined) set.type = type;
    if (c.user_id !== undefined) set.user_id = c.user_id as string;
    if (c.project_id !== undefined) set.project_id = c.project_id as string | null;
    if (c.blob !== undefined) {
      set.blob = encryptBlob(keys, c.blob as string);
      if (type === 'ec2') set.access_key = parseEc2(c.blob as string).access;
    }
    if (type === 'ec2' && !(set.project_id ?? row.project_id)) throw badRequest('Project ID not provided for an ec2 credential.');
    if (Object.keys(set).length) await db.updateTable('credential').set(set).where('id', '=', row.id).execute();
    identity.changed();
    return { credential: view(req, { ...row, ...set }) };
  });
  app.delete('/v3/credentials/:id', async (req, reply) => {
    const row = await getCred(req, 'identity:delete_credential');
    await db.deleteFrom('credential').where('id', '=', row.id).execute();
    if (row.type === 'ec2') await identity.revoke({ credential_id: row.id });
    identity.changed();
    reply.status(204).send();
  });

  // ---- OS-EC2
  const ec2View = (req: FastifyRequest, c: CredentialRow) => {
    const blob = JSON.parse(decryptBlob(keys, c.blob) || '{}') as Record<string, unknown>;
    return {
      user_id: c.user_id, tenant_id: c.project_id, access: blob.access, secret: blob.secret, trust_id: blob.trust_id ?? null,
      access_token_id: blob.access_token_id ?? null, app_cred_id: blob.app_cred_id ?? null,
      links: { self: `${v3Base(req)}/users/${c.user_id}/credentials/OS-EC2/${blob.access}` },
    };
  };
  app.post('/v3/users/:userId/credentials/OS-EC2', async (req, reply) => {
    const { userId } = req.params as { userId: string };
    enforce('identity:ec2_create_credential', req.ctx, { user_id: userId });
    await getUserOr404(db, userId);
    const tenant = (req.body as { tenant_id?: unknown } | undefined)?.tenant_id;
    if (typeof tenant !== 'string') throw badRequest("Invalid input for field 'tenant_id': a project id is required");
    const project = await db.selectFrom('project').select('id').where('id', '=', tenant).where('is_domain', '=', 0).executeTakeFirst();
    if (!project) throw notFound(`Could not find project: ${tenant}.`);
    const access = randomBytes(16).toString('hex');
    const blob = JSON.stringify({ access, secret: randomBytes(16).toString('hex'), trust_id: null, app_cred_id: req.ctx.applicationCredentialId });
    const row: CredentialRow = { id: ec2CredentialId(access), user_id: userId, project_id: tenant, type: 'ec2', blob: encryptBlob(keys, blob), access_key: access, extra: '{}', created_at: now() };
    await db.insertInto('credential').values(row).execute();
    reply.status(201);
    return { credential: ec2View(req, row) };
  });
  app.get('/v3/users/:userId/credentials/OS-EC2', async (req) => {
    const { userId } = req.params as { userId: string };
    enforce('identity:ec2_list_credentials', req.ctx, { user_id: userId });
    await getUserOr404(db, userId);
    const rows = await db.selectFrom('credential').selectAll().where('user_id', '=', userId).where('type', '=', 'ec2').execute();
    return listBody('credentials', rows.map((c) => ec2View(req, c)), selfUrl(req));
  });
  const getEc2 = async (req: FastifyRequest, rule: string) => {
    const { userId, access } = req.params as { userId: string; access: string };
    enforce(rule, req.ctx, { user_id: userId });
    const row = await db.selectFrom('credential').selectAll().where('access_key', '=', access).where('type', '=', 'ec2').where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound('Could not find credential: ' + access);
    return row;
  };
  app.get('/v3/users/:userId/credentials/OS-EC2/:access', async (req) => ({ credential: ec2View(req, await getEc2(req, 'identity:ec2_get_credential')) }));
  app.delete('/v3/users/:userId/credentials/OS-EC2/:access', async (req, reply) => {
    const row = await getEc2(req, 'identity:ec2_delete_credential');
    await db.deleteFrom('credential').where('id', '=', row.id).execute();
    await identity.revoke({ credential_id: row.id });
    identity.changed();
    reply.status(204).send();
  });
}
