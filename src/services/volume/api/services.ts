import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { badRequest, bool, cinderTime, mv, notFound, requireAdmin, route, type VolumeDeps } from './common.js';
import { volumeZones } from '../logic/volumes.js';
import { toMap } from '../store.js';

/**
 * The operator's view of block storage, all admin-only: os-services (the scheduler, the
 * volume service of the file backend, the backup service), os-hosts, the scheduler's pool
 * statistics (scheduler-stats/get_pools) and a backend's capabilities. Stratus runs these
 * inside its own process, so they are up whenever the API answers.
 *
 * What an admin sets here (disabled, its reason, frozen) lives in this process's memory for
 * now: there is no service table yet, so it is lost on restart and not shared between API
 * processes.
 */
// What the file backend reports (drivers/backend/file.ts `capabilities`); the scheduler check in
// logic/manager.ts reads the same values.
export const VENDOR_NAME = 'Stratus';
export const STORAGE_PROTOCOL = 'file';
export const DRIVER_VERSION = '1.0.0';
const BINARIES = ['cinder-scheduler', 'cinder-volume', 'cinder-backup'] as const;
type Binary = (typeof BINARIES)[number];

interface ServiceState { binary: Binary; host: string; disabled: boolean; disabledReason: string | null; frozen: boolean; modifiedAt: number }

/**
 * Cinder's host matching: `stratus` matches `stratus`, `stratus@file` and `stratus@file#file`;
 * `stratus@file` matches itself and its pools; a name with a pool matches only itself.
 */
export function hostMatches(host: string, asked: string): boolean {
  if (host === asked) return true;
  if (!asked.includes('#') && host.startsWith(`${asked}#`)) return true;
  return !asked.includes('@') && (host.startsWith(`${asked}@`) || host.startsWith(`${asked}#`));
}

