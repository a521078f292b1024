import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { now } from '../../../platform/clock.js';
import { isUniqueViolation } from '../../../platform/db/index.js';
import { lockKey } from '../../../platform/db/locks.js';
import { computeLimits, DEFAULT_COMPUTE_QUOTAS } from '../logic/quota.js';
import { fingerprintOf, generateSshKey, generateX509, InvalidKeypair, type GeneratedKey } from '../logic/keypairs.js';
import { nextId, type KeypairRow } from '../store.js';
import { keypairView } from '../views.js';
import { badRequest, bodyOf, conflict, forbidden, mv, nextLink, notFound, type ComputeDeps } from './common.js';

/**
 * /os-keypairs: a user's own SSH keys and x509 certificates. Key pairs belong to a user,
 * not a project: another user of the same project neither sees nor uses them. Admins may
 * act for another user with `user_id` (2.10+). From 2.92 Nova no longer generates keys.
 */
const MAX_LIMIT = 1000;
const NAME_RE = /^[_\- a-zA-Z0-9]+$/;
const NAME_RE_292 = /^[_\-@. a-zA-Z0-9]+$/;

const policy = (rule: string) => forbidden(`Policy doesn't allow os_compute_api:os-keypairs:${rule} to be performed.`);

/** The user a request acts for: the caller, or (2.10+, admins only) the `user_id` asked for. */
function targetUser(req: FastifyRequest, rule: string, asked: unknown): string {
  const ctx = req.ctx;
  if (asked === undefined || asked === null || !mv(req, '2.10')) return ctx.userId;
  const userId = Array.isArray(asked) ? String(asked[0]) : String(asked);
  if (userId !== ctx.userId && !ctx.isAdmin) throw policy(rule);
  return userId;
}

function checkName(req: FastifyRequest, v: unknown): string {
  if (typeof v !== 'string') throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
  if (v.length < 1) throw badRequest(`Invalid input for field/attribute name. Value: ${v}. '${v}' is too short`);
  if (v.length > 255) throw badRequest(`Invalid input for field/attribute name. Value: ${v}. '${v}' is too long`);
  if (v.trim() !== v) throw badRequest(`Invalid input for field/attribute name. Value: ${v}. '${v}' does not match the name pattern (printable characters. Can not start or end with whitespace.)`);
  const re = mv(req, '2.92') ? NAME_RE_292 : NAME_RE;
  if (!re.test(v)) throw badRequest(`Invalid input for field/attribute name. Value: ${v}. '${v}' does not match '${re.source}'`);
  return v;
}

