import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectDeps } from '../logic/deps.js';
import { CONSTRAINTS, SLO_LIMITS } from '../logic/constraints.js';
import { STORAGE_POLICIES } from '../logic/policies.js';
import { TEMPURL_DIGESTS, TEMPURL_METHODS } from '../logic/tempurl.js';
import { BULK_LIMITS } from './bulk.js';

/**
 * GET /info: the capabilities this cloud offers, in Swift's shape. Only what is
 * implemented is listed, so clients (python-swiftclient, Tempest) that read it do not try
 * the rest (container sync, symlinks, S3 are not offered here).
 */
export function capabilities(): Record<string, unknown> {
  return {
    swift: {
      version: '2.33.0', ...CONSTRAINTS, strict_cors_mode: true, allow_account_management: false, account_autocreate: true,
      policies: STORAGE_POLICIES.map((p) => ({ name: p.name, ...(p.default ? { default: true } : {}), aliases: p.name, description: p.description })),
    },
    tempurl: {
      methods: [...TEMPURL_METHODS], incoming_remove_headers: ['x-timestamp'], incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'], outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: [...TEMPURL_DIGESTS],
    },
    slo: { ...SLO_LIMITS, yield_frequency: 10, allow_async_delete: false },
    dlo: { max_segments: 10000 },
    bulk_delete: { max_deletes_per_request: BULK_LIMITS.maxDeletes, max_failed_deletes: BULK_LIMITS.maxFailedDeletes },
    bulk_upload: { max_containers_per_extraction: BULK_LIMITS.maxContainers, max_failed_extractions: BULK_LIMITS.maxFailedExtractions },
    account_quotas: {},
    container_quotas: {},
    formpost: {},
    staticweb: {},
    versioned_writes: { allowed_flags: ['x-versions-location', 'x-history-location'] },
    object_versioning: {},
    tempauth: undefined,
    keystoneauth: {},
    ratelimit: undefined,
    cors: {},
    crossdomain: undefined,
    account_acls: undefined,
    object_expirer: {},
  };
}

export function infoRoute(_deps: ObjectDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method === 'OPTIONS') return reply.status(200).header('allow', 'GET, HEAD, OPTIONS').header('content-length', 0).send();
    const caps = Object.fromEntries(Object.entries(capabilities()).filter(([, v]) => v !== undefined));
    const body = JSON.stringify(caps);
    reply.status(200).header('content-type', 'application/json; charset=UTF-8').header('content-length', Buffer.byteLength(body));
    return req.method === 'HEAD' ? reply.send() : reply.send(body);
  };
}
