import type { Transaction } from 'kysely';
import { lockKey } from '../../../platform/db/locks.js';
import { ApiError } from '../../../platform/http/errors.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { VolumeAttachmentRow, VolumeRow, VolumeTables } from '../store.js';
import type { VolumeLogicDeps } from './volumes.js';

/**
 * Attach and detach, Cinder's way, in one place: the legacy actions (os-reserve, os-attach,
 * os-begin_detaching, os-detach, …), the 3.27 attachments API and compute's calls all end
 * here. An attachment row moves reserved → attaching → attached and is removed on detach;
 * the volume's status follows its attachments (available, reserved, attaching, in-use,
 * detaching). Every check-then-write runs in one transaction under the volume's lock, so two
 * racing attaches of a volume that is not multi-attach have exactly one winner.
 */
export type AttachMode = 'rw' | 'ro';
export type Connector = Record<string, unknown>;
type Trx = Transaction<VolumeTables>;

/** Statuses a volume may take a new attachment from. */
const attachable = (vol: VolumeRow): string[] => (vol.multiattach ? ['available', 'in-use', 'reserved', 'attaching', 'downloading'] : ['available', 'downloading']);

export const invalidVolume = (reason: string) => new ApiError(400, `Invalid volume: ${reason}`);

/** Runs `work` in a transaction holding the volume's lock, with the volume as it is now. */
export async function underVolumeLock<T>(d: VolumeLogicDeps, volumeId: string, work: (trx: Trx, vol: VolumeRow) => Promise<T>): Promise<T> {
  return d.db.transaction().execute(async (trx) => {
    await lockKey(trx, d.platform.dialect, `volume:${volumeId}`);
    const vol = await trx.selectFrom('volume').selectAll().where('id', '=', volumeId).executeTakeFirst();
    if (!vol) throw new ApiError(404, `Volume ${volumeId} could not be found.`);
    return work(trx, vol);
  });
}

const attachmentsOf = (trx: Trx, volumeId: string) =>
  trx.selectFrom('volume_attachment').selectAll().where('volume_id', '=', volumeId).orderBy('created_at').execute();

/** The volume's status as its remaining attachments make it. */
async function settle(trx: Trx, vol: VolumeRow): Promise<void> {
  const rest = await attachmentsOf(trx, vol.id);
  const attached = rest.some((a) => a.attach_status === 'attached');
  const status = attached ? 'in-use' : rest.some((a) => a.attach_status === 'attaching') ? 'attaching' : rest.length ? 'reserved' : 'available';
  await trx.updateTable('volume').set({ status, attach_status: attached ? 'attached' : 'detached', updated_at: now() }).where('id', '=', vol.id).execute();
}

const modeOf = (vol: VolumeRow, asked?: AttachMode | null): AttachMode => (vol.readonly ? 'ro' : asked ?? 'rw');

function refuseSecond(vol: VolumeRow, atts: VolumeAttachmentRow[], instanceId: string | null): void {
  if (instanceId && atts.some((a) => a.instance_uuid === instanceId && a.attach_status === 'attached')) {
    throw invalidVolume(`volume ${vol.id} is already attached to instance ${instanceId}.`);
  }
}

export interface NewAttachment {
  instanceId: string | null;
  connector?: Connector | null;
  mode?: AttachMode | null;
  /** The server's availability zone: a volume in another zone is refused (no cross-zone attach). */
  zone?: string | null;
}

/**
 * Cinder 3.27's attachment_create: an attachment `reserved` (no connector yet: Nova's boot
 * from volume) or `attaching` (connector given), and the volume with it.
 */
export async function createAttachment(d: VolumeLogicDeps, volumeId: string, req: NewAttachment): Promise<VolumeAttachmentRow> {
  return underVolumeLock(d, volumeId, async (trx, vol) => {
    if (req.zone && req.zone !== vol.availability_zone) {
      throw invalidVolume(`volume ${vol.id} is in availability zone ${vol.availability_zone} and the server in ${req.zone}: the instance and volume must be in the same availability zone.`);
    }
    const atts = await attachmentsOf(trx, vol.id);
    refuseSecond(vol, atts, req.instanceId);
    if (!attachable(vol).includes(vol.status) || (!vol.multiattach && atts.length)) {
      throw invalidVolume(`Volume ${vol.id} status must be ${vol.multiattach ? 'available or in-use' : 'available'} to reserve, but the current status is ${vol.status}.`);
    }
    const t = now();
    const row: VolumeAttachmentRow = {
      id: uuid(), volume_id: vol.id, instance_uuid: req.instanceId, attached_host: req.connector ? String(req.connector.host ?? '') || null : null,
      mountpoint: req.connector?.mountpoint ? String(req.connector.mountpoint) : null, attach_mode: modeOf(vol, req.mode),
      attach_status: req.connector ? 'attaching' : 'reserved', connector: req.connector ? JSON.stringify(req.connector) : null,
      attach_time: null, detach_time: null, created_at: t, updated_at: t,
    };
    await trx.insertInto('volume_attachment').values(row).execute();
    await settle(trx, vol);
    return row;
  });
}

