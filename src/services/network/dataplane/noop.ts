import type { Dataplane, Realised } from './driver.js';

/**
 * The no-op data plane: accepts every state and realises nothing, so the statuses the API
 * reports stand as they are. It is the plane of API-only clouds, of tests, and of machines
 * without root or network namespaces.
 */
export function noopDataplane(): Dataplane {
  return {
    name: 'noop',
    async apply(): Promise<Realised> { return {}; },
  };
}
