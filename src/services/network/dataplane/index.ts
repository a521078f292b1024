import type { Dataplane } from './driver.js';
import { noopDataplane } from './noop.js';

/**
 * Data planes by the name STRATUS_NETWORK_DATAPLANE gives. The Linux plane registers here
 * when it lands; tests register recording planes to watch what the agent hands over.
 */
const PLANES = new Map<string, () => Dataplane>([['noop', noopDataplane]]);

export function registerDataplane(name: string, make: () => Dataplane): void {
  PLANES.set(name, make);
}

export function createDataplane(name: string): Dataplane {
  const make = PLANES.get(name);
  if (!make) throw new Error(`Unknown network data plane '${name}' (STRATUS_NETWORK_DATAPLANE); known: ${[...PLANES.keys()].join(', ')}`);
  return make();
}

export type { Dataplane };