/** An attachment by id (404 unless it exists and its volume does). */
export async function getAttachment(d: VolumeLogicDeps, attachmentId: string): Promise<{ att: VolumeAttachmentRow; vol: VolumeRow }> {
  const att = await d.db.selectFrom('volume_attachment').selectAll().where('id', '=', attachmentId).executeTakeFirst();
  const vol = att ? await d.db.selectFrom('volume').selectAll().where('id', '=', att.volume_id).executeTakeFirst() : undefined;
  if (!att || !vol) throw new ApiError(404, `VolumeAttachment ${attachmentId} could not be found.`);
  return { att, vol };
}

/** What a hypervisor needs to open the volume: for the file backend, the file's path. */
export function connectionInfo(d: VolumeLogicDeps, vol: VolumeRow, att: VolumeAttachmentRow | null, connector?: Connector | null): Record<string, unknown> {
  const mode = att?.attach_mode ?? modeOf(vol);
  return {
    driver_volume_type: 'file',
    data: { device_path: d.backend.locate(vol.id), name: `volume-${vol.id}`, volume_id: vol.id, access_mode: mode, encrypted: false, discard: true, qos_specs: null },
    ...(att ? { attachment_id: att.id } : {}),
    ...(connector?.host ? { connector_host: connector.host } : {}),
  };
}

/** attachment_update: the connector arrives; the attachment is `attaching` and answers with connection_info. */
export async function updateAttachment(d: VolumeLogicDeps, attachmentId: string, connector: Connector): Promise<VolumeAttachmentRow> {
  const { att } = await getAttachment(d, attachmentId);
  return underVolumeLock(d, att.volume_id, async (trx, vol) => {
    const cur = await trx.selectFrom('volume_attachment').selectAll().where('id', '=', attachmentId).executeTakeFirst();
    if (!cur) throw new ApiError(404, `VolumeAttachment ${attachmentId} could not be found.`);
    if (vol.status === 'error' || vol.status === 'maintenance') throw invalidVolume(`Volume ${vol.id} status must not be ${vol.status} to update an attachment.`);
    const values = {
      connector: JSON.stringify(connector), attached_host: connector.host ? String(connector.host) : cur.attached_host,
      mountpoint: connector.mountpoint ? String(connector.mountpoint) : cur.mountpoint,
      attach_status: cur.attach_status === 'attached' ? 'attached' : 'attaching', updated_at: now(),
    };
    await trx.updateTable('volume_attachment').set(values).where('id', '=', cur.id).execute();
    await settle(trx, vol);
    return { ...cur, ...values };
  });
}

/** attachment_complete (and the end of os-attach): the attachment is `attached`, the volume `in-use`. */
export async function completeAttachment(d: VolumeLogicDeps, attachmentId: string, where: { host?: string | null; mountpoint?: string | null } = {}): Promise<VolumeAttachmentRow> {
  const { att } = await getAttachment(d, attachmentId);
  return underVolumeLock(d, att.volume_id, async (trx, vol) => {
    const cur = await trx.selectFrom('volume_attachment').selectAll().where('id', '=', attachmentId).executeTakeFirst();
    if (!cur) throw new ApiError(404, `VolumeAttachment ${attachmentId} could not be found.`);
    const t = now();
    const values = {
      attach_status: 'attached', attach_time: cur.attach_time ?? t, updated_at: t,
      attached_host: where.host ?? cur.attached_host, mountpoint: where.mountpoint ?? cur.mountpoint,
    };
    await trx.updateTable('volume_attachment').set(values).where('id', '=', cur.id).execute();
    await settle(trx, vol);
    return { ...cur, ...values };
  });
}

/** attachment_delete (and os-detach, os-force_detach): the attachment goes; the volume follows what is left. Idempotent. */
export async function deleteAttachment(d: VolumeLogicDeps, attachmentId: string): Promise<void> {
  const att = await d.db.selectFrom('volume_attachment').select('volume_id').where('id', '=', attachmentId).executeTakeFirst();
  if (!att) return;
  await underVolumeLock(d, att.volume_id, async (trx, vol) => {
    await trx.deleteFrom('volume_attachment').where('id', '=', attachmentId).execute();
    await settle(trx, vol);
  });
}

// ---- the legacy flow (os-reserve … os-detach) ------------------------------------------

