import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import { callerOf, type ComputeTask } from '../logic/manager.js';
import { checkComputeQuota } from '../logic/quota.js';
import { serverStatus, VM } from '../logic/states.js';
import type { EmbeddedFlavor, InstanceRow } from '../store.js';
import { badRequest, bool, conflict, forbidden, int, links, metadataMap, mv, name as checkName, notFound, str, type ComputeDeps } from './common.js';
import { accessIp, embed, extraSpecsOf, isUuid, usableFlavor } from './server-request.js';
import { findServer, recordAction, requestIdOf } from './servers.js';
import { serverExtras, serverView, trimmedServerView } from '../views.js';

/**
 * POST /servers/{id}/action: every server action, each checked against the states Nova
 * allows it from (409 "Cannot '<action>' instance … while it is in vm_state …" otherwise),
 * the lock, and policy; then the task_state clients see is set and the manager does the work.
 */
interface ActionDef {
  /** Nova's name in the 409 message and the instance action record. */
  name: string;
  /** vm_states the action is allowed from (null: any). */
  from: string[] | null;
  /** task_states it is allowed with (default: only none). */
  tasks?: Array<string | null>;
  admin?: boolean;
  /** Allowed on a locked server (unlock itself, and admin-only actions). */
  ignoresLock?: boolean;
  minVersion?: string;
  maxVersion?: string;
}

const ACTIVE_LIKE = [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED];
const ACTIONS: Record<string, ActionDef> = {
  reboot: { name: 'reboot', from: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED, VM.ERROR], tasks: [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'] },
  'os-stop': { name: 'stop', from: [VM.ACTIVE, VM.ERROR, VM.RESCUED] },
  'os-start': { name: 'start', from: [VM.STOPPED] },
  pause: { name: 'pause', from: [VM.ACTIVE] },
  unpause: { name: 'unpause', from: [VM.PAUSED] },
  suspend: { name: 'suspend', from: [VM.ACTIVE] },
  resume: { name: 'resume', from: [VM.SUSPENDED] },
  lock: { name: 'lock', from: null, tasks: undefined, ignoresLock: true },
  unlock: { name: 'unlock', from: null, ignoresLock: true },
  rescue: { name: 'rescue', from: [VM.ACTIVE, VM.STOPPED, VM.ERROR] },
  unrescue: { name: 'unrescue', from: [VM.RESCUED] },
  resize: { name: 'resize', from: [VM.ACTIVE, VM.STOPPED] },
  confirmResize: { name: 'confirmResize', from: [VM.RESIZED] },
  revertResize: { name: 'revertResize', from: [VM.RESIZED] },
  rebuild: { name: 'rebuild', from: [VM.ACTIVE, VM.STOPPED, VM.ERROR] },
  createImage: { name: 'createImage', from: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED] },
  shelve: { name: 'shelve', from: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED] },
  shelveOffload: { name: 'shelveOffload', from: [VM.SHELVED] },
  unshelve: { name: 'unshelve', from: [VM.SHELVED, VM.SHELVED_OFFLOADED] },
  migrate: { name: 'migrate', from: [VM.ACTIVE, VM.STOPPED], admin: true },
  'os-migrateLive': { name: 'live-migration', from: [VM.ACTIVE, VM.PAUSED], admin: true },
  evacuate: { name: 'evacuate', from: [VM.ACTIVE, VM.STOPPED, VM.ERROR], admin: true },
  trigger_crash_dump: { name: 'trigger_crash_dump', from: [VM.ACTIVE, VM.PAUSED, VM.RESCUED, VM.RESIZED, VM.ERROR], minVersion: '2.17' },
  restore: { name: 'restore', from: [VM.SOFT_DELETED] },
  forceDelete: { name: 'forceDelete', from: [VM.SOFT_DELETED] },
  'os-resetState': { name: 'resetState', from: null, tasks: null as never, admin: true, ignoresLock: true },
  changePassword: { name: 'changePassword', from: [VM.ACTIVE] },
  addSecurityGroup: { name: 'addSecurityGroup', from: null, tasks: null as never },
  removeSecurityGroup: { name: 'removeSecurityGroup', from: null, tasks: null as never },
  'os-getConsoleOutput': { name: 'getConsoleOutput', from: null, tasks: null as never, ignoresLock: true },
  'os-getVNCConsole': { name: 'getVNCConsole', from: null, tasks: null as never, ignoresLock: true, maxVersion: '2.5' },
  'os-getSPICEConsole': { name: 'getSPICEConsole', from: null, tasks: null as never, ignoresLock: true, maxVersion: '2.5' },
  'os-getSerialConsole': { name: 'getSerialConsole', from: null, tasks: null as never, ignoresLock: true, maxVersion: '2.5' },
  createBackup: { name: 'createBackup', from: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED] },
  addFloatingIp: { name: 'addFloatingIp', from: null, tasks: null as never, maxVersion: '2.43' },
  removeFloatingIp: { name: 'removeFloatingIp', from: null, tasks: null as never, maxVersion: '2.43' },
  addFixedIp: { name: 'addFixedIp', from: null, tasks: null as never, maxVersion: '2.43' },
  removeFixedIp: { name: 'removeFixedIp', from: null, tasks: null as never, maxVersion: '2.43' },
};

