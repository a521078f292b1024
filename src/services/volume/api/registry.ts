import type { FastifyInstance } from 'fastify';
import type { VolumeDeps } from './common.js';
import { versionRoutes } from './versions.js';
import { volumeRoutes } from './volumes.js';
import { volumeActionRoutes } from './volume-actions.js';
import { attachActionRoutes } from './attach-actions.js';
import { attachmentRoutes } from './attachments.js';
import { snapshotRoutes } from './snapshots.js';
import { backupRoutes } from './backups.js';
import { transferRoutes } from './transfers.js';
import { typeRoutes } from './types.js';
import { qosRoutes } from './qos-specs.js';
import { quotaRoutes } from './quotas.js';
import { limitRoutes } from './limits.js';
import { zoneRoutes } from './availability-zones.js';
import { serviceRoutes } from './services.js';
import { extensionRoutes } from './extensions.js';
import { messageRoutes } from './messages.js';

/** Every block-storage route module, registered in this order. */
export const VOLUME_ROUTES: Array<(app: FastifyInstance, d: VolumeDeps) => Promise<void>> = [
  versionRoutes, volumeRoutes, attachActionRoutes, volumeActionRoutes, attachmentRoutes, snapshotRoutes, backupRoutes, transferRoutes,
  typeRoutes, qosRoutes, quotaRoutes, limitRoutes, zoneRoutes, serviceRoutes, extensionRoutes, messageRoutes,
];