export async function serviceRoutes(app: FastifyInstance, d: VolumeDeps): Promise<void> {
  const started = now();
  let states: ServiceState[] | null = null;
  /** The backend's host without its pool (`stratus@file`), the node it runs on (`stratus`) and its one pool. */
  const backendHost = () => d.backend.host.split('#')[0]!;
  const nodeHost = () => backendHost().split('@')[0]!;
  const poolName = () => d.backend.host;
  const services = (): ServiceState[] => (states ??= BINARIES.map((binary) => ({
    binary, host: binary === 'cinder-volume' ? backendHost() : nodeHost(), disabled: false, disabledReason: null, frozen: false, modifiedAt: started,
  })));
  const zone = () => volumeZones(d.platform)[0] ?? 'nova';
  // Heartbeats are implicit: the services are this process, alive as long as it answers.
  const heartbeat = (s: ServiceState) => cinderTime(Math.max(s.modifiedAt, Math.floor(now() / 10_000) * 10_000));

  // os-services
  route(app, 'get', '/os-services', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:services:index');
    const q = req.query as Record<string, string | undefined>;
    const list = services().filter((s) => (q.host === undefined || hostMatches(s.host, q.host)) && (q.binary === undefined || s.binary === q.binary));
    return {
      services: list.map((s) => {
        const out: Record<string, unknown> = {
          binary: s.binary, host: s.host, zone: zone(), status: s.disabled ? 'disabled' : 'enabled', state: 'up', updated_at: heartbeat(s), disabled_reason: s.disabledReason,
        };
        if (s.binary === 'cinder-volume') {
          out.replication_status = 'disabled';
          out.active_backend_id = null;
          out.frozen = s.frozen;
          if (mv(req, '3.49')) out.backend_state = 'up';
        }
        if (mv(req, '3.7')) out.cluster = null;
        return out;
      }),
    };
  });

  const bodyObject = (req: FastifyRequest, allowed: string[]): Record<string, unknown> => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('Invalid input received: the request body must be an object.');
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) throw badRequest(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`);
    for (const k of Object.keys(b)) {
      const v = b[k];
      if (v !== null && typeof v !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
    }
    return b;
  };
  /** The service an enable/disable names: `binary` (or the older `service`) on exactly `host`. */
  const namedService = (b: Record<string, unknown>): { svc: ServiceState; host: string; binary: string; service: string } => {
    const binary = (b.binary as string | undefined) ?? '';
    const service = (b.service as string | undefined) ?? '';
    if (!binary && !service) throw badRequest("Invalid input for field/attribute body. 'binary' is a required property");
    const host = b.host as string | null | undefined;
    if (!host) throw badRequest("Missing required element 'host' in request body.");
    const key = binary || service;
    const svc = services().find((s) => s.host === host && s.binary === key);
    if (!svc) throw notFound(`Service ${key} on host ${host} could not be found.`);
    return { svc, host, binary, service };
  };
  /** The volume services a freeze or thaw names. */
  const volumeServicesOn = (b: Record<string, unknown>): ServiceState[] => {
    const host = b.host as string | null | undefined;
    if (!host) throw badRequest("Missing required element 'host' in request body.");
    const found = services().filter((s) => s.binary === 'cinder-volume' && hostMatches(s.host, host));
    if (!found.length) throw badRequest(`Invalid input received: Service ${host} could not be found.`);
    return found;
  };

  route(app, 'put', '/os-services/:action', async (req, reply) => {
    requireAdmin(req.ctx, 'volume_extension:services:update');
    const action = (req.params as { action: string }).action;
    switch (action) {
      case 'enable': {
        const { svc, host, binary, service } = namedService(bodyObject(req, ['binary', 'host', 'cluster', 'service']));
        Object.assign(svc, { disabled: false, disabledReason: null, modifiedAt: now() });
        return { host, service, binary, status: 'enabled', disabled: false, disabled_reason: null };
      }
      case 'disable': {
        const { svc, host, binary, service } = namedService(bodyObject(req, ['binary', 'host', 'cluster', 'service']));
        Object.assign(svc, { disabled: true, modifiedAt: now() });
        return { host, service, binary, status: 'disabled', disabled: true };
      }
      case 'disable-log-reason': {
        const b = bodyObject(req, ['binary', 'host', 'cluster', 'service', 'disabled_reason']);
        const reason = b.disabled_reason;
        if (typeof reason !== 'string' || !reason.trim() || reason.length > 255) {
          throw badRequest(`Invalid input for field/attribute disabled_reason. Value: ${JSON.stringify(reason ?? null)}. Disabled reason must be a string of 1 to 255 characters.`);
        }
        const { svc, host, binary, service } = namedService(b);
        Object.assign(svc, { disabled: true, disabledReason: reason, modifiedAt: now() });
        return { host, service, binary, status: 'disabled', disabled: true, disabled_reason: reason };
      }
      case 'freeze':
      case 'thaw': {
        const found = volumeServicesOn(bodyObject(req, ['cluster', 'host']));
        const freeze = action === 'freeze';
        if (found.every((s) => s.frozen === freeze)) throw badRequest(`Invalid input received: ${freeze ? 'Host is already Frozen.' : 'Host is NOT Frozen.'}`);
        for (const s of found) Object.assign(s, { frozen: freeze, modifiedAt: now() });
        return reply.status(200).send();
      }
      case 'failover_host':
      case 'failover': {
        if (action === 'failover' && !mv(req, '3.26')) break;
        const found = volumeServicesOn(bodyObject(req, ['cluster', 'host', 'backend_id']));
        throw badRequest(`Invalid input received: Host ${found[0]!.host} has no replication targets to fail over to (replication_status is disabled).`);
      }
    }
    throw badRequest('Invalid input received: Unknown action');
  });

  // os-hosts: the enabled services, and a volume host's usage per project.
  route(app, 'get', '/os-hosts', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:hosts');
    const z = (req.query as Record<string, string | undefined>).zone;
    return {
      hosts: services().filter((s) => !s.disabled && (!z || z === zone())).map((s) => ({
        host_name: s.host, service: s.binary, zone: zone(), 'service-status': 'available', 'service-state': 'enabled', 'last-update': heartbeat(s),
      })),
    };
  });

  route(app, 'get', '/os-hosts/:host', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:hosts');
    const host = (req.params as { host: string }).host;
    const svc = services().find((s) => s.binary === 'cinder-volume' && s.host === host);
    if (!svc) throw notFound(`Host ${host} could not be found.`);
    const vols = (await d.db.selectFrom('volume').select(['id', 'project_id', 'size', 'host']).execute()).filter((v) => v.host !== null && hostMatches(v.host, svc.host));
    const snaps = vols.length ? await d.db.selectFrom('snapshot').select(['project_id', 'size', 'volume_id']).where('volume_id', 'in', vols.map((v) => v.id)).execute() : [];
    const row = (project: string, vs: typeof vols, ss: typeof snaps) => ({
      resource: {
        host, project, volume_count: String(vs.length), total_volume_gb: String(vs.reduce((n, v) => n + v.size, 0)),
        snapshot_count: String(ss.length), total_snapshot_gb: String(ss.reduce((n, s) => n + s.size, 0)),
      },
    });
    const projects = [...new Set(vols.map((v) => v.project_id))].sort();
    return {
      host: [row('(total)', vols, snaps), ...projects.map((p) => row(p, vols.filter((v) => v.project_id === p), snaps.filter((s) => s.project_id === p)))],
    };
  });

  // The scheduler's pools: the file backend's one pool.
  route(app, 'get', '/scheduler-stats/get_pools', async (req) => {
    requireAdmin(req.ctx, 'scheduler_extension:scheduler_stats:get_pools');
    const q = req.query as Record<string, string | undefined>;
    const detail = q.detail !== undefined && bool(q.detail, 'detail');
    if (mv(req, '3.28') && q.name !== undefined && q.name !== poolName()) return { pools: [] };
    if (mv(req, '3.35') && q.volume_type !== undefined) {
      const t = await d.db.selectFrom('volume_type').select('id').where((eb) => eb.or([eb('id', '=', q.volume_type!), eb('name', '=', q.volume_type!)])).executeTakeFirst();
      if (!t) throw notFound(`Volume type ${q.volume_type} could not be found.`);
      const specs = toMap(await d.db.selectFrom('volume_type_extra_spec').select(['key', 'value']).where('type_id', '=', t.id).execute());
      if (specs.volume_backend_name !== undefined && specs.volume_backend_name !== 'file') return { pools: [] };
    }
    if (!detail) return { pools: [{ name: poolName() }] };
    const st = await d.backend.stats();
    const updated = cinderTime(Math.floor(now() / 60_000) * 60_000);
    return {
      pools: [{
        name: poolName(),
        capabilities: {
          pool_name: 'file', volume_backend_name: 'file', vendor_name: VENDOR_NAME, driver_version: DRIVER_VERSION, storage_protocol: STORAGE_PROTOCOL,
          total_capacity_gb: st.totalGb, free_capacity_gb: st.freeGb, allocated_capacity_gb: st.allocatedGb, provisioned_capacity_gb: st.allocatedGb,
          reserved_percentage: 0, max_over_subscription_ratio: '20.0', thin_provisioning_support: true, thick_provisioning_support: false,
          QoS_support: false, multiattach: true, online_extend_support: true, backend_state: 'up', location_info: null,
          timestamp: updated, updated,
        },
      }],
    };
  });

  route(app, 'get', '/capabilities/:host', async (req) => {
    requireAdmin(req.ctx, 'volume_extension:capabilities');
    const asked = (req.params as { host: string }).host;
    const svc = services().find((s) => s.binary === 'cinder-volume' && (hostMatches(s.host, asked) || hostMatches(poolName(), asked)));
    if (!svc) throw notFound(`Can't find service: ${asked}`);
    return {
      namespace: `OS::Storage::Capabilities::${svc.host}`,
      vendor_name: VENDOR_NAME,
      volume_backend_name: 'file',
      pool_name: null,
      driver_version: DRIVER_VERSION,
      storage_protocol: STORAGE_PROTOCOL,
      display_name: 'Stratus file backend',
      description: 'Sparse raw files in the data directory, attached to QEMU guests as files.',
      visibility: 'public',
      replication_targets: [],
      properties: {
        thin_provisioning: { title: 'Thin Provisioning', description: 'Volumes take space only as they are written.', type: 'boolean' },
        multiattach: { title: 'Multi-attach', description: 'A volume of a multiattach type attaches to several servers at once.', type: 'boolean' },
      },
    };
  });
}
