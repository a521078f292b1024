import type { FastifyInstance } from 'fastify';
import type { ComputeDeps } from './common.js';

// Being written (compute issue in progress).
export async function keypairRoutes(_app: FastifyInstance, _deps: ComputeDeps): Promise<void> {}
