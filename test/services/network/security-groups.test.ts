import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';
import { clients } from '../../helpers/cli.js';

/** Security groups, their rules and address groups (Neutron's security-group and address-group extensions). */
describe('network security groups', () => {
  let c: TestCloud;
  let demo: string;
  let demoProject: string;
  let adminProject: string;
  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
    demoProject = (await c.api('GET', '/identity/v3/projects?name=demo', { token: c.adminToken })).body.projects[0].id;
    adminProject = (await c.api('GET', '/identity/v3/projects?name=admin', { token: c.adminToken })).body.projects[0].id;
  });
  afterAll(async () => { await c.destroy(); });

  const sg = async (token: string, body: Record<string, unknown> = {}) => {
    const r = await c.api('POST', '/network/v2.0/security-groups', { token, body: { security_group: { name: `sg-${Math.random().toString(36).slice(2, 8)}`, ...body } } });
    expect(r.status, r.text).toBe(201);
    return r.body.security_group as Record<string, any>;
  };
  const rule = (token: string, body: Record<string, unknown>) =>
    c.api('POST', '/network/v2.0/security-group-rules', { token, body: { security_group_rule: { direction: 'ingress', ...body } } });
  const defaultGroup = async (token: string) => {
    const r = await c.api('GET', '/network/v2.0/security-groups?name=default', { token });
    expect(r.status, r.text).toBe(200);
    return r.body.security_groups as Record<string, any>[];
  };

  it('creates the project\'s default group on first use, once, with upstream\'s rules', async () => {
    const [first, again] = await Promise.all([defaultGroup(demo), defaultGroup(demo)]);
    expect(first).toHaveLength(1);
    expect(again.map((g) => g.id)).toEqual(first.map((g) => g.id));
    const g = first[0]!;
    expect(g).toMatchObject({ name: 'default', description: 'Default security group', project_id: demoProject, tenant_id: demoProject, stateful: true, shared: false, tags: [] });
    const rules = g.security_group_rules.map((r: any) => [r.direction, r.ethertype, r.protocol, r.remote_group_id, r.remote_ip_prefix, r.belongs_to_default_sg]).sort();
    expect(rules).toEqual([
      ['egress', 'IPv4', null, null, null, true], ['egress', 'IPv6', null, null, null, true],
      ['ingress', 'IPv4', null, g.id, null, true], ['ingress', 'IPv6', null, g.id, null, true],
    ]);
    expect((await defaultGroup(demo))).toHaveLength(1);
    // Listing rules shows them too; deleting the default group is refused to its project.
    const listed = (await c.api('GET', `/network/v2.0/security-group-rules?security_group_id=${g.id}`, { token: demo })).body.security_group_rules;
    expect(listed).toHaveLength(4);
    const del = await c.api('DELETE', `/network/v2.0/security-groups/${g.id}`, { token: demo });
    expect(del.status).toBe(409);
    expect(del.body.NeutronError.type).toBe('SecurityGroupCannotRemoveDefault');
    const rename = await c.api('PUT', `/network/v2.0/security-groups/${g.id}`, { token: demo, body: { security_group: { name: 'other' } } });
    expect(rename.status).toBe(409);
    expect(rename.body.NeutronError.type).toBe('SecurityGroupCannotUpdateDefault');
    const describe = await c.api('PUT', `/network/v2.0/security-groups/${g.id}`, { token: demo, body: { security_group: { description: 'mine' } } });
    expect(describe.status).toBe(200);
    expect(describe.body.security_group.description).toBe('mine');
  });

  it('creates, updates and deletes groups, each starting with the two egress rules', async () => {
    const g = await sg(demo, { description: 'web' });
    expect(g.security_group_rules.map((r: any) => `${r.direction}/${r.ethertype}`).sort()).toEqual(['egress/IPv4', 'egress/IPv6']);
    expect(g.security_group_rules.every((r: any) => r.belongs_to_default_sg === false)).toBe(true);
    for (const name of ['default', 'Default']) {
      const r = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: { security_group: { name } } });
      expect(r.status).toBe(409);
      expect(r.body.NeutronError.type).toBe('SecurityGroupDefaultAlreadyExists');
    }
    const toDefault = await c.api('PUT', `/network/v2.0/security-groups/${g.id}`, { token: demo, body: { security_group: { name: 'default' } } });
    expect(toDefault.status).toBe(409);
    const up = await c.api('PUT', `/network/v2.0/security-groups/${g.id}`, { token: demo, body: { security_group: { name: 'web2', description: 'd2' } } });
    expect(up.status).toBe(200);
    expect(up.body.security_group).toMatchObject({ name: 'web2', description: 'd2' });
    expect(up.body.security_group.revision_number).toBeGreaterThan(g.revision_number);
    expect((await c.api('GET', `/network/v2.0/security-groups/${g.id}?fields=id&fields=name`, { token: demo })).body.security_group).toEqual({ id: g.id, name: 'web2' });
    const bad = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: { security_group: { name: 'x', colour: 'red' } } });
    expect(bad.status).toBe(400);
    const reader = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: {} });
    expect(reader.status).toBe(400);
    expect((await c.api('DELETE', `/network/v2.0/security-groups/${g.id}`, { token: demo })).status).toBe(204);
    const gone = await c.api('GET', `/network/v2.0/security-groups/${g.id}`, { token: demo });
    expect(gone.status).toBe(404);
    expect(gone.body.NeutronError.type).toBe('SecurityGroupNotFound');
    const rules = (await c.api('GET', `/network/v2.0/security-group-rules?security_group_id=${g.id}`, { token: demo })).body.security_group_rules;
    expect(rules).toEqual([]);
  });

  it('creates rules and refuses duplicates with the existing rule\'s id', async () => {
    const g = await sg(demo);
    const r = await rule(demo, { security_group_id: g.id, protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
    expect(r.status, r.text).toBe(201);
    expect(r.body.security_group_rule).toMatchObject({
      security_group_id: g.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0', normalized_cidr: '0.0.0.0/0', remote_group_id: null, remote_address_group_id: null, project_id: demoProject, description: '',
    });
    const id = r.body.security_group_rule.id;
    // Same rule again; by protocol number; with "anywhere" left out: all the same rule.
    for (const body of [{ protocol: 'tcp', remote_ip_prefix: '0.0.0.0/0' }, { protocol: 6 }, { protocol: '6', ethertype: 'ipv4' }]) {
      const dup = await rule(demo, { security_group_id: g.id, port_range_min: 22, port_range_max: 22, ...body });
      expect(dup.status, JSON.stringify(body)).toBe(409);
      expect(dup.body.NeutronError.type).toBe('SecurityGroupRuleExists');
      expect(dup.body.NeutronError.message).toContain(id);
    }
    const shown = await c.api('GET', `/network/v2.0/security-group-rules/${id}`, { token: demo });
    expect(shown.body.security_group_rule).toEqual(r.body.security_group_rule);
    const group = (await c.api('GET', `/network/v2.0/security-groups/${g.id}`, { token: demo })).body.security_group;
    expect(group.security_group_rules.map((x: any) => x.id)).toContain(id);
    expect(group.revision_number).toBeGreaterThan(g.revision_number);
    // The whole port range is no range.
    const all = await rule(demo, { security_group_id: g.id, protocol: 'udp', port_range_min: 1, port_range_max: 65535 });
    expect(all.body.security_group_rule).toMatchObject({ port_range_min: null, port_range_max: null });
    expect((await c.api('DELETE', `/network/v2.0/security-group-rules/${id}`, { token: demo })).status).toBe(204);
    const gone = await c.api('GET', `/network/v2.0/security-group-rules/${id}`, { token: demo });
    expect(gone.status).toBe(404);
    expect(gone.body.NeutronError.type).toBe('SecurityGroupRuleNotFound');
    // Bulk create.
    const bulk = await c.api('POST', '/network/v2.0/security-group-rules', { token: demo, body: { security_group_rules: [
      { security_group_rule: { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: '80', port_range_max: '80' } },
      { security_group_rule: { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 443, port_range_max: 443 } },
    ] } });
    expect(bulk.status, bulk.text).toBe(201);
    expect(bulk.body.security_group_rules.map((x: any) => x.port_range_min)).toEqual([80, 443]);
  });

  it('refuses bad port ranges as Tempest expects', async () => {
    const g = await sg(demo);
    const cases: [string, unknown, unknown, string, string][] = [
      ['tcp', -16, 80, 'Invalid value for port -16', 'SecurityGroupInvalidPortValue'],
      ['tcp', 80, 79, 'port_range_min must be <= port_range_max', 'SecurityGroupInvalidPortRange'],
      ['tcp', 80, 65536, 'Invalid value for port 65536', 'SecurityGroupInvalidPortValue'],
      ['tcp', null, 6, 'port_range_min must be <= port_range_max', 'SecurityGroupInvalidPortRange'],
      ['tcp', 0, 6, 'Invalid value for port 0', 'SecurityGroupInvalidPortValue'],
      ['icmp', 1, 256, 'Invalid value for ICMP code', 'SecurityGroupInvalidIcmpValue'],
      ['icmp', -1, 25, 'Invalid value', 'SecurityGroupInvalidPortValue'],
      ['icmp', null, 6, 'ICMP type (port-range-min) is missing', 'SecurityGroupMissingIcmpType'],
      ['icmp', 300, 1, 'Invalid value for ICMP type', 'SecurityGroupInvalidIcmpValue'],
      ['gre', 1, 2, 'Ports cannot be specified for protocol 47', 'SecurityGroupInvalidProtocolForPort'],
      [null as unknown as string, 1, 2, 'Must also specify protocol', 'SecurityGroupProtocolRequiredWithPorts'],
      ['tcp', 'abc', 2, 'Invalid value for port abc', 'SecurityGroupInvalidPortValue'],
    ];
    for (const [protocol, min, max, msg, type] of cases) {
      const r = await rule(demo, { security_group_id: g.id, protocol, port_range_min: min, port_range_max: max });
      expect(r.status, `${protocol} ${min} ${max}`).toBe(400);
      expect(r.body.NeutronError.message).toContain(msg);
      expect(r.body.NeutronError.type).toBe(type);
    }
    for (const [t, code] of [[3, 2], [8, 0], [0, 0], [11, null]]) {
      const r = await rule(demo, { security_group_id: g.id, protocol: 'icmp', port_range_min: t, port_range_max: code });
      expect(r.status, r.text).toBe(201);
      expect(r.body.security_group_rule).toMatchObject({ port_range_min: t, port_range_max: code });
    }
    const before = (await c.api('GET', `/network/v2.0/security-group-rules?security_group_id=${g.id}`, { token: demo })).body.security_group_rules.length;
    expect(before).toBe(6);
  });

  it('takes protocols by name or number and checks ethertypes and remotes', async () => {
    const g = await sg(demo);
    const ok = async (body: Record<string, unknown>) => {
      const r = await rule(demo, { security_group_id: g.id, ...body });
      expect(r.status, r.text).toBe(201);
      return r.body.security_group_rule;
    };
    expect((await ok({ protocol: 17 })).protocol).toBe('17');
    expect((await ok({ protocol: 'UDP', direction: 'egress' })).protocol).toBe('udp');
    expect((await ok({ protocol: 'any', direction: 'egress', remote_ip_prefix: '10.1.0.0/16' })).protocol).toBeNull();
    expect((await ok({ protocol: 'icmp', ethertype: 'IPv6' })).protocol).toBe('ipv6-icmp');
    expect((await ok({ protocol: '132', port_range_min: 10, port_range_max: 20 })).protocol).toBe('132');
    const v4 = await ok({ protocol: 'tcp', remote_ip_prefix: '10.0.0.1/24' });
    expect(v4).toMatchObject({ remote_ip_prefix: '10.0.0.1/24', normalized_cidr: '10.0.0.0/24' });
    expect((await ok({ protocol: 'tcp', remote_ip_prefix: '192.168.7.5' })).remote_ip_prefix).toBe('192.168.7.5/32');
    expect(await ok({ protocol: 'tcp', ethertype: 'IPv6', remote_ip_prefix: '2001:DB8::1/64' })).toMatchObject({ remote_ip_prefix: '2001:db8::1/64', normalized_cidr: '2001:db8::/64' });
    const refusals: [Record<string, unknown>, number, string][] = [
      [{ protocol: 'bad' }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: 256 }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ protocol: -1 }, 400, 'SecurityGroupRuleInvalidProtocol'],
      [{ ethertype: 'IPv5' }, 400, 'SecurityGroupRuleInvalidEtherType'],
      [{ direction: 'sideways' }, 400, 'HTTPBadRequest'],
      [{ direction: undefined }, 400, 'HTTPBadRequest'],
      [{ remote_ip_prefix: '300.1.1.1/24' }, 400, 'InvalidCIDR'],
      [{ remote_ip_prefix: '10.0.0.0/33' }, 400, 'InvalidCIDR'],
      [{ ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/24' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ ethertype: 'IPv4', remote_ip_prefix: '2001:db8::/64' }, 400, 'SecurityGroupRuleParameterConflict'],
      [{ ethertype: 'IPv4', protocol: 'ipv6-icmp' }, 400, 'SecurityGroupEthertypeConflictWithProtocol'],
      [{ remote_ip_prefix: '10.0.0.0/24', remote_group_id: g.id }, 400, 'SecurityGroupMultipleRemoteEntites'],
      [{ remote_group_id: '9e6b0a3c-0000-4000-8000-000000000000' }, 404, 'SecurityGroupNotFound'],
      [{ remote_group_id: 'bad_group_id' }, 404, 'SecurityGroupNotFound'],
      [{ remote_ip_prefix: '256' }, 400, 'InvalidCIDR'],
      [{ remote_ip_prefix: '192.168.1./24' }, 400, 'InvalidCIDR'],
      [{ remote_address_group_id: '9e6b0a3c-0000-4000-8000-000000000000' }, 404, 'AddressGroupNotFound'],
      [{ security_group_id: '9e6b0a3c-0000-4000-8000-000000000000' }, 404, 'SecurityGroupNotFound'],
      [{ security_group_id: undefined }, 400, 'HTTPBadRequest'],
      [{ colour: 'red' }, 400, 'HTTPBadRequest'],
    ];
    for (const [body, status, type] of refusals) {
      const r = await rule(demo, { security_group_id: g.id, ...body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.NeutronError.type, JSON.stringify(body)).toBe(type);
    }
    expect((await c.api('POST', '/network/v2.0/security-group-rules', { token: demo, body: { security_group_rule: [] } })).status).toBe(400);
    const other = await sg(demo);
    const remote = await ok({ protocol: 'tcp', remote_group_id: other.id });
    expect(remote.remote_group_id).toBe(other.id);
    // Deleting the remote group takes the rules that name it.
    expect((await c.api('DELETE', `/network/v2.0/security-groups/${other.id}`, { token: demo })).status).toBe(204);
    expect((await c.api('GET', `/network/v2.0/security-group-rules/${remote.id}`, { token: demo })).status).toBe(404);
    // Filters and sorting.
    const udp = (await c.api('GET', `/network/v2.0/security-group-rules?security_group_id=${g.id}&protocol=udp`, { token: demo })).body.security_group_rules;
    expect(udp).toHaveLength(1);
    const sorted = (await c.api('GET', `/network/v2.0/security-group-rules?security_group_id=${g.id}&sort_key=ethertype&sort_dir=desc&limit=2`, { token: demo })).body;
    expect(sorted.security_group_rules[0].ethertype).toBe('IPv6');
    expect(sorted.security_group_rules_links[0].rel).toBe('next');
  });

  it('keeps projects apart', async () => {
    const mine = await sg(c.adminToken, { name: 'admin-only' });
    const adminRule = await rule(c.adminToken, { security_group_id: mine.id, protocol: 'tcp' });
    expect(adminRule.status).toBe(201);
    const hidden = await c.api('GET', `/network/v2.0/security-groups/${mine.id}`, { token: demo });
    expect(hidden.status).toBe(404);
    expect(hidden.body.NeutronError.type).toBe('SecurityGroupNotFound');
    expect((await c.api('PUT', `/network/v2.0/security-groups/${mine.id}`, { token: demo, body: { security_group: { name: 'x' } } })).status).toBe(404);
    expect((await c.api('DELETE', `/network/v2.0/security-groups/${mine.id}`, { token: demo })).status).toBe(404);
    const r = await rule(demo, { security_group_id: mine.id, protocol: 'udp' });
    expect(r.status).toBe(404);
    expect(r.body.NeutronError.type).toBe('SecurityGroupNotFound');
    const demoGroup = await sg(demo);
    expect((await rule(demo, { security_group_id: demoGroup.id, remote_group_id: mine.id })).status).toBe(404);
    expect((await c.api('GET', `/network/v2.0/security-group-rules/${adminRule.body.security_group_rule.id}`, { token: demo })).status).toBe(404);
    expect((await c.api('DELETE', `/network/v2.0/security-group-rules/${adminRule.body.security_group_rule.id}`, { token: demo })).status).toBe(404);
    const list = (await c.api('GET', '/network/v2.0/security-groups', { token: demo })).body.security_groups;
    expect(list.every((g: any) => g.project_id === demoProject)).toBe(true);
    const rules = (await c.api('GET', '/network/v2.0/security-group-rules', { token: demo })).body.security_group_rules;
    expect(rules.some((x: any) => x.security_group_id === mine.id)).toBe(false);
    const forOther = (await c.api('GET', `/network/v2.0/security-groups?project_id=${adminProject}`, { token: demo })).body.security_groups;
    expect(forOther).toEqual([]);
    // Admins see every project's groups, and may create in another project.
    const all = (await c.api('GET', '/network/v2.0/security-groups', { token: c.adminToken })).body.security_groups;
    expect(all.some((g: any) => g.project_id === demoProject)).toBe(true);
    const forDemo = await sg(c.adminToken, { project_id: demoProject });
    expect(forDemo.project_id).toBe(demoProject);
    const forbidden = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: { security_group: { name: 'x', project_id: adminProject } } });
    expect(forbidden.status).toBe(403);
  });

  it('enforces security_group and security_group_rule quotas', async () => {
    const used = (await c.api('GET', `/network/v2.0/quotas/${demoProject}/details`, { token: demo })).body.quota;
    expect(used.security_group.limit).toBe(15);
    expect(used.security_group_rule.limit).toBe(249);
    const setQuota = (q: Record<string, number>) => c.api('PUT', `/network/v2.0/quotas/${demoProject}`, { token: c.adminToken, body: { quota: q } });
    expect((await setQuota({ security_group: used.security_group.used + 1 })).status).toBe(200);
    const g = await sg(demo);
    const over = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: { security_group: { name: 'one-too-many' } } });
    expect(over.status).toBe(409);
    expect(over.body.NeutronError.type).toBe('OverQuota');
    const now = (await c.api('GET', `/network/v2.0/quotas/${demoProject}/details`, { token: demo })).body.quota;
    // The default group's four rules and each group's two count as well.
    expect(now.security_group_rule.used).toBeGreaterThanOrEqual(6);
    expect((await setQuota({ security_group: 100, security_group_rule: now.security_group_rule.used + 1 })).status).toBe(200);
    expect((await rule(demo, { security_group_id: g.id, protocol: 'tcp' })).status).toBe(201);
    const overRule = await rule(demo, { security_group_id: g.id, protocol: 'udp' });
    expect(overRule.status).toBe(409);
    expect(overRule.body.NeutronError.type).toBe('OverQuota');
    // A new group needs room for its two egress rules.
    const noRoom = await c.api('POST', '/network/v2.0/security-groups', { token: demo, body: { security_group: { name: 'no-room' } } });
    expect(noRoom.status).toBe(409);
    expect((await c.api('DELETE', `/network/v2.0/quotas/${demoProject}`, { token: c.adminToken })).status).toBe(204);
  });

  describe('with ports', () => {
    let network: string;
    beforeAll(async () => {
      const n = await c.api('POST', '/network/v2.0/networks', { token: demo, body: { network: { name: 'sg-net' } } });
      network = n.body.network.id;
      const s = await c.api('POST', '/network/v2.0/subnets', { token: demo, body: { subnet: { network_id: network, ip_version: 4, cidr: '10.77.0.0/24' } } });
      expect(s.status, s.text).toBe(201);
    });
    const port = (body: Record<string, unknown> = {}, token = demo) => c.api('POST', '/network/v2.0/ports', { token, body: { port: { network_id: network, ...body } } });

    it('gives a port the default group, or the groups it names', async () => {
      const [def] = await defaultGroup(demo);
      const p = await port();
      expect(p.status, p.text).toBe(201);
      expect(p.body.port.security_groups).toEqual([def!.id]);
      const g = await sg(demo);
      const q = await port({ security_groups: [g.id] });
      expect(q.body.port.security_groups).toEqual([g.id]);
      const filtered = (await c.api('GET', `/network/v2.0/ports?security_groups=${g.id}`, { token: demo })).body.ports;
      expect(filtered.map((x: any) => x.id)).toEqual([q.body.port.id]);
      const inUse = await c.api('DELETE', `/network/v2.0/security-groups/${g.id}`, { token: demo });
      expect(inUse.status).toBe(409);
      expect(inUse.body.NeutronError.type).toBe('SecurityGroupInUse');
      const notMine = await sg(c.adminToken);
      const refused = await port({ security_groups: [notMine.id] });
      expect(refused.status).toBe(404);
      expect(refused.body.NeutronError.type).toBe('SecurityGroupNotFound');
      expect((await port({ security_groups: ['web'] })).status).toBe(400);
      const upd = await c.api('PUT', `/network/v2.0/ports/${q.body.port.id}`, { token: demo, body: { port: { security_groups: [g.id, def!.id] } } });
      expect(upd.status, upd.text).toBe(200);
      expect(upd.body.port.security_groups.sort()).toEqual([g.id, def!.id].sort());
      expect((await c.api('PUT', `/network/v2.0/ports/${q.body.port.id}`, { token: demo, body: { port: { security_groups: [] } } })).body.port.security_groups).toEqual([]);
      expect((await c.api('DELETE', `/network/v2.0/security-groups/${g.id}`, { token: demo })).status).toBe(204);
      const none = await port({ security_groups: [] });
      expect(none.body.port.security_groups).toEqual([]);
    });

    it('keeps stateless groups apart from stateful ones', async () => {
      const stateless = await sg(demo, { stateful: false });
      expect(stateless.stateful).toBe(false);
      const listed = (await c.api('GET', '/network/v2.0/security-groups?stateful=false', { token: demo })).body.security_groups;
      expect(listed.map((g: any) => g.id)).toEqual([stateless.id]);
      const stateful = await sg(demo);
      const mixed = await port({ security_groups: [stateless.id, stateful.id] });
      expect(mixed.status).toBe(409);
      expect(mixed.body.NeutronError.type).toBe('SecurityGroupConflict');
      const p = await port({ security_groups: [stateless.id] });
      expect(p.status).toBe(201);
      const flip = await c.api('PUT', `/network/v2.0/security-groups/${stateless.id}`, { token: demo, body: { security_group: { stateful: true } } });
      expect(flip.status).toBe(409);
      expect(flip.body.NeutronError.type).toBe('SecurityGroupInUse');
      const unused = await c.api('PUT', `/network/v2.0/security-groups/${stateful.id}`, { token: demo, body: { security_group: { stateful: false } } });
      expect(unused.body.security_group.stateful).toBe(false);
    });
  });

  it('manages address groups and their use as a rule\'s remote', async () => {
    const create = await c.api('POST', '/network/v2.0/address-groups', { token: demo, body: { address_group: {
      name: 'office', description: 'the office', addresses: ['10.0.0.1/24', '192.168.1.5/32', '10.0.0.9/24', '2001:DB8::5/64'],
    } } });
    expect(create.status, create.text).toBe(201);
    const ag = create.body.address_group;
    expect(ag).toMatchObject({ name: 'office', description: 'the office', project_id: demoProject, tenant_id: demoProject });
    expect(ag.addresses.sort()).toEqual(['10.0.0.0/24', '192.168.1.5/32', '2001:db8::/64'].sort());
    const add = await c.api('PUT', `/network/v2.0/address-groups/${ag.id}/add_addresses`, { token: demo, body: { addresses: ['172.16.0.0/12'] } });
    expect(add.status, add.text).toBe(200);
    expect(add.body.address_group.addresses).toContain('172.16.0.0/12');
    const again = await c.api('PUT', `/network/v2.0/address-groups/${ag.id}/add_addresses`, { token: demo, body: { addresses: ['172.16.0.0/12'] } });
    expect(again.status).toBe(400);
    expect(again.body.NeutronError.type).toBe('AddressesAlreadyExist');
    const missing = await c.api('PUT', `/network/v2.0/address-groups/${ag.id}/remove_addresses`, { token: demo, body: { addresses: ['8.8.8.8/32'] } });
    expect(missing.status).toBe(404);
    expect(missing.body.NeutronError.type).toBe('AddressesNotFound');
    const rm = await c.api('PUT', `/network/v2.0/address-groups/${ag.id}/remove_addresses`, { token: demo, body: { addresses: ['192.168.1.5/32'] } });
    expect(rm.body.address_group.addresses).not.toContain('192.168.1.5/32');
    for (const bad of ['10.0.0.1', 'nonsense', '10.0.0.0/40']) {
      const r = await c.api('POST', '/network/v2.0/address-groups', { token: demo, body: { address_group: { addresses: [bad] } } });
      expect(r.status, bad).toBe(400);
    }
    const up = await c.api('PUT', `/network/v2.0/address-groups/${ag.id}`, { token: demo, body: { address_group: { name: 'hq' } } });
    expect(up.body.address_group.name).toBe('hq');
    expect((await c.api('PUT', `/network/v2.0/address-groups/${ag.id}`, { token: demo, body: { address_group: { addresses: [] } } })).status).toBe(400);
    expect((await c.api('GET', `/network/v2.0/address-groups?name=hq`, { token: demo })).body.address_groups.map((x: any) => x.id)).toEqual([ag.id]);
    expect((await c.api('GET', `/network/v2.0/address-groups/${ag.id}`, { token: c.adminToken })).status).toBe(200);

    const g = await sg(demo);
    const r = await rule(demo, { security_group_id: g.id, protocol: 'tcp', port_range_min: 443, port_range_max: 443, remote_address_group_id: ag.id });
    expect(r.status, r.text).toBe(201);
    expect(r.body.security_group_rule).toMatchObject({ remote_address_group_id: ag.id, remote_ip_prefix: null, remote_group_id: null });
    const both = await rule(demo, { security_group_id: g.id, protocol: 'tcp', remote_address_group_id: ag.id, remote_group_id: g.id });
    expect(both.body.NeutronError.type).toBe('SecurityGroupMultipleRemoteEntites');
    const inUse = await c.api('DELETE', `/network/v2.0/address-groups/${ag.id}`, { token: demo });
    expect(inUse.status).toBe(409);
    expect(inUse.body.NeutronError.type).toBe('AddressGroupInUse');
    // Another project cannot see or use it.
    const adminGroup = await sg(c.adminToken);
    expect((await rule(c.adminToken, { security_group_id: adminGroup.id, remote_address_group_id: ag.id })).status).toBe(201);
    const other = await c.api('POST', '/network/v2.0/address-groups', { token: c.adminToken, body: { address_group: { name: 'admins' } } });
    expect((await c.api('GET', `/network/v2.0/address-groups/${other.body.address_group.id}`, { token: demo })).status).toBe(404);
    expect((await rule(demo, { security_group_id: g.id, remote_address_group_id: other.body.address_group.id })).status).toBe(404);
    expect((await c.api('DELETE', `/network/v2.0/security-groups/${g.id}`, { token: demo })).status).toBe(204);
    expect((await c.api('DELETE', `/network/v2.0/security-groups/${adminGroup.id}`, { token: c.adminToken })).status).toBe(204);
    expect((await c.api('DELETE', `/network/v2.0/address-groups/${ag.id}`, { token: demo })).status).toBe(204);
    expect((await c.api('GET', `/network/v2.0/address-groups/${ag.id}`, { token: demo })).body.NeutronError.type).toBe('AddressGroupNotFound');
  });

  it('tags groups and lists the extensions', async () => {
    const g = await sg(demo);
    expect((await c.api('PUT', `/network/v2.0/security-groups/${g.id}/tags`, { token: demo, body: { tags: ['blue', 'web'] } })).status).toBe(200);
    const tagged = (await c.api('GET', '/network/v2.0/security-groups?tags=web', { token: demo })).body.security_groups;
    expect(tagged.map((x: any) => [x.id, x.tags])).toEqual([[g.id, ['blue', 'web']]]);
    const aliases = (await c.api('GET', '/network/v2.0/extensions', { token: demo })).body.extensions.map((e: any) => e.alias);
    for (const a of ['security-group', 'stateful-security-group', 'address-group', 'security-groups-remote-address-group', 'security-groups-normalized-cidr']) {
      expect(aliases).toContain(a);
    }
  });
});

describe('openstack CLI against security groups', () => {
  let c: TestCloud;
  let cli: ReturnType<typeof clients>;
  const json = (args: string[]) => cli.json(args);
  beforeAll(async () => {
    c = await testCloud();
    cli = clients(c.dataDir);
  });
  afterAll(async () => { await c.destroy(); });

  it('creates a group, a rule for SSH from anywhere, and lists them', async () => {
    const g = await json(['security', 'group', 'create', '--description', 'ssh in', 'ssh']);
    expect(g.name).toBe('ssh');
    const r = await json(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '0.0.0.0/0', 'ssh']);
    expect(r).toMatchObject({ protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', direction: 'ingress', ether_type: 'IPv4' });
    const groups = await json(['security', 'group', 'list']);
    expect(groups.map((x: { Name: string }) => x.Name).sort()).toEqual(['default', 'ssh']);
    const rules = await json(['security', 'group', 'rule', 'list', 'ssh']);
    expect(rules.some((x: Record<string, unknown>) => x['Port Range'] === '22:22' && x['IP Range'] === '0.0.0.0/0')).toBe(true);
    const stateless = await json(['security', 'group', 'create', '--stateless', 'udp-fast']);
    expect(stateless.stateful).toBe(false);
  });
});
