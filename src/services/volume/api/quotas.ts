import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { RequestContext } from '../../../platform/auth/context.js';
import { badRequest, bool, forbidden, requireAdmin, route, type VolumeDeps } from './common.js';
import { QUOTA_CLASS_DEFAULT, typeQuotaKeys, volumeLimits, volumeUsage } from '../logic/quota.js';
import type { VDb } from '../store.js';

/**
 * Block storage quota sets (os-quota-sets) and quota classes (os-quota-class-sets). A
 * project's limits are the documented defaults, overridden by the `default` quota class, then
 * by the project's own; per-type keys (`volumes_ssd`, `gigabytes_hdd`, …) are unlimited unless
 * set. Members and readers see their own project's quotas; only admins see other projects' or
 * change any. A limit is never set below what the project already uses (Cinder's rule).
 */
const BASE_KEYS = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups', 'per_volume_gigabytes'];
/** Keys a quota set update may carry without being a resource. */
const NON_QUOTA_KEYS = ['id', 'tenant_id'];
const MAX_INT = 2 ** 31 - 1;

const classOwner = (name: string) => (name === 'default' ? QUOTA_CLASS_DEFAULT : `class:${name}`);

async function quotaKeys(db: VDb): Promise<string[]> {
  const types = await db.selectFrom('volume_type').select('name').orderBy('name').execute();
  return [...BASE_KEYS, ...typeQuotaKeys(types.map((t) => t.name))];
}

/** The limits of a project (or of `class:default`, which gives the defaults), known keys only. */
async function limitsOf(db: VDb, owner: string): Promise<Record<string, number>> {
  const [all, keys] = await Promise.all([volumeLimits(db, owner), quotaKeys(db)]);
  return Object.fromEntries(keys.map((k) => [k, all[k] ?? -1]));
}

/** A quota class: the defaults, overridden by what the class sets. */
async function classLimitsOf(db: VDb, name: string): Promise<Record<string, number>> {
  const defaults = await limitsOf(db, QUOTA_CLASS_DEFAULT);
  if (name === 'default') return defaults;
  const rows = await db.selectFrom('volume_quota').selectAll().where('project_id', '=', classOwner(name)).execute();
  for (const r of rows) if (r.resource in defaults) defaults[r.resource] = r.hard_limit;
  return defaults;
}

/** What a project uses, per quota key (per type too). */
export async function usageOf(db: VDb, projectId: string): Promise<Record<string, number>> {
  const [base, types, vols, snaps] = await Promise.all([
    volumeUsage(db, projectId),
    db.selectFrom('volume_type').select(['id', 'name']).execute(),
    db.selectFrom('volume').select(['volume_type_id', sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('gb')])
      .where('project_id', '=', projectId).groupBy('volume_type_id').execute(),
    db.selectFrom('snapshot').select(['volume_type_id', sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('gb')])
      .where('project_id', '=', projectId).groupBy('volume_type_id').execute(),
  ]);
  const out: Record<string, number> = { ...base, groups: 0, per_volume_gigabytes: 0 };
  for (const t of types) {
    const v = vols.find((r) => r.volume_type_id === t.id);
    const s = snaps.find((r) => r.volume_type_id === t.id);
    out[`volumes_${t.name}`] = Number(v?.n ?? 0);
    out[`snapshots_${t.name}`] = Number(s?.n ?? 0);
    out[`gigabytes_${t.name}`] = Number(v?.gb ?? 0) + Number(s?.gb ?? 0);
  }
  return out;
}

/** Own project, or admin (readers included: seeing is not changing). */
function requireSeeQuotas(ctx: RequestContext, target: string): void {
  if (!ctx.isAdmin && ctx.projectId !== target) throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
}

