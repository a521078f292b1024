import type { ImageMemberRow, ImageRow } from './store.js';
import { json } from '../../platform/json.js';

/** Rows → Glance's wire JSON: timestamps without fractions, custom properties at top level. */
export const glanceTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function imageView(img: ImageRow, tags: string[]): Record<string, unknown> {
  return {
    ...json<Record<string, unknown>>(img.properties, {}),
    id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected === 1,
    os_hidden: img.os_hidden === 1,
    checksum: img.checksum,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    owner: img.owner,
    size: img.size,
    virtual_size: img.virtual_size,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    container_format: img.container_format,
    disk_format: img.disk_format,
    created_at: glanceTime(img.created_at),
    updated_at: glanceTime(img.updated_at),
    tags,
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
    // One store, named as /v2/info/stores names it; present once the image has data.
    ...(img.status === 'active' || img.status === 'deactivated' ? { stores: 'local' } : {}),
  };
}

export function memberView(m: ImageMemberRow): Record<string, unknown> {
  return {
    image_id: m.image_id, member_id: m.member, status: m.status,
    created_at: glanceTime(m.created_at), updated_at: glanceTime(m.updated_at), schema: '/v2/schemas/member',
  };
}
