import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Platform, ServiceModule } from '../service.js';
import { ApiError, type ErrorFormatter, unauthorized } from './errors.js';
import { requestId } from '../ids.js';
import { permittedByAccessRules } from '../auth/access-rules.js';

/**
 * One listener for every service. Each service is a Fastify plugin under its prefix with
 * its own error shape, and a hook that turns X-Auth-Token into req.ctx before any handler.
 */
export async function buildServer(platform: Platform, services: ServiceModule[]): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: platform.log as unknown as FastifyBaseLogger,
    // Our own onResponse line carries request id, user and project; Fastify's would repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => requestId(),
    bodyLimit: platform.config.bodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    // Neutron still accepts the old `.json` format suffix (Tempest's network clients send it).
    // S3 clients talk to the root (`/bucket/key`) or to `bucket.<host>`: a request carrying an
    // AWS signature (header or presigned query), or addressed to `<bucket>.s3.<domain>`, goes
    // to the S3 API under /s3 (it reads the original URL back for signatures and paths).
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      const auth = req.headers.authorization ?? '';
      if (auth.startsWith('AWS4-HMAC-SHA256 ') || auth.startsWith('AWS ') || /[?&]X-Amz-(Algorithm|Signature)=/.test(url)
        || /^[^:]+\.s3\.[^:]/i.test(req.headers.host ?? '')) return `/s3${url.startsWith('/') ? '' : '/'}${url}`;
      return url.replace(/^(\/network\/[^?]*?)\.json(\?|$)/, '$1$2');
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  // Clients send `Content-Type: application/json` with an empty body on some calls
  // (DELETE, HEAD, actions with no arguments); upstream accepts that.
  app.removeContentTypeParser('application/json');
  const parseJson = (_req: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = body.toString().trim();
    if (text === '') return done(null, undefined);
    try { done(null, JSON.parse(text)); } catch { done(new ApiError(400, 'Malformed request body: the body is not valid JSON.'), undefined); }
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(/^application\/.*\+json$/, { parseAs: 'string' }, parseJson);
  // Glance's JSON-patch media types, both dialects.
  app.addContentTypeParser(/^application\/openstack-images-v2\.[01]-json-patch$/, { parseAs: 'string' }, parseJson);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({
      request_id: req.id, method: req.method, url: req.url.split('?')[0], status: reply.statusCode,
      user_id: req.ctx?.userId, project_id: req.ctx?.projectId, ms: Math.round(reply.elapsedTime),
    }, 'request');
  });

  for (const service of services) {
    await app.register(async (scope) => {
      scope.addHook('onRequest', async (req) => {
        if (req.routeOptions.config?.public) return;
        const token = req.headers['x-auth-token'];
        if (typeof token !== 'string' || token === '') throw unauthorized();
        req.ctx = await platform.authenticate(token);
        if (!permittedByAccessRules(req.ctx, service.type, req.method, req.url.slice(service.prefix.length))) {
          throw new ApiError(401, 'The request you have made is not permitted by the access rules of this application credential.');
        }
      });
      scope.setErrorHandler((err, req, reply) => sendError(service.errorFormat, err, req, reply));
      scope.setNotFoundHandler((req, reply) => sendError(service.errorFormat, new ApiError(404, `The resource could not be found.`), req, reply));
      await service.routes(scope, platform);
    }, { prefix: service.prefix });
  }

  app.get('/', async () => ({
    name: 'Stratus',
    services: services.map((s) => ({ name: s.name, type: s.type, url: `${platform.baseUrl()}${s.prefix}` })),
  }));
  app.get('/healthcheck', async (_req, reply) => reply.type('text/plain').send('OK'));
  app.setNotFoundHandler((req, reply) => sendError(({ message }) => ({ error: { code: 404, message } }), new ApiError(404, 'The resource could not be found.'), req, reply));
  app.setErrorHandler((err, req, reply) => sendError(({ status, message }) => ({ error: { code: status, message } }), err, req, reply));
  return app;
}

/** Maps any thrown error to a status and the service's body; unexpected ones are logged, never leaked. */
function sendError(format: ErrorFormatter, err: unknown, req: FastifyRequest, reply: FastifyReply) {
  let status = 500;
  let message = 'An unexpected error prevented the server from fulfilling your request.';
  let type: string | undefined;
  if (err instanceof ApiError) {
    status = err.status;
    message = err.message;
    type = err.type;
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  } else {
    const fe = err as FastifyError;
    if (fe.validation) {
      status = 400;
      message = `Invalid input for field/attribute ${fe.validation[0]?.instancePath.replace(/^\//, '').replaceAll('/', '.') || fe.validationContext || 'body'}: ${fe.validation[0]?.message ?? fe.message}`;
    } else if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      status = fe.statusCode;
      message = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'Request Entity Too Large' : fe.message;
    } else {
      req.log.error({ err, request_id: req.id }, 'unhandled error');
    }
  }
  const body = err instanceof ApiError && err.body !== undefined ? err.body : format({ status, message, type });
  reply.status(status).type('application/json').send(body);
}
