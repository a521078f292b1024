import type { Kysely } from 'kysely';
import type { Dialect } from '../../platform/db/index.js';
import { now } from '../../platform/clock.js';
import { uuid } from '../../platform/ids.js';
import type { VirtDriver } from './drivers/virt/driver.js';
import { FLAVOR_CATALOGUE } from './logic/flavor-catalogue.js';
import { nextId, type ComputeTables } from './store.js';

/**
 * What a fresh cloud has: the documented flavor catalogue, the hosts the virt driver offers
 * (each reporting its inventory at every start, as a nova-compute does), and one host
 * aggregate per availability zone carrying the zone's name. Flavors and aggregates are
 * made once; an operator's later changes stand.
 */
export const ALLOCATION_RATIOS = { cpu: 4.0, ram: 1.0, disk: 1.0 };

export async function bootstrapCompute(db: Kysely<ComputeTables>, dialect: Dialect, driver: VirtDriver): Promise<void> {
  const t = now();
  if (!(await db.selectFrom('flavor').select('id').limit(1).executeTakeFirst())) {
    await db.transaction().execute(async (trx) => {
      for (const f of FLAVOR_CATALOGUE) {
        await trx.insertInto('flavor').values({
          id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: 0, swap: 0, rxtx_factor: 1, is_public: 1, disabled: 0,
          description: f.description, created_at: t, updated_at: t,
        }).execute();
        const specs = Object.entries(f.extraSpecs);
        if (specs.length) await trx.insertInto('flavor_extra_spec').values(specs.map(([key, value]) => ({ flavor_id: f.id, key, value }))).execute();
      }
    });
  }
  const hosts = driver.hosts();
  await db.transaction().execute(async (trx) => {
    for (const h of hosts) {
      const existing = await trx.selectFrom('compute_node').select('host').where('host', '=', h.host).executeTakeFirst();
      if (existing) {
        await trx.updateTable('compute_node').set({ vcpus: h.vcpus, memory_mb: h.memoryMb, local_gb: h.localGb, hypervisor_type: h.hypervisorType, updated_at: t })
          .where('host', '=', h.host).execute();
        continue;
      }
      await trx.insertInto('compute_node').values({
        host: h.host, id: await nextId(trx, dialect, 'compute_node'), uuid: uuid(), availability_zone: h.availabilityZone, vcpus: h.vcpus, memory_mb: h.memoryMb,
        local_gb: h.localGb, cpu_allocation_ratio: ALLOCATION_RATIOS.cpu, ram_allocation_ratio: ALLOCATION_RATIOS.ram, disk_allocation_ratio: ALLOCATION_RATIOS.disk,
        hypervisor_type: h.hypervisorType, status: 'enabled', disabled_reason: null, forced_down: 0, created_at: t, updated_at: t,
      }).execute();
    }
    if (await trx.selectFrom('aggregate').select('id').limit(1).executeTakeFirst()) return;
    const zones = [...new Set(hosts.map((h) => h.availabilityZone))];
    for (const zone of zones) {
      const id = await nextId(trx, dialect, 'aggregate');
      await trx.insertInto('aggregate').values({ id, uuid: uuid(), name: zone, created_at: t, updated_at: t }).execute();
      await trx.insertInto('aggregate_metadata').values({ aggregate_id: id, key: 'availability_zone', value: zone }).execute();
      await trx.insertInto('aggregate_host').values(hosts.filter((h) => h.availabilityZone === zone).map((h) => ({ aggregate_id: id, host: h.host }))).execute();
    }
    // Local NVMe storage exists in the first zone only (the documents: NVMe flavors boot in europe-se-1a).
    const nvmeZone = zones[0];
    if (nvmeZone) {
      const id = await nextId(trx, dialect, 'aggregate');
      await trx.insertInto('aggregate').values({ id, uuid: uuid(), name: 'local-nvme', created_at: t, updated_at: t }).execute();
      await trx.insertInto('aggregate_metadata').values({ aggregate_id: id, key: 'local_storage', value: 'nvme' }).execute();
      await trx.insertInto('aggregate_host').values(hosts.filter((h) => h.availabilityZone === nvmeZone).map((h) => ({ aggregate_id: id, host: h.host }))).execute();
    }
  });
}
