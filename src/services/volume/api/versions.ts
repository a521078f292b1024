import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VOLUME_VERSIONS, volumeRoot, type VolumeDeps } from './common.js';

/**
 * Version discovery. Cinder has one API left, v3 (v1 and v2 are gone), described the same way
 * at the root (`300 Multiple Choices`, as Cinder answers there) and at `/v3/` (`200`). Both
 * answer without a token; clients read the microversion range from here before anything else.
 */
const UPDATED = '2023-08-31T00:00:00Z';

function v3(req: FastifyRequest, d: VolumeDeps) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: VOLUME_VERSIONS.max,
    min_version: VOLUME_VERSIONS.min,
    updated: UPDATED,
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${volumeRoot(req, d.platform)}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

export async function versionRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  app.get('/', { config: { public: true } }, async (req, reply) => {
    reply.status(300);
    return { versions: [v3(req, d)] };
  });
  app.get('/v3', { config: { public: true } }, async (req) => ({ versions: [v3(req, d)] }));
}