export async function actionRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform, manager } = deps;

  app.post('/v2.1/servers/:id/action', async (req, reply) => {
    const ctx = req.ctx;
    const body = req.body as Record<string, unknown> | undefined;
    const keys = body && typeof body === 'object' ? Object.keys(body) : [];
    if (keys.length !== 1) throw badRequest('There is no such action: ' + (keys.join(', ') || 'None'));
    const action = keys[0]!;
    const def = ACTIONS[action];
    const inst = await findServer(db, ctx, (req.params as { id: string }).id);
    if (!def) throw badRequest(`There is no such action: ${action}`);
    if ((def.minVersion && !mv(req, def.minVersion)) || (def.maxVersion && mv(req, nextMinor(def.maxVersion)))) throw notFound('The resource could not be found.');
    if (def.admin && !ctx.isAdmin) throw forbidden(`Policy doesn't allow os_compute_api:os-${def.name} to be performed.`);
    if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden(`Policy doesn't allow os_compute_api:servers:${def.name} to be performed.`);
    if (inst.locked && !def.ignoresLock && !ctx.isAdmin) throw conflict(`Instance ${inst.id} is locked`);
    if (def.from && !def.from.includes(inst.vm_state as never)) throw stateConflict(def.name, inst, 'vm_state', inst.vm_state);
    const allowedTasks = def.tasks === undefined ? [null] : def.tasks;
    if (def.from && allowedTasks && !allowedTasks.includes(inst.task_state)) throw stateConflict(def.name, inst, 'task_state', inst.task_state);
    const arg = body![action];
    const requestId = requestIdOf(req);
    /** Sets the task_state the client sees, records the action and queues the manager's work, in one transaction. */
    const start = async (taskState: string | null, task: ComputeTask, extra: Partial<InstanceRow> = {}) => {
      await db.transaction().execute(async (trx) => {
        // The state check again, under the row's update: two racing actions, one wins.
        const q = trx.updateTable('instance').set({ task_state: taskState, updated_at: now(), ...extra }).where('id', '=', inst.id);
        const done = await (inst.task_state === null ? q.where('task_state', 'is', null) : q.where('task_state', '=', inst.task_state)).executeTakeFirst();
        if (!Number(done.numUpdatedRows)) throw stateConflict(def.name, inst, 'task_state', 'busy');
        await recordAction(trx, inst, def.name, ctx, requestId);
        await manager.enqueue(inst.id, task, trx);
      });
    };
    const caller = callerOf(ctx);
    const accepted = () => { reply.status(202).send(); };

    switch (action) {
      case 'reboot': {
        const type = String((arg as { type?: unknown })?.type ?? '').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD') throw badRequest(`Invalid input for field/attribute type. Value: ${String((arg as { type?: unknown })?.type)}. '${String((arg as { type?: unknown })?.type)}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`);
        if (type === 'SOFT' && inst.vm_state !== VM.ACTIVE) throw stateConflict('reboot', inst, 'vm_state', inst.vm_state);
        // A hard reboot starts a stopped server, as the documents promise.
        return start(type === 'HARD' ? 'rebooting_hard' : 'rebooting', { action: 'reboot', kind: type, ctx: caller, requestId }).then(accepted);
      }
      case 'os-stop': return start('powering-off', { action: 'stop', ctx: caller, requestId }).then(accepted);
      case 'os-start': return start('powering-on', { action: 'start', ctx: caller, requestId }).then(accepted);
      case 'pause': return start('pausing', { action: 'pause', ctx: caller, requestId }).then(accepted);
      case 'unpause': return start('unpausing', { action: 'unpause', ctx: caller, requestId }).then(accepted);
      case 'suspend': return start('suspending', { action: 'suspend', ctx: caller, requestId }).then(accepted);
      case 'resume': return start('resuming', { action: 'resume', ctx: caller, requestId }).then(accepted);
      case 'trigger_crash_dump': {
        if (inst.vm_state !== VM.ACTIVE && inst.vm_state !== VM.PAUSED && inst.vm_state !== VM.RESCUED && inst.vm_state !== VM.RESIZED && inst.vm_state !== VM.ERROR) throw stateConflict(def.name, inst, 'vm_state', inst.vm_state);
        await deps.driver.triggerCrashDump(inst.id);
        await db.transaction().execute((trx) => recordAction(trx, inst, def.name, ctx, requestId));
        return accepted();
      }
      case 'lock': {
        const reason = mv(req, '2.73') && arg && typeof arg === 'object' && (arg as { locked_reason?: unknown }).locked_reason !== undefined
          ? str((arg as { locked_reason?: unknown }).locked_reason, 'locked_reason', { max: 255 }) : null;
        if (arg !== null && arg !== undefined && typeof arg === 'object' && Object.keys(arg).some((k) => k !== 'locked_reason' || !mv(req, '2.73'))) {
          throw badRequest(`Invalid input for field/attribute lock. Value: ${JSON.stringify(arg)}. Additional properties are not allowed`);
        }
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('instance').set({ locked: 1, locked_by: ctx.isAdmin && inst.project_id !== ctx.projectId ? 'admin' : 'owner', locked_reason: reason, updated_at: now() }).where('id', '=', inst.id).execute();
          await recordAction(trx, inst, 'lock', ctx, requestId);
        });
        return accepted();
      }
      case 'unlock': {
        if (inst.locked && inst.locked_by === 'admin' && !ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('instance').set({ locked: 0, locked_by: null, locked_reason: null, updated_at: now() }).where('id', '=', inst.id).execute();
          await recordAction(trx, inst, 'unlock', ctx, requestId);
        });
        return accepted();
      }
      case 'rescue': {
        const a = (arg ?? {}) as { rescue_image_ref?: unknown; adminPass?: unknown };
        if (deps.manager.isVolumeBacked(inst) && !mv(req, '2.87')) throw badRequest('Cannot rescue a volume-backed instance');
        let imageId = inst.image_ref;
        if (a.rescue_image_ref !== undefined) {
          imageId = String(a.rescue_image_ref).split('/').pop()!;
          if (!isUuid(imageId)) throw badRequest(`Invalid input for field/attribute rescue_image_ref. Value: ${String(a.rescue_image_ref)}.`);
          const img = await deps.image.getImage(ctx, imageId).catch(() => null);
          if (!img) throw badRequest(`Image ${imageId} could not be found.`);
        }
        if (!imageId && deps.manager.isVolumeBacked(inst)) {
          // 2.87: a volume-backed server is rescued from the image its root volume was made from.
          imageId = (JSON.parse(inst.system_metadata) as Record<string, string>).boot_volume_image_id ?? '';
        }
        if (!imageId) throw badRequest('Cannot rescue a volume-backed instance without a rescue image');
        const adminPass = a.adminPass === undefined ? randomPassword() : str(a.adminPass, 'adminPass')!;
        await start('rescuing', { action: 'rescue', imageId, ctx: caller, requestId });
        reply.status(200);
        return { adminPass };
      }
      case 'unrescue': return start('unrescuing', { action: 'unrescue', ctx: caller, requestId }).then(accepted);
      case 'resize': {
        const a = arg as { flavorRef?: unknown; 'OS-DCF:diskConfig'?: unknown } | null;
        if (!a || typeof a !== 'object' || a.flavorRef === undefined) throw badRequest(`Invalid input for field/attribute resize. 'flavorRef' is a required property`);
        const f = await usableFlavor(deps, ctx, String(a.flavorRef));
        if (!f) throw badRequest(`Flavor ${String(a.flavorRef)} could not be found.`);
        const current = JSON.parse(inst.flavor) as EmbeddedFlavor;
        if (f.id === current.id) throw badRequest('When resizing, instances must change flavor!');
        if (f.disk === 0 && current.disk > 0 && !deps.manager.isVolumeBacked(inst)) throw forbidden('Resize to zero disk flavor is not allowed.');
        if (f.disk < current.disk && !deps.manager.isVolumeBacked(inst)) throw badRequest('Resize error: Unable to resize disk down.');
        const next = embed(f, await extraSpecsOf(deps, f.id));
        await db.transaction().execute(async (trx) => {
          // The quota holds the larger of the two flavors until the resize is confirmed or reverted.
          await checkComputeQuota(trx, platform.dialect, inst.project_id, { cores: Math.max(0, next.vcpus - current.vcpus), ram: Math.max(0, next.ram - current.ram) }, inst.user_id);
          const disk = a['OS-DCF:diskConfig'] === undefined ? {} : { system_metadata: withDiskConfig(inst, a['OS-DCF:diskConfig']) };
          const q = await trx.updateTable('instance').set({ task_state: 'resize_prep', new_flavor: JSON.stringify(next), updated_at: now(), ...disk }).where('id', '=', inst.id).where('task_state', 'is', null).executeTakeFirst();
          if (!Number(q.numUpdatedRows)) throw stateConflict('resize', inst, 'task_state', 'busy');
          await recordAction(trx, inst, 'resize', ctx, requestId);
          await manager.enqueue(inst.id, { action: 'resize', flavor: next, ctx: caller, requestId }, trx);
        });
        return accepted();
      }
      case 'confirmResize':
        await start('resize_confirming' as never, { action: 'confirmResize', ctx: caller, requestId }, {});
        reply.status(204).send();
        return;
      case 'revertResize': return start('resize_reverting', { action: 'revertResize', ctx: caller, requestId }).then(accepted);
      case 'migrate': {
        const host = arg && typeof arg === 'object' && mv(req, '2.56') ? (arg as { host?: unknown }).host : undefined;
        if (host !== undefined && host !== null) await requireHost(deps, String(host));
        return start('resize_prep', { action: 'migrate', flavor: null, host: host ? String(host) : null, ctx: caller, requestId }).then(accepted);
      }
      case 'os-migrateLive': {
        const a = (arg ?? {}) as { host?: unknown; block_migration?: unknown };
        if (a.block_migration === undefined) throw badRequest(`Invalid input for field/attribute os-migrateLive. 'block_migration' is a required property`);
        if (a.host !== undefined && a.host !== null) await requireHost(deps, String(a.host));
        if (a.host && a.host === inst.host) throw badRequest(`The supplied hypervisor type of is invalid.`);
        return start('migrating', { action: 'liveMigrate', host: a.host ? String(a.host) : null, ctx: caller, requestId }).then(accepted);
      }
      case 'evacuate': {
        const a = (arg ?? {}) as { host?: unknown };
        if (a.host !== undefined && a.host !== null) await requireHost(deps, String(a.host));
        const node = inst.host ? await db.selectFrom('compute_node').select(['forced_down', 'status']).where('host', '=', inst.host).executeTakeFirst() : null;
        if (node && !node.forced_down) throw badRequest(`Compute service of ${inst.host} is still in use.`);
        await start('rebuilding', { action: 'evacuate', host: a.host ? String(a.host) : null, ctx: caller, requestId });
        reply.status(200);
        return mv(req, '2.14') ? undefined : { adminPass: randomPassword() };
      }
      case 'rebuild': return rebuild(req, deps, inst, arg, start, caller, requestId, reply);
      case 'createImage':
      case 'createBackup': {
        const a = (arg ?? {}) as { name?: unknown; metadata?: unknown; backup_type?: unknown; rotation?: unknown };
        const imageName = checkName(a.name, 'name');
        const props = a.metadata === undefined ? {} : metadataMap(a.metadata, 'metadata');
        let backup: { type: string; rotation: number } | null = null;
        if (action === 'createBackup') {
          if (a.backup_type === undefined || a.rotation === undefined) throw badRequest(`Invalid input for field/attribute createBackup. 'backup_type' and 'rotation' are required properties`);
          backup = { type: str(a.backup_type, 'backup_type')!, rotation: int(a.rotation, 'rotation', 0) };
          Object.assign(props, { image_type: 'backup', backup_type: backup.type });
        }
        const base = inst.image_ref ? await deps.image.getImage(ctx, inst.image_ref).catch(() => null) : null;
        const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
        if (action === 'createImage' && deps.manager.isVolumeBacked(inst)) {
          const imageId = await snapshotVolumeBacked(deps, ctx, inst, imageName, props, base);
          await db.transaction().execute((trx) => recordAction(trx, inst, 'createImage', ctx, requestId));
          reply.status(202).header('Location', `${req.protocol}://${req.headers.host}/image/v2/images/${imageId}`);
          return mv(req, '2.45') ? { image_id: imageId } : reply.send();
        }
        const inherited = Object.fromEntries(Object.entries(sys).filter(([k]) => k.startsWith('image_') && !['image_disk_format', 'image_min_ram', 'image_min_disk'].includes(k)).map(([k, v]) => [k.slice(6), v]));
        const image = await deps.image.createQueued(ctx, {
          name: imageName, disk_format: base?.disk_format ?? 'raw', container_format: base?.container_format ?? 'bare',
          min_disk: (JSON.parse(inst.flavor) as EmbeddedFlavor).disk, min_ram: base?.min_ram ?? 0,
          // The caller's metadata wins over what Nova adds (Tempest sets image_type itself).
          properties: { ...inherited, image_type: 'snapshot', instance_uuid: inst.id, user_id: ctx.userId, ...(inst.image_ref ? { base_image_ref: inst.image_ref } : {}), ...props },
        });
        await start(backup ? 'image_backup' : 'image_snapshot', { action: 'createImage', imageId: image.id, ctx: caller, requestId, ...(backup ? { backup } : {}) });
        const location = `${req.protocol}://${req.headers.host}/image/v2/images/${image.id}`;
        reply.status(202).header('Location', location);
        return mv(req, '2.45') ? { image_id: image.id } : reply.send();
      }
      case 'shelve': {
        let imageId: string | null = null;
        if (!deps.manager.isVolumeBacked(inst)) {
          const base = await deps.image.getImage(ctx, inst.image_ref).catch(() => null);
          const image = await deps.image.createQueued(ctx, {
            name: `${inst.name}-shelved`, disk_format: base?.disk_format ?? 'raw', container_format: base?.container_format ?? 'bare',
            properties: { image_type: 'snapshot', instance_uuid: inst.id, base_image_ref: inst.image_ref },
          });
          imageId = image.id;
        }
        const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
        await start('shelving', { action: 'shelve', imageId, ctx: caller, requestId }, {
          system_metadata: JSON.stringify({ ...sys, ...(imageId ? { shelved_image_id: imageId } : {}), shelved_at: String(now()) }),
        });
        return accepted();
      }
      case 'shelveOffload': return accepted();
      case 'unshelve': {
        let zone: string | null = null;
        let host: string | null = null;
        if (arg && typeof arg === 'object' && mv(req, '2.77')) {
          const a = arg as { availability_zone?: unknown; host?: unknown };
          if (a.availability_zone !== undefined && a.availability_zone !== null) zone = str(a.availability_zone, 'availability_zone')!;
          // 2.91: an admin may name the host an offloaded server comes back on.
          if (a.host !== undefined && mv(req, '2.91')) {
            if (!ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
            if (inst.vm_state !== VM.SHELVED_OFFLOADED) throw conflict(`Cannot 'unshelve' instance ${inst.id} while it is in vm_state ${inst.vm_state}: a host can only be given for a shelved offloaded server.`);
            host = str(a.host, 'host')!;
            if (!(await db.selectFrom('compute_node').select('host').where('host', '=', host).executeTakeFirst())) throw badRequest(`Compute host ${host} could not be found.`);
          }
        }
        const flavor = JSON.parse(inst.flavor) as EmbeddedFlavor;
        await db.transaction().execute(async (trx) => {
          // Unshelving takes the resources back: the quota is checked again.
          if (inst.vm_state === VM.SHELVED_OFFLOADED) await checkComputeQuota(trx, platform.dialect, inst.project_id, { cores: flavor.vcpus, ram: flavor.ram }, inst.user_id);
          const q = await trx.updateTable('instance').set({ task_state: 'unshelving', updated_at: now() }).where('id', '=', inst.id).where('task_state', 'is', null).executeTakeFirst();
          if (!Number(q.numUpdatedRows)) throw stateConflict('unshelve', inst, 'task_state', 'busy');
          await recordAction(trx, inst, 'unshelve', ctx, requestId);
          await manager.enqueue(inst.id, { action: 'unshelve', zone, host, ctx: caller, requestId }, trx);
        });
        return accepted();
      }
      case 'os-resetState': {
        const state = String((arg as { state?: unknown })?.state ?? '');
        if (state !== 'active' && state !== 'error') throw badRequest(`Invalid input for field/attribute state. Value: ${state}. '${state}' is not one of ['active', 'error']`);
        await db.transaction().execute(async (trx) => {
          await trx.updateTable('instance').set({ vm_state: state, task_state: null, updated_at: now() }).where('id', '=', inst.id).execute();
          await recordAction(trx, inst, 'resetState', ctx, requestId);
        });
        return accepted();
      }
      case 'changePassword': {
        const pass = (arg as { adminPass?: unknown })?.adminPass;
        str(pass, 'adminPass');
        return accepted();
      }
      case 'addSecurityGroup':
      case 'removeSecurityGroup': {
        const groupName = str((arg as { name?: unknown })?.name, 'name', { min: 1 })!;
        const groups = JSON.parse(inst.security_groups) as string[];
        const ids = await deps.network.resolveSecurityGroups(ctx, [groupName]).catch((err: ApiError) => {
          if (err.status === 404) throw notFound(`Security group ${groupName} not found for project ${ctx.projectId}.`);
          throw badRequest(err.message);
        });
        const adding = action === 'addSecurityGroup';
        if (adding && groups.includes(groupName)) throw badRequest(`Security group ${groupName} is already associated with the instance ${inst.id}`);
        if (!adding && !groups.includes(groupName)) throw badRequest(`Security group ${groupName} not associated with the instance ${inst.id}`);
        const next = adding ? [...groups, groupName] : groups.filter((g) => g !== groupName);
        await deps.network.setServerSecurityGroups(ctx, inst.id, await deps.network.resolveSecurityGroups(ctx, next.length ? next : []));
        void ids;
        await db.updateTable('instance').set({ security_groups: JSON.stringify(next), updated_at: now() }).where('id', '=', inst.id).execute();
        return accepted();
      }
      case 'os-getConsoleOutput': {
        const a = (arg ?? {}) as { length?: unknown };
        let lines: number | undefined;
        if (a.length !== undefined && a.length !== null) {
          const n = typeof a.length === 'string' && /^-?\d+$/.test(a.length) ? Number(a.length) : a.length;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) throw badRequest(`Invalid input for field/attribute length. Value: ${String(a.length)}.`);
          lines = n === -1 ? undefined : n;
        }
        if (inst.vm_state === VM.BUILDING || inst.vm_state === VM.SHELVED_OFFLOADED) throw conflict(`Instance ${inst.id} is not ready: console output is not available yet.`);
        reply.status(200);
        return { output: await deps.driver.consoleOutput(inst.id, lines) };
      }
      case 'os-getVNCConsole':
      case 'os-getSPICEConsole':
      case 'os-getSerialConsole': {
        const type = String((arg as { type?: unknown })?.type ?? '');
        if (inst.vm_state !== VM.ACTIVE) throw conflict(`Instance ${inst.id} is not ready`);
        const c = await deps.driver.consoleUrl(inst.id, type);
        reply.status(200);
        return { console: { type: c.type, url: c.url } };
      }
      case 'addFloatingIp':
      case 'removeFloatingIp':
      case 'addFixedIp':
      case 'removeFixedIp':
        return legacyAddressAction(req, deps, inst, action, arg, ctx).then(accepted);
    }
    throw badRequest(`There is no such action: ${action}`);
  });

  void links;
  void serverExtras;
  void serverView;
}

