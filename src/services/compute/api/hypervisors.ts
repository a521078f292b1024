import { loadavg, uptime as osUptime } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComputeNodeRow } from '../store.js';
import { badRequest, computeRoot, mv, notFound, paging, type ComputeDeps } from './common.js';
import { adminOnly, isInteger, isUp, isUuidLike, onlyQuery, queryBool, serviceRecords, type ServiceRecord } from './compute-services.js';

/**
 * os-hypervisors: one hypervisor per compute node, with its inventory and what the
 * allocations on it use. From 2.53 ids are uuids and search/servers became query
 * parameters; from 2.88 the usage fields are gone (placement has them) and uptime joined
 * the detail view.
 */
interface Hyp { node: ComputeNodeRow; service: ServiceRecord; used: { vcpus: number; memoryMb: number; diskGb: number }; servers: Array<{ name: string; uuid: string }>; busy: number }

/** As Nova's drivers report them: the fake driver says `fake` 1.0; libvirt says `QEMU` and its version. */
const hypervisorVersion = (type: string): number => (type === 'fake' ? 1000 : 8002000);

/** The text of `uptime`, which is what libvirt hosts answer with. */
export function uptimeText(): string {
  const t = new Date();
  const secs = Math.floor(osUptime());
  const days = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const clock = t.toISOString().slice(11, 19);
  const load = loadavg().map((x) => x.toFixed(2)).join(', ');
  return ` ${clock} up ${days ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${String(h).padStart(2, ' ')}:${String(m).padStart(2, '0')},  0 users,  load average: ${load}`;
}

