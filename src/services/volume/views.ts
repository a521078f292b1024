import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../platform/service.js';
import { cinderTime, links, mv } from './api/common.js';
import { metadataOf, type VDb, type VolumeAttachmentRow, type VolumeRow } from './store.js';

/**
 * Volumes on the wire, per microversion: `group_id` from 3.13, `provider_id` from 3.21,
 * `service_uuid`/`shared_targets` from 3.48, `cluster_name` (admin) from 3.61,
 * `volume_type_id` from 3.63, `consumes_quota` from 3.65. Admin-only attributes
 * (`os-vol-host-attr:host`, migration status) appear for admins only, as Cinder's policy has it.
 */
export const SERVICE_UUID = '5b1b8b6c-3a64-4c1e-8f6b-7f0f3e5d2a11';

export interface VolumeViewInput {
  vol: VolumeRow;
  typeName: string | null;
  metadata: Record<string, string>;
  imageMetadata: Record<string, string> | null;
  attachments: VolumeAttachmentRow[];
}

/**
 * `extended`: the attributes Cinder's extensions add to GET responses only (tenant, host,
 * migration status, image metadata); create and update answer without them.
 */
export function volumeView(req: FastifyRequest, platform: Platform, v: VolumeViewInput, extended = true): Record<string, unknown> {
  const { vol } = v;
  const admin = req.ctx.isAdmin;
  const out: Record<string, unknown> = {
    id: vol.id,
    links: links(req, platform, 'volumes', vol.id, vol.project_id),
    name: vol.name,
    description: vol.description,
    size: vol.size,
    status: vol.status,
    availability_zone: vol.availability_zone,
    created_at: cinderTime(vol.created_at),
    updated_at: cinderTime(vol.updated_at),
    attachments: v.attachments.filter((a) => a.attach_status === 'attached').map((a) => attachmentSummary(a)),
    bootable: vol.bootable ? 'true' : 'false',
    encrypted: false,
    multiattach: vol.multiattach === 1,
    volume_type: v.typeName,
    snapshot_id: vol.snapshot_id,
    source_volid: vol.source_volid,
    metadata: v.metadata,
    user_id: vol.user_id,
    consistencygroup_id: null,
    replication_status: null,
    migration_status: vol.migration_status,
  };
  if (extended) out['os-vol-tenant-attr:tenant_id'] = vol.project_id;
  if (extended && v.imageMetadata && Object.keys(v.imageMetadata).length) out.volume_image_metadata = v.imageMetadata;
  if (extended && admin) {
    out['os-vol-host-attr:host'] = vol.host;
    out['os-vol-mig-status-attr:migstat'] = vol.migration_status;
    out['os-vol-mig-status-attr:name_id'] = null;
  }
  if (mv(req, '3.13')) out.group_id = null;
  if (mv(req, '3.21')) out.provider_id = null;
  if (mv(req, '3.48')) { out.service_uuid = SERVICE_UUID; out.shared_targets = false; }
  if (mv(req, '3.61') && admin) out.cluster_name = null;
  if (mv(req, '3.63')) out.volume_type_id = vol.volume_type_id;
  if (mv(req, '3.64')) out.encryption_key_id = null;
  if (mv(req, '3.65')) out.consumes_quota = true;
  return out;
}

export const attachmentSummary = (a: VolumeAttachmentRow) => ({
  id: a.volume_id, attachment_id: a.id, volume_id: a.volume_id, server_id: a.instance_uuid,
  host_name: a.attached_host, device: a.mountpoint, attached_at: cinderTime(a.attach_time),
});

/** Everything the views of several volumes need, each table read once. */
export async function volumeViewInputs(db: VDb, vols: VolumeRow[]): Promise<VolumeViewInput[]> {
  const ids = vols.map((v) => v.id);
  const [meta, adminMeta, imageMeta, types, atts] = await Promise.all([
    metadataOf(db, 'volume_metadata', ids),
    metadataOf(db, 'volume_admin_metadata', ids),
    metadataOf(db, 'volume_image_metadata', ids),
    db.selectFrom('volume_type').select(['id', 'name']).execute(),
    ids.length ? db.selectFrom('volume_attachment').selectAll().where('volume_id', 'in', ids).orderBy('created_at').execute() : Promise.resolve([]),
  ]);
  const typeName = new Map(types.map((t) => [t.id, t.name]));
  return vols.map((vol) => ({
    // The read-only flag (admin metadata) shows among the metadata, as Cinder shows it.
    vol, typeName: typeName.get(vol.volume_type_id) ?? null, metadata: { ...meta.get(vol.id), ...adminMeta.get(vol.id) },
    imageMetadata: imageMeta.get(vol.id) ?? null, attachments: atts.filter((a) => a.volume_id === vol.id),
  }));
}
