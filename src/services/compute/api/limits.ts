import type { FastifyInstance, FastifyRequest } from 'fastify';
import { lockKey } from '../../../platform/db/locks.js';
import { computeUsage, DEFAULT_COMPUTE_QUOTAS, LEGACY_QUOTAS, USER_RESOURCES, userLimits } from '../logic/quota.js';
import type { CDb } from '../store.js';
import { badRequest, bool, forbidden, mv, type ComputeDeps } from './common.js';

/**
 * /limits, /os-quota-sets and /os-quota-class-sets. A project's limits are its own
 * settings over the `default` quota class over the documented defaults. The keys shown
 * follow the microversion exactly: the network proxies go at 2.36 (2.50 for quota
 * classes), injected files at 2.57, maxImageMeta at 2.39; quota classes show the server
 * group keys only from 2.50. Usage counts the project's live servers and server groups;
 * key pairs and group members count per user/group, and Nova shows them as 0 here.
 */
const RESOURCES = [
  'instances', 'cores', 'ram', 'metadata_items', 'injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes',
  'key_pairs', 'server_groups', 'server_group_members', 'fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups',
];
const NETWORK = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
const FILES = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const SERVER_GROUPS = ['server_groups', 'server_group_members'];
const MAX_QUOTA = 0x7fffffff;
/** Quota classes live in compute_quota under this prefix; Keystone project ids never hold a ':'. */
export const QUOTA_CLASS_PREFIX = 'class:';

const quotaKeys = (req: FastifyRequest): string[] => {
  const hidden = mv(req, '2.57') ? [...NETWORK, ...FILES] : mv(req, '2.36') ? NETWORK : [];
  return RESOURCES.filter((k) => !hidden.includes(k));
};
const classKeys = (req: FastifyRequest): string[] => {
  const hidden = mv(req, '2.57') ? [...NETWORK, ...FILES] : mv(req, '2.50') ? NETWORK : SERVER_GROUPS;
  return RESOURCES.filter((k) => !hidden.includes(k));
};
/** Keys a PUT may set: quota sets follow their GET keys; quota classes accept the server group keys before 2.50 too. */
const classUpdateKeys = (req: FastifyRequest): string[] => {
  const hidden = mv(req, '2.57') ? [...NETWORK, ...FILES] : mv(req, '2.50') ? NETWORK : [];
  return RESOURCES.filter((k) => !hidden.includes(k));
};

async function rowsOf(db: CDb, owner: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('compute_quota').select(['resource', 'hard_limit']).where('project_id', '=', owner).execute();
  return Object.fromEntries(rows.filter((r) => RESOURCES.includes(r.resource)).map((r) => [r.resource, Number(r.hard_limit)]));
}

/** A quota class's values: the documented defaults with the class's own settings over them. */
export async function classQuotas(db: CDb, name = 'default'): Promise<Record<string, number>> {
  return { ...DEFAULT_COMPUTE_QUOTAS, ...LEGACY_QUOTAS, ...(await rowsOf(db, `${QUOTA_CLASS_PREFIX}${name}`)) };
}

/** A project's limits: its own settings over the `default` class over the defaults. */
export async function projectQuotas(db: CDb, projectId: string): Promise<Record<string, number>> {
  return { ...(await classQuotas(db)), ...(await rowsOf(db, projectId)) };
}

async function usageOf(db: CDb, projectId: string, userId?: string): Promise<Record<string, number>> {
  const u = await computeUsage(db, projectId, undefined, userId);
  const out: Record<string, number> = Object.fromEntries(RESOURCES.map((k) => [k, 0]));
  Object.assign(out, { instances: u.instances, cores: u.cores, ram: u.ram, server_groups: u.server_groups });
  return out;
}

const pick = (values: Record<string, number>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, values[k] ?? -1]));
const policy = (rule: string) => forbidden(`Policy doesn't allow os_compute_api:${rule} to be performed.`);

