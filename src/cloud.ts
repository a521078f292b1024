import type { FastifyInstance } from 'fastify';
import { defaultConfig, type Config } from './platform/config.js';
import { createLogger } from './platform/log.js';
import { openDatabase, type Database } from './platform/db/index.js';
import { lockDataDir } from './platform/datadir.js';
import { buildServer } from './platform/http/server.js';
import { TaskQueue, taskMigrations } from './platform/tasks/queue.js';
import type { Platform, ServiceModule } from './platform/service.js';
import { identityService, type IdentityService } from './services/identity/index.js';
import { imageService, type ImageService } from './services/image/index.js';
import { networkService, type NetworkService } from './services/network/index.js';
import { computeService, type ComputeService } from './services/compute/index.js';
import { volumeService, type VolumeService } from './services/volume/index.js';
import { objectService, type ObjectService } from './services/object/index.js';
import { writeClientConfig } from './client-config.js';

/**
 * The whole cloud in one process: every service module on one listener over one database.
 * Tests and the CLI both start it through here.
 */
export interface Cloud {
  url: string;
  authUrl: string;
  config: Config;
  platform: Platform;
  identity: IdentityService;
  image: ImageService;
  network: NetworkService;
  compute: ComputeService;
  volume: VolumeService;
  object: ObjectService;
  app: FastifyInstance;
  adminPassword: string;
  demoPassword: string;
  close(): Promise<void>;
}

export async function startCloud(overrides: Partial<Config> = {}): Promise<Cloud> {
  const config = defaultConfig(overrides);
  const log = createLogger(config.logLevel);
  const unlock = lockDataDir(config.dataDir);
  let database: Database | null = null;
  try {
    const identity = identityService();
    const image = imageService();
    const network = networkService();
    const compute = computeService();
    const volume = volumeService();
    const object = objectService();
    // The S3 API works on the object service's data, with EC2 credentials checked by identity.
    const s3 = object.s3(identity);
    const services: ServiceModule[] = [identity, image, network, volume, compute, object, s3];
    const migrations = Object.assign({}, taskMigrations, ...services.map((s) => s.migrations));
    database = await openDatabase(config.database, config.dataDir, migrations);
    let baseUrl = config.publicUrl ?? '';
    const tasks = new TaskQueue(database.db, log);
    const platform: Platform = {
      config, db: database.db, dialect: database.dialect, log, tasks,
      baseUrl: () => baseUrl,
      authenticate: (token) => identity.authenticate(token),
    };
    for (const s of services) await s.start?.(platform, services);
    const app = await buildServer(platform, services);
    const address = await app.listen({ host: config.host, port: config.port });
    const port = new URL(address).port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    baseUrl = (config.publicUrl ?? `http://${host}:${port}`).replace(/\/$/, '');
    await identity.syncCatalog(baseUrl, services);
    await tasks.start();
    const { adminPassword, demoPassword } = identity.bootstrapResult();
    const authUrl = `${baseUrl}/identity/v3`;
    writeClientConfig(config.dataDir, { authUrl, region: config.region, adminPassword, demoPassword });
    const db = database;
    let closed = false;
    return {
      url: baseUrl, authUrl, config, platform, identity, image, network, compute, volume, object, app, adminPassword, demoPassword,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();          // stops accepting, lets in-flight requests finish
        await tasks.stop();
        for (const s of [...services].reverse()) await s.stop?.();
        await db.close();
        unlock();
      },
    };
  } catch (err) {
    await database?.close().catch(() => undefined);
    unlock();
    throw err;
  }
}
