import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { ApiError } from '../../../platform/http/errors.js';
import type { DeviceInterface } from '../../network/index.js';
import { computeLimits } from '../logic/quota.js';
import { VM } from '../logic/states.js';
import type { BlockDeviceMappingRow, InstanceRow } from '../store.js';
import { uuid } from '../../../platform/ids.js';
import { callerOf } from '../logic/manager.js';
import { badRequest, bool, conflict, forbidden, mv, notFound, type ComputeDeps } from './common.js';
import { assignDeviceNames, isUuid } from './server-request.js';
import { findServer, recordAction, requestIdOf } from './servers.js';
import { novaSecurityGroupViews } from './proxies.js';

/**
 * A server's sub-resources: its addresses (ips), metadata, interfaces (os-interface),
 * remote consoles, diagnostics, security groups, password and volume attachments. Each
 * checks the server is the caller's (404 otherwise), then the lock and state Nova checks.
 */

/** Nova's metadata keys: 1–255 of letters, digits and `-_:. `; values strings up to 255. */
const META_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

function metadataBody(v: unknown, field: string, exactlyOne = false): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v ?? null)}. ${JSON.stringify(v ?? null)} is not of type 'object'`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (exactlyOne && entries.length < 1) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. {} does not have enough properties`);
  if (exactlyOne && entries.length > 1) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} has too many properties`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (!META_KEY.test(k)) throw badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. Additional properties are not allowed ('${k}' was unexpected)`);
    if (typeof val !== 'string') throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(val)}. ${JSON.stringify(val)} is not of type 'string'`);
    if (val.length > 255) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${val}. '${val}' is too long`);
    out[k] = val;
  }
  return out;
}

/** The body must be exactly `{key: ...}`: Nova's schemas refuse anything else. */
function onlyKey(req: FastifyRequest, key: string): unknown {
  const b = req.body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b) || !(key in b)) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(b ?? null)}. '${key}' is a required property`);
  const extra = Object.keys(b).filter((k) => k !== key);
  if (extra.length) throw badRequest(`Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`);
  return b[key];
}

const requireMember = (ctx: RequestContext, policy: string) => {
  if (!ctx.isAdmin && !ctx.roles.includes('member')) throw forbidden(`Policy doesn't allow ${policy} to be performed.`);
};

function checkLock(ctx: RequestContext, inst: InstanceRow): void {
  if (inst.locked && !ctx.isAdmin) throw conflict(`Instance ${inst.id} is locked`);
}

/** Nova's check_instance_state: the vm_states an operation may run in, with no task in progress. */
function checkState(inst: InstanceRow, what: string, vmStates: string[]): void {
  if (!vmStates.includes(inst.vm_state)) throw conflict(`Cannot '${what}' instance ${inst.id} while it is in vm_state ${inst.vm_state}`);
  if (inst.task_state !== null) throw conflict(`Cannot '${what}' instance ${inst.id} while it is in task_state ${inst.task_state}`);
}

/** Errors of the network service in Nova's shape: the same status, Nova's wording where it has one. */
function fromNetwork(err: unknown, ids: { networkId?: string; portId?: string }): never {
  if (!(err instanceof ApiError)) throw err;
  const t = err.type ?? '';
  if (err.status === 404 && t === 'NetworkNotFound' && ids.networkId) throw notFound(`Network ${ids.networkId} could not be found.`);
  if (err.status === 404 && t === 'PortNotFound' && ids.portId) throw notFound(`Port id ${ids.portId} could not be found.`);
  if (err.status === 409 && t === 'PortInUse' && ids.portId) throw conflict(`Port ${ids.portId} is still in use.`);
  if (err.status === 409 && t === 'OverQuota') throw forbidden(`Maximum number of ports exceeded`);
  throw new ApiError(err.status, err.message);
}

/** Addresses as /ips shows them: version and addr, a network's fixed addresses then its floating ones. */
function ipsView(ifaces: DeviceInterface[]): Record<string, Array<{ version: number; addr: string }>> {
  const fixed = new Map<string, Array<{ version: number; addr: string }>>();
  const floating = new Map<string, Array<{ version: number; addr: string }>>();
  for (const i of ifaces) {
    const f = fixed.get(i.networkName) ?? [];
    const fl = floating.get(i.networkName) ?? [];
    for (const ip of i.fixedIps) {
      f.push({ version: ip.version, addr: ip.ipAddress });
      for (const a of ip.floatingIps) fl.push({ version: a.includes(':') ? 6 : 4, addr: a });
    }
    fixed.set(i.networkName, f);
    floating.set(i.networkName, fl);
  }
  return Object.fromEntries([...fixed.keys()].map((k) => [k, [...fixed.get(k)!, ...floating.get(k)!]]));
}