/** OS-DCF:diskConfig on rebuild and resize: kept with the server. */
function withDiskConfig(inst: InstanceRow, v: unknown): string {
  const dc = String(v);
  if (dc !== 'AUTO' && dc !== 'MANUAL') throw badRequest(`OS-DCF:diskConfig must be either 'MANUAL' or 'AUTO'.`);
  return JSON.stringify({ ...(JSON.parse(inst.system_metadata) as object), disk_config: dc });
}

const nextMinor = (v: string) => { const [a, b] = v.split('.').map(Number); return `${a}.${(b ?? 0) + 1}`; };
/**
 * createImage of a volume-backed server, as Nova does it: a snapshot of each attached volume
 * (forced: they are in use), and an image of no bytes whose `block_device_mapping` names the
 * snapshots, so booting from it makes new volumes from them.
 */
async function snapshotVolumeBacked(deps: ComputeDeps, ctx: RequestContext, inst: InstanceRow, imageName: string, props: Record<string, string>, base: { disk_format?: string | null; container_format?: string | null; min_ram?: number | null } | null): Promise<string> {
  const volume = deps.volume;
  if (!volume) throw badRequest('Cannot snapshot a volume-backed server: this cloud runs no block storage service.');
  const bdms = await deps.db.selectFrom('block_device_mapping').selectAll().where('instance_id', '=', inst.id).where('destination_type', '=', 'volume')
    .where('volume_id', 'is not', null).orderBy('created_at').orderBy('id').execute();
  const mappings: Array<Record<string, unknown>> = [];
  for (const b of bdms) {
    const snap = await volume.snapshotVolume(ctx, b.volume_id!, { name: `snapshot for ${imageName}`, force: true }).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 413) throw forbidden(`Quota exceeded: ${err.message}`);
      throw err;
    });
    mappings.push({
      source_type: 'snapshot', destination_type: 'volume', snapshot_id: snap.id, volume_size: snap.size, boot_index: b.boot_index,
      device_name: b.device_name, delete_on_termination: b.delete_on_termination === 1, tag: b.tag, volume_type: b.volume_type,
      guest_format: null, disk_bus: null, device_type: 'disk', no_device: null, image_id: null, volume_id: null,
    });
  }
  const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
  const inherited = Object.fromEntries(Object.entries(sys).filter(([k]) => k.startsWith('image_') && !['image_disk_format', 'image_min_ram', 'image_min_disk'].includes(k)).map(([k, v]) => [k.slice(6), v]));
  const image = await deps.image.createQueued(ctx, {
    name: imageName, disk_format: base?.disk_format ?? 'raw', container_format: base?.container_format ?? 'bare', min_disk: 0, min_ram: base?.min_ram ?? 0,
    properties: {
      ...inherited, image_type: 'snapshot', instance_uuid: inst.id, user_id: ctx.userId, ...(inst.image_ref ? { base_image_ref: inst.image_ref } : {}), ...props,
      block_device_mapping: JSON.stringify(mappings), bdm_v2: 'True', root_device_name: '/dev/vda',
    },
  });
  await deps.image.uploadData(ctx, image.id, Readable.from([]), image.disk_format ?? 'raw');
  return image.id;
}

