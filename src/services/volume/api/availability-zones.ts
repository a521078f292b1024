import type { FastifyInstance } from 'fastify';
import { route, type VolumeDeps } from './common.js';
import { volumeZones } from '../logic/volumes.js';

/**
 * GET /os-availability-zone: the zones volumes can be created in, which are the compute zones
 * (a volume attaches to servers of its own zone). The file backend serves them all.
 */
export async function zoneRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  route(app, 'get', '/os-availability-zone', async () => ({
    availabilityZoneInfo: volumeZones(d.platform).map((zoneName) => ({ zoneName, zoneState: { available: true } })),
  }));
}