export async function keypairRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const find = async (userId: string, name: string): Promise<KeypairRow> => {
    const k = await db.selectFrom('keypair').selectAll().where('user_id', '=', userId).where('name', '=', name).executeTakeFirst();
    if (!k) throw notFound(`Keypair ${name} not found for user ${userId}`);
    return k;
  };

  app.get('/v2.1/os-keypairs', async (req) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const userId = targetUser(req, 'index', q.user_id);
    let rows = await db.selectFrom('keypair').selectAll().where('user_id', '=', userId).orderBy('name').execute();
    let limit: number | null = null;
    if (mv(req, '2.35')) {
      const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
      const l = one(q.limit);
      const marker = one(q.marker);
      if (l !== undefined) {
        if (!/^\d+$/.test(l)) throw badRequest(`Invalid input for query parameters limit. Value: ${l}. '${l}' does not match '^[0-9]*$'`);
        limit = Math.min(Number(l), MAX_LIMIT);
      }
      if (marker !== undefined) {
        const at = rows.findIndex((r) => r.name === marker);
        if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
        rows = rows.slice(at + 1);
      }
      rows = rows.slice(0, limit ?? MAX_LIMIT);
    }
    const body: Record<string, unknown> = { keypairs: rows.map((k) => ({ keypair: keypairView(req, k, false) })) };
    if (mv(req, '2.35') && (limit ?? MAX_LIMIT) > 0) {
      Object.assign(body, nextLink(req, platform, 'keypairs', rows.map((r) => ({ id: r.name })), limit ?? MAX_LIMIT));
    }
    return body;
  });

  app.get('/v2.1/os-keypairs/:name', async (req) => {
    const userId = targetUser(req, 'show', (req.query as Record<string, unknown>).user_id);
    return { keypair: keypairView(req, await find(userId, (req.params as { name: string }).name), true) };
  });

  app.post('/v2.1/os-keypairs', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    const b = bodyOf(req, 'keypair');
    for (const k of Object.keys(body ?? {})) if (k !== 'keypair') throw badRequest(`Invalid input for field/attribute keypair. Additional properties are not allowed ('${k}' was unexpected)`);
    const allowed = new Set(['name', 'public_key', ...(mv(req, '2.2') ? ['type'] : []), ...(mv(req, '2.10') ? ['user_id'] : [])]);
    for (const k of Object.keys(b)) if (!allowed.has(k)) throw badRequest(`Invalid input for field/attribute keypair. Additional properties are not allowed ('${k}' was unexpected)`);
    if (!('name' in b)) throw badRequest(`Invalid input for field/attribute keypair. Value: ${JSON.stringify(b)}. 'name' is a required property`);
    const name = checkName(req, b.name);
    let type: 'ssh' | 'x509' = 'ssh';
    if (b.type !== undefined) {
      if (b.type !== 'ssh' && b.type !== 'x509') throw badRequest(`Invalid input for field/attribute type. Value: ${JSON.stringify(b.type)}. ${JSON.stringify(b.type)} is not one of ['ssh', 'x509']`);
      type = b.type;
    }
    if (b.public_key !== undefined && typeof b.public_key !== 'string') throw badRequest(`Invalid input for field/attribute public_key. Value: ${JSON.stringify(b.public_key)}. ${JSON.stringify(b.public_key)} is not of type 'string'`);
    if (mv(req, '2.92') && b.public_key === undefined) throw badRequest(`Invalid input for field/attribute keypair. Value: ${JSON.stringify(b)}. 'public_key' is a required property`);
    if (b.user_id !== undefined && typeof b.user_id !== 'string') throw badRequest(`Invalid input for field/attribute user_id. Value: ${JSON.stringify(b.user_id)}. ${JSON.stringify(b.user_id)} is not of type 'string'`);
    const userId = targetUser(req, 'create', b.user_id);

    // Validate an imported key, or make one, before touching the database.
    let key: GeneratedKey | { publicKey: string; fingerprint: string; privateKey?: undefined };
    try {
      if (typeof b.public_key === 'string') key = { publicKey: b.public_key, fingerprint: fingerprintOf(b.public_key, type) };
      else key = type === 'x509' ? await generateX509(userId) : await generateSshKey();
    } catch (err) {
      if (err instanceof InvalidKeypair) throw badRequest(`Keypair data is invalid: ${err.message}`);
      throw err;
    }

    const row = await db.transaction().execute(async (trx) => {
      await lockKey(trx, platform.dialect, `compute-keypairs:${userId}`);
      const limits = req.ctx.projectId ? await computeLimits(trx, req.ctx.projectId) : DEFAULT_COMPUTE_QUOTAS;
      const max = limits.key_pairs ?? DEFAULT_COMPUTE_QUOTAS.key_pairs!;
      const used = await trx.selectFrom('keypair').select(sql<number>`count(*)`.as('n')).where('user_id', '=', userId).executeTakeFirst();
      if (max >= 0 && Number(used?.n ?? 0) + 1 > max) throw forbidden('Quota exceeded, too many key pairs.');
      if (await trx.selectFrom('keypair').select('id').where('user_id', '=', userId).where('name', '=', name).executeTakeFirst()) {
        throw conflict(`Key pair '${name}' already exists.`);
      }
      const r: KeypairRow = { id: await nextId(trx, platform.dialect, 'keypair'), user_id: userId, name, type, public_key: key.publicKey, fingerprint: key.fingerprint, created_at: now() };
      await trx.insertInto('keypair').values(r).execute();
      return r;
    }).catch((err) => {
      if (isUniqueViolation(err)) throw conflict(`Key pair '${name}' already exists.`);
      throw err;
    });

    const v: Record<string, unknown> = { ...keypairView(req, row, false), user_id: row.user_id };
    if (key.privateKey !== undefined) v.private_key = key.privateKey;
    reply.status(mv(req, '2.2') ? 201 : 200);
    return { keypair: v };
  });

  app.delete('/v2.1/os-keypairs/:name', async (req, reply: FastifyReply) => {
    const userId = targetUser(req, 'delete', (req.query as Record<string, unknown>).user_id);
    const name = (req.params as { name: string }).name;
    const k = await find(userId, name);
    await db.deleteFrom('keypair').where('id', '=', k.id).execute();
    reply.status(mv(req, '2.2') ? 204 : 202).send();
  });
}