/** os-reserve: `available` (or an attached multi-attach volume) → `attaching`. */
export async function reserve(d: VolumeLogicDeps, volumeId: string): Promise<void> {
  await underVolumeLock(d, volumeId, async (trx, vol) => {
    const ok = vol.multiattach ? ['available', 'in-use'] : ['available'];
    if (!ok.includes(vol.status)) throw invalidVolume(`Volume ${vol.id} status must be ${ok.join(' or ')} to reserve, but the current status is ${vol.status}.`);
    await trx.updateTable('volume').set({ status: 'attaching', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
  });
}

/** os-unreserve: an `attaching` volume goes back to what its attachments make it. */
export async function unreserve(d: VolumeLogicDeps, volumeId: string): Promise<void> {
  await underVolumeLock(d, volumeId, async (trx, vol) => {
    if (vol.status !== 'attaching') return;
    // Attachments still only reserved by this flow are dropped; attached ones stay.
    await trx.deleteFrom('volume_attachment').where('volume_id', '=', vol.id).where('attach_status', 'in', ['reserved', 'attaching']).execute();
    await settle(trx, vol);
  });
}

export interface LegacyAttach { instanceId: string | null; host: string | null; mountpoint: string | null; mode?: AttachMode | null }

/** os-attach: records an attached attachment at once (the caller has already connected the volume). */
export async function attach(d: VolumeLogicDeps, volumeId: string, req: LegacyAttach): Promise<VolumeAttachmentRow> {
  return underVolumeLock(d, volumeId, async (trx, vol) => {
    const atts = await attachmentsOf(trx, vol.id);
    refuseSecond(vol, atts, req.instanceId);
    const ok = vol.multiattach ? ['available', 'attaching', 'reserved', 'in-use'] : ['available', 'attaching', 'reserved'];
    const busy = !vol.multiattach && atts.some((a) => a.attach_status === 'attached' || (a.instance_uuid !== req.instanceId));
    if (!ok.includes(vol.status) || busy) throw invalidVolume(`Volume ${vol.id} status must be available or attaching to attach, but the current status is ${vol.status}.`);
    if (vol.readonly && req.mode === 'rw') throw new ApiError(400, `Invalid attaching mode 'rw' for volume ${vol.id}: the volume is read-only.`);
    const t = now();
    const pending = atts.find((a) => a.attach_status !== 'attached' && a.instance_uuid === req.instanceId);
    const row: VolumeAttachmentRow = {
      id: pending?.id ?? uuid(), volume_id: vol.id, instance_uuid: req.instanceId, attached_host: req.host, mountpoint: req.mountpoint,
      attach_mode: modeOf(vol, req.mode), attach_status: 'attached', connector: pending?.connector ?? null, attach_time: t, detach_time: null,
      created_at: pending?.created_at ?? t, updated_at: t,
    };
    if (pending) await trx.updateTable('volume_attachment').set(row).where('id', '=', pending.id).execute();
    else await trx.insertInto('volume_attachment').values(row).execute();
    await settle(trx, vol);
    return row;
  });
}

/** os-begin_detaching: `in-use` → `detaching` (os-roll_detaching undoes it). */
export async function beginDetaching(d: VolumeLogicDeps, volumeId: string): Promise<void> {
  await underVolumeLock(d, volumeId, async (trx, vol) => {
    if (vol.status !== 'in-use' || vol.attach_status !== 'attached') {
      throw invalidVolume("Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
    }
    await trx.updateTable('volume').set({ status: 'detaching', previous_status: vol.status, updated_at: now() }).where('id', '=', vol.id).execute();
  });
}

export async function rollDetaching(d: VolumeLogicDeps, volumeId: string): Promise<void> {
  await underVolumeLock(d, volumeId, async (trx, vol) => {
    if (vol.status === 'detaching') await settle(trx, vol);
  });
}

/**
 * os-detach: removes the named attachment, or the only one; a volume attached more than
 * once needs the attachment's id.
 */
export async function detach(d: VolumeLogicDeps, volumeId: string, attachmentId: string | null, force = false): Promise<void> {
  await underVolumeLock(d, volumeId, async (trx, vol) => {
    const atts = await attachmentsOf(trx, vol.id);
    // A volume attached nowhere has nothing to detach: Cinder accepts the call and does nothing
    // (clients clean up with a detach that may come after a forced one).
    if (!atts.length && !attachmentId && vol.status === 'available') return;
    if (!force && !['in-use', 'detaching', 'attaching', 'reserved'].includes(vol.status)) {
      throw invalidVolume(`Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach. Currently: status: '${vol.status}', attach_status: '${vol.attach_status}.'`);
    }
    let gone: VolumeAttachmentRow[];
    if (attachmentId) {
      gone = atts.filter((a) => a.id === attachmentId);
      if (!gone.length) throw new ApiError(404, `VolumeAttachment ${attachmentId} could not be found.`);
    } else if (atts.length > 1 && !force) {
      throw invalidVolume('Detach volume failed: more than one attachment, but no attachment_id provided.');
    } else gone = atts;
    for (const a of gone) await trx.deleteFrom('volume_attachment').where('id', '=', a.id).execute();
    await settle(trx, vol);
  });
}

/** Attachments of a volume to one server (compute's detach). */
export async function attachmentsOfInstance(d: VolumeLogicDeps, volumeId: string, instanceId: string): Promise<VolumeAttachmentRow[]> {
  return d.db.selectFrom('volume_attachment').selectAll().where('volume_id', '=', volumeId).where('instance_uuid', '=', instanceId).execute();
}
