import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCloud, type TestCloud } from '../../helpers/cloud.js';

/** The older admin APIs: os-hosts (≤ 2.42), server external events, the usage audit log, extensions. */
describe('compute: os-hosts, external events, usage audit log, extensions', () => {
  let c: TestCloud;
  let demo: string;
  const api = (method: string, path: string, token: string, body?: unknown, version?: string) =>
    c.api(method, `/compute/v2.1${path}`, { token, body, headers: version ? { 'X-OpenStack-Nova-API-Version': version } : {} });

  beforeAll(async () => {
    c = await testCloud();
    demo = await c.login('demo', 'demo-secret');
  });
  afterAll(async () => { await c?.destroy(); });

  it('lists hosts by zone, shows a host, enables and disables it, and is gone from 2.43', async () => {
    const hosts = (await api('GET', '/os-hosts', c.adminToken)).body.hosts;
    expect(hosts).toEqual(expect.arrayContaining([{ host_name: 'compute-1a-1', service: 'compute', zone: 'europe-se-1a' }, { host_name: 'controller', service: 'scheduler', zone: 'internal' }]));
    expect((await api('GET', '/os-hosts?zone=europe-se-1b', c.adminToken)).body.hosts.map((h: any) => h.host_name)).toEqual(['compute-1b-1', 'compute-1b-2', 'compute-1b-3']);
    expect((await api('GET', '/os-hosts?zone=mars', c.adminToken)).body.hosts).toEqual([]);
    const detail = (await api('GET', '/os-hosts/compute-1a-1', c.adminToken)).body.host;
    expect(detail[0].resource).toMatchObject({ host: 'compute-1a-1', project: '(total)', cpu: 64 });
    expect((await api('PUT', '/os-hosts/compute-1a-2', c.adminToken, { status: 'disable' })).body).toEqual({ host: 'compute-1a-2', status: 'disabled' });
    const services = (await api('GET', '/os-services?host=compute-1a-2', c.adminToken)).body.services;
    expect(services[0].status).toBe('disabled');
    await api('PUT', '/os-hosts/compute-1a-2', c.adminToken, { status: 'enable' });
    expect((await api('PUT', '/os-hosts/compute-1a-2', c.adminToken, { status: 'sideways' })).status).toBe(400);
    expect((await api('PUT', '/os-hosts/compute-1a-2', c.adminToken, {})).status).toBe(400);
    expect((await api('GET', '/os-hosts/nowhere', c.adminToken)).status).toBe(404);
    expect((await api('GET', '/os-hosts/compute-1a-1/reboot', c.adminToken)).status).toBe(501);
    expect((await api('GET', '/os-hosts', demo)).status).toBe(403);
    expect((await api('GET', '/os-hosts', c.adminToken, undefined, '2.43')).status).toBe(404);
  });

  it('accepts external events for existing servers only, from admins only', async () => {
    const none = await api('POST', '/os-server-external-events', c.adminToken, { events: [{ name: 'network-changed', server_uuid: '6e1b7a1c-0000-4000-8000-000000000000' }] });
    expect(none.status).toBe(404);
    expect((await api('POST', '/os-server-external-events', demo, { events: [{ name: 'network-changed', server_uuid: '6e1b7a1c-0000-4000-8000-000000000000' }] })).status).toBe(403);
    expect((await api('POST', '/os-server-external-events', c.adminToken, { events: [{ name: 'bogus', server_uuid: '6e1b7a1c-0000-4000-8000-000000000000' }] })).status).toBe(400);
  });

  it('reports that the usage audit has not run, and refuses bad times and non-admins', async () => {
    const log = (await api('GET', '/os-instance_usage_audit_log', c.adminToken)).body.instance_usage_audit_logs;
    expect(log).toMatchObject({ num_hosts: 6, num_hosts_done: 0, num_hosts_not_run: 6, total_instances: 0, overall_status: '0 of 6 hosts done. 0 errors.' });
    expect((await api('GET', `/os-instance_usage_audit_log/${encodeURIComponent('2026-11-01 00:00:00')}`, c.adminToken)).body.instance_usage_audit_log.period_ending).toBe('2026-11-01 00:00:00');
    expect((await api('GET', '/os-instance_usage_audit_log/invalid_time', c.adminToken)).status).toBe(400);
    expect((await api('GET', '/os-instance_usage_audit_log', demo)).status).toBe(403);
  });

  it('lists the extensions older clients look for', async () => {
    const list = (await api('GET', '/extensions', demo)).body.extensions;
    expect(list.map((e: any) => e.name)).toContain('Hosts');
    expect((await api('GET', '/extensions/os-consoles', demo)).body.extension.alias).toBe('os-consoles');
    expect((await api('GET', '/extensions/os-nothing', demo)).status).toBe(404);
  });
});
