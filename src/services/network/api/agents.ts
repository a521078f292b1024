import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import type { NetworkAgent } from '../agent/agent.js';
import { neutronError, notFoundError, type NetDeps } from './common.js';

/**
 * /v2.0/agents: the agents of this host. One reconcile loop (agent/agent.ts) realises
 * everything, but users and tools look for Neutron's agent types, so it is reported as the
 * four roles it plays: L2 (ports and security groups), DHCP, L3 (routers, floating IPs)
 * and metadata. Heartbeats are its passes; it is alive while they keep coming.
 */
const ROLES = [
  { agent_type: 'Linux bridge agent', binary: 'stratus-network-agent', topic: 'N/A', zoned: false },
  { agent_type: 'DHCP agent', binary: 'stratus-dhcp-agent', topic: 'dhcp_agent', zoned: true },
  { agent_type: 'L3 agent', binary: 'stratus-l3-agent', topic: 'l3_agent', zoned: true },
  { agent_type: 'Metadata agent', binary: 'stratus-metadata-agent', topic: 'N/A', zoned: false },
];
/** Neutron's agent_down_time default. */
const DOWN_AFTER_MS = 75_000;
const neutronStamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
const agentId = (host: string, type: string) => {
  const h = createHash('sha1').update(`${host}/${type}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

function views(agent: NetworkAgent) {
  const host = agent.options.host;
  const c = agent.counts;
  const beat = agent.heartbeat ?? agent.started;
  const configurations: Record<string, Record<string, unknown>> = {
    'Linux bridge agent': { dataplane: agent.plane.name, devices: c.ports, security_groups: c.securityGroups, last_pass_ms: agent.lastPassMs },
    'DHCP agent': { dataplane: agent.plane.name, networks: c.networks, subnets: c.subnets, ports: c.ports, dhcp_driver: agent.plane.name },
    'L3 agent': { dataplane: agent.plane.name, routers: c.routers, floating_ips: c.floatingIps, agent_mode: 'legacy' },
    'Metadata agent': { dataplane: agent.plane.name },
  };
  return ROLES.map((r) => ({
    id: agentId(host, r.agent_type), agent_type: r.agent_type, binary: r.binary, topic: r.topic, host,
    admin_state_up: true, alive: Date.now() - beat < DOWN_AFTER_MS, availability_zone: r.zoned ? 'europe-se-1a' : null,
    configurations: configurations[r.agent_type], created_at: neutronStamp(agent.started), started_at: neutronStamp(agent.started),
    heartbeat_timestamp: neutronStamp(beat), description: null, resources_synced: null,
  }));
}

export async function agentRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const all = () => (deps.agent ? views(deps.agent) : []);
  app.get('/v2.0/agents', async (req) => {
    // As in Neutron, a non-admin's list is filtered down to nothing rather than refused.
    if (!req.ctx.isAdmin) return { agents: [] };
    const q = req.query as Record<string, string | undefined>;
    return { agents: all().filter((a) => (!q.agent_type || a.agent_type === q.agent_type) && (!q.host || a.host === q.host)) };
  });
  app.get('/v2.0/agents/:id', async (req) => {
    if (!req.ctx.isAdmin) throw neutronError(403, 'HTTPForbidden', '(rule:get_agent) is disallowed by policy');
    const a = all().find((x) => x.id === (req.params as { id: string }).id);
    if (!a) throw notFoundError('Agent', (req.params as { id: string }).id);
    return { agent: a };
  });
}
