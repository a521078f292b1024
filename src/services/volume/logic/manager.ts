import type { Kysely } from 'kysely';
import type { Platform } from '../../../platform/service.js';
import { serviceContext, type CallerContext } from '../../../platform/auth/caller.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { ImageService } from '../../image/index.js';
import type { VolumeBackend } from '../drivers/backend/driver.js';
import { writeMetadata, type VolumeRow, type VolumeTables } from '../store.js';

/**
 * The volume manager: carries out what the API accepted, as tasks (one volume's tasks run
 * in order; a task interrupted by a crash runs again, and every backend call is
 * idempotent). The API has already written the transitional status clients see
 * (`creating`, `extending`, `uploading`, `retyping`, `deleting`); the manager does the work
 * and writes the resting status back, or Cinder's error status and a user message.
 */
export type VolumeSource =
  | { kind: 'blank' }
  | { kind: 'image'; imageId: string }
  | { kind: 'snapshot'; snapshotId: string }
  | { kind: 'volume'; volumeId: string };

export type VolumeTask =
  | { action: 'create'; source: VolumeSource; ctx: CallerContext }
  | { action: 'delete'; ctx: CallerContext }
  | { action: 'extend'; size: number; ctx: CallerContext }
  | { action: 'upload'; imageId: string; diskFormat: string; ctx: CallerContext }
  | { action: 'retype'; typeId: string; ctx: CallerContext }
  | { action: 'revert'; snapshotId: string; ctx: CallerContext };

export type SnapshotTask = { action: 'create' | 'delete'; ctx: CallerContext };

export const VOLUME_TASK = 'volume.volume';
export const SNAPSHOT_TASK = 'volume.snapshot';

/** Image properties Cinder never copies into volume_image_metadata. */
const NOT_COPIED = new Set(['owner', 'visibility', 'protected', 'os_hidden', 'status', 'created_at', 'updated_at', 'tags', 'os_hash_algo', 'os_hash_value']);

/** What Cinder tells Nova after growing an attached volume (Nova's `volume-extended` external event). */
export interface VolumeExtended { volumeId: string; size: number; instanceIds: string[]; ctx: CallerContext }

export class VolumeManager {
  private extendedListeners: Array<(e: VolumeExtended) => Promise<void>> = [];
  constructor(private db: Kysely<VolumeTables>, private platform: Platform, private backend: VolumeBackend, private image: ImageService) {}

  /** Compute listens here to learn that an attached volume grew (it records `extend_volume` on the server). */
  onExtended(listener: (e: VolumeExtended) => Promise<void>): void { this.extendedListeners.push(listener); }

  register(): void {
    this.platform.tasks.handle(VOLUME_TASK, (t) => this.runVolume(t.resourceId, t.payload as VolumeTask));
    this.platform.tasks.handle(SNAPSHOT_TASK, (t) => this.runSnapshot(t.resourceId, t.payload as SnapshotTask));
  }

  /** Queues work for a volume; pass the API's transaction so the task commits with the status it follows. */
  enqueue(volumeId: string, task: VolumeTask, trx: Kysely<VolumeTables> = this.db): Promise<string> {
    return this.platform.tasks.enqueue(VOLUME_TASK, volumeId, task, trx as never);
  }
  enqueueSnapshot(snapshotId: string, task: SnapshotTask, trx: Kysely<VolumeTables> = this.db): Promise<string> {
    return this.platform.tasks.enqueue(SNAPSHOT_TASK, snapshotId, task, trx as never);
  }

  private volume(id: string): Promise<VolumeRow | undefined> {
    return this.db.selectFrom('volume').selectAll().where('id', '=', id).executeTakeFirst();
  }
  private async set(id: string, values: Partial<VolumeRow>): Promise<void> {
    await this.db.updateTable('volume').set({ ...values, updated_at: now() }).where('id', '=', id).execute();
  }
  /** The status a volume returns to after an operation that did not change its attachments. */
  private async restingStatus(id: string): Promise<string> {
    const att = await this.db.selectFrom('volume_attachment').select('id').where('volume_id', '=', id).where('attach_status', '=', 'attached').executeTakeFirst();
    return att ? 'in-use' : 'available';
  }

