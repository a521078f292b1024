import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { ComputeDeps } from './common.js';
import { badRequest, bool, conflict, forbidden, int, metadataMap, mv, name as checkName, str } from './common.js';
import type { FastifyRequest } from 'fastify';
import type { EmbeddedFlavor, FlavorRow } from '../store.js';
import type { RequestedNetwork } from '../logic/manager.js';
import { computeLimits } from '../logic/quota.js';
import { DEFAULT_ZONE } from '../logic/scheduler.js';
import { normaliseIp } from '../../network/logic/ip.js';

/**
 * Turning a server create request into what the instances will be: every check Nova makes
 * before it answers 202 (flavor, image, networks, ports, security groups, key, zone, hints,
 * counts), with Nova's status codes and messages. Nothing is written here.
 */
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

export interface BuildPlan {
  name: string;
  flavor: EmbeddedFlavor;
  imageRef: string;
  imageProperties: Record<string, string>;
  networks: RequestedNetwork[] | 'none';
  securityGroups: string[];
  keyName: string | null;
  keyData: string | null;
  userData: string | null;
  metadata: Record<string, string>;
  zone: string | null;
  forcedHost: string | null;
  configDrive: boolean;
  minCount: number;
  maxCount: number;
  returnReservationId: boolean;
  description: string | null;
  tags: string[];
  hostname: string | null;
  hints: Record<string, unknown>;
  groupId: string | null;
  adminPass: string;
  diskConfig: 'MANUAL' | 'AUTO';
  accessIPv4: string;
  accessIPv6: string;
  blockDevices: BlockDevice[];
  trustedCerts: string[] | null;
}

export interface BlockDevice {
  source_type: string; destination_type: string; boot_index: number | null; uuid: string | null; volume_size: number | null;
  delete_on_termination: boolean; device_name: string | null; volume_type: string | null; tag: string | null;
}

export const embed = (f: FlavorRow, specs: Record<string, string>): EmbeddedFlavor => ({
  id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, extra_specs: specs, description: f.description,
});

/** A flavor by id (or URL, or name as a convenience) the caller may use. */
export async function usableFlavor(deps: ComputeDeps, ctx: RequestContext, ref: string): Promise<FlavorRow | undefined> {
  const id = ref.replace(/\/+$/, '').split('/').pop()!;
  const f = await deps.db.selectFrom('flavor').selectAll().where('id', '=', id).executeTakeFirst();
  if (!f) return undefined;
  if (f.is_public || ctx.isAdmin) return f;
  const access = await deps.db.selectFrom('flavor_access').select('project_id').where('flavor_id', '=', f.id).where('project_id', '=', ctx.projectId ?? '').executeTakeFirst();
  return access ? f : undefined;
}

