import type { FastifyInstance } from 'fastify';
import type { Platform, ServiceModule } from '../../../platform/service.js';
import type { ObjectDeps } from '../logic/deps.js';
import { errorXml, newRequestId } from './request.js';
import { S3Error } from './errors.js';
import { s3Routes } from './routes.js';
import type { SignerLookup } from './sigv4.js';

/**
 * The S3 API as a service module of its own on the shared listener (prefix /s3, catalog
 * type `s3`, endpoint the root URL, where S3 clients send their requests), working on the
 * object service's data: buckets are the containers of the project's Swift account
 * (AUTH_<project_id>) and keys are object names. It authenticates by AWS signatures with
 * Keystone EC2 credentials, so its routes are public to the platform's token check.
 */
export interface S3Credentials { ec2Signer: SignerLookup }

export function s3Module(deps: () => ObjectDeps, credentials: S3Credentials): ServiceModule {
  const prefix = '/s3';
  return {
    name: 's3',
    type: 's3',
    prefix,
    endpointPath: '',
    // Errors raised before an S3 route runs (none expected: every route is public).
    errorFormat: ({ status, message }) => errorXml(new S3Error(status === 404 ? 'NoSuchKey' : 'InvalidRequest', status, message), '/', newRequestId()),
    migrations: {},
    async routes(app: FastifyInstance, platform: Platform) {
      const d = { get platform() { return deps().platform; }, get db() { return deps().db; }, get blobs() { return deps().blobs; } } as ObjectDeps;
      await s3Routes(app, d, platform, prefix, (access) => credentials.ec2Signer(access));
    },
  };
}