  /** Records a user message (Cinder's /messages) about a failed operation. */
  async message(projectId: string, resourceType: string, resourceId: string, actionId: string, detailId: string, text: string): Promise<void> {
    const t = now();
    await this.db.insertInto('volume_message').values({
      id: uuid(), project_id: projectId, request_id: `req-${uuid()}`, resource_type: resourceType, resource_uuid: resourceId,
      event_id: `VOLUME_${resourceType}_${actionId}_${detailId}`, message_level: 'ERROR', action_id: actionId, detail_id: detailId,
      user_message: text, created_at: t, expires_at: t + 30 * 24 * 3600_000,
    }).execute();
  }

  async runVolume(id: string, task: VolumeTask): Promise<void> {
    const vol = await this.volume(id);
    if (!vol) return;
    try {
      await this.performVolume(vol, task);
    } catch (err) {
      this.platform.log.warn({ err, volume: id, action: task.action }, 'volume action failed');
      const reason = String((err as Error)?.message ?? err);
      switch (task.action) {
        case 'create':
          await this.set(id, { status: 'error', fault: reason });
          if (reason.startsWith('No valid backend')) await this.message(vol.project_id, 'VOLUME', id, '001', '002', 'schedule allocate volume:Could not find any available weighted backend.');
          else await this.message(vol.project_id, 'VOLUME', id, '001', '001', `schedule allocate volume:An unknown error occurred. ${reason}`);
          break;
        case 'delete': await this.set(id, { status: 'error_deleting', fault: reason }); break;
        case 'extend': await this.set(id, { status: 'error_extending', fault: reason }); break;
        default: await this.set(id, { status: await this.restingStatus(id), fault: reason });
      }
    }
  }

