import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { checkComputeQuota, computeLimits } from '../logic/quota.js';
import { callerOf } from '../logic/manager.js';
import { VM, vmStatesFor } from '../logic/states.js';
import { POWER_STATE } from '../drivers/virt/driver.js';
import type { CDb, InstanceRow } from '../store.js';
import { serverExtras, serverSummary, serverView, trimmedServerView } from '../views.js';
import { badRequest, bodyOf, conflict, forbidden, links, mv, name as checkName, nextLink, notFound, paging, str, type ComputeDeps } from './common.js';
import { accessIp, checkTags, isUuid, planBuild } from './server-request.js';

/**
 * /servers: create (one or many), list and detail with Nova's filters, show, update,
 * delete. A create answers 202 with the server in BUILD; the manager builds it.
 */
export async function findServer(db: CDb, ctx: RequestContext, id: string): Promise<InstanceRow> {
  const r = isUuid(id) ? await db.selectFrom('instance').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst() : undefined;
  if (!r || (!ctx.isAdmin && r.project_id !== ctx.projectId)) throw notFound(`Instance ${id} could not be found.`);
  return r;
}

/** Records a user-visible instance action (os-instance-actions) in the caller's transaction. */
export async function recordAction(trx: CDb, inst: { id: string }, action: string, ctx: RequestContext, requestId: string): Promise<void> {
  const t = now();
  await trx.insertInto('instance_action').values({ request_id: requestId, instance_id: inst.id, action, project_id: ctx.projectId ?? '', user_id: ctx.userId, message: null, start_time: t, updated_at: t })
    .onConflict((oc) => oc.column('request_id').doNothing()).execute();
}

export const requestIdOf = (req: FastifyRequest): string => String(req.id).startsWith('req-') ? String(req.id) : `req-${uuid()}`;

const MAX_LIMIT = 1000;
/** Sort columns that are never null, so a keyset comparison after the marker is exact. */
const NOT_NULL = new Set<keyof InstanceRow>(['created_at', 'updated_at', 'name', 'hostname', 'id', 'vm_state', 'power_state', 'project_id', 'user_id', 'image_ref', 'locked', 'launch_index', 'reservation_id']);

const hostnameOf = (name: string): string => name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'server';

