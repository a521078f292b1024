import type { FastifyInstance, FastifyRequest } from 'fastify';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.js';

/**
 * Version discovery (the root answers 300 with every v2 minor version, as Glance does) and
 * the JSON schemas clients fetch before they act.
 */
const MINORS = 16;

function versions(req: FastifyRequest) {
  const href = `${req.protocol}://${req.headers.host}/image/v2/`;
  return Array.from({ length: MINORS + 1 }, (_, i) => MINORS - i).map((minor) => ({
    id: `v2.${minor}`,
    status: minor === MINORS ? 'CURRENT' : 'SUPPORTED',
    links: [{ rel: 'self', href }],
  }));
}

export async function discoveryRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { config: { public: true } }, async (req, reply) => reply.status(300).send({ versions: versions(req) }));
  app.get('/versions', { config: { public: true } }, async (req) => ({ versions: versions(req) }));
  app.get('/v2', { config: { public: true } }, async (req, reply) => reply.status(300).send({ versions: versions(req) }));
  app.get('/v2/schemas/image', async () => imageSchema());
  app.get('/v2/schemas/images', async () => imagesSchema());
  app.get('/v2/schemas/member', async () => memberSchema());
  app.get('/v2/schemas/members', async () => membersSchema());
}
