import type { NetworkPart } from '../../index.js';
import { routerMigrations } from './migrations.js';
import { routerRoutes } from './api/routers.js';
import { floatingIpRoutes } from './api/floatingips.js';
import { registerRouterHooks } from './logic/hooks.js';

/**
 * Routers (gateways, interfaces, static routes, availability zones) and floating IPs, as a
 * part of the network service: its own tables, routes and the hooks the core's port and
 * subnet deletes call.
 */
export const routersPart: NetworkPart = {
  migrations: routerMigrations,
  routes: async (app, deps) => {
    await routerRoutes(app, deps);
    await floatingIpRoutes(app, deps);
  },
  register: registerRouterHooks,
};
