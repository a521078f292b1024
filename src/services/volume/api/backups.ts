import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import {
  badRequest, bodyOf, bool, cinderTime, isUuid, links, metadataMap, mv, optString, projectScope, requireAdmin, requireMember, requireVersion, route,
  type VolumeDeps,
} from './common.js';
import { listQuery, nextLinks, pageOf, refuseUnknownFilters } from './listing.js';
import { volumeZones } from '../logic/volumes.js';
import {
  BACKUP_RESET_STATUSES, backupDeps, createBackup, deleteBackup, dependentCounts, exportRecord, importRecord, resetBackupStatus, restoreBackup,
  visibleBackup,
} from '../logic/backups.js';
import type { BackupRow } from '../store.js';

/**
 * Volume backups (`/backups`): create (full or incremental, of a volume or one of its
 * snapshots), list (summary and detail, filters, paging, sorting), show, update (3.9),
 * delete, restore, export/import of backup records (admin) and the backup actions
 * (`os-reset_status`, `os-force_delete`, admin).
 */

const SORT_KEYS = ['id', 'name', 'description', 'status', 'size', 'volume_id', 'snapshot_id', 'project_id', 'user_id', 'container', 'availability_zone',
  'object_count', 'data_timestamp', 'created_at', 'updated_at'] as const;
const QUERY_KEYS = new Set(['name', 'display_name', 'status', 'volume_id', 'all_tenants', 'project_id', 'limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir',
  'with_count']);

/** The summary Cinder returns on create, update, import and in `GET /backups`. */
function backupSummary(req: FastifyRequest, d: VolumeDeps, b: BackupRow) {
  return { id: b.id, name: b.name, links: links(req, d.platform, 'backups', b.id, b.project_id) };
}

/**
 * One backup in full, per microversion: `metadata` from 3.43; for admins the owning project
 * (3.18) and user (3.56), as Cinder's backup-attributes policy has it.
 */
export function backupView(req: FastifyRequest, d: VolumeDeps, b: BackupRow, dependents: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: b.id, status: b.status, size: b.size, object_count: b.object_count, availability_zone: b.availability_zone, container: b.container,
    created_at: cinderTime(b.created_at), updated_at: cinderTime(b.updated_at), name: b.name, description: b.description, fail_reason: b.fail_reason,
    volume_id: b.volume_id, links: links(req, d.platform, 'backups', b.id, b.project_id), is_incremental: b.is_incremental === 1,
    has_dependent_backups: dependents > 0, snapshot_id: b.snapshot_id, data_timestamp: cinderTime(b.data_timestamp),
  };
  if (mv(req, '3.43')) out.metadata = JSON.parse(b.metadata) as Record<string, string>;
  if (req.ctx.isAdmin && mv(req, '3.18')) out['os-backup-project-attr:project_id'] = b.project_id;
  if (req.ctx.isAdmin && mv(req, '3.56')) out.user_id = b.user_id;
  return out;
}

function noOthers(b: Record<string, unknown>, allowed: string[], what: string): void {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length) throw badRequest(`Invalid input for field/attribute ${what}. Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
}

const trimmed = (v: string | null) => (v === null ? null : v.trim());

function uuidOrNull(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (!isUuid(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a 'uuid'`);
  return v;
}

type BackupAction = (req: FastifyRequest, reply: FastifyReply, b: BackupRow, args: unknown) => Promise<unknown>;