const randomPassword = () => Math.random().toString(36).slice(2, 14).padEnd(12, 'x');

function stateConflict(action: string, inst: InstanceRow, attr: string, value: string | null) {
  return new ApiError(409, `Cannot '${action}' instance ${inst.id} while it is in ${attr} ${value ?? 'None'}`);
}

async function requireHost(deps: ComputeDeps, host: string): Promise<void> {
  const node = await deps.db.selectFrom('compute_node').select('host').where('host', '=', host).executeTakeFirst();
  if (!node) throw badRequest(`Compute host ${host} could not be found.`);
}

async function rebuild(
  req: FastifyRequest, deps: ComputeDeps, inst: InstanceRow, arg: unknown,
  start: (taskState: string | null, task: ComputeTask, extra?: Partial<InstanceRow>) => Promise<void>,
  caller: ReturnType<typeof callerOf>, requestId: string, reply: { status(n: number): unknown },
) {
  const ctx = req.ctx;
  const a = (arg ?? {}) as Record<string, unknown>;
  if (a.imageRef === undefined) throw badRequest(`Invalid input for field/attribute rebuild. 'imageRef' is a required property`);
  const imageId = String(a.imageRef).split('/').pop()!;
  if (!isUuid(imageId)) throw badRequest('Invalid imageRef provided.');
  const img = await deps.image.getImage(ctx, imageId).catch(() => null);
  if (!img) throw badRequest(`Image ${imageId} could not be found.`);
  if (img.status !== 'active') throw badRequest(`Image ${imageId} is not active.`);
  if (deps.manager.isVolumeBacked(inst) && imageId !== inst.image_ref) throw badRequest('Rebuild of a volume-backed server with a new image is not supported.');
  const extra: Partial<InstanceRow> = {};
  if (a.name !== undefined) extra.name = checkName(a.name);
  if (a.metadata !== undefined) extra.metadata = JSON.stringify(metadataMap(a.metadata));
  if (a.accessIPv4 !== undefined) extra.access_ip_v4 = a.accessIPv4 === null ? '' : String(a.accessIPv4);
  if (a.accessIPv6 !== undefined) extra.access_ip_v6 = a.accessIPv6 === null ? '' : accessIp(a.accessIPv6, 6);
  if (a.accessIPv4 !== undefined && a.accessIPv4 !== null) extra.access_ip_v4 = accessIp(a.accessIPv4, 4);
  if (a.description !== undefined && mv(req, '2.19')) extra.description = str(a.description, 'description', { max: 255, allowNull: true });
  if (a.key_name !== undefined && mv(req, '2.54')) {
    if (a.key_name === null) { extra.key_name = null; extra.key_data = null; } else {
      const kp = await deps.db.selectFrom('keypair').selectAll().where('user_id', '=', ctx.userId).where('name', '=', String(a.key_name)).executeTakeFirst();
      if (!kp) throw badRequest('Invalid key_name provided.');
      extra.key_name = kp.name;
      extra.key_data = kp.public_key;
    }
  }
  if (a.user_data !== undefined && mv(req, '2.57')) extra.user_data = a.user_data === null ? null : String(a.user_data);
  if (a.preserve_ephemeral !== undefined) bool(a.preserve_ephemeral, 'preserve_ephemeral');
  if (a['OS-DCF:diskConfig'] !== undefined) extra.system_metadata = withDiskConfig(inst, a['OS-DCF:diskConfig']);
  await start('rebuilding', { action: 'rebuild', imageId, ctx: caller, requestId }, { ...extra, image_ref: inst.image_ref ? imageId : inst.image_ref });
  const fresh = (await deps.db.selectFrom('instance').selectAll().where('id', '=', inst.id).executeTakeFirst())!;
  const x = await serverExtras(deps.db, (ids) => deps.network.interfacesOf(ids), [fresh]);
  // Nova's rebuild answer: the server with the new status and adminPass, without the extended attributes before 2.75.
  const v = trimmedServerView(req, serverView(req, deps.platform, fresh, x, ctx.isAdmin) as Record<string, unknown>, true);
  v.status = serverStatus(fresh.vm_state, fresh.task_state);
  if (mv(req, '2.57')) v.user_data = fresh.user_data;
  v.adminPass = a.adminPass === undefined ? randomPassword() : String(a.adminPass);
  reply.status(202);
  return { server: v };
}

