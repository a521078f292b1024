import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ZONES } from '../views.js';
import { neutronError, type NetDeps } from './common.js';
import { CORE_EXTENSIONS, describeExtension } from '../logic/extensions.js';

/** Version discovery, the extension list clients probe, and availability zones. */
export async function discoveryRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const base = (req: FastifyRequest) => `${req.protocol}://${req.headers.host}/network`;
  app.get('/', { config: { public: true } }, async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base(req)}/v2.0/`, rel: 'self' }] }],
  }));
  app.get('/v2.0', { config: { public: true } }, async (req) => ({
    resources: ['subnet', 'network', 'port'].map((name) => ({
      name, collection: `${name}s`, links: [{ href: `${base(req)}/v2.0/${name}s`, rel: 'self' }],
    })),
  }));
  const all = () => [...new Set([...CORE_EXTENSIONS, ...deps.hooks.extensions])].sort();
  app.get('/v2.0/extensions', async () => ({ extensions: all().map(describeExtension) }));
  app.get('/v2.0/extensions/:alias', async (req) => {
    const alias = (req.params as { alias: string }).alias;
    if (!all().includes(alias)) throw neutronError(404, 'HTTPNotFound', `Extension with alias ${alias} does not exist`);
    return { extension: describeExtension(alias) };
  });
  app.get('/v2.0/availability_zones', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return {
      availability_zones: ZONES.flatMap((name) => ['network', 'router'].map((resource) => ({ name, resource, state: 'available' })))
        .filter((z) => (!q.name || z.name === q.name) && (!q.resource || z.resource === q.resource) && (!q.state || z.state === q.state)),
    };
  });
}
