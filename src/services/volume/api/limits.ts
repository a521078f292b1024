import type { FastifyInstance } from 'fastify';
import type { VolumeDeps } from './common.js';

// Placeholder: being written.
export async function limitRoutes(_app: FastifyInstance, _d: VolumeDeps): Promise<void> {}
