/**
 * Seams between the parts of the network service that land separately: the core (networks,
 * subnets, ports) calls these, and the parts that own the behaviour register them.
 */
import type { NetDb } from '../store.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import type { DesiredState } from '../dataplane/driver.js';
import type { Dialect } from '../../../platform/db/index.js';
import type { FloatingIpOps, SecurityGroupOps } from './nova-proxy.js';

export interface NetworkHooks {
  /** The project's `default` security group, created with upstream's default rules on first use. */
  defaultSecurityGroup?: (trx: NetDb, projectId: string) => Promise<string>;
  /** Refuses security group ids the project may not use; returns them normalised. */
  checkSecurityGroups?: (trx: NetDb, projectId: string, ids: string[], isAdmin: boolean) => Promise<string[]>;
  /** Security groups by id or name as another service names them (the project's `default` is made on first use). */
  resolveSecurityGroups?: (trx: NetDb, ctx: RequestContext, refs: string[]) => Promise<string[]>;
  /** Points a floating IP (by address, visible to the caller) at a port and fixed address, or at nothing (Nova's floating IP actions). */
  setFloatingIpPort?: (trx: NetDb, dialect: Dialect, ctx: RequestContext, address: string, portId: string | null, fixedIp: string | null) => Promise<void>;
  /** Before a port is deleted (routers refuse to lose interface ports, floating IPs let go). */
  beforePortDelete?: Array<(trx: NetDb, portId: string, deviceOwner: string, byRouterApi: boolean) => Promise<void>>;
  /** Before a subnet is deleted (a router interface on it is in use). */
  beforeSubnetDelete?: Array<(trx: NetDb, subnetId: string) => Promise<void>>;
  /** A CIDR from a subnet pool for a new subnet (the subnet pools part provides it). */
  allocateFromPool?: (trx: NetDb, req: { ctx: RequestContext; poolId: string | null; useDefault: boolean; ipVersion: number; prefixlen: unknown; cidr: unknown; projectId: string }) => Promise<{ cidr: string; poolId: string }>;
  /** A network created or updated shared / router:external: RBAC keeps the matching wildcard policies in step, and may refuse (still in use). */
  networkSharing?: (trx: NetDb, ctx: RequestContext, net: { id: string; project_id: string }, change: { shared?: boolean; external?: boolean }) => Promise<void>;
  /** Before a network is deleted (its RBAC policies go with it). */
  beforeNetworkDelete?: Array<(trx: NetDb, networkId: string) => Promise<void>>;
  /** Fill the parts' resources (security groups, routers, floating IPs) into the state the network agent realises. */
  agentState: Array<(db: NetDb, state: DesiredState) => Promise<void>>;
  /** Extension aliases the parts provide, for /v2.0/extensions. */
  extensions: string[];
  /** Security groups for the compute service's proxy APIs (the security groups part provides them). */
  novaSecurityGroups?: SecurityGroupOps;
  /** Floating IPs for the compute service's os-floating-ips proxy (the routers part provides them). */
  novaFloatingIps?: FloatingIpOps;
}

export const newHooks = (): NetworkHooks => ({ beforePortDelete: [], beforeSubnetDelete: [], agentState: [], extensions: [] });