/** A limit: an integer (or its digits as a string) from -1 (unlimited) up. */
function limitValue(key: string, v: unknown): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input received: ${key} must be an integer.`);
  if (n < -1) throw badRequest(`Invalid input received: ${key} must be >= -1`);
  if (n > MAX_INT) throw badRequest(`Invalid input received: ${key} must be <= ${MAX_INT}`);
  return n;
}

function setBody(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined | null;
  if (!b || typeof b !== 'object' || Array.isArray(b) || b[key] === undefined) throw badRequest(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
  const extra = Object.keys(b).filter((k) => k !== key);
  if (extra.length) throw badRequest(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
  const v = b[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  if (!Object.keys(v).length) throw badRequest(`Invalid input for field/attribute ${key}. Value: {}. {} does not have enough properties`);
  return v as Record<string, unknown>;
}

async function writeLimits(db: VDb, owner: string, limits: Record<string, number>): Promise<void> {
  const keys = Object.keys(limits);
  if (!keys.length) return;
  await db.deleteFrom('volume_quota').where('project_id', '=', owner).where('resource', 'in', keys).execute();
  await db.insertInto('volume_quota').values(keys.map((resource) => ({ project_id: owner, resource, hard_limit: limits[resource]! }))).execute();
}

export async function quotaRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const db = d.db;
  const target = (req: FastifyRequest) => (req.params as { target: string }).target;

  route(app, 'get', '/os-quota-sets/:target', async (req) => {
    const project = target(req);
    requireSeeQuotas(req.ctx, project);
    const q = req.query as Record<string, string | undefined>;
    const usage = q.usage !== undefined && bool(q.usage, 'usage');
    const limits = await limitsOf(db, project);
    if (!usage) return { quota_set: { ...limits, id: project } };
    const used = await usageOf(db, project);
    const set: Record<string, unknown> = Object.fromEntries(Object.entries(limits).map(([k, limit]) => [k, { limit, in_use: used[k] ?? 0, reserved: 0 }]));
    return { quota_set: { ...set, id: project } };
  });

  route(app, 'get', '/os-quota-sets/:target/defaults', async (req) => {
    const project = target(req);
    requireSeeQuotas(req.ctx, project);
    return { quota_set: { ...(await limitsOf(db, QUOTA_CLASS_DEFAULT)), id: project } };
  });

  route(app, 'put', '/os-quota-sets/:target', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:quotas:update');
    const project = target(req);
    if (project.length > 255) throw badRequest('Invalid input received: quota_set_name must be 1 to 255 characters.');
    const body = setBody(req, 'quota_set');
    await db.transaction().execute(async (trx) => {
      const keys = await quotaKeys(trx);
      const bad = Object.keys(body).filter((k) => !keys.includes(k) && !NON_QUOTA_KEYS.includes(k));
      if (bad.length) throw badRequest(`Invalid input received: Bad key(s) in quota set: ${bad.join(', ')}`);
      const want: Record<string, number> = {};
      for (const [k, v] of Object.entries(body)) if (!NON_QUOTA_KEYS.includes(k)) want[k] = limitValue(k, v);
      const used = await usageOf(trx, project);
      for (const [k, limit] of Object.entries(want)) {
        if (k === 'per_volume_gigabytes' || limit === -1) continue;
        if (limit < (used[k] ?? 0)) {
          throw badRequest(`Quota ${k} limit must be equal or greater than existing resources. Current usage is ${used[k]} and the requested limit is ${limit}.`);
        }
      }
      await writeLimits(trx, project, want);
    });
    return { quota_set: await limitsOf(db, project) };
  });

  route(app, 'delete', '/os-quota-sets/:target', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:quotas:delete');
    await db.deleteFrom('volume_quota').where('project_id', '=', target(req)).execute();
    return reply.status(200).send();
  });

  route(app, 'get', '/os-quota-class-sets/:target', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:quota_classes:get');
    const name = target(req);
    return { quota_class_set: { ...(await classLimitsOf(db, name)), id: name } };
  });

  route(app, 'put', '/os-quota-class-sets/:target', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:quota_classes:update');
    const name = target(req);
    if (name.length < 1 || name.length > 255) throw badRequest('Invalid input received: quota_class_name must be 1 to 255 characters.');
    const body = setBody(req, 'quota_class_set');
    await db.transaction().execute(async (trx) => {
      const keys = await quotaKeys(trx);
      const bad = Object.keys(body).filter((k) => !keys.includes(k));
      if (bad.length) throw badRequest(`Invalid input received: Bad key(s) in quota class set: ${bad.join(', ')}`);
      const want: Record<string, number> = {};
      for (const [k, v] of Object.entries(body)) want[k] = limitValue(k, v);
      await writeLimits(trx, classOwner(name), want);
    });
    return { quota_class_set: await classLimitsOf(db, name) };
  });
}