export async function extraSpecsOf(deps: ComputeDeps, flavorId: string): Promise<Record<string, string>> {
  const rows = await deps.db.selectFrom('flavor_extra_spec').selectAll().where('flavor_id', '=', flavorId).orderBy('key').execute();
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** Availability zones that have at least one host. */
export async function knownZones(deps: ComputeDeps): Promise<Set<string>> {
  const rows = await deps.db.selectFrom('aggregate_metadata').select('value').where('key', '=', 'availability_zone').execute();
  return new Set(rows.map((r) => r.value));
}

export async function planBuild(req: FastifyRequest, deps: ComputeDeps, ctx: RequestContext, s: Record<string, unknown>, hintsIn: unknown): Promise<BuildPlan> {
  const allowed = new Set(['name', 'imageRef', 'flavorRef', 'networks', 'security_groups', 'key_name', 'user_data', 'metadata', 'availability_zone',
    'config_drive', 'block_device_mapping_v2', 'block_device_mapping', 'min_count', 'max_count', 'return_reservation_id', 'description', 'tags',
    'hostname', 'adminPass', 'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'personality', 'trusted_image_certificates', 'host', 'hypervisor_hostname']);
  for (const k of Object.keys(s)) if (!allowed.has(k)) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('${k}' was unexpected)`);
  if (s.name === undefined) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. 'name' is a required property`);
  const name = checkName(s.name);
  if (s.flavorRef === undefined) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. 'flavorRef' is a required property`);
  const flavorRef = String(s.flavorRef);
  if (typeof s.flavorRef !== 'string' && typeof s.flavorRef !== 'number' || !flavorRef) throw badRequest(`Invalid input for field/attribute flavorRef. Value: ${JSON.stringify(s.flavorRef)}.`);
  const flavorRow = await usableFlavor(deps, ctx, flavorRef);
  if (!flavorRow) throw badRequest(`Flavor ${flavorRef} could not be found.`);
  if (flavorRow.disabled) throw badRequest(`Flavor ${flavorRef} could not be found.`);
  const flavor = embed(flavorRow, await extraSpecsOf(deps, flavorRow.id));

  const blockDevices = parseBlockDevices(s.block_device_mapping_v2 ?? s.block_device_mapping);
  const bootDevice = blockDevices.find((b) => b.boot_index === 0);
  let imageRef = s.imageRef === undefined || s.imageRef === null ? '' : String(s.imageRef);
  if (imageRef) imageRef = imageRef.replace(/\/+$/, '').split('/').pop()!;
  let imageProperties: Record<string, string> = {};
  if (blockDevices.length) {
    throw badRequest('Block Device Mapping is Invalid: booting from or attaching volumes needs the block storage service, which this cloud does not run yet.');
  }
  if (!imageRef && !bootDevice) throw badRequest('Missing imageRef attribute');
  if (imageRef) {
    if (!isUuid(imageRef)) throw badRequest(`Invalid imageRef provided.`);
    const image = await deps.image.getImage(ctx, imageRef).catch((err: ApiError) => { if (err.status === 404) return null; throw err; });
    if (!image) throw badRequest(`Image ${imageRef} could not be found.`);
    if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
    if ((image.min_ram ?? 0) > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
    const sizeGb = Math.ceil((image.size ?? 0) / 1024 ** 3);
    if (flavor.disk > 0 && ((image.min_disk ?? 0) > flavor.disk || sizeGb > flavor.disk)) throw badRequest("Flavor's disk is too small for requested image.");
    if (flavor.disk === 0 && !ctx.isAdmin) throw forbidden('Only volume-backed servers are allowed for flavors with zero disk.');
    imageProperties = JSON.parse((image as { properties: string }).properties ?? '{}') as Record<string, string>;
    if (image.disk_format) imageProperties.disk_format = image.disk_format;
    if (image.min_ram) imageProperties.min_ram = String(image.min_ram);
    if (image.min_disk) imageProperties.min_disk = String(image.min_disk);
  }

  const networks = await planNetworks(req, deps, ctx, s.networks);
  let securityGroups = ['default'];
  if (s.security_groups !== undefined) {
    if (!Array.isArray(s.security_groups)) throw badRequest(`Invalid input for field/attribute security_groups. Value: ${JSON.stringify(s.security_groups)}. ${JSON.stringify(s.security_groups)} is not of type 'array'`);
    securityGroups = [...new Set(s.security_groups.map((g) => {
      const n = (g as { name?: unknown })?.name;
      if (typeof n !== 'string' || !n) throw badRequest(`Invalid input for field/attribute security_groups. Value: ${JSON.stringify(s.security_groups)}.`);
      return n;
    }))];
  }
  if (networks !== 'none' && securityGroups.length) {
    await deps.network.resolveSecurityGroups(ctx, securityGroups).catch((err: ApiError) => {
      if (err.status === 404) throw badRequest(`Security group ${err.message.replace(/^Security group (.*) does not exist$/, '$1')} not found for project ${ctx.projectId}.`);
      if (err.status === 409) throw badRequest(`Multiple security groups found matching '${securityGroups.join(', ')}'. Use an ID to be more specific.`);
      throw err;
    });
  }

  let keyName: string | null = null;
  let keyData: string | null = null;
  if (s.key_name !== undefined && s.key_name !== null) {
    keyName = str(s.key_name, 'key_name', { max: 255, min: 1 })!;
    const kp = await deps.db.selectFrom('keypair').selectAll().where('user_id', '=', ctx.userId).where('name', '=', keyName).executeTakeFirst();
    if (!kp) throw badRequest('Invalid key_name provided.');
    keyData = kp.public_key;
  }

  let userData: string | null = null;
  if (s.user_data !== undefined && s.user_data !== null) {
    userData = str(s.user_data, 'user_data')!;
    if (userData.length > 65535 || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(userData) || Buffer.from(userData, 'base64').toString('base64').replace(/=+$/, '') !== userData.replace(/\s/g, '').replace(/=+$/, '')) {
      throw badRequest('User data needs to be valid base 64.');
    }
  }
  const metadata = s.metadata === undefined ? {} : metadataMap(s.metadata);
  const limits = await computeLimits(deps.db, ctx.projectId ?? '');
  if (limits.metadata_items! >= 0 && Object.keys(metadata).length > limits.metadata_items!) throw forbidden(`Quota exceeded for metadata_items: Requested ${Object.keys(metadata).length}, but already used 0 of ${limits.metadata_items} metadata_items`);

  let zone: string | null = null;
  let forcedHost: string | null = null;
  if (s.availability_zone !== undefined && s.availability_zone !== null && s.availability_zone !== '') {
    const az = str(s.availability_zone, 'availability_zone', { max: 255 })!;
    const [z, host] = az.split(':');
    if (host !== undefined && host !== '') {
      if (!ctx.isAdmin) throw forbidden('Policy doesn\'t allow os_compute_api:servers:create:forced_host to be performed.');
      forcedHost = host;
    }
    if (z) {
      if (z !== DEFAULT_ZONE && !(await knownZones(deps)).has(z)) throw badRequest('The requested availability zone is not available');
      zone = z;
    }
  }
  if (mv(req, '2.74') && (s.host !== undefined || s.hypervisor_hostname !== undefined)) {
    if (!ctx.isAdmin) throw forbidden('Policy doesn\'t allow compute:servers:create:requested_destination to be performed.');
    const h = String(s.host ?? s.hypervisor_hostname);
    if (!(await deps.db.selectFrom('compute_node').select('host').where('host', '=', h).executeTakeFirst())) throw badRequest(`Compute host ${h} could not be found.`);
    forcedHost = h;
  }

  const minCount = s.min_count === undefined ? 1 : int(s.min_count, 'min_count', 1);
  const maxCount = s.max_count === undefined ? minCount : int(s.max_count, 'max_count', 1);
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if ((minCount > 1 || maxCount > 1) && networks !== 'none' && networks.some((n) => n.port_id)) throw badRequest('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.');
  if (maxCount > 1 && networks !== 'none' && networks.some((n) => n.fixed_ip)) throw badRequest('Unable to launch multiple instances with a single fixed IP address.');

  let description: string | null = null;
  if (s.description !== undefined) {
    if (!mv(req, '2.19')) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('description' was unexpected)`);
    description = str(s.description, 'description', { max: 255, allowNull: true });
  }
  let tags: string[] = [];
  if (s.tags !== undefined) {
    if (!mv(req, '2.52')) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('tags' was unexpected)`);
    tags = checkTags(s.tags);
  }
  let hostname: string | null = null;
  if (s.hostname !== undefined) {
    if (!mv(req, '2.90')) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('hostname' was unexpected)`);
    hostname = str(s.hostname, 'hostname', { max: 63, min: 1 });
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$/.test(hostname!)) throw badRequest(`Invalid input for field/attribute hostname. Value: ${hostname}.`);
  }
  const hints = parseHints(hintsIn);
  let groupId: string | null = null;
  if (hints.group !== undefined) {
    groupId = String(hints.group);
    const g = await deps.db.selectFrom('server_group').select(['id', 'project_id']).where('id', '=', groupId).executeTakeFirst();
    if (!g || (g.project_id !== ctx.projectId && !ctx.isAdmin)) throw badRequest(`Invalid server group ${groupId}`);
  }
  const diskConfig = s['OS-DCF:diskConfig'] === undefined ? 'MANUAL' : String(s['OS-DCF:diskConfig']);
  if (diskConfig !== 'MANUAL' && diskConfig !== 'AUTO') throw badRequest(`OS-DCF:diskConfig must be either 'MANUAL' or 'AUTO'.`);
  const accessIPv4 = s.accessIPv4 === undefined || s.accessIPv4 === null || s.accessIPv4 === '' ? '' : accessIp(s.accessIPv4, 4);
  const accessIPv6 = s.accessIPv6 === undefined || s.accessIPv6 === null || s.accessIPv6 === '' ? '' : accessIp(s.accessIPv6, 6);
  if (s.personality !== undefined) {
    if (mv(req, '2.57')) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('personality' was unexpected)`);
    if (!Array.isArray(s.personality)) throw badRequest('personality must be a list');
    if (s.personality.length > limits.injected_files!) throw forbidden('Personality file limit exceeded');
  }
  let trustedCerts: string[] | null = null;
  if (s.trusted_image_certificates !== undefined && s.trusted_image_certificates !== null) {
    if (!mv(req, '2.63')) throw badRequest(`Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. Additional properties are not allowed ('trusted_image_certificates' was unexpected)`);
    if (!Array.isArray(s.trusted_image_certificates) || !s.trusted_image_certificates.length) throw badRequest('Invalid input for field/attribute trusted_image_certificates.');
    trustedCerts = s.trusted_image_certificates.map(String);
  }
  const adminPass = s.adminPass === undefined ? randomBytes(9).toString('base64url').slice(0, 12) : str(s.adminPass, 'adminPass')!;
  return {
    name, flavor, imageRef, imageProperties, networks, securityGroups: networks === 'none' ? [] : securityGroups, keyName, keyData, userData, metadata, zone, forcedHost,
    configDrive: s.config_drive === undefined || s.config_drive === null || s.config_drive === '' ? false : bool(s.config_drive, 'config_drive'),
    minCount, maxCount, returnReservationId: s.return_reservation_id === undefined ? false : bool(s.return_reservation_id, 'return_reservation_id'),
    description, tags, hostname, hints, groupId, adminPass, diskConfig: diskConfig as 'MANUAL' | 'AUTO', accessIPv4, accessIPv6, blockDevices, trustedCerts,
  };
}

/** accessIPv4/accessIPv6: a valid address, kept in canonical form (Nova returns `::babe:dc0c:1602` for any spelling of it). */
export function accessIp(v: unknown, version: 4 | 6): string {
  const field = version === 4 ? 'accessIPv4' : 'accessIPv6';
  const s = str(v, field)!;
  const canonical = normaliseIp(s);
  if (!canonical || (version === 4) !== !canonical.includes(':')) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${s}. '${s}' is not a 'ipv${version}'`);
  return canonical;
}

