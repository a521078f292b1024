import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { neutronError, notFoundError, type NetDeps } from './common.js';

/**
 * /v2.0/agents: the agents this process runs. Today that is the no-op network agent (no
 * data plane yet), reported as the DHCP, L3 and metadata agents a user expects to see.
 */
const STARTED = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
const AGENTS = [
  { id: '5f1a6b8e-0d44-4c5e-9a0c-000000000001', agent_type: 'DHCP agent', binary: 'stratus-dhcp-agent', topic: 'dhcp_agent' },
  { id: '5f1a6b8e-0d44-4c5e-9a0c-000000000002', agent_type: 'L3 agent', binary: 'stratus-l3-agent', topic: 'l3_agent' },
  { id: '5f1a6b8e-0d44-4c5e-9a0c-000000000003', agent_type: 'Metadata agent', binary: 'stratus-metadata-agent', topic: 'N/A' },
  { id: '5f1a6b8e-0d44-4c5e-9a0c-000000000004', agent_type: 'Open vSwitch agent', binary: 'stratus-network-agent', topic: 'N/A' },
];

export async function agentRoutes(app: FastifyInstance, _deps: NetDeps): Promise<void> {
  const view = (a: (typeof AGENTS)[number]) => ({
    ...a, host: hostname(), admin_state_up: true, alive: true, availability_zone: a.agent_type === 'L3 agent' || a.agent_type === 'DHCP agent' ? 'europe-se-1a' : null,
    configurations: {}, created_at: STARTED, started_at: STARTED, heartbeat_timestamp: new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
    description: null, resources_synced: null,
  });
  app.get('/v2.0/agents', async (req) => {
    // As in Neutron, a non-admin's list is filtered down to nothing rather than refused.
    if (!req.ctx.isAdmin) return { agents: [] };
    const q = req.query as Record<string, string | undefined>;
    return { agents: AGENTS.filter((a) => !q.agent_type || a.agent_type === q.agent_type).map(view) };
  });
  app.get('/v2.0/agents/:id', async (req) => {
    if (!req.ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', '(rule:get_agent) is disallowed by policy');
    const a = AGENTS.find((x) => x.id === (req.params as { id: string }).id);
    if (!a) throw notFoundError('Agent', (req.params as { id: string }).id);
    return { agent: view(a) };
  });
}