export async function hypervisorRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;

  const hypervisors = async (): Promise<Hyp[]> => {
    const [nodes, services, allocs, instances] = await Promise.all([
      db.selectFrom('compute_node').selectAll().orderBy('id').execute(),
      serviceRecords(db),
      db.selectFrom('allocation').selectAll().execute(),
      db.selectFrom('instance').select(['id', 'name', 'host', 'task_state']).where('deleted', '=', 0).where('host', 'is not', null).orderBy('created_at').execute(),
    ]);
    return nodes.map((node) => {
      const mine = allocs.filter((a) => a.host === node.host);
      const on = instances.filter((i) => i.host === node.host);
      return {
        node, service: services.find((s) => s.node?.host === node.host)!,
        used: { vcpus: sum(mine.map((a) => a.vcpus)), memoryMb: sum(mine.map((a) => a.memory_mb)), diskGb: sum(mine.map((a) => a.disk_gb)) },
        servers: on.map((i) => ({ name: i.name, uuid: i.id })),
        busy: on.filter((i) => i.task_state !== null).length,
      };
    });
  };

  const idOf = (req: FastifyRequest, h: Hyp) => (mv(req, '2.53') ? h.node.uuid : h.node.id);

  const view = (req: FastifyRequest, h: Hyp, detail: boolean, withServers = false, servers: boolean = withServers) => {
    const n = h.node;
    const out: Record<string, unknown> = { id: idOf(req, h), hypervisor_hostname: n.host, state: isUp(h.service) ? 'up' : 'down', status: h.service.disabled ? 'disabled' : 'enabled' };
    if (detail) {
      out.hypervisor_type = n.hypervisor_type;
      out.hypervisor_version = hypervisorVersion(n.hypervisor_type);
      out.host_ip = '127.0.0.1';
      out.service = { id: mv(req, '2.53') ? h.service.uuid : h.service.id, host: n.host, disabled_reason: h.service.disabledReason };
      if (!mv(req, '2.88')) {
        const freeDisk = n.local_gb - h.used.diskGb;
        Object.assign(out, {
          vcpus: n.vcpus, memory_mb: n.memory_mb, local_gb: n.local_gb, vcpus_used: h.used.vcpus, memory_mb_used: h.used.memoryMb,
          local_gb_used: h.used.diskGb, free_ram_mb: n.memory_mb - h.used.memoryMb, free_disk_gb: freeDisk, current_workload: h.busy,
          running_vms: h.servers.length, disk_available_least: freeDisk,
        });
        const cpu = { arch: 'x86_64', model: 'host-model', vendor: 'Stratus', topology: { cells: 1, sockets: 1, cores: n.vcpus, threads: 1 }, features: [] as string[] };
        out.cpu_info = mv(req, '2.28') ? cpu : JSON.stringify(cpu);
      } else {
        out.uptime = isUp(h.service) ? uptimeText() : null;
      }
    }
    if (servers && h.servers.length) out.servers = h.servers;
    else if (withServers && mv(req, '2.75')) out.servers = [];
    return out;
  };

  const list = async (req: FastifyRequest, detail: boolean) => {
    adminOnly(req, `os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'}`);
    const q = req.query as Record<string, string | undefined>;
    let pattern: string | undefined;
    let withServers = false;
    if (mv(req, '2.53')) {
      onlyQuery(req, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers']);
      pattern = q.hypervisor_hostname_pattern;
      if (q.with_servers !== undefined) withServers = queryBool(q.with_servers, 'with_servers');
    }
    let all = await hypervisors();
    if (pattern !== undefined) {
      if (q.limit !== undefined || q.marker !== undefined) throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
      all = all.filter((h) => h.node.host.includes(pattern!));
      if (!all.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
      return { hypervisors: all.map((h) => view(req, h, detail, withServers)) };
    }
    if (!mv(req, '2.33')) return { hypervisors: all.map((h) => view(req, h, detail, withServers)) };
    const { limit, marker } = paging(req);
    if (marker !== null) {
      const at = all.findIndex((h) => String(idOf(req, h)) === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      all = all.slice(at + 1);
    }
    if (limit !== null) all = all.slice(0, limit);
    const out: Record<string, unknown> = { hypervisors: all.map((h) => view(req, h, detail, withServers)) };
    if (limit !== null && all.length === limit && limit > 0) {
      const params = new URLSearchParams(q as Record<string, string>);
      params.set('marker', String(idOf(req, all[all.length - 1]!)));
      out.hypervisors_links = [{ rel: 'next', href: `${computeRoot(req, platform)}/v2.1/os-hypervisors${detail ? '/detail' : ''}?${params.toString()}` }];
    }
    return out;
  };
  app.get('/v2.1/os-hypervisors', async (req) => list(req, false));
  app.get('/v2.1/os-hypervisors/detail', async (req) => list(req, true));

  /** A hypervisor by id: an integer before 2.53 (anything else is simply not found), a uuid from 2.53 (anything else is a 400). */
  const find = async (req: FastifyRequest, id: string): Promise<Hyp> => {
    if (mv(req, '2.53')) {
      if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    } else if (!isInteger(id)) {
      throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    }
    const h = (await hypervisors()).find((x) => (mv(req, '2.53') ? x.node.uuid === id.toLowerCase() : x.node.id === Number(id)));
    if (!h) throw notFound(`Hypervisor with ID '${id}' could not be found.`);
    return h;
  };

  app.get('/v2.1/os-hypervisors/statistics', async (req) => {
    if (mv(req, '2.88')) throw notFound('The resource could not be found.');
    adminOnly(req, 'os_compute_api:os-hypervisors:statistics');
    const all = await hypervisors();
    const total = (f: (h: Hyp) => number) => sum(all.map(f));
    return {
      hypervisor_statistics: {
        count: all.length, vcpus: total((h) => h.node.vcpus), memory_mb: total((h) => h.node.memory_mb), local_gb: total((h) => h.node.local_gb),
        vcpus_used: total((h) => h.used.vcpus), memory_mb_used: total((h) => h.used.memoryMb), local_gb_used: total((h) => h.used.diskGb),
        free_ram_mb: total((h) => h.node.memory_mb - h.used.memoryMb), free_disk_gb: total((h) => h.node.local_gb - h.used.diskGb),
        current_workload: total((h) => h.busy), running_vms: total((h) => h.servers.length), disk_available_least: total((h) => h.node.local_gb - h.used.diskGb),
      },
    };
  });

  app.get('/v2.1/os-hypervisors/:id', async (req) => {
    adminOnly(req, 'os_compute_api:os-hypervisors:show');
    let withServers = false;
    if (mv(req, '2.53')) {
      onlyQuery(req, ['with_servers']);
      const w = (req.query as Record<string, string | undefined>).with_servers;
      if (w !== undefined) withServers = queryBool(w, 'with_servers');
    }
    const h = await find(req, (req.params as { id: string }).id);
    return { hypervisor: view(req, h, true, withServers) };
  });

  app.get('/v2.1/os-hypervisors/:id/uptime', async (req) => {
    if (mv(req, '2.88')) throw notFound('The resource could not be found.');
    adminOnly(req, 'os_compute_api:os-hypervisors:uptime');
    const h = await find(req, (req.params as { id: string }).id);
    if (!isUp(h.service)) throw badRequest(`Compute service of ${h.node.host} is unavailable at this time.`);
    return { hypervisor: { ...view(req, h, false), uptime: uptimeText() } };
  });

  // Before 2.53: search by hostname pattern, with or without the servers on each.
  const byPattern = async (req: FastifyRequest, servers: boolean) => {
    if (mv(req, '2.53')) throw notFound('The resource could not be found.');
    adminOnly(req, `os_compute_api:os-hypervisors:${servers ? 'servers' : 'search'}`);
    const pattern = (req.params as { id: string }).id;
    const found = (await hypervisors()).filter((h) => h.node.host.includes(pattern));
    if (!found.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
    return { hypervisors: found.map((h) => view(req, h, false, false, servers)) };
  };
  app.get('/v2.1/os-hypervisors/:id/search', async (req) => byPattern(req, false));
  app.get('/v2.1/os-hypervisors/:id/servers', async (req) => byPattern(req, true));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
