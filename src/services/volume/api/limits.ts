import type { FastifyInstance } from 'fastify';
import { mv, route, type VolumeDeps } from './common.js';
import { volumeLimits, volumeUsage } from '../logic/quota.js';

/**
 * GET /limits: the caller's absolute block-storage limits and what is used of them (Cinder's
 * used-limits extension is always on). No rate limits. From 3.39 an admin may ask about
 * another project with `project_id` (or the older `tenant_id`); others' parameters are
 * ignored, as Cinder does.
 */
export async function limitRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  route(app, 'get', '/limits', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const asked = req.ctx.isAdmin && mv(req, '3.39') ? q.project_id ?? q.tenant_id : undefined;
    const project = asked ?? req.ctx.projectId ?? '';
    const [limits, used] = await Promise.all([volumeLimits(d.db, project), volumeUsage(d.db, project)]);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: limits.volumes,
          maxTotalSnapshots: limits.snapshots,
          maxTotalVolumeGigabytes: limits.gigabytes,
          maxTotalBackups: limits.backups,
          maxTotalBackupGigabytes: limits.backup_gigabytes,
          totalVolumesUsed: used.volumes,
          totalGigabytesUsed: used.gigabytes,
          totalSnapshotsUsed: used.snapshots,
          totalBackupsUsed: used.backups,
          totalBackupGigabytesUsed: used.backup_gigabytes,
        },
      },
    };
  });
}
