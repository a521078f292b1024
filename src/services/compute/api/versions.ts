import type { FastifyInstance, FastifyRequest } from 'fastify';
import { COMPUTE_VERSIONS, computeRoot, type ComputeDeps } from './common.js';

/**
 * Version discovery: the root lists v2.0 (the old API, kept for clients that look for it)
 * and v2.1 with its microversion range; /v2.1 describes itself. Both answer without a token.
 */
const UPDATED = '2013-07-23T11:33:21Z';

function v21(req: FastifyRequest, deps: ComputeDeps) {
  return {
    id: 'v2.1', status: 'CURRENT', version: COMPUTE_VERSIONS.max, min_version: COMPUTE_VERSIONS.min, updated: UPDATED,
    links: [{ rel: 'self', href: `${computeRoot(req, deps.platform)}/v2.1/` }, { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}
function v20(req: FastifyRequest, deps: ComputeDeps) {
  return {
    id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '', updated: '2011-01-21T11:33:21Z',
    links: [{ rel: 'self', href: `${computeRoot(req, deps.platform)}/v2/` }],
  };
}

export async function versionRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  app.get('/', { config: { public: true } }, async (req) => ({ versions: [v20(req, deps), v21(req, deps)] }));
  app.get('/v2.1', { config: { public: true } }, async (req) => ({ version: v21(req, deps) }));
  // The v2.0 endpoint the root lists: its version document (the API behind it is v2.1's at 2.1).
  app.get('/v2', { config: { public: true } }, async (req) => ({ version: v20(req, deps) }));
}