  private async performVolume(vol: VolumeRow, task: VolumeTask): Promise<void> {
    const id = vol.id;
    switch (task.action) {
      case 'create': {
        await this.matchBackend(vol);
        const s = task.source;
        if (s.kind === 'blank') await this.backend.create(id, vol.size);
        else if (s.kind === 'snapshot') await this.backend.cloneVolume({ snapshotId: s.snapshotId }, id, vol.size);
        else if (s.kind === 'volume') await this.backend.cloneVolume({ volumeId: s.volumeId }, id, vol.size);
        else {
          const { image, data } = await this.image.open(serviceContext(task.ctx), s.imageId);
          await this.set(id, { status: 'downloading' });
          await this.backend.createFromStream(id, vol.size, data, image.disk_format ?? undefined);
          const props = JSON.parse(image.properties) as Record<string, string>;
          const meta: Record<string, string> = {
            image_id: image.id, image_name: image.name ?? '', checksum: image.checksum ?? '', container_format: image.container_format ?? '',
            disk_format: image.disk_format ?? '', min_disk: String(image.min_disk), min_ram: String(image.min_ram), size: String(image.size ?? 0),
          };
          for (const [k, v] of Object.entries(props)) if (!NOT_COPIED.has(k)) meta[k] = String(v);
          await writeMetadata(this.db, 'volume_image_metadata', id, meta, true);
        }
        // A volume deleted while it was being created is cleaned up here instead.
        const still = await this.volume(id);
        if (!still || still.status === 'deleting') { await this.backend.delete(id); return; }
        await this.set(id, { status: 'available', launched_at: now(), provider_location: this.backend.locate(id) });
        return;
      }
      case 'delete': {
        await this.backend.delete(id);
        await this.db.transaction().execute(async (trx) => {
          await trx.deleteFrom('volume_metadata').where('volume_id', '=', id).execute();
          await trx.deleteFrom('volume_image_metadata').where('volume_id', '=', id).execute();
          await trx.deleteFrom('volume_admin_metadata').where('volume_id', '=', id).execute();
          await trx.deleteFrom('volume_attachment').where('volume_id', '=', id).execute();
          await trx.deleteFrom('volume_transfer').where('volume_id', '=', id).execute();
          await trx.deleteFrom('volume').where('id', '=', id).execute();
        });
        return;
      }
      case 'extend': {
        await this.backend.extend(id, task.size);
        await this.set(id, { size: task.size, status: await this.restingStatus(id), previous_status: null });
        const servers = await this.db.selectFrom('volume_attachment').select('instance_uuid').where('volume_id', '=', id).where('attach_status', '=', 'attached').execute();
        const instanceIds = [...new Set(servers.map((a) => a.instance_uuid).filter((x): x is string => !!x))];
        for (const listener of instanceIds.length ? this.extendedListeners : []) {
          await listener({ volumeId: id, size: task.size, instanceIds, ctx: task.ctx }).catch((err: unknown) => this.platform.log.warn({ err, volume: id }, 'volume-extended listener failed'));
        }
        return;
      }
      case 'revert':
        await this.backend.cloneVolume({ snapshotId: task.snapshotId }, id, vol.size);
        await this.set(id, { status: await this.restingStatus(id) });
        return;
      case 'upload': {
        const data = await this.backend.export(id, task.diskFormat);
        try {
          await this.image.uploadData(serviceContext(task.ctx), task.imageId, data, task.diskFormat);
        } finally {
          await this.set(id, { status: await this.restingStatus(id) });
        }
        return;
      }
      case 'retype': {
        // The product documents: a retype of a volume with snapshots "silently fails": the
        // call was accepted, the type stays, and the user finds a message.
        const snaps = await this.db.selectFrom('snapshot').select('id').where('volume_id', '=', id).executeTakeFirst();
        if (snaps) {
          await this.set(id, { status: await this.restingStatus(id) });
          await this.message(vol.project_id, 'VOLUME', id, '013', '001', 'retype volume:the volume has snapshots; delete them and retype again.');
          return;
        }
        await this.set(id, { volume_type_id: task.typeId, status: await this.restingStatus(id), migration_status: null });
        return;
      }
    }
  }

  /**
   * Cinder's capabilities filter: a type whose extra specs ask for a backend name, vendor or
   * protocol this backend does not have finds no backend, and the volume goes to `error`.
   */
  private async matchBackend(vol: VolumeRow): Promise<void> {
    const specs = await this.db.selectFrom('volume_type_extra_spec').select(['key', 'value']).where('type_id', '=', vol.volume_type_id).execute();
    const caps = this.backend.capabilities as Record<string, string>;
    for (const { key, value } of specs) {
      const want = key.replace(/^capabilities:/, '');
      if (!(want in caps)) continue;
      const v = value.replace(/^<in>\s*|^<is>\s*|^=\s*|^s==\s*/, '').trim();
      if (v.toLowerCase() !== caps[want]!.toLowerCase()) throw new Error(`No valid backend was found. The volume type asks for ${want}=${v}; the backend offers ${caps[want]}.`);
    }
  }

  async runSnapshot(id: string, task: SnapshotTask): Promise<void> {
    const snap = await this.db.selectFrom('snapshot').selectAll().where('id', '=', id).executeTakeFirst();
    if (!snap) return;
    try {
      if (task.action === 'create') {
        await this.backend.createSnapshot(snap.volume_id, id);
        await this.db.updateTable('snapshot').set({ status: 'available', progress: '100%', updated_at: now() }).where('id', '=', id).execute();
      } else {
        await this.backend.deleteSnapshot(id);
        await this.db.deleteFrom('snapshot').where('id', '=', id).execute();
      }
    } catch (err) {
      this.platform.log.warn({ err, snapshot: id, action: task.action }, 'snapshot action failed');
      await this.db.updateTable('snapshot').set({ status: task.action === 'create' ? 'error' : 'error_deleting', updated_at: now() }).where('id', '=', id).execute();
    }
  }
}