const STANDARD_DRIVERS = ['libvirt', 'xenapi', 'vmwareapi', 'ironic', 'hyperv'];

/** 2.48's standard diagnostics: exactly Nova's fields, null where the hypervisor has no value. */
function standardDiagnostics(d: Record<string, unknown>) {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);
  const list = (v: unknown) => (Array.isArray(v) ? v as Array<Record<string, unknown>> : []);
  const mem = (d.memory_details ?? {}) as Record<string, unknown>;
  const driver = typeof d.driver === 'string' && STANDARD_DRIVERS.includes(d.driver) ? d.driver : 'libvirt';
  return {
    state: typeof d.state === 'string' ? d.state : 'pending', driver,
    hypervisor: typeof d.hypervisor === 'string' ? d.hypervisor : null, hypervisor_os: typeof d.hypervisor_os === 'string' ? d.hypervisor_os : null,
    uptime: n(d.uptime), config_drive: d.config_drive === true,
    num_cpus: n(d.num_cpus) ?? 0, num_nics: n(d.num_nics) ?? 0, num_disks: n(d.num_disks) ?? 0,
    disk_details: list(d.disk_details).map((x) => ({ read_bytes: n(x.read_bytes), read_requests: n(x.read_requests), write_bytes: n(x.write_bytes), write_requests: n(x.write_requests), errors_count: n(x.errors_count) })),
    cpu_details: list(d.cpu_details).map((x) => ({ id: n(x.id), time: n(x.time), utilisation: n(x.utilisation) })),
    nic_details: list(d.nic_details).map((x) => ({
      mac_address: typeof x.mac_address === 'string' ? x.mac_address : null, rx_octets: n(x.rx_octets), rx_errors: n(x.rx_errors), rx_drop: n(x.rx_drop),
      rx_packets: n(x.rx_packets), rx_rate: n(x.rx_rate), tx_octets: n(x.tx_octets), tx_errors: n(x.tx_errors), tx_drop: n(x.tx_drop), tx_packets: n(x.tx_packets), tx_rate: n(x.tx_rate),
    })),
    memory_details: { maximum: n(mem.maximum), used: n(mem.used) },
  };
}

/** Before 2.48 each hypervisor answered in its own words; these are libvirt's. */
function legacyDiagnostics(d: ReturnType<typeof standardDiagnostics>, ports: DeviceInterface[]): Record<string, number> {
  const out: Record<string, number> = {};
  d.cpu_details.forEach((c, i) => { out[`cpu${c.id ?? i}_time`] = c.time ?? 0; });
  d.disk_details.forEach((x, i) => {
    const dev = `vd${String.fromCharCode(97 + i)}`;
    Object.assign(out, { [`${dev}_read`]: x.read_bytes ?? 0, [`${dev}_read_req`]: x.read_requests ?? 0, [`${dev}_write`]: x.write_bytes ?? 0, [`${dev}_write_req`]: x.write_requests ?? 0, [`${dev}_errors`]: x.errors_count ?? -1 });
  });
  d.nic_details.forEach((x, i) => {
    const tap = `tap${(ports.find((p) => p.macAddress === x.mac_address)?.portId ?? String(i)).slice(0, 11)}`;
    Object.assign(out, {
      [`${tap}_rx`]: x.rx_octets ?? 0, [`${tap}_rx_drop`]: x.rx_drop ?? 0, [`${tap}_rx_errors`]: x.rx_errors ?? 0, [`${tap}_rx_packets`]: x.rx_packets ?? 0,
      [`${tap}_tx`]: x.tx_octets ?? 0, [`${tap}_tx_drop`]: x.tx_drop ?? 0, [`${tap}_tx_errors`]: x.tx_errors ?? 0, [`${tap}_tx_packets`]: x.tx_packets ?? 0,
    });
  });
  out.memory = (d.memory_details.maximum ?? 0) * 1024;
  out['memory-actual'] = (d.memory_details.maximum ?? 0) * 1024;
  out['memory-rss'] = (d.memory_details.used ?? 0) * 1024;
  return out;
}

/** Remote console protocols and the types each offers (mks from 2.8). */
const CONSOLE_TYPES: Record<string, string[]> = { vnc: ['novnc', 'xvpvnc'], spice: ['spice-html5'], serial: ['serial'], rdp: ['rdp-html5'], mks: ['webmks'] };

