import { hostname } from 'node:os';

/**
 * The host this process's agents run on: the name ports are bound to (`binding:host_id`)
 * and agents report. STRATUS_AGENT_HOST overrides it (several all-in-one clouds on one machine,
 * or a host whose name is not the one operators use).
 */
export const agentHost = (): string => process.env.STRATUS_AGENT_HOST || hostname();
