import type { RequestContext } from '../../../platform/auth/context.js';
import type { NetDeps } from '../api/common.js';

/**
 * What the compute service's proxy APIs (Nova's os-security-groups, os-security-group-rules,
 * os-floating-ips, a server's security groups) need from the network service, in the
 * network's own terms. The security groups and routers parts provide them as hooks.
 */
export interface SecurityGroupRuleInfo {
  id: string; groupId: string; projectId: string; direction: string; ethertype: string; protocol: string | null;
  portMin: number | null; portMax: number | null; remoteIpPrefix: string | null; remoteGroupId: string | null;
}
export interface SecurityGroupInfo { id: string; name: string; description: string; projectId: string; rules: SecurityGroupRuleInfo[] }

export interface SecurityGroupOps {
  /** The caller's groups (admins asking for all projects: every group). */
  list(deps: NetDeps, ctx: RequestContext, allProjects: boolean): Promise<SecurityGroupInfo[]>;
  /** Groups by id, as far as they exist (no visibility check: for rendering rules' remote groups). */
  byIds(deps: NetDeps, ids: string[]): Promise<SecurityGroupInfo[]>;
  get(deps: NetDeps, ctx: RequestContext, id: string): Promise<SecurityGroupInfo>;
  create(deps: NetDeps, ctx: RequestContext, name: string, description: string): Promise<SecurityGroupInfo>;
  update(deps: NetDeps, ctx: RequestContext, id: string, name: string, description: string): Promise<SecurityGroupInfo>;
  delete(deps: NetDeps, ctx: RequestContext, id: string): Promise<void>;
  /** A rule in Neutron's attributes (security_group_id, direction, protocol, port_range_min …), checked as the rules API does. */
  createRule(deps: NetDeps, ctx: RequestContext, rule: Record<string, unknown>): Promise<SecurityGroupRuleInfo>;
  getRule(deps: NetDeps, ctx: RequestContext, id: string): Promise<SecurityGroupRuleInfo>;
  deleteRule(deps: NetDeps, ctx: RequestContext, id: string): Promise<void>;
  /** The groups on the ports of a device (a server). */
  ofDevice(deps: NetDeps, deviceId: string): Promise<SecurityGroupInfo[]>;
}

export interface FloatingIpInfo {
  id: string; address: string; networkId: string; networkName: string; fixedIp: string | null; portId: string | null; deviceId: string | null; projectId: string;
}

export interface FloatingIpOps {
  list(deps: NetDeps, ctx: RequestContext): Promise<FloatingIpInfo[]>;
  get(deps: NetDeps, ctx: RequestContext, id: string): Promise<FloatingIpInfo>;
  /** A new floating IP of the caller's project on an external network. */
  create(deps: NetDeps, ctx: RequestContext, networkId: string): Promise<FloatingIpInfo>;
  delete(deps: NetDeps, ctx: RequestContext, id: string): Promise<void>;
}

/** The operations with the service's own deps already bound, as the NetworkService offers them. */
export type Bound<T> = { [K in keyof T]: T[K] extends (deps: NetDeps, ...args: infer A) => infer R ? (...args: A) => R : never };

export function bindOps<T extends object>(ops: T | undefined, deps: () => NetDeps, what: string): Bound<T> {
  return new Proxy({} as Bound<T>, {
    get(_t, key) {
      return (...args: unknown[]) => {
        if (!ops) throw new Error(`the network service has no ${what}`);
        const f = (ops as Record<string | symbol, unknown>)[key];
        if (typeof f !== 'function') throw new Error(`no ${what} operation ${String(key)}`);
        return (f as (...a: unknown[]) => unknown).call(ops, deps(), ...args);
      };
    },
  });
}
