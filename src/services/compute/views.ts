import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Platform } from '../../platform/service.js';
import type { DeviceInterface } from '../network/index.js';
import { links, mv, novaNaiveTime, novaTime, computeRoot } from './api/common.js';
import type { CDb, EmbeddedFlavor, FlavorRow, InstanceRow, KeypairRow } from './store.js';
import { serverStatus } from './logic/states.js';

/**
 * Rows → Nova's wire JSON, shaped per microversion: the flavor is a link before 2.47 and
 * embedded after; tags from 2.26, description from 2.19, locked from 2.9, locked_reason
 * from 2.73, and so on, exactly where Nova adds them.
 */

/** Nova's hostId: opaque per project, the same for two servers of a project on one host. */
export const hostId = (projectId: string, host: string | null): string => (host ? createHash('sha224').update(`${projectId}${host}`).digest('hex') : '');

export function addressesView(ifaces: DeviceInterface[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const i of ifaces) {
    const list = (out[i.networkName] ??= []);
    for (const f of i.fixedIps) {
      list.push({ version: f.version, addr: f.ipAddress, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': i.macAddress });
      for (const fip of f.floatingIps) list.push({ version: 4, addr: fip, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': i.macAddress });
    }
  }
  return out;
}

export interface ServerExtras {
  interfaces: Map<string, DeviceInterface[]>;
  tags: Map<string, string[]>;
  volumes: Map<string, Array<{ id: string; delete_on_termination: boolean }>>;
  hostStatus: Map<string, string>;
  /** Server group ids (at most one) per server, shown from 2.71. */
  groups: Map<string, string[]>;
}

export async function serverExtras(db: CDb, ifaces: (ids: string[]) => Promise<Map<string, DeviceInterface[]>>, rows: InstanceRow[]): Promise<ServerExtras> {
  const ids = rows.map((r) => r.id);
  const [interfaces, tagRows, bdms, nodes, members] = await Promise.all([
    ifaces(ids),
    ids.length ? db.selectFrom('instance_tag').selectAll().where('instance_id', 'in', ids).orderBy('tag').execute() : [],
    ids.length ? db.selectFrom('block_device_mapping').select(['instance_id', 'volume_id', 'delete_on_termination', 'boot_index'])
      .where('instance_id', 'in', ids).where('destination_type', '=', 'volume').orderBy('created_at').execute() : [],
    db.selectFrom('compute_node').select(['host', 'status', 'forced_down']).execute(),
    ids.length ? db.selectFrom('server_group_member').selectAll().where('instance_id', 'in', ids).execute() : [],
  ]);
  const groups = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const m of members) groups.get(m.instance_id)?.push(m.group_id);
  const tags = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const t of tagRows) tags.get(t.instance_id)?.push(t.tag);
  const volumes = new Map<string, Array<{ id: string; delete_on_termination: boolean }>>(ids.map((id) => [id, []]));
  for (const b of bdms) if (b.volume_id) volumes.get(b.instance_id)?.push({ id: b.volume_id, delete_on_termination: b.delete_on_termination === 1 });
  const hostStatus = new Map(nodes.map((n) => [n.host, n.forced_down ? 'DOWN' : n.status === 'enabled' ? 'UP' : 'MAINTENANCE']));
  return { interfaces, tags, volumes, hostStatus, groups };
}

export function flavorEmbedded(f: EmbeddedFlavor, showExtraSpecs: boolean) {
  return {
    vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, original_name: f.name,
    ...(showExtraSpecs ? { extra_specs: f.extra_specs } : {}),
  };
}

export function serverView(req: FastifyRequest, platform: Platform, r: InstanceRow, x: ServerExtras, isAdmin: boolean) {
  const status = serverStatus(r.vm_state, r.task_state);
  const flavor = JSON.parse(r.flavor) as EmbeddedFlavor;
  const root = computeRoot(req, platform);
  const v: Record<string, unknown> = {
    id: r.id, name: r.name, status, tenant_id: r.project_id, user_id: r.user_id, metadata: JSON.parse(r.metadata),
    hostId: hostId(r.project_id, r.host),
    image: r.image_ref ? { id: r.image_ref, links: [{ rel: 'bookmark', href: `${root}/images/${r.image_ref}` }] } : '',
    flavor: mv(req, '2.47') ? flavorEmbedded(flavor, true) : { id: flavor.id, links: [{ rel: 'bookmark', href: `${root}/flavors/${flavor.id}` }] },
    created: novaTime(r.created_at), updated: novaTime(r.updated_at),
    addresses: addressesView(x.interfaces.get(r.id) ?? []),
    accessIPv4: r.access_ip_v4, accessIPv6: r.access_ip_v6,
    links: links(req, platform, 'servers', r.id),
    'OS-DCF:diskConfig': (JSON.parse(r.system_metadata) as Record<string, string>).disk_config ?? 'MANUAL',
    'OS-EXT-AZ:availability_zone': r.availability_zone ?? '',
    config_drive: r.config_drive === 'True' ? 'True' : '',
    key_name: r.key_name,
    'OS-SRV-USG:launched_at': novaNaiveTime(r.launched_at),
    'OS-SRV-USG:terminated_at': novaNaiveTime(r.terminated_at),
    'OS-EXT-STS:task_state': r.task_state,
    'OS-EXT-STS:vm_state': r.vm_state,
    'OS-EXT-STS:power_state': r.power_state,
    'os-extended-volumes:volumes_attached': (x.volumes.get(r.id) ?? []).map((vol) => (mv(req, '2.3') ? vol : { id: vol.id })),
  };
  // Nova leaves the key out when a server has no security groups.
  const groups = JSON.parse(r.security_groups) as string[];
  if (groups.length) v.security_groups = groups.map((name) => ({ name }));
  if (['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING'].includes(status)) v.progress = r.vm_state === 'building' ? 0 : r.progress;
  if (r.vm_state === 'error' && r.fault) {
    const f = JSON.parse(r.fault) as { code: number; message: string; details: string; created: number };
    v.fault = { code: f.code, created: novaTime(f.created), message: f.message, ...(isAdmin && f.code !== 500 ? { details: f.details } : isAdmin ? { details: f.details } : {}) };
  }
  if (isAdmin) {
    v['OS-EXT-SRV-ATTR:host'] = r.host;
    v['OS-EXT-SRV-ATTR:instance_name'] = `instance-${r.id.slice(0, 8)}`;
    v['OS-EXT-SRV-ATTR:hypervisor_hostname'] = r.host;
    if (mv(req, '2.3')) {
      v['OS-EXT-SRV-ATTR:reservation_id'] = r.reservation_id;
      v['OS-EXT-SRV-ATTR:launch_index'] = r.launch_index;
      v['OS-EXT-SRV-ATTR:kernel_id'] = '';
      v['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      v['OS-EXT-SRV-ATTR:hostname'] = r.hostname;
      v['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      v['OS-EXT-SRV-ATTR:user_data'] = r.user_data;
    }
  } else if (mv(req, '2.90')) {
    v['OS-EXT-SRV-ATTR:hostname'] = r.hostname;
  }
  if (mv(req, '2.9')) v.locked = r.locked === 1;
  if (mv(req, '2.16') && r.host) v.host_status = x.hostStatus.get(r.host) ?? '';
  else if (mv(req, '2.16')) v.host_status = '';
  if (mv(req, '2.19')) v.description = r.description;
  if (mv(req, '2.26')) v.tags = x.tags.get(r.id) ?? [];
  if (mv(req, '2.63')) v.trusted_image_certificates = r.trusted_image_certificates ? JSON.parse(r.trusted_image_certificates) : null;
  if (mv(req, '2.73')) v.locked_reason = r.locked === 1 ? r.locked_reason : null;
  if (mv(req, '2.71')) v.server_groups = x.groups.get(r.id) ?? [];
  if (mv(req, '2.96')) v.pinned_availability_zone = r.requested_zone;
  return v;
}

/**
 * Nova's answers to update and rebuild: the server without the extended attributes before
 * 2.75 (and, for rebuild, addresses without their type and MAC), as Tempest's schemas expect.
 */
export function trimmedServerView(req: FastifyRequest, v: Record<string, unknown>, plainAddresses: boolean): Record<string, unknown> {
  // Never the admin's OS-EXT-SRV-ATTR:user_data: rebuild shows user_data at the top (2.57).
  const { 'OS-EXT-SRV-ATTR:user_data': _userData, ...full } = v;
  if (mv(req, '2.75')) return full;
  const out = { ...full };
  for (const k of Object.keys(out)) {
    if (k.startsWith('OS-EXT-') || k.startsWith('OS-SRV-USG') || ['os-extended-volumes:volumes_attached', 'security_groups', 'config_drive', 'host_status', 'server_groups'].includes(k)) delete out[k];
    if (k === 'key_name' && !(plainAddresses && mv(req, '2.54'))) delete out[k];
  }
  if (plainAddresses) {
    out.addresses = Object.fromEntries(Object.entries(out.addresses as Record<string, Array<{ version: number; addr: string }>>)
      .map(([net, list]) => [net, list.map((a) => ({ version: a.version, addr: a.addr }))]));
  }
  return out;
}

export const serverSummary = (req: FastifyRequest, platform: Platform, r: InstanceRow) => ({ id: r.id, name: r.name, links: links(req, platform, 'servers', r.id) });

export function flavorView(req: FastifyRequest, platform: Platform, f: FlavorRow, extraSpecs: Record<string, string> | null) {
  const v: Record<string, unknown> = {
    id: f.id, name: f.name, ram: f.ram, disk: f.disk, vcpus: f.vcpus, 'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
    'OS-FLV-DISABLED:disabled': f.disabled === 1, swap: f.swap === 0 ? '' : f.swap, rxtx_factor: f.rxtx_factor,
    'os-flavor-access:is_public': f.is_public === 1, links: links(req, platform, 'flavors', f.id),
  };
  if (mv(req, '2.55')) v.description = f.description;
  if (mv(req, '2.61') && extraSpecs) v.extra_specs = extraSpecs;
  if (mv(req, '2.75') && f.swap === 0) v.swap = 0;
  return v;
}

export function keypairView(req: FastifyRequest, k: KeypairRow, detail: boolean) {
  const v: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
  if (mv(req, '2.2')) v.type = k.type;
  if (detail) Object.assign(v, { user_id: k.user_id, created_at: novaNaiveTime(k.created_at), deleted: false, deleted_at: null, updated_at: null, id: k.id });
  return v;
}
