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
  /** The root disk is a volume (boot index 0 has destination volume). */
  volumeBacked: boolean;
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

  let blockDevices = parseBlockDevices(req, s.block_device_mapping_v2, s.block_device_mapping, s.imageRef);
  let imageRef = s.imageRef === undefined || s.imageRef === null ? '' : String(s.imageRef);
  if (imageRef) imageRef = imageRef.replace(/\/+$/, '').split('/').pop()!;
  let imageProperties: Record<string, string> = {};
  let volumeBacked = false;
  let zoneFromVolume: string | null = null;
  let zoneFromSnapshot: string | null = null;
  if (imageRef) {
    if (!isUuid(imageRef)) throw badRequest(`Invalid imageRef provided.`);
    const image = await deps.image.getImage(ctx, imageRef).catch((err: ApiError) => { if (err.status === 404) return null; throw err; });
    if (!image) throw badRequest(`Image ${imageRef} could not be found.`);
    if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
    imageProperties = JSON.parse((image as { properties: string }).properties ?? '{}') as Record<string, string>;
    // A volume-backed server's snapshot: its mappings (volumes from snapshots) are the server's disks.
    const fromImage = imageMappings(imageProperties);
    if (fromImage.length && !blockDevices.some((b) => b.boot_index === 0)) blockDevices = [...fromImage, ...blockDevices];
    if ((image.min_ram ?? 0) > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
    volumeBacked = blockDevices.some((b) => b.boot_index === 0 && b.destination_type === 'volume');
    if (!volumeBacked) {
      const sizeGb = Math.ceil((image.size ?? 0) / 1024 ** 3);
      if (flavor.disk > 0 && ((image.min_disk ?? 0) > flavor.disk || sizeGb > flavor.disk)) throw badRequest("Flavor's disk is too small for requested image.");
      if (flavor.disk === 0 && !ctx.isAdmin) throw forbidden('Only volume-backed servers are allowed for flavors with zero disk.');
    }
    for (const k of ['block_device_mapping', 'bdm_v2', 'root_device_name']) delete imageProperties[k];
    if (image.disk_format) imageProperties.disk_format = image.disk_format;
    if (image.min_ram) imageProperties.min_ram = String(image.min_ram);
    if (image.min_disk) imageProperties.min_disk = String(image.min_disk);
  }
  if (blockDevices.length) {
    const boot = blockDevices.filter((b) => b.boot_index === 0);
    if (boot.length > 1 || (!imageRef && !boot.length)) throw badRequest('Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.');
    if (!deps.volume && blockDevices.some((b) => b.destination_type === 'volume')) {
      throw badRequest('Block Device Mapping is Invalid: booting from or attaching volumes needs the block storage service, which this cloud does not run.');
    }
    volumeBacked = boot.some((b) => b.destination_type === 'volume');
    const checked = await checkBlockDevices(req, deps, ctx, blockDevices, flavor);
    zoneFromVolume = checked.zone;
    zoneFromSnapshot = checked.snapshotZone;
    if (!imageRef && checked.bootImageProperties) imageProperties = checked.bootImageProperties;
  }
  if (!imageRef && !volumeBacked) throw badRequest('Missing imageRef attribute');
  assignDeviceNames(blockDevices);

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

  if (zoneFromVolume) {
    // No attach across zones: a server booted from (or with) an existing volume lives in the volume's zone.
    if (zone && zone !== zoneFromVolume) {
      throw badRequest(`The availability zone between the server and its attached volumes do not match: Server and volumes are not in the same availability zone. Server is in: ${zone}. Volumes are in: ${zoneFromVolume}`);
    }
    zone = zoneFromVolume;
  } else if (zoneFromSnapshot && !zone) zone = zoneFromSnapshot;
  // Nova's default_schedule_zone: a server that asks for no zone goes to the first one
  // (europe-se-1a, "the default" in the documents), where volumes are made by default too,
  // so a plain server and a plain volume can be attached.
  if (!zone && !forcedHost) zone = deps.platform.config.compute.zones[0] ?? null;
  const minCount = s.min_count === undefined ? 1 : int(s.min_count, 'min_count', 1);
  const maxCount = s.max_count === undefined ? minCount : int(s.max_count, 'max_count', 1);
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');
  if (maxCount > 1 && blockDevices.some((b) => b.source_type === 'volume' && b.destination_type === 'volume')) {
    throw badRequest('Cannot attach one or more volumes to multiple instances');
  }
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
    volumeBacked,
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

const SOURCES = ['image', 'volume', 'snapshot', 'blank'];

/**
 * block_device_mapping_v2 (or the legacy block_device_mapping, which only names volumes and
 * snapshots): each entry's shape checked as Nova's schema does, defaults filled in.
 */
function parseBlockDevices(req: FastifyRequest, v2: unknown, v1: unknown, imageRef: unknown): BlockDevice[] {
  if (v2 !== undefined && v2 !== null && v1 !== undefined && v1 !== null) throw badRequest('Using different block_device_mapping syntaxes is not allowed.');
  const field = v2 !== undefined && v2 !== null ? 'block_device_mapping_v2' : 'block_device_mapping';
  const v = v2 ?? v1;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'array'`);
  const bad = (what: string, val: unknown, why: string) => badRequest(`Invalid input for field/attribute ${what}. Value: ${JSON.stringify(val)}. ${why}`);
  const out: BlockDevice[] = [];
  v.forEach((raw: unknown, i: number) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad(field, raw, `${JSON.stringify(raw)} is not of type 'object'`);
    const b = raw as Record<string, unknown>;
    const optStr = (k: string, max = 255): string | null => {
      if (b[k] === undefined || b[k] === null) return null;
      if (typeof b[k] !== 'string' || (b[k] as string).length > max) throw bad(k, b[k], `${JSON.stringify(b[k])} is not a valid ${k}`);
      return b[k] as string;
    };
    let size: number | null = null;
    if (b.volume_size !== undefined && b.volume_size !== null && b.volume_size !== '') size = int(b.volume_size, 'volume_size', 0);
    const deleteOnTermination = b.delete_on_termination === undefined || b.delete_on_termination === null ? false : bool(b.delete_on_termination, 'delete_on_termination');
    const deviceName = optStr('device_name');
    if (deviceName !== null && (deviceName === '' || /\s/.test(deviceName))) throw bad('device_name', deviceName, 'is not a valid device name');
    if (field === 'block_device_mapping') {
      const snapshot = optStr('snapshot_id');
      const volumeId = optStr('volume_id');
      if (!snapshot && !volumeId) return; // ephemeral or no_device entries: nothing to attach
      const root = deviceName ? /^(\/dev\/)?(v|s|xv|h)da$/.test(deviceName) : !imageRef && i === 0;
      out.push({
        source_type: snapshot ? 'snapshot' : 'volume', destination_type: 'volume', boot_index: root ? 0 : null, uuid: snapshot ?? volumeId,
        volume_size: size, delete_on_termination: deleteOnTermination, device_name: deviceName, volume_type: null, tag: null,
      });
      return;
    }
    const source = b.source_type === undefined ? 'blank' : b.source_type;
    if (typeof source !== 'string' || !SOURCES.includes(source)) throw bad('source_type', source, `'${String(source)}' is not one of ${JSON.stringify(SOURCES)}`);
    const destination = b.destination_type === undefined || b.destination_type === null ? (source === 'volume' || source === 'snapshot' ? 'volume' : 'local') : b.destination_type;
    if (destination !== 'local' && destination !== 'volume') throw bad('destination_type', destination, `'${String(destination)}' is not one of ['local', 'volume']`);
    let bootIndex: number | null = null;
    if (b.boot_index !== undefined && b.boot_index !== null && b.boot_index !== '') {
      bootIndex = typeof b.boot_index === 'string' && /^-?\d+$/.test(b.boot_index) ? Number(b.boot_index) : b.boot_index as number;
      if (typeof bootIndex !== 'number' || !Number.isInteger(bootIndex)) throw bad('boot_index', b.boot_index, `${JSON.stringify(b.boot_index)} is not of type 'integer', 'string', 'null'`);
      if (bootIndex < 0) bootIndex = null;
    }
    const uuid = optStr('uuid');
    if (source !== 'blank' && !uuid) throw badRequest('Block Device Mapping is Invalid: Missing device UUID.');
    if (uuid !== null && !/^[a-zA-Z0-9._-]+$/.test(uuid)) throw bad('uuid', uuid, `'${uuid}' does not match '^[a-zA-Z0-9._-]*$'`);
    const volumeType = optStr('volume_type');
    if (volumeType !== null && !mv(req, '2.67')) throw badRequest(`Invalid input for field/attribute ${field}. Additional properties are not allowed ('volume_type' was unexpected)`);
    const tag = optStr('tag', 60);
    if (tag !== null && !mv(req, '2.42')) throw badRequest(`Invalid input for field/attribute ${field}. Additional properties are not allowed ('tag' was unexpected)`);
    if (source === 'image' && destination === 'volume' && !size) throw badRequest("Block Device Mapping is Invalid: Images with destination_type 'volume' need to have a non-zero size specified");
    if (source === 'blank' && destination === 'volume' && !size) throw badRequest("Block Device Mapping is Invalid: Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
    if ((source === 'volume' || source === 'snapshot') && destination !== 'volume') throw badRequest('Block Device Mapping is Invalid: Mapping image to local is not supported.');
    out.push({ source_type: source, destination_type: destination, boot_index: bootIndex, uuid, volume_size: size, delete_on_termination: deleteOnTermination, device_name: deviceName, volume_type: volumeType, tag });
  });
  return out;
}

/** The mappings a volume-backed server's snapshot image carries (`block_device_mapping`, `bdm_v2`). */
function imageMappings(props: Record<string, string>): BlockDevice[] {
  if (!props.block_device_mapping) return [];
  let list: Array<Record<string, unknown>>;
  try { list = JSON.parse(props.block_device_mapping) as Array<Record<string, unknown>>; } catch { return []; }
  if (!Array.isArray(list)) return [];
  return list.filter((m) => m && (m.snapshot_id || m.volume_id || m.source_type === 'blank')).map((m) => ({
    source_type: m.snapshot_id ? 'snapshot' : m.volume_id ? 'volume' : 'blank', destination_type: 'volume',
    boot_index: typeof m.boot_index === 'number' && m.boot_index >= 0 ? m.boot_index : null, uuid: (m.snapshot_id ?? m.volume_id ?? null) as string | null,
    volume_size: typeof m.volume_size === 'number' ? m.volume_size : null, delete_on_termination: m.delete_on_termination === true,
    device_name: typeof m.device_name === 'string' ? m.device_name : null, volume_type: typeof m.volume_type === 'string' ? m.volume_type : null,
    tag: typeof m.tag === 'string' ? m.tag : null,
  }));
}

/**
 * What Nova asks of block storage before it answers 202: existing volumes exist, are
 * available (or multi-attach, from 2.60) and bootable when they are the root; snapshots and
 * images exist and fit. Existing volumes decide the server's zone (no attach across zones).
 */
async function checkBlockDevices(req: FastifyRequest, deps: ComputeDeps, ctx: RequestContext, bdms: BlockDevice[], flavor: EmbeddedFlavor): Promise<{ zone: string | null; snapshotZone: string | null; bootImageProperties: Record<string, string> | null }> {
  void flavor;
  let zone: string | null = null;
  let bootImageProperties: Record<string, string> | null = null;
  let snapshotZone: string | null = null;
  const seen = new Set<string>();
  for (const b of bdms) {
    if (b.destination_type !== 'volume') continue;
    const volume = deps.volume!;
    if (b.source_type === 'volume') {
      const id = b.uuid!;
      if (seen.has(id)) throw badRequest(`Block Device Mapping is Invalid: Volume ${id} is requested more than once.`);
      seen.add(id);
      const vol = await volume.getVolume(ctx, id).catch((err: ApiError) => {
        if (err.status === 404) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${id}.`);
        throw err;
      });
      if (vol.multiattach && !mv(req, '2.60')) throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.');
      const usable = vol.multiattach ? ['available', 'in-use'] : ['available'];
      if (!usable.includes(vol.status)) throw badRequest(`Invalid volume: Volume ${id} status must be ${usable.join(' or ')} to reserve, but the current status is ${vol.status}.`);
      if (b.boot_index === 0 && !vol.bootable) throw badRequest(`Block Device ${id} is not bootable.`);
      if (zone && zone !== vol.availability_zone) throw badRequest('The availability zone between the server and its attached volumes do not match: volumes are in different availability zones.');
      zone = vol.availability_zone;
    } else if (b.source_type === 'snapshot') {
      const snap = await volume.getSnapshot(ctx, b.uuid!).catch((err: ApiError) => {
        if (err.status === 404) throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${b.uuid}.`);
        throw err;
      });
      if (b.volume_size !== null && b.volume_size < snap.size) throw badRequest(`Block Device Mapping is Invalid: volume_size ${b.volume_size} is smaller than the snapshot's ${snap.size} GiB.`);
      // Snapshots live in their volume's zone: a server asked for nowhere in particular goes there
      // (asked for elsewhere, it is accepted and its build fails, as the product documents say).
      snapshotZone ??= (await volume.getVolume(ctx, snap.volume_id).catch(() => null))?.availability_zone ?? null;
    } else if (b.source_type === 'image') {
      const image = await deps.image.getImage(ctx, b.uuid!).catch((err: ApiError) => { if (err.status === 404) return null; throw err; });
      if (!image) throw badRequest(`Image ${b.uuid} could not be found.`);
      if (image.status !== 'active') throw badRequest(`Image ${b.uuid} is not active.`);
      const minBytes = Math.max(image.size ?? 0, (image.min_disk ?? 0) * 1024 ** 3);
      if ((b.volume_size ?? 0) * 1024 ** 3 < minBytes) {
        throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${(b.volume_size ?? 0) * 1024 ** 3} bytes, minimum size is ${minBytes} bytes.`);
      }
      if (b.boot_index === 0) {
        bootImageProperties = JSON.parse((image as { properties: string }).properties ?? '{}') as Record<string, string>;
        if (image.disk_format) bootImageProperties.disk_format = image.disk_format;
      }
    }
  }
  return { zone, snapshotZone, bootImageProperties };
}

/** Device names: the root is /dev/vda; others keep the name asked for when free, else the next free /dev/vdX. */
export function assignDeviceNames(bdms: Array<{ boot_index: number | null; device_name: string | null; destination_type: string }>, taken: string[] = []): void {
  const used = new Set<string>(taken);
  const norm = (n: string) => (n.startsWith('/dev/') ? n : `/dev/${n}`);
  for (const b of bdms) if (b.boot_index === 0) { b.device_name = norm(b.device_name ?? '/dev/vda'); used.add(b.device_name); }
  if (![...used].some((n) => /^\/dev\/(v|s|xv|h)da$/.test(n))) used.add('/dev/vda');
  for (const b of bdms) {
    if (b.boot_index === 0 || b.destination_type !== 'volume') continue;
    if (b.device_name && !used.has(norm(b.device_name))) { b.device_name = norm(b.device_name); used.add(b.device_name); continue; }
    b.device_name = nextDevice(used);
    used.add(b.device_name);
  }
}

export function nextDevice(used: Set<string>): string {
  for (let i = 1; i < 26 * 27; i++) {
    const suffix = i < 26 ? String.fromCharCode(97 + i) : String.fromCharCode(96 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26));
    const name = `/dev/vd${suffix}`;
    if (!used.has(name)) return name;
  }
  throw badRequest('No free device name.');
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
