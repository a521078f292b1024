import { now } from '../../platform/clock.js';
import { uuid } from '../../platform/ids.js';
import type { VDb } from './store.js';

/**
 * The documented volume types, created once: `ssd` (the default) and `hdd` for everyone,
 * `ssd-multiattach` and `hdd-multiattach` private ("made available upon activation on a
 * per customer basis": an admin adds the project to the type's access list).
 */
const TYPES: Array<{ name: string; description: string; public: boolean; specs: Record<string, string> }> = [
  { name: 'ssd', description: 'SSD-backed block storage (default)', public: true, specs: { volume_backend_name: 'file', 'storage:tier': 'ssd' } },
  { name: 'hdd', description: 'HDD-backed block storage', public: true, specs: { volume_backend_name: 'file', 'storage:tier': 'hdd' } },
  { name: 'ssd-multiattach', description: 'SSD-backed, attachable to several servers at once', public: false, specs: { volume_backend_name: 'file', 'storage:tier': 'ssd', multiattach: '<is> True' } },
  { name: 'hdd-multiattach', description: 'HDD-backed, attachable to several servers at once', public: false, specs: { volume_backend_name: 'file', 'storage:tier': 'hdd', multiattach: '<is> True' } },
];

export async function bootstrapVolume(db: VDb): Promise<void> {
  // Only into an empty catalogue: a type an admin deleted stays deleted across restarts.
  if (await db.selectFrom('volume_type').select('id').executeTakeFirst()) return;
  for (const t of TYPES) {
    const id = uuid();
    const ts = now();
    await db.insertInto('volume_type').values({ id, name: t.name, description: t.description, is_public: t.public ? 1 : 0, qos_specs_id: null, created_at: ts, updated_at: ts }).execute();
    await db.insertInto('volume_type_extra_spec').values(Object.entries(t.specs).map(([key, value]) => ({ type_id: id, key, value }))).execute();
  }
}