export async function serverResourceRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db } = deps;
  const server = (req: FastifyRequest) => findServer(db, req.ctx, (req.params as { id: string }).id);
  const ifacesOf = async (id: string) => (await deps.network.interfacesOf([id])).get(id) ?? [];

  // ---- ips ----------------------------------------------------------------------------
  app.get('/v2.1/servers/:id/ips', async (req) => {
    const inst = await server(req);
    return { addresses: ipsView(await ifacesOf(inst.id)) };
  });
  app.get('/v2.1/servers/:id/ips/:network', async (req) => {
    const inst = await server(req);
    const label = (req.params as { network: string }).network;
    const all = ipsView(await ifacesOf(inst.id));
    if (!(label in all)) throw notFound('Instance is not a member of specified network');
    return { [label]: all[label] };
  });

  // ---- metadata -----------------------------------------------------------------------
  const metaOf = (inst: InstanceRow) => JSON.parse(inst.metadata || '{}') as Record<string, string>;
  /** Writes a server's whole metadata, as Nova's update_instance_metadata does: lock, state, quota. */
  const writeMeta = async (req: FastifyRequest, inst: InstanceRow, what: string, next: Record<string, string>) => {
    requireMember(req.ctx, `os_compute_api:server-metadata:${what === 'delete metadata' ? 'delete' : 'update'}`);
    checkLock(req.ctx, inst);
    checkState(inst, what, [VM.ACTIVE, VM.PAUSED, VM.SUSPENDED, VM.STOPPED]);
    const limit = (await computeLimits(db, inst.project_id)).metadata_items ?? 128;
    if (limit >= 0 && Object.keys(next).length > limit) throw forbidden(`Maximum number of metadata items exceeds ${limit}`);
    await db.updateTable('instance').set({ metadata: JSON.stringify(next), updated_at: now() }).where('id', '=', inst.id).execute();
    return next;
  };
  app.get('/v2.1/servers/:id/metadata', async (req) => ({ metadata: metaOf(await server(req)) }));
  app.post('/v2.1/servers/:id/metadata', async (req) => {
    const inst = await server(req);
    const meta = metadataBody(onlyKey(req, 'metadata'), 'metadata');
    return { metadata: await writeMeta(req, inst, 'update metadata', { ...metaOf(inst), ...meta }) };
  });
  app.put('/v2.1/servers/:id/metadata', async (req) => {
    const inst = await server(req);
    const meta = metadataBody(onlyKey(req, 'metadata'), 'metadata');
    return { metadata: await writeMeta(req, inst, 'update metadata', meta) };
  });
  app.get('/v2.1/servers/:id/metadata/:key', async (req) => {
    const inst = await server(req);
    const key = (req.params as { key: string }).key;
    const meta = metaOf(inst);
    if (!Object.prototype.hasOwnProperty.call(meta, key)) throw notFound('Metadata item was not found');
    return { meta: { [key]: meta[key] } };
  });
  app.put('/v2.1/servers/:id/metadata/:key', async (req) => {
    const inst = await server(req);
    const key = (req.params as { key: string }).key;
    const item = metadataBody(onlyKey(req, 'meta'), 'meta', true);
    if (!(key in item)) throw badRequest('Request body and URI mismatch');
    await writeMeta(req, inst, 'update metadata', { ...metaOf(inst), ...item });
    return { meta: item };
  });
  app.delete('/v2.1/servers/:id/metadata/:key', async (req, reply) => {
    const inst = await server(req);
    const key = (req.params as { key: string }).key;
    const meta = metaOf(inst);
    if (!Object.prototype.hasOwnProperty.call(meta, key)) throw notFound('Metadata item was not found');
    delete meta[key];
    await writeMeta(req, inst, 'delete metadata', meta);
    reply.status(204).send();
  });

  // ---- os-interface -------------------------------------------------------------------
  const tagsOf = (inst: InstanceRow) => ((JSON.parse(inst.system_metadata || '{}') as { port_tags?: Record<string, string> }).port_tags ?? {});
  const attachmentView = (req: FastifyRequest, inst: InstanceRow, p: DeviceInterface) => ({
    port_state: p.status, fixed_ips: p.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    port_id: p.portId, net_id: p.networkId, mac_addr: p.macAddress,
    ...(mv(req, '2.70') ? { tag: tagsOf(inst)[p.portId] ?? null } : {}),
  });
  app.get('/v2.1/servers/:id/os-interface', async (req) => {
    const inst = await server(req);
    return { interfaceAttachments: (await ifacesOf(inst.id)).map((p) => attachmentView(req, inst, p)) };
  });
  app.get('/v2.1/servers/:id/os-interface/:port', async (req) => {
    const inst = await server(req);
    const portId = (req.params as { port: string }).port;
    const p = (await ifacesOf(inst.id)).find((x) => x.portId === portId);
    if (!p) {
      const exists = isUuid(portId) ? await deps.network.getPort(req.ctx, portId).then(() => true, () => false) : false;
      throw notFound(exists ? `Instance ${inst.id} does not have a port with id ${portId}` : `Port id ${portId} could not be found.`);
    }
    return { interfaceAttachment: attachmentView(req, inst, p) };
  });
  app.post('/v2.1/servers/:id/os-interface', async (req) => {
    const ctx = req.ctx;
    const inst = await server(req);
    requireMember(ctx, 'os_compute_api:os-attach-interfaces:create');
    const b = req.body as Record<string, unknown> | null | undefined;
    if (b !== null && b !== undefined && (typeof b !== 'object' || Array.isArray(b))) throw badRequest(`Invalid input for field/attribute body. Value: ${JSON.stringify(b)}. ${JSON.stringify(b)} is not of type 'object'`);
    const extra = Object.keys(b ?? {}).filter((k) => k !== 'interfaceAttachment');
    if (extra.length) throw badRequest(`Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`);
    const a = (b?.interfaceAttachment ?? {}) as Record<string, unknown>;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw badRequest(`Invalid input for field/attribute interfaceAttachment. Value: ${JSON.stringify(a)}. ${JSON.stringify(a)} is not of type 'object'`);
    const allowed = ['net_id', 'port_id', 'fixed_ips', ...(mv(req, '2.49') ? ['tag'] : [])];
    const unknown = Object.keys(a).filter((k) => !allowed.includes(k));
    if (unknown.length) throw badRequest(`Invalid input for field/attribute interfaceAttachment. Value: ${JSON.stringify(a)}. Additional properties are not allowed ('${unknown.join("', '")}' was unexpected)`);
    const uuidField = (k: string) => {
      const v = a[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string' || !isUuid(v)) throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not a 'uuid'`);
      return v;
    };
    let networkId = uuidField('net_id');
    const portId = uuidField('port_id');
    let fixedIp: string | undefined;
    if (a.fixed_ips !== undefined) {
      const f = a.fixed_ips;
      const ok = Array.isArray(f) && f.length === 1 && f[0] && typeof f[0] === 'object' && Object.keys(f[0]).every((k) => k === 'ip_address') && typeof (f[0] as { ip_address?: unknown }).ip_address === 'string';
      if (!ok) throw badRequest(`Invalid input for field/attribute fixed_ips. Value: ${JSON.stringify(f)}. It must be a list of one {"ip_address": "<address>"}`);
      fixedIp = (f as Array<{ ip_address: string }>)[0]!.ip_address;
      if (!/^[0-9.]+$|^[0-9a-fA-F:]+$/.test(fixedIp) || (!fixedIp.includes(':') && !/^(\d{1,3}\.){3}\d{1,3}$/.test(fixedIp))) throw badRequest(`Invalid input for field/attribute ip_address. Value: ${fixedIp}. '${fixedIp}' is not a 'ipv4' or 'ipv6' address`);
    }
    let tag: string | null = null;
    if (a.tag !== undefined) {
      if (typeof a.tag !== 'string' || a.tag.length < 1 || a.tag.length > 60 || /[,/]/.test(a.tag)) throw badRequest(`Invalid input for field/attribute tag. Value: ${JSON.stringify(a.tag)}.`);
      tag = a.tag;
    }
    if (networkId && portId) throw badRequest('Must not input both network_id and port_id');
    if (fixedIp && !networkId) throw badRequest('Must input network_id when request IP address');
    checkLock(ctx, inst);
    checkState(inst, 'attach_interface', [VM.ACTIVE, VM.PAUSED, VM.STOPPED]);
    if (!networkId && !portId) {
      // As Nova: the one network the project may use, else a 400 saying why not.
      const nets = await deps.network.listNetworks(ctx);
      if (!nets.length) throw badRequest('No networks available to attach an interface to: create a network or give net_id or port_id.');
      if (nets.length > 1) throw badRequest('Multiple possible networks found, use a Network ID to be more specific.');
      networkId = nets[0]!.id;
    }
    if (networkId) await deps.network.getNetwork(ctx, networkId).catch((err) => fromNetwork(err, { networkId }));
    if (portId && (await ifacesOf(inst.id)).some((p) => p.portId === portId)) throw conflict(`Port ${portId} is still in use.`);
    const requestId = requestIdOf(req);
    await db.transaction().execute((trx) => recordAction(trx, inst, 'attach_interface', ctx, requestId));
    const attached = await deps.manager.attachInterface(ctx, inst, portId ? { portId } : { networkId, ...(fixedIp ? { fixedIp } : {}) })
      .catch((err) => fromNetwork(err, { networkId, portId }));
    const fresh = (await db.selectFrom('instance').selectAll().where('id', '=', inst.id).executeTakeFirst()) ?? inst;
    if (tag) {
      const sys = JSON.parse(fresh.system_metadata || '{}') as Record<string, unknown>;
      sys.port_tags = { ...((sys.port_tags as Record<string, string> | undefined) ?? {}), [attached]: tag };
      fresh.system_metadata = JSON.stringify(sys);
      await db.updateTable('instance').set({ system_metadata: fresh.system_metadata }).where('id', '=', inst.id).execute();
    }
    const p = (await ifacesOf(inst.id)).find((x) => x.portId === attached);
    if (!p) throw new ApiError(500, `Failed to attach network adapter device to ${inst.id}`);
    return { interfaceAttachment: attachmentView(req, fresh, p) };
  });
  app.delete('/v2.1/servers/:id/os-interface/:port', async (req, reply) => {
    const ctx = req.ctx;
    const inst = await server(req);
    requireMember(ctx, 'os_compute_api:os-attach-interfaces:delete');
    const portId = (req.params as { port: string }).port;
    checkLock(ctx, inst);
    checkState(inst, 'detach_interface', [VM.ACTIVE, VM.PAUSED, VM.STOPPED]);
    if (!(await ifacesOf(inst.id)).some((p) => p.portId === portId)) throw notFound(`Port ${portId} is not attached`);
    const requestId = requestIdOf(req);
    await db.transaction().execute((trx) => recordAction(trx, inst, 'detach_interface', ctx, requestId));
    await deps.manager.detachInterface(ctx, inst, portId);
    const fresh = await db.selectFrom('instance').select('system_metadata').where('id', '=', inst.id).executeTakeFirst();
    const sys = JSON.parse(fresh?.system_metadata || '{}') as { port_tags?: Record<string, string> };
    if (sys.port_tags?.[portId] !== undefined) {
      delete sys.port_tags[portId];
      await db.updateTable('instance').set({ system_metadata: JSON.stringify(sys) }).where('id', '=', inst.id).execute();
    }
    reply.status(202).send();
  });

  // ---- remote consoles ----------------------------------------------------------------
  app.post('/v2.1/servers/:id/remote-consoles', async (req) => {
    if (!mv(req, '2.6')) throw notFound('The resource could not be found.');
    const inst = await server(req);
    requireMember(req.ctx, 'os_compute_api:os-remote-consoles');
    const rc = onlyKey(req, 'remote_console') as Record<string, unknown> | null;
    if (!rc || typeof rc !== 'object' || Array.isArray(rc)) throw badRequest(`Invalid input for field/attribute remote_console. Value: ${JSON.stringify(rc)}. ${JSON.stringify(rc)} is not of type 'object'`);
    const protocols = ['vnc', 'spice', 'serial', 'rdp', ...(mv(req, '2.8') ? ['mks'] : [])];
    const types = ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5', ...(mv(req, '2.8') ? ['webmks'] : [])];
    for (const k of Object.keys(rc)) if (k !== 'protocol' && k !== 'type') throw badRequest(`Invalid input for field/attribute remote_console. Value: ${JSON.stringify(rc)}. Additional properties are not allowed ('${k}' was unexpected)`);
    for (const k of ['protocol', 'type']) if (rc[k] === undefined) throw badRequest(`Invalid input for field/attribute remote_console. Value: ${JSON.stringify(rc)}. '${k}' is a required property`);
    const protocol = String(rc.protocol);
    const type = String(rc.type);
    if (typeof rc.protocol !== 'string' || !protocols.includes(protocol)) throw badRequest(`Invalid input for field/attribute protocol. Value: ${protocol}. '${protocol}' is not one of ${JSON.stringify(protocols)}`);
    if (typeof rc.type !== 'string' || !types.includes(type)) throw badRequest(`Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ${JSON.stringify(types)}`);
    if (protocol === 'rdp') throw badRequest(`Unavailable console type ${protocol}.`);
    if (!CONSOLE_TYPES[protocol]!.includes(type)) throw badRequest(`Invalid console type ${type}`);
    if (protocol === 'mks') throw badRequest(`Unavailable console type ${type}.`);
    if (inst.vm_state !== VM.ACTIVE || !inst.host) throw conflict(`Instance ${inst.id} is not ready`);
    const c = await deps.driver.consoleUrl(inst.id, type).catch((err) => {
      if (err instanceof ApiError) throw badRequest(`Unavailable console type ${type}.`);
      throw conflict(`Instance ${inst.id} is not ready`);
    });
    return { remote_console: { protocol, type, url: c.url } };
  });

  // ---- diagnostics --------------------------------------------------------------------
  app.get('/v2.1/servers/:id/diagnostics', async (req) => {
    const inst = await server(req);
    if (!req.ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-server-diagnostics to be performed.");
    if (!inst.host || inst.vm_state === VM.BUILDING) throw conflict(`Instance ${inst.id} is not ready`);
    const raw = await deps.driver.diagnostics(inst.id).catch(() => { throw conflict(`Instance ${inst.id} is not ready`); });
    const d = standardDiagnostics(raw);
    return mv(req, '2.48') ? d : legacyDiagnostics(d, await ifacesOf(inst.id));
  });

  // ---- security groups ----------------------------------------------------------------
  app.get('/v2.1/servers/:id/os-security-groups', async (req) => {
    const inst = await server(req);
    const groups = await deps.network.securityGroups.ofDevice(inst.id);
    return { security_groups: await novaSecurityGroupViews(deps, groups) };
  });

  // ---- password -----------------------------------------------------------------------
  app.get('/v2.1/servers/:id/os-server-password', async (req) => {
    const inst = await server(req);
    const sys = JSON.parse(inst.system_metadata || '{}') as Record<string, unknown>;
    return { password: typeof sys.password === 'string' ? sys.password : '' };
  });
  app.delete('/v2.1/servers/:id/os-server-password', async (req, reply) => {
    const inst = await server(req);
    requireMember(req.ctx, 'os_compute_api:os-server-password:clear');
    const sys = JSON.parse(inst.system_metadata || '{}') as Record<string, unknown>;
    if (sys.password !== undefined) {
      delete sys.password;
      await db.updateTable('instance').set({ system_metadata: JSON.stringify(sys), updated_at: now() }).where('id', '=', inst.id).execute();
    }
    reply.status(204).send();
  });

  // ---- volume attachments (os-volume_attachments) ------------------------------------
  const volumeBdms = (id: string) => db.selectFrom('block_device_mapping').selectAll().where('instance_id', '=', id).where('destination_type', '=', 'volume')
    .where('volume_id', 'is not', null).orderBy('created_at').orderBy('id').execute();
  const volumeAttachmentView = (req: FastifyRequest, inst: InstanceRow, b: BlockDeviceMappingRow, shown: boolean) => ({
    // 2.89 drops the volume-id `id` from list and show, and adds Cinder's attachment id and the mapping's own id.
    ...(shown && mv(req, '2.89') ? {} : { id: b.volume_id }),
    serverId: inst.id, volumeId: b.volume_id, device: b.device_name,
    ...(mv(req, '2.70') ? { tag: b.tag } : {}),
    ...(mv(req, '2.79') ? { delete_on_termination: b.delete_on_termination === 1 } : {}),
    ...(shown && mv(req, '2.89') ? { attachment_id: b.attachment_id, bdm_uuid: b.id } : {}),
  });
  /** The states Nova attaches and detaches volumes in (shelved ones from 2.20). */
  const volumeStates = (req: FastifyRequest) => [VM.ACTIVE, VM.PAUSED, VM.STOPPED, VM.RESIZED, VM.SOFT_DELETED, ...(mv(req, '2.20') ? [VM.SHELVED, VM.SHELVED_OFFLOADED] : [])];
  const attachedBdm = async (inst: InstanceRow, volumeId: string) => {
    const b = (await volumeBdms(inst.id)).find((x) => x.volume_id === volumeId);
    if (!b) throw notFound(`volume_id not found: ${volumeId}`);
    return b;
  };
  const fromVolume = (err: unknown): never => {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 413) throw forbidden(`Quota exceeded: ${err.message}`);
    throw new ApiError(err.status, err.message);
  };

  app.get('/v2.1/servers/:id/os-volume_attachments', async (req) => {
    const inst = await server(req);
    const q = req.query as Record<string, string | undefined>;
    let rows = await volumeBdms(inst.id);
    const offset = q.offset === undefined ? 0 : Number(q.offset);
    if (!Number.isInteger(offset) || offset < 0) throw badRequest(`Invalid input for query parameters offset. Value: ${q.offset}.`);
    rows = rows.slice(offset);
    if (q.limit !== undefined) {
      const limit = Number(q.limit);
      if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Invalid input for query parameters limit. Value: ${q.limit}.`);
      rows = rows.slice(0, limit);
    }
    return { volumeAttachments: rows.map((b) => volumeAttachmentView(req, inst, b, true)) };
  });
  app.get('/v2.1/servers/:id/os-volume_attachments/:volume', async (req) => {
    const inst = await server(req);
    const b = await attachedBdm(inst, (req.params as { volume: string }).volume);
    return { volumeAttachment: volumeAttachmentView(req, inst, b, true) };
  });

  app.post('/v2.1/servers/:id/os-volume_attachments', async (req) => {
    const ctx = req.ctx;
    const inst = await server(req);
    requireMember(ctx, 'os_compute_api:os-volumes-attachments:create');
    const a = onlyKey(req, 'volumeAttachment') as Record<string, unknown> | null;
    if (!a || typeof a !== 'object' || Array.isArray(a)) throw badRequest(`Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(a)}. ${JSON.stringify(a)} is not of type 'object'`);
    const allowed = ['volumeId', 'device', ...(mv(req, '2.49') ? ['tag'] : []), ...(mv(req, '2.79') ? ['delete_on_termination'] : [])];
    for (const k of Object.keys(a)) if (!allowed.includes(k)) throw badRequest(`Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(a)}. Additional properties are not allowed ('${k}' was unexpected)`);
    if (a.volumeId === undefined) throw badRequest(`Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(a)}. 'volumeId' is a required property`);
    if (typeof a.volumeId !== 'string' || !isUuid(a.volumeId)) throw badRequest(`Invalid input for field/attribute volumeId. Value: ${JSON.stringify(a.volumeId)}. ${JSON.stringify(a.volumeId)} is not a 'uuid'`);
    let device: string | null = null;
    if (a.device !== undefined && a.device !== null) {
      if (typeof a.device !== 'string' || !/^(\/dev\/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$/.test(a.device)) {
        throw badRequest(`Invalid input for field/attribute device. Value: ${JSON.stringify(a.device)}. ${JSON.stringify(a.device)} does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'`);
      }
      device = a.device;
    }
    let tag: string | null = null;
    if (a.tag !== undefined && a.tag !== null) {
      if (typeof a.tag !== 'string' || a.tag.length < 1 || a.tag.length > 60 || /[,/]/.test(a.tag)) throw badRequest(`Invalid input for field/attribute tag. Value: ${JSON.stringify(a.tag)}.`);
      tag = a.tag;
    }
    const deleteOnTermination = a.delete_on_termination === undefined ? false : bool(a.delete_on_termination, 'delete_on_termination');
    const volumeId = a.volumeId;
    checkLock(ctx, inst);
    checkState(inst, 'attach_volume', volumeStates(req));
    if (!deps.volume) throw badRequest(`Block storage is not available in this cloud: volume ${volumeId} cannot be attached to server ${inst.id}.`);
    const vol = await deps.volume.getVolume(ctx, volumeId).catch(fromVolume);
    const existing = await volumeBdms(inst.id);
    if (existing.some((b) => b.volume_id === volumeId)) throw badRequest(`Invalid volume: volume ${volumeId} already attached`);
    if (vol.multiattach && !mv(req, '2.60')) throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.');
    const row = { boot_index: null, device_name: device, destination_type: 'volume' };
    assignDeviceNames([row], existing.map((b) => b.device_name ?? '').filter(Boolean));
    // Cinder reserves the volume now (one winner if two servers race for it); the hypervisor plugs it in later.
    const { attachmentId } = await deps.volume.reserveAttachment(ctx, volumeId, { instanceId: inst.id, zone: inst.availability_zone }).catch(fromVolume);
    const requestId = requestIdOf(req);
    const bdm: BlockDeviceMappingRow = {
      id: uuid(), instance_id: inst.id, source_type: 'volume', destination_type: 'volume', boot_index: null, device_name: row.device_name,
      volume_id: volumeId, image_id: null, snapshot_id: null, volume_size: vol.size, volume_type: null,
      delete_on_termination: deleteOnTermination ? 1 : 0, attachment_id: attachmentId, tag, created_at: now(),
    };
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('block_device_mapping').values(bdm).execute();
        await recordAction(trx, inst, 'attach_volume', ctx, requestId);
        await deps.manager.enqueue(inst.id, { action: 'attachVolume', bdmId: bdm.id, ctx: callerOf(ctx), requestId }, trx);
      });
    } catch (err) {
      await deps.volume.deleteAttachment(attachmentId).catch(() => undefined);
      throw err;
    }
    return { volumeAttachment: volumeAttachmentView(req, inst, bdm, false) };
  });

  app.put('/v2.1/servers/:id/os-volume_attachments/:volume', async (req, reply) => {
    const ctx = req.ctx;
    const inst = await server(req);
    const volumeId = (req.params as { volume: string }).volume;
    const a = onlyKey(req, 'volumeAttachment') as Record<string, unknown> | null;
    if (!a || typeof a !== 'object' || Array.isArray(a)) throw badRequest(`Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(a)}. ${JSON.stringify(a)} is not of type 'object'`);
    if (typeof a.volumeId !== 'string' || !isUuid(a.volumeId)) throw badRequest(`Invalid input for field/attribute volumeAttachment. Value: ${JSON.stringify(a)}. 'volumeId' is a required property`);
    const b = await attachedBdm(inst, volumeId);
    if (a.volumeId !== volumeId) {
      if (!ctx.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
      // Nova's own refusals first: the new volume must exist, and a multiattach volume
      // attached read/write to several servers is never swapped.
      await deps.volume!.getVolume(ctx, a.volumeId).catch(() => { throw badRequest(`Volume ${a.volumeId} could not be found.`); });
      const old = await deps.volume!.getVolume(ctx, volumeId);
      if (old.multiattach && (await deps.volume!.attachmentCount(volumeId)) > 1) {
        throw badRequest('Cannot swap a multiattach volume with more than one read/write attachment.');
      }
      // Swapping the volume under a running guest needs the hypervisor to copy it; not offered.
      throw conflict(`Swapping the volume of server ${inst.id} is not supported by this cloud.`);
    }
    requireMember(ctx, 'os_compute_api:os-volumes-attachments:update');
    if (!mv(req, '2.85')) throw badRequest('The volume was unchanged: updating an attachment needs microversion 2.85 or later.');
    for (const k of Object.keys(a)) {
      if (!['volumeId', 'delete_on_termination', 'id', 'serverId', 'device', 'tag'].includes(k)) throw badRequest(`Invalid input for field/attribute volumeAttachment. Additional properties are not allowed ('${k}' was unexpected)`);
    }
    for (const k of ['id', 'serverId', 'device', 'tag'] as const) {
      const cur = { id: b.volume_id, serverId: inst.id, device: b.device_name, tag: b.tag }[k];
      if (a[k] !== undefined && a[k] !== cur) throw badRequest(`Invalid input for field/attribute ${k}: it cannot be changed.`);
    }
    checkLock(ctx, inst);
    if (a.delete_on_termination !== undefined) {
      await db.updateTable('block_device_mapping').set({ delete_on_termination: bool(a.delete_on_termination, 'delete_on_termination') ? 1 : 0 }).where('id', '=', b.id).execute();
    }
    reply.status(202).send();
  });

  app.delete('/v2.1/servers/:id/os-volume_attachments/:volume', async (req, reply) => {
    const ctx = req.ctx;
    const inst = await server(req);
    requireMember(ctx, 'os_compute_api:os-volumes-attachments:delete');
    const volumeId = (req.params as { volume: string }).volume;
    checkLock(ctx, inst);
    if (deps.volume && isUuid(volumeId)) await deps.volume.getVolume(ctx, volumeId).catch(fromVolume);
    const b = await attachedBdm(inst, volumeId);
    checkState(inst, 'detach_volume', volumeStates(req));
    if (b.boot_index === 0) throw badRequest("Can't detach root device volume");
    if (!b.attachment_id) throw badRequest(`Invalid volume: volume ${volumeId} is still being attached.`);
    const requestId = requestIdOf(req);
    await db.transaction().execute(async (trx) => {
      await recordAction(trx, inst, 'detach_volume', ctx, requestId);
      await deps.manager.enqueue(inst.id, { action: 'detachVolume', bdmId: b.id, ctx: callerOf(ctx), requestId }, trx);
    });
    reply.status(202).send();
  });

  // ---- virtual interfaces (nova-network only; removed upstream) -----------------------
  app.get('/v2.1/servers/:id/os-virtual-interfaces', async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.status(410);
    return { gone: { code: 410, message: 'This resource is no longer available.' } };
  });
}