export async function backupRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const bd = backupDeps(d);
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  const full = async (req: FastifyRequest, rows: BackupRow[]) => {
    const deps = await dependentCounts(d.db, rows.map((r) => r.id));
    return rows.map((r) => backupView(req, d, r, deps.get(r.id) ?? 0));
  };

  route(app, 'post', '/backups', async (req, reply) => {
    requireMember(req.ctx, 'backup:create');
    const b = bodyOf(req, 'backup');
    const allowed = ['volume_id', 'container', 'description', 'incremental', 'force', 'name', 'snapshot_id'];
    if (mv(req, '3.43')) allowed.push('metadata');
    if (mv(req, '3.51')) allowed.push('availability_zone');
    noOthers(b, allowed, 'backup');
    if (b.volume_id === undefined) throw badRequest("Invalid input for field/attribute backup. 'volume_id' is a required property");
    if (!isUuid(b.volume_id)) throw badRequest(`Invalid input for field/attribute volume_id. Value: ${JSON.stringify(b.volume_id)}. ${JSON.stringify(b.volume_id)} is not a 'uuid'`);
    const az = optString(b.availability_zone, 'availability_zone');
    if (az !== null && !volumeZones(d.platform).includes(az)) throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
    const row = await createBackup(bd, req.ctx, {
      volumeId: b.volume_id,
      name: trimmed(optString(b.name, 'name')),
      description: trimmed(optString(b.description, 'description')),
      container: optString(b.container, 'container'),
      incremental: b.incremental === undefined || b.incremental === null ? false : bool(b.incremental, 'incremental'),
      force: b.force === undefined || b.force === null ? false : bool(b.force, 'force'),
      snapshotId: uuidOrNull(b.snapshot_id, 'snapshot_id'),
      metadata: b.metadata === undefined || b.metadata === null ? {} : metadataMap(b.metadata),
      availabilityZone: az,
    });
    reply.status(202);
    return { backup: backupSummary(req, d, row) };
  });

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const q = req.query as Record<string, string | undefined>;
    refuseUnknownFilters(req, QUERY_KEYS);
    const lq = listQuery(req, SORT_KEYS);
    const project = projectScope(req);
    let sel = d.db.selectFrom('backup').selectAll();
    if (project) sel = sel.where('project_id', '=', project);
    const name = q.name ?? q.display_name;
    if (name !== undefined) sel = sel.where('name', '=', name);
    if (q.status !== undefined) sel = sel.where('status', '=', q.status);
    if (q.volume_id !== undefined) sel = sel.where('volume_id', '=', q.volume_id);
    const rows = await sel.execute();
    const items = pageOf(rows, lq, (r, k) => (r as unknown as Record<string, unknown>)[k]);
    const backups = detail ? await full(req, items) : items.map((r) => backupSummary(req, d, r));
    const out: Record<string, unknown> = { backups, ...nextLinks(req, d.platform, 'backups', items, lq.limit) };
    if (mv(req, '3.45') && q.with_count !== undefined && bool(q.with_count, 'with_count')) out.count = rows.length;
    return out;
  };
  route(app, 'get', '/backups', list(false));
  route(app, 'get', '/backups/detail', list(true));

  route(app, 'get', '/backups/:id', async (req) => {
    const b = await visibleBackup(d.db, req.ctx, idOf(req));
    return { backup: (await full(req, [b]))[0] };
  });

  route(app, 'put', '/backups/:id', async (req) => {
    requireVersion(req, '3.9');
    const raw = (req.body as Record<string, unknown> | undefined)?.backup;
    const b = raw === null ? {} : bodyOf(req, 'backup');
    const allowed = ['name', 'description'];
    if (mv(req, '3.43')) allowed.push('metadata');
    noOthers(b, allowed, 'backup');
    const backup = await visibleBackup(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'backup:update');
    const values: Partial<BackupRow> = { updated_at: now() };
    if ('name' in b) values.name = trimmed(optString(b.name, 'name'));
    if ('description' in b) values.description = trimmed(optString(b.description, 'description'));
    if ('metadata' in b) values.metadata = JSON.stringify(metadataMap(b.metadata));
    await d.db.updateTable('backup').set(values).where('id', '=', backup.id).execute();
    return { backup: backupSummary(req, d, { ...backup, ...values }) };
  });

  route(app, 'delete', '/backups/:id', async (req, reply) => {
    const backup = await visibleBackup(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'backup:delete');
    await deleteBackup(bd, backup);
    return reply.status(202).send();
  });

  route(app, 'post', '/backups/:id/restore', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !('restore' in body)) throw badRequest("Invalid input for field/attribute restore. 'restore' is a required property");
    const r = body.restore === null ? {} : bodyOf(req, 'restore');
    noOthers(r, ['name', 'volume_id'], 'restore');
    const volumeId = uuidOrNull(r.volume_id, 'volume_id');
    const name = trimmed(optString(r.name, 'name'));
    const backup = await visibleBackup(d.db, req.ctx, idOf(req));
    requireMember(req.ctx, 'backup:restore');
    const restore = await restoreBackup(bd, req.ctx, backup, { volumeId, name });
    reply.status(202);
    return { restore: { ...restore, volume_name: restore.volume_name ?? '' } };
  });

  route(app, 'get', '/backups/:id/export_record', async (req) => {
    const backup = await visibleBackup(d.db, req.ctx, idOf(req));
    requireAdmin(req.ctx, 'backup:export-import');
    return { 'backup-record': exportRecord(bd, backup) };
  });

  route(app, 'post', '/backups/import_record', async (req, reply) => {
    requireAdmin(req.ctx, 'backup:backup-import');
    const r = bodyOf(req, 'backup-record');
    noOthers(r, ['backup_service', 'backup_url'], 'backup-record');
    for (const k of ['backup_service', 'backup_url']) {
      if (typeof r[k] !== 'string' || !r[k]) throw badRequest(`Invalid input for field/attribute backup-record. '${k}' is a required property`);
    }
    const row = await importRecord(bd, req.ctx, r.backup_service as string, r.backup_url as string);
    reply.status(201);
    return { backup: backupSummary(req, d, row) };
  });

  const actions: Record<string, BackupAction> = {
    'os-reset_status': async (req, reply, b, args) => {
      requireAdmin(req.ctx, 'volume_extension:backup_admin_actions:reset_status');
      const a = args as Record<string, unknown> | null;
      if (!a || typeof a !== 'object' || Array.isArray(a)) throw badRequest("Invalid input for field/attribute os-reset_status. 'status' is a required property");
      noOthers(a, ['status'], 'os-reset_status');
      const status = typeof a.status === 'string' ? a.status.toLowerCase() : null;
      if (!status || !BACKUP_RESET_STATUSES.includes(status)) {
        throw badRequest(`Invalid input received: Backup status: ${String(a.status)} is invalid, valid statuses are: ${BACKUP_RESET_STATUSES.join(', ')}.`);
      }
      await resetBackupStatus(bd, b, status);
      return reply.status(202).send();
    },
    'os-force_delete': async (req, reply, b) => {
      requireAdmin(req.ctx, 'volume_extension:backup_admin_actions:force_delete');
      await deleteBackup(bd, b, true);
      return reply.status(202).send();
    },
  };
  route(app, 'post', '/backups/:id/action', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Malformed request body');
    const keys = Object.keys(body);
    const name = keys.find((k) => k in actions);
    if (!name || keys.length !== 1) throw badRequest(`There is no such action: ${keys.join(', ') || '(none)'}`);
    const backup = await visibleBackup(d.db, req.ctx, idOf(req));
    return actions[name]!(req, reply, backup, body[name]);
  });
}