/** The pre-2.44 address actions: a floating IP by address, a fixed IP on a network. */
async function legacyAddressAction(req: FastifyRequest, deps: ComputeDeps, inst: InstanceRow, action: string, arg: unknown, ctx: RequestContext): Promise<void> {
  const a = (arg ?? {}) as Record<string, unknown>;
  if (action === 'addFloatingIp' || action === 'removeFloatingIp') {
    const address = str(a.address, 'address')!;
    if (!address) throw badRequest('Invalid input for field/attribute address.');
    if (action === 'addFloatingIp') {
      // Nova answers 400 where Neutron refuses the association (the fixed IP already has one, no router path).
      await deps.network.associateFloatingIp(ctx, inst.id, address, a.fixed_address === undefined ? null : String(a.fixed_address))
        .catch((err: ApiError) => { throw err.status === 409 ? badRequest(err.message) : err.status === 404 ? notFound(`floating IP not found`) : err; });
    } else {
      await deps.network.disassociateFloatingIp(ctx, inst.id, address);
    }
    return;
  }
  if (action === 'addFixedIp') {
    const networkId = str(a.networkId, 'networkId')!;
    await deps.network.getNetwork(ctx, networkId).catch(() => { throw badRequest(`Network ${networkId} could not be found.`); });
    await deps.manager.attachInterface(ctx, inst, { networkId });
    return;
  }
  const address = str(a.address, 'address')!;
  const ifaces = (await deps.network.interfacesOf([inst.id])).get(inst.id) ?? [];
  const port = ifaces.find((i) => i.fixedIps.some((f) => f.ipAddress === address));
  if (!port) throw badRequest(`Unable to find address ${address}`);
  await deps.manager.detachInterface(ctx, inst, port.portId);
}

export { ACTIVE_LIKE };
