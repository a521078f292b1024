import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../platform/service.js';
import type { RequestContext } from '../../platform/auth/context.js';
import { novaError } from '../../platform/http/errors.js';
import type { ImageService } from '../image/index.js';
import { volumeMigrations } from './migrations.js';
import { volumeDb, type VolumeRow } from './store.js';
import { bootstrapVolume } from './bootstrap.js';
import { fileBackend } from './drivers/backend/file.js';
import { VolumeManager } from './logic/manager.js';
import { visibleVolume } from './logic/access.js';
import { createVolume, deleteVolume, type NewVolume } from './logic/volumes.js';
import { microversions, type VolumeDeps } from './api/common.js';
import { VOLUME_ROUTES } from './api/registry.js';

/**
 * The block storage service (Cinder v3, microversions 3.0–3.71): api → manager → backend
 * driver. The file backend keeps sparse raw files in the data directory. Compute calls the
 * public interface below to boot from, attach and detach volumes, on its caller's behalf.
 */
export interface VolumeService extends ServiceModule {
  /** A volume the caller may see (404 otherwise). */
  getVolume(ctx: RequestContext, volumeId: string): Promise<VolumeRow>;
  /** Creates a volume (`creating`, quota checked) and queues its build. */
  createVolume(ctx: RequestContext, req: NewVolume): Promise<VolumeRow>;
  /** Deletes a volume the caller owns (refused while attached or with snapshots). */
  deleteVolume(ctx: RequestContext, volumeId: string): Promise<void>;
  /** Where a hypervisor finds a volume's bytes. */
  locate(volumeId: string): string;
}

export function volumeService(): VolumeService {
  let deps: VolumeDeps | null = null;
  const need = () => { if (!deps) throw new Error('volume service not started'); return deps; };
  return {
    name: 'cinderv3',
    type: 'block-storage',
    prefix: '/volume',
    endpointPath: '/volume/v3/$(project_id)s',
    errorFormat: novaError,
    migrations: volumeMigrations,
    async start(platform: Platform, services: ServiceModule[]) {
      const image = services.find((s) => s.type === 'image') as ImageService | undefined;
      if (!image) throw new Error('block storage needs the image service');
      const db = volumeDb(platform.db);
      await bootstrapVolume(db);
      const backend = fileBackend(join(platform.config.dataDir, 'volumes'));
      const manager = new VolumeManager(db, platform, backend, image);
      manager.register();
      deps = { platform, db, image, backend, manager };
    },
    async routes(app: FastifyInstance) {
      const d = {
        get platform() { return need().platform; }, get db() { return need().db; }, get image() { return need().image; },
        get backend() { return need().backend; }, get manager() { return need().manager; },
      } as VolumeDeps;
      microversions(app);
      for (const routes of VOLUME_ROUTES) await routes(app, d);
    },
    getVolume: (ctx, id) => visibleVolume(need().db, ctx, id),
    createVolume: (ctx, req) => createVolume(need(), ctx, req),
    async deleteVolume(ctx, id) {
      const d = need();
      await deleteVolume(d, ctx, await visibleVolume(d.db, ctx, id));
    },
    locate: (id) => need().backend.locate(id),
  };
}
