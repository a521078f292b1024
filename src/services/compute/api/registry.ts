import type { FastifyInstance } from 'fastify';
import { volumeProxyRoutes } from './volume-proxies.js';
import type { ComputeDeps } from './common.js';
import { keypairRoutes } from './keypairs.js';
import { serverGroupRoutes } from './server-groups.js';
import { limitRoutes } from './limits.js';
import { hostRoutes } from './hosts.js';
import { instanceActionRoutes } from './instance-actions.js';
import { proxyRoutes } from './proxies.js';
import { serverResourceRoutes } from './server-resources.js';
import { externalEventRoutes } from './external-events.js';
import { usageAuditLogRoutes } from './usage-audit-log.js';
import { osHostRoutes } from './os-hosts.js';
import { extensionRoutes } from './extensions.js';

/**
 * The compute API's smaller resources, each in its own file: key pairs, server groups,
 * limits and quotas, zones/hosts/aggregates/services/usage/migrations, instance actions,
 * the proxy APIs older clients still call, and a server's sub-resources (ips, metadata,
 * interfaces, consoles, diagnostics), external events, the usage audit log.
 */
export const COMPUTE_ROUTES: Array<(app: FastifyInstance, deps: ComputeDeps) => Promise<void>> = [
  keypairRoutes, serverGroupRoutes, limitRoutes, hostRoutes, instanceActionRoutes, proxyRoutes, serverResourceRoutes,
  externalEventRoutes, usageAuditLogRoutes, osHostRoutes, extensionRoutes, volumeProxyRoutes,
];
