import type { FastifyInstance, FastifyRequest } from 'fastify';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.js';

/**
 * Version discovery (the root answers 300 with every v2 minor version, as Glance does) and
 * the JSON schemas clients fetch before they act.
 */
// Glance's list without the cache and tasks APIs: v2.15 current; 2.10-2.14 are the
// multi-store and tasks versions a client would then expect (e.g. GET /images/{id}/tasks).
const MINORS = [15, 9, 7, 6, 5, 4, 3, 2, 1, 0];

function versions(req: FastifyRequest) {
  const href = `${req.protocol}://${req.headers.host}/image/v2/`;
  return MINORS.map((minor, i) => ({ id: `v2.${minor}`, status: i === 0 ? 'CURRENT' : 'SUPPORTED', links: [{ rel: 'self', href }] }));
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