export async function serverRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;
  const views = async (req: FastifyRequest, rows: InstanceRow[]) => {
    const x = await serverExtras(db, (ids) => deps.network.interfacesOf(ids), rows);
    return rows.map((r) => serverView(req, platform, r, x, req.ctx.isAdmin));
  };

  app.post('/v2.1/servers', async (req, reply) => {
    const ctx = req.ctx;
    if (!ctx.projectId) throw forbidden('Project-scoped token required.');
    if (!ctx.roles.includes('member') && !ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:servers:create to be performed.");
    const s = bodyOf(req, 'server');
    const body = req.body as Record<string, unknown>;
    const plan = await planBuild(req, deps, ctx, s, body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints']);
    const reservation = `r-${uuid().replace(/-/g, '').slice(0, 8)}`;
    const requestId = requestIdOf(req);
    const ids = Array.from({ length: plan.maxCount }, () => uuid());
    // Existing volumes are reserved for the server before it exists (Cinder's attachment_create),
    // outside the compute transaction: a second server asking for the same volume is refused now.
    const reserved = new Map<string, string>();
    try {
      for (const b of plan.blockDevices) {
        if (b.source_type !== 'volume' || b.destination_type !== 'volume') continue;
        const { attachmentId } = await deps.volume!.reserveAttachment(ctx, b.uuid!, { instanceId: ids[0]!, zone: plan.zone });
        reserved.set(b.uuid!, attachmentId);
      }
    } catch (err) {
      for (const a of reserved.values()) await deps.volume!.deleteAttachment(a).catch(() => undefined);
      throw err;
    }
    const created = await db.transaction().execute(async (trx) => {
      // As Nova: as many as fit between min_count and max_count, or the quota error for min_count.
      let count = plan.maxCount;
      const limits = await computeLimits(trx, ctx.projectId!);
      for (; count > plan.minCount; count--) {
        const fits = await checkComputeQuota(trx, platform.dialect, ctx.projectId!, { instances: count, cores: count * plan.flavor.vcpus, ram: count * plan.flavor.ram }, ctx.userId).then(() => true, () => false);
        if (fits) break;
      }
      await checkComputeQuota(trx, platform.dialect, ctx.projectId!, { instances: count, cores: count * plan.flavor.vcpus, ram: count * plan.flavor.ram }, ctx.userId);
      if (plan.groupId) {
        const members = await trx.selectFrom('server_group_member').select(sql<number>`count(*)`.as('n')).where('group_id', '=', plan.groupId).executeTakeFirst();
        const max = limits.server_group_members!;
        if (max >= 0 && Number(members?.n ?? 0) + count > max) throw forbidden('Quota exceeded, too many servers in group');
      }
      const rows: InstanceRow[] = [];
      const t = now();
      for (let i = 0; i < count; i++) {
        const displayName = count > 1 ? `${plan.name}-${i + 1}` : plan.name;
        const row: InstanceRow = {
          id: ids[i]!, project_id: ctx.projectId!, user_id: ctx.userId, name: displayName,
          hostname: plan.hostname && count === 1 ? plan.hostname : hostnameOf(displayName), description: plan.description,
          vm_state: VM.BUILDING, task_state: 'scheduling', power_state: POWER_STATE.NOSTATE,
          flavor: JSON.stringify(plan.flavor), old_flavor: null, new_flavor: null, image_ref: plan.imageRef, key_name: plan.keyName, key_data: plan.keyData,
          user_data: plan.userData, config_drive: plan.configDrive ? 'True' : '', availability_zone: plan.zone, requested_zone: plan.zone, host: null,
          locked: 0, locked_by: null, locked_reason: null, access_ip_v4: plan.accessIPv4, access_ip_v6: plan.accessIPv6, progress: 0,
          reservation_id: reservation, launch_index: i, metadata: JSON.stringify(plan.metadata),
          system_metadata: JSON.stringify({
            disk_config: plan.diskConfig, ...(plan.forcedHost ? { forced_host: plan.forcedHost } : {}), ...(plan.volumeBacked ? { boot_from_volume: 'True' } : {}),
            ...Object.fromEntries(Object.entries(plan.imageProperties).map(([k, v]) => [`image_${k}`, String(v)])),
          }),
          security_groups: JSON.stringify(plan.securityGroups), requested_networks: JSON.stringify(plan.networks), scheduler_hints: JSON.stringify(plan.hints),
          fault: null, trusted_image_certificates: plan.trustedCerts ? JSON.stringify(plan.trustedCerts) : null,
          launched_at: null, terminated_at: null, deleted: 0, deleted_at: null, created_at: t, updated_at: t,
        };
        await trx.insertInto('instance').values(row).execute();
        if (plan.tags.length) await trx.insertInto('instance_tag').values(plan.tags.map((tag) => ({ instance_id: row.id, tag }))).execute();
        for (const b of plan.blockDevices.filter((x) => x.destination_type === 'volume')) {
          await trx.insertInto('block_device_mapping').values({
            id: uuid(), instance_id: row.id, source_type: b.source_type, destination_type: 'volume', boot_index: b.boot_index, device_name: b.device_name,
            volume_id: b.source_type === 'volume' ? b.uuid : null, image_id: b.source_type === 'image' ? b.uuid : null,
            snapshot_id: b.source_type === 'snapshot' ? b.uuid : null, volume_size: b.volume_size, volume_type: b.volume_type,
            delete_on_termination: b.delete_on_termination ? 1 : 0, attachment_id: b.source_type === 'volume' ? reserved.get(b.uuid!) ?? null : null,
            tag: b.tag, created_at: t + (b.boot_index === 0 ? 0 : 1),
          }).execute();
        }
        if (plan.groupId) await trx.insertInto('server_group_member').values({ group_id: plan.groupId, instance_id: row.id }).execute();
        await recordAction(trx, row, 'create', ctx, count > 1 ? `${requestId}-${i}` : requestId);
        await deps.manager.enqueue(row.id, { action: 'build', ctx: callerOf(ctx), requestId: count > 1 ? `${requestId}-${i}` : requestId }, trx);
        rows.push(row);
      }
      return rows;
    }).catch(async (err) => {
      for (const a of reserved.values()) await deps.volume!.deleteAttachment(a).catch(() => undefined);
      throw err;
    });
    reply.status(202);
    if (plan.returnReservationId) return { reservation_id: reservation };
    const first = created[0]!;
    reply.header('Location', links(req, platform, 'servers', first.id)[0]!.href);
    return {
      server: {
        id: first.id, links: links(req, platform, 'servers', first.id), 'OS-DCF:diskConfig': plan.diskConfig,
        ...(plan.networks === 'none' ? {} : { security_groups: plan.securityGroups.map((name) => ({ name })) }), adminPass: plan.adminPass,
      },
    };
  });

  const list = async (req: FastifyRequest, detail: boolean) => {
    const ctx = req.ctx;
    const q = req.query as Record<string, string | string[] | undefined>;
    const one = (k: string) => { const v = q[k]; return Array.isArray(v) ? v[v.length - 1] : v; };
    const isTrue = (v: string | undefined) => v !== undefined && ['', '1', 'true', 'True', 'yes'].includes(v);
    let sel = db.selectFrom('instance').selectAll();
    const allTenants = ctx.isAdmin && isTrue(one('all_tenants'));
    const project = one('project_id') ?? one('tenant_id');
    // As Nova: tenant_id is ignored unless all_tenants is given.
    if (!allTenants) sel = sel.where('project_id', '=', ctx.projectId ?? '');
    else if (project) sel = sel.where('project_id', '=', project);
    const changesSince = one('changes-since');
    const changesBefore = mv(req, '2.66') ? one('changes-before') : undefined;
    const parseTime = (v: string, key: string) => {
      // ISO 8601 only, as Nova's schema asks: 2011/01/01 is refused.
      const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v);
      const ms = iso ? Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(v) ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}${v.length > 10 ? 'Z' : 'T00:00:00Z'}`) : NaN;
      if (Number.isNaN(ms)) throw badRequest(`Invalid input for query parameters ${key}. Value: ${v}. '${v}' is not a 'date-time'`);
      return ms;
    };
    if (changesSince) sel = sel.where('updated_at', '>=', parseTime(changesSince, 'changes-since'));
    if (changesBefore) sel = sel.where('updated_at', '<=', parseTime(changesBefore, 'changes-before'));
    if (changesSince && changesBefore && parseTime(changesSince, 'changes-since') > parseTime(changesBefore, 'changes-before')) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    const deleted = ctx.isAdmin && isTrue(one('deleted'));
    if (!changesSince && !changesBefore) sel = sel.where('deleted', '=', deleted ? 1 : 0);
    const status = one('status');
    if (status) {
      const states = vmStatesFor(status);
      if (!states) return { servers: [] };
      sel = sel.where('vm_state', 'in', states.vm);
      if (states.task) sel = sel.where('task_state', 'in', states.task);
    }
    const image = one('image');
    if (image) sel = sel.where('image_ref', '=', image.split('/').pop()!);
    const flavor = one('flavor');
    const zone = one('availability_zone');
    if (zone) sel = sel.where('availability_zone', '=', zone);
    const reservation = one('reservation_id');
    if (reservation) sel = sel.where('reservation_id', '=', reservation);
    if (ctx.isAdmin && one('host')) sel = sel.where('host', '=', one('host')!);
    if (mv(req, '2.73') && one('locked') !== undefined) sel = sel.where('locked', '=', isTrue(one('locked')) ? 1 : 0);
    if (mv(req, '2.26')) {
      const tagList = (k: string) => (q[k] === undefined ? [] : (Array.isArray(q[k]) ? q[k] as string[] : [q[k] as string]).flatMap((v) => v.split(',')).filter(Boolean));
      const has = (tag: string) => sql<boolean>`exists (select 1 from instance_tag t where t.instance_id = instance.id and t.tag = ${tag})`;
      for (const t of tagList('tags')) sel = sel.where(has(t));
      const any = tagList('tags-any');
      if (any.length) sel = sel.where((eb) => eb.or(any.map((t) => has(t))));
      const notAll = tagList('not-tags');
      if (notAll.length) sel = sel.where((eb) => eb.not(eb.and(notAll.map((t) => has(t)))));
      for (const t of tagList('not-tags-any')) sel = sel.where((eb) => eb.not(has(t)));
    }
    const keys = q.sort_key === undefined ? ['created_at'] : (Array.isArray(q.sort_key) ? q.sort_key : [q.sort_key]);
    const dirs = q.sort_dir === undefined ? [] : (Array.isArray(q.sort_dir) ? q.sort_dir : [q.sort_dir]);
    const SORTABLE: Record<string, keyof InstanceRow> = {
      created_at: 'created_at', updated_at: 'updated_at', display_name: 'name', hostname: 'hostname', uuid: 'id', vm_state: 'vm_state', task_state: 'task_state',
      power_state: 'power_state', launched_at: 'launched_at', terminated_at: 'terminated_at', availability_zone: 'availability_zone', key_name: 'key_name',
      project_id: 'project_id', user_id: 'user_id', host: 'host', image_ref: 'image_ref', locked: 'locked', launch_index: 'launch_index', reservation_id: 'reservation_id',
    };
    const order = keys.map((k, i) => {
      const col = SORTABLE[k];
      if (!col || (!ctx.isAdmin && ['host', 'node'].includes(k))) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
      const d = (dirs[i] ?? dirs[0] ?? 'desc').toLowerCase();
      if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
      return { col, dir: d as 'asc' | 'desc' };
    });
    const sortKeys = [...order, { col: 'id' as keyof InstanceRow, dir: order[0]?.dir ?? 'desc' as const }];
    for (const o of sortKeys) sel = sel.orderBy(o.col, o.dir);
    const nameRe = one('name');
    const ipRe = one('ip') ?? one('ip6');
    const { limit: asked, marker } = paging(req);
    // Nova's osapi_max_limit: no page is longer than 1000, asked for or not.
    const limit = Math.min(asked ?? MAX_LIMIT, MAX_LIMIT);
    // Without the filters only JavaScript can apply (regular expressions, the embedded flavor),
    // the page is cut in SQL after the marker: a page costs what it holds, not the total.
    const inSql = !nameRe && !ipRe && !flavor && sortKeys.every((k) => NOT_NULL.has(k.col));
    if (marker) {
      const m = await db.selectFrom('instance').selectAll().where('id', '=', marker).executeTakeFirst();
      if (!m) throw badRequest(`marker [${marker}] not found`);
      if (inSql) {
        sel = sel.where((eb) => eb.or(sortKeys.map((k, i) => eb.and([
          ...sortKeys.slice(0, i).map((p) => eb(p.col, '=', m[p.col] as never)),
          eb(k.col, k.dir === 'asc' ? '>' : '<', m[k.col] as never),
        ]))));
      }
    }
    if (inSql) sel = sel.limit(limit);
    let rows = await sel.execute();
    if (nameRe) {
      let re: RegExp;
      try { re = new RegExp(nameRe); } catch { return { servers: [] }; }
      rows = rows.filter((r) => re.test(r.name));
    }
    if (flavor) rows = rows.filter((r) => (JSON.parse(r.flavor) as { id: string }).id === flavor.split('/').pop());
    if (ipRe) {
      let re: RegExp;
      try { re = new RegExp(ipRe); } catch { return { servers: [] }; }
      const ifaces = await deps.network.interfacesOf(rows.map((r) => r.id));
      rows = rows.filter((r) => (ifaces.get(r.id) ?? []).some((i) => i.fixedIps.some((f) => re.test(f.ipAddress))));
    }
    if (!inSql) {
      if (marker) rows = rows.slice(rows.findIndex((r) => r.id === marker) + 1);
      rows = rows.slice(0, limit);
    }
    const servers = detail ? await views(req, rows) : rows.map((r) => serverSummary(req, platform, r));
    return { servers, ...nextLink(req, platform, 'servers', rows, asked ?? limit) };
  };
  app.get('/v2.1/servers', async (req) => list(req, false));
  app.get('/v2.1/servers/detail', async (req) => list(req, true));

  app.get('/v2.1/servers/:id', async (req) => {
    const r = await findServer(db, req.ctx, (req.params as { id: string }).id);
    return { server: (await views(req, [r]))[0] };
  });

  app.put('/v2.1/servers/:id', async (req) => {
    const ctx = req.ctx;
    const r = await findServer(db, ctx, (req.params as { id: string }).id);
    if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden("Policy doesn't allow os_compute_api:servers:update to be performed.");
    const s = bodyOf(req, 'server');
    const set: Partial<InstanceRow> = {};
    for (const k of Object.keys(s)) {
      const ok = ['name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', ...(mv(req, '2.19') ? ['description'] : []), ...(mv(req, '2.90') ? ['hostname'] : [])];
      if (!ok.includes(k)) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('${k}' was unexpected)`);
    }
    if (s.name !== undefined) set.name = checkName(s.name);
    if (s.description !== undefined) set.description = str(s.description, 'description', { max: 255, allowNull: true });
    if (s.accessIPv4 !== undefined) set.access_ip_v4 = s.accessIPv4 === null || s.accessIPv4 === '' ? '' : accessIp(s.accessIPv4, 4);
    if (s.accessIPv6 !== undefined) set.access_ip_v6 = s.accessIPv6 === null || s.accessIPv6 === '' ? '' : accessIp(s.accessIPv6, 6);
    if (s.hostname !== undefined) set.hostname = str(s.hostname, 'hostname', { max: 63, min: 1 })!;
    if (s['OS-DCF:diskConfig'] !== undefined) {
      const dc = String(s['OS-DCF:diskConfig']);
      if (dc !== 'AUTO' && dc !== 'MANUAL') throw badRequest(`OS-DCF:diskConfig must be either 'MANUAL' or 'AUTO'.`);
      set.system_metadata = JSON.stringify({ ...(JSON.parse(r.system_metadata) as object), disk_config: dc });
    }
    await db.updateTable('instance').set({ ...set, updated_at: now() }).where('id', '=', r.id).execute();
    const fresh = (await db.selectFrom('instance').selectAll().where('id', '=', r.id).executeTakeFirst())!;
    return { server: trimmedServerView(req, (await views(req, [fresh]))[0]!, false) };
  });

  app.delete('/v2.1/servers/:id', async (req, reply) => {
    const ctx = req.ctx;
    const r = await findServer(db, ctx, (req.params as { id: string }).id);
    if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden("Policy doesn't allow os_compute_api:servers:delete to be performed.");
    if (r.locked && !ctx.isAdmin) throw conflict(`Instance ${r.id} is locked`);
    const requestId = requestIdOf(req);
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('instance').set({ task_state: 'deleting', updated_at: now() }).where('id', '=', r.id).execute();
      await recordAction(trx, r, 'delete', ctx, requestId);
      await deps.manager.enqueue(r.id, { action: 'delete', ctx: callerOf(ctx), requestId }, trx);
    });
    reply.status(204).send();
  });

  // Tags (2.26+): /servers/{id}/tags[/{tag}].
  const tagTarget = async (req: FastifyRequest, write: boolean) => {
    if (!mv(req, '2.26')) throw notFound('The resource could not be found.');
    const r = await findServer(db, req.ctx, (req.params as { id: string }).id);
    if (write && !req.ctx.isAdmin && !req.ctx.roles.includes('member')) throw forbidden("Policy doesn't allow os_compute_api:os-server-tags to be performed.");
    return r;
  };
  const tagsOf = async (id: string) => (await db.selectFrom('instance_tag').select('tag').where('instance_id', '=', id).orderBy('tag').execute()).map((t) => t.tag);
  app.get('/v2.1/servers/:id/tags', async (req) => ({ tags: await tagsOf((await tagTarget(req, false)).id) }));
  app.get('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const r = await tagTarget(req, false);
    const tag = (req.params as { tag: string }).tag;
    if (!(await tagsOf(r.id)).includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
    reply.status(204).send();
  });
  app.put('/v2.1/servers/:id/tags', async (req) => {
    const r = await tagTarget(req, true);
    const tags = checkTags((req.body as { tags?: unknown } | undefined)?.tags);
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('instance_tag').where('instance_id', '=', r.id).execute();
      if (tags.length) await trx.insertInto('instance_tag').values(tags.map((tag) => ({ instance_id: r.id, tag }))).execute();
      await trx.updateTable('instance').set({ updated_at: now() }).where('id', '=', r.id).execute();
    });
    return { tags: await tagsOf(r.id) };
  });
  app.put('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const r = await tagTarget(req, true);
    const tag = checkTags([(req.params as { tag: string }).tag])[0]!;
    const existing = await tagsOf(r.id);
    if (existing.includes(tag)) { reply.status(204).send(); return; }
    if (existing.length >= 50) throw badRequest(`The number of tags exceeded the per-server limit 50`);
    await db.insertInto('instance_tag').values({ instance_id: r.id, tag }).execute();
    reply.status(201).header('Location', `${links(req, platform, 'servers', r.id)[0]!.href}/tags/${tag}`).send();
  });
  app.delete('/v2.1/servers/:id/tags', async (req, reply) => {
    const r = await tagTarget(req, true);
    await db.deleteFrom('instance_tag').where('instance_id', '=', r.id).execute();
    reply.status(204).send();
  });
  app.delete('/v2.1/servers/:id/tags/:tag', async (req, reply) => {
    const r = await tagTarget(req, true);
    const tag = (req.params as { tag: string }).tag;
    const gone = await db.deleteFrom('instance_tag').where('instance_id', '=', r.id).where('tag', '=', tag).executeTakeFirst();
    if (!Number(gone.numDeletedRows)) throw notFound(`Tag ${tag} could not be found.`);
    reply.status(204).send();
  });
}

export { isUuid };