/** Nova's quota value: an integer (or a string of one) from -1 (unlimited) to 2^31-1. */
function quotaValue(key: string, v: unknown): number {
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'integer', 'string'`);
  if (n < -1) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is less than the minimum of -1`);
  if (n > MAX_QUOTA) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is greater than the maximum of ${MAX_QUOTA}`);
  return n;
}

function updates(req: FastifyRequest, wrapper: string, allowed: string[], extra: string[] = []): Record<string, unknown> {
  const body = req.body as Record<string, unknown> | undefined;
  const b = body?.[wrapper];
  if (!body || typeof body !== 'object' || !b || typeof b !== 'object' || Array.isArray(b)) {
    throw badRequest(`Invalid input for field/attribute ${wrapper}. Value: ${JSON.stringify(b ?? null)}. '${wrapper}' is a required property`);
  }
  for (const k of Object.keys(body)) if (k !== wrapper) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k) && !extra.includes(k)) throw badRequest(`Invalid input for field/attribute ${wrapper}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
  return b as Record<string, unknown>;
}

const queryOne = (req: FastifyRequest, key: string): string | undefined => {
  const v = (req.query as Record<string, unknown>)[key];
  return v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v);
};

export async function limitRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  // GET /limits: the caller's project, or (admins) the `tenant_id` asked for.
  app.get('/v2.1/limits', async (req) => {
    let projectId = req.ctx.projectId ?? '';
    const asked = queryOne(req, 'tenant_id');
    if (asked !== undefined) {
      if (!req.ctx.isAdmin) throw policy('limits:other_project');
      projectId = asked;
    }
    const [q, used] = await Promise.all([projectQuotas(db, projectId), usageOf(db, projectId)]);
    const absolute: Record<string, number> = {
      maxTotalInstances: q.instances!, maxTotalCores: q.cores!, maxTotalRAMSize: q.ram!, maxTotalKeypairs: q.key_pairs!,
      maxServerMeta: q.metadata_items!,
    };
    if (!mv(req, '2.39')) absolute.maxImageMeta = q.metadata_items!;
    if (!mv(req, '2.57')) Object.assign(absolute, { maxPersonality: q.injected_files!, maxPersonalitySize: q.injected_file_content_bytes! });
    if (!mv(req, '2.36')) Object.assign(absolute, { maxTotalFloatingIps: q.floating_ips!, maxSecurityGroups: q.security_groups!, maxSecurityGroupRules: q.security_group_rules! });
    Object.assign(absolute, { maxServerGroups: q.server_groups!, maxServerGroupMembers: q.server_group_members! });
    Object.assign(absolute, { totalRAMUsed: used.ram!, totalCoresUsed: used.cores!, totalInstancesUsed: used.instances! });
    if (!mv(req, '2.36')) Object.assign(absolute, { totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 });
    absolute.totalServerGroupsUsed = used.server_groups!;
    return { limits: { rate: [], absolute } };
  });

  // Quota sets: readers see their own project, admins any; only admins change them.
  const canRead = (req: FastifyRequest, projectId: string, rule: string) => {
    const ctx = req.ctx;
    if (ctx.isAdmin) return;
    if (ctx.projectId !== projectId || !(ctx.roles.includes('reader') || ctx.roles.includes('member'))) throw policy(`os-quota-sets:${rule}`);
  };
  const adminOnly = (req: FastifyRequest, rule: string) => { if (!req.ctx.isAdmin) throw policy(rule); };
  // A user's quotas (?user_id=): the user's own settings over the project's limits.
  const limitsFor = (id: string, userId: string | undefined) => (userId === undefined ? projectQuotas(db, id) : userLimits(db, id, userId));

  app.get('/v2.1/os-quota-sets/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    canRead(req, id, 'show');
    return { quota_set: { id, ...pick(await limitsFor(id, queryOne(req, 'user_id')), quotaKeys(req)) } };
  });

  app.get('/v2.1/os-quota-sets/:id/detail', async (req) => {
    const id = (req.params as { id: string }).id;
    canRead(req, id, 'detail');
    const userId = queryOne(req, 'user_id');
    const [q, used] = await Promise.all([limitsFor(id, userId), usageOf(db, id, userId)]);
    const out: Record<string, unknown> = { id };
    for (const k of quotaKeys(req)) out[k] = { in_use: used[k] ?? 0, limit: q[k] ?? -1, reserved: 0 };
    return { quota_set: out };
  });

  app.get('/v2.1/os-quota-sets/:id/defaults', async (req) => {
    const id = (req.params as { id: string }).id;
    return { quota_set: { id, ...pick(await classQuotas(db), quotaKeys(req)) } };
  });

  app.put('/v2.1/os-quota-sets/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    adminOnly(req, 'os-quota-sets:update');
    const userId = queryOne(req, 'user_id');
    const b = updates(req, 'quota_set', quotaKeys(req), ['force']);
    const force = b.force === undefined ? false : bool(b.force, 'force');
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(b)) if (k !== 'force') values[k] = quotaValue(k, v);
    await db.transaction().execute(async (trx) => {
      // Under the project's quota lock, so no create slips in between the usage check and the write.
      await lockKey(trx, platform.dialect, `compute-quota:${id}`);
      if (!force) {
        const used = await usageOf(trx, id, userId);
        for (const [k, v] of Object.entries(values)) {
          const min = used[k] ?? 0;
          if (v !== -1 && v < min) throw badRequest(`Quota limit ${v} for ${k} must be greater than or equal to already used and reserved ${min}.`);
        }
      }
      if (userId !== undefined) {
        // A user may get less than the project, never more (Nova checks the same).
        const project = await projectQuotas(trx, id);
        for (const [k, v] of Object.entries(values)) {
          if (!USER_RESOURCES.includes(k)) continue;
          const p = project[k] ?? -1;
          if (p !== -1 && (v === -1 || v > p)) throw badRequest(`Quota limit ${v} for ${k} is greater than the project's limit ${p}.`);
        }
        for (const [resource, hard_limit] of Object.entries(values)) {
          if (!USER_RESOURCES.includes(resource)) continue;
          await trx.insertInto('compute_user_quota').values({ project_id: id, user_id: userId, resource, hard_limit })
            .onConflict((oc) => oc.columns(['project_id', 'user_id', 'resource']).doUpdateSet({ hard_limit })).execute();
        }
        return;
      }
      for (const [resource, hard_limit] of Object.entries(values)) {
        await trx.insertInto('compute_quota').values({ project_id: id, resource, hard_limit })
          .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit })).execute();
      }
    });
    return { quota_set: pick(await limitsFor(id, userId), quotaKeys(req)) };
  });

  app.delete('/v2.1/os-quota-sets/:id', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    adminOnly(req, 'os-quota-sets:delete');
    const userId = queryOne(req, 'user_id');
    if (userId !== undefined) await db.deleteFrom('compute_user_quota').where('project_id', '=', id).where('user_id', '=', userId).execute();
    else await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('compute_quota').where('project_id', '=', id).execute();
      await trx.deleteFrom('compute_user_quota').where('project_id', '=', id).execute();
    });
    reply.status(202).send();
  });

  // Quota classes: only `default` matters (it is what every project starts from); admins only.
  const className = (req: FastifyRequest): string => {
    const id = (req.params as { id: string }).id;
    if (id.length < 1 || id.length > 255) throw badRequest(`quota_class_name has a maximum length of 255.`);
    if (`${QUOTA_CLASS_PREFIX}${id}`.length > 64) throw badRequest(`Quota class names longer than ${64 - QUOTA_CLASS_PREFIX.length} characters are not supported.`);
    return id;
  };
  app.get('/v2.1/os-quota-class-sets/:id', async (req) => {
    adminOnly(req, 'os-quota-class-sets:show');
    const id = className(req);
    return { quota_class_set: { id, ...pick(await classQuotas(db, id), classKeys(req)) } };
  });
  app.put('/v2.1/os-quota-class-sets/:id', async (req) => {
    adminOnly(req, 'os-quota-class-sets:update');
    const id = className(req);
    const b = updates(req, 'quota_class_set', classUpdateKeys(req));
    const values = Object.fromEntries(Object.entries(b).map(([k, v]) => [k, quotaValue(k, v)]));
    await db.transaction().execute(async (trx) => {
      for (const [resource, hard_limit] of Object.entries(values)) {
        await trx.insertInto('compute_quota').values({ project_id: `${QUOTA_CLASS_PREFIX}${id}`, resource, hard_limit })
          .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit })).execute();
      }
    });
    return { quota_class_set: pick(await classQuotas(db, id), classKeys(req)) };
  });
}
