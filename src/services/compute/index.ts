import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import { novaError } from '../../platform/http/errors.js';
import type { ImageService } from '../image/index.js';
import type { NetworkService } from '../network/index.js';
import type { VolumeService } from '../volume/index.js';
import { computeMigrations } from './migrations.js';
import { computeDb } from './store.js';
import { bootstrapCompute } from './bootstrap.js';
import { fakeDriver } from './drivers/virt/fake.js';
import type { VirtDriver } from './drivers/virt/driver.js';
import { ComputeManager } from './logic/manager.js';
import { microversions, type ComputeDeps } from './api/common.js';
import { versionRoutes } from './api/versions.js';
import { flavorRoutes } from './api/flavors.js';
import { serverRoutes } from './api/servers.js';
import { actionRoutes } from './api/actions.js';
import { COMPUTE_ROUTES } from './api/registry.js';

/**
 * The compute service (Nova v2.1, microversions 2.1–2.96): api → manager → scheduler →
 * virt driver, each knowing only the layer below. The fake driver runs by default; the
 * QEMU driver will take its place behind the same interface.
 */
export interface ComputeService extends ServiceModule {
  readonly driver: VirtDriver;
}

export function computeService(): ComputeService {
  let deps: ComputeDeps | null = null;
  const need = () => { if (!deps) throw new Error('compute service not started'); return deps; };
  return {
    name: 'nova',
    type: 'compute',
    prefix: '/compute',
    endpointPath: '/compute/v2.1',
    errorFormat: novaError,
    migrations: computeMigrations,
    async start(platform: Platform, services: ServiceModule[]) {
      const image = services.find((s) => s.type === 'image') as ImageService | undefined;
      const network = services.find((s) => s.type === 'network') as NetworkService | undefined;
      if (!image || !network) throw new Error('compute needs the image and network services');
      // Block storage is optional: without it, volumes are refused as before.
      const volume = (services.find((s) => s.type === 'block-storage') as VolumeService | undefined) ?? null;
      const c = platform.config.compute;
      const driver = fakeDriver({ zones: c.zones, hostsPerZone: c.fakeHostsPerZone, vcpus: c.fakeHostVcpus, memoryMb: c.fakeHostMemoryMb, localGb: c.fakeHostDiskGb, delayMs: c.fakeDelayMs });
      const db = computeDb(platform.db);
      await bootstrapCompute(db, platform.dialect, driver);
      const manager = new ComputeManager(db, platform, driver, network, image, volume);
      manager.register();
      volume?.onVolumeExtended((e) => manager.volumeExtended(e.volumeId, e.instanceIds, e.ctx));
      deps = { platform, db, image, network, volume, driver, manager };
    },
    get driver() { return need().driver; },
    async routes(app: FastifyInstance) {
      const d = {
        get platform() { return need().platform; }, get db() { return need().db; }, get image() { return need().image; },
        get network() { return need().network; }, get volume() { return need().volume; }, get driver() { return need().driver; }, get manager() { return need().manager; },
      } as ComputeDeps;
      microversions(app);
      for (const routes of [versionRoutes, flavorRoutes, serverRoutes, actionRoutes, ...COMPUTE_ROUTES]) await routes(app, d);
    },
  };
}
