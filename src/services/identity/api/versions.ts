import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Version discovery: the root lists v3 (300 Multiple Choices, as Keystone answers). */
function v3(req: FastifyRequest) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${req.protocol}://${req.headers.host}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export async function versionRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { config: { public: true } }, async (req, reply) => reply.status(300).send({ versions: { values: [v3(req)] } }));
  app.get('/v3', { config: { public: true } }, async (req) => ({ version: v3(req) }));
}