export function checkTags(v: unknown): string[] {
  if (!Array.isArray(v)) throw badRequest(`Invalid input for field/attribute tags. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'array'`);
  if (v.length > 50) throw badRequest(`Invalid input for field/attribute tags. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is too long`);
  for (const t of v) {
    if (typeof t !== 'string' || !t || t.length > 60 || t.includes('/') || t.includes(',')) throw badRequest(`Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}.`);
  }
  return [...new Set(v as string[])];
}

function parseHints(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute os:scheduler_hints. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  const h = v as Record<string, unknown>;
  if (h.group !== undefined && !isUuid(h.group)) throw badRequest(`Invalid input for field/attribute group. Value: ${JSON.stringify(h.group)}. '${String(h.group)}' is not a 'uuid'`);
  for (const k of ['different_host', 'same_host']) {
    const list = h[k] === undefined ? [] : Array.isArray(h[k]) ? h[k] as unknown[] : [h[k]];
    for (const id of list) if (!isUuid(id)) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(h[k])}. '${String(id)}' is not a 'uuid'`);
  }
  return h;
}

function parseBlockDevices(v: unknown): BlockDevice[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`Invalid input for field/attribute block_device_mapping_v2. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'array'`);
  return v.map((b: Record<string, unknown>) => ({
    source_type: String(b.source_type ?? 'volume'), destination_type: String(b.destination_type ?? 'volume'),
    boot_index: b.boot_index === undefined || b.boot_index === null ? null : Number(b.boot_index), uuid: (b.uuid ?? b.volume_id ?? null) as string | null,
    volume_size: b.volume_size === undefined ? null : Number(b.volume_size), delete_on_termination: b.delete_on_termination === true || b.delete_on_termination === 'true',
    device_name: (b.device_name ?? null) as string | null, volume_type: (b.volume_type ?? null) as string | null, tag: (b.tag ?? null) as string | null,
  }));
}

/**
 * `networks`: a list, `auto` or `none` (required from 2.37). With `auto`, or nothing before
 * 2.37, the server goes on the one network the project can use; more than one is
 * ambiguous (409), none is refused.
 */
async function planNetworks(req: FastifyRequest, deps: ComputeDeps, ctx: RequestContext, v: unknown): Promise<RequestedNetwork[] | 'none'> {
  if (v === undefined && mv(req, '2.37')) throw badRequest(`Invalid input for field/attribute server. 'networks' is a required property`);
  if (v === 'none') {
    if (!mv(req, '2.37')) throw badRequest(`Invalid input for field/attribute networks. Value: none. 'none' is not of type 'array'`);
    return 'none';
  }
  if (v === undefined || v === 'auto') {
    if (v === 'auto' && !mv(req, '2.37')) throw badRequest(`Invalid input for field/attribute networks. Value: auto. 'auto' is not of type 'array'`);
    const nets = await deps.network.listNetworks(ctx);
    // Before 2.37, no networks and nothing to choose from means a server without NICs.
    if (!nets.length && v === undefined) return 'none';
    if (!nets.length) throw badRequest(`Unable to automatically allocate a network for project ${ctx.projectId}`);
    if (nets.length > 1) throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
    return [{ network_id: nets[0]!.id }];
  }
  if (!Array.isArray(v)) throw badRequest(`Invalid input for field/attribute networks. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'array'`);
  const out: RequestedNetwork[] = [];
  for (const n of v as Array<Record<string, unknown>>) {
    if (!n || typeof n !== 'object') throw badRequest(`Bad networks format`);
    if (n.port !== undefined && n.port !== null) {
      const portId = String(n.port);
      if (!isUuid(portId)) throw badRequest(`Bad networks format: port uuid is not in proper format (${portId})`);
      const port = await deps.network.getPort(ctx, portId).catch(() => null);
      if (!port || (!ctx.isAdmin && port.project_id !== ctx.projectId)) throw badRequest(`Port id ${portId} could not be found.`);
      if (port.device_id) throw conflict(`Port ${portId} is still in use.`);
      if (out.some((o) => o.port_id === portId)) throw badRequest(`Port ${portId} is requested more than once.`);
      out.push({ port_id: portId, network_id: port.network_id, ...(n.tag ? { tag: String(n.tag) } : {}) });
      continue;
    }
    const id = n.uuid;
    if (!isUuid(id)) throw badRequest(`Bad networks format: network uuid is not in proper format (${String(id)})`);
    const net = await deps.network.getNetwork(ctx, id).catch(() => null);
    if (!net) throw badRequest(`Network ${id} could not be found.`);
    let fixed: string | undefined;
    if (n.fixed_ip !== undefined && n.fixed_ip !== null) {
      fixed = String(n.fixed_ip);
      if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(fixed) && !fixed.includes(':')) throw badRequest(`Invalid fixed IP address (${fixed})`);
    }
    out.push({ network_id: id, ...(fixed ? { fixed_ip: fixed } : {}), ...(n.tag ? { tag: String(n.tag) } : {}) });
  }
  return out;
}
