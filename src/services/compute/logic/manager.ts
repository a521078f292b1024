import type { Kysely } from 'kysely';
import type { Platform } from '../../../platform/service.js';
import type { RequestContext } from '../../../platform/auth/context.js';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import type { ImageService } from '../../image/index.js';
import type { NetworkService } from '../../network/index.js';
import type { VolumeService } from '../../volume/index.js';
import { POWER_STATE, type GuestSpec, type VirtDriver } from '../drivers/virt/driver.js';
import { nextId, type ComputeTables, type EmbeddedFlavor, type InstanceRow } from '../store.js';
import { NoValidHost, releaseAllocations, schedule, type RequestSpec } from './scheduler.js';
import { VM } from './states.js';

/**
 * The compute manager: carries out what the API asked for, as tasks (one resource's tasks
 * run in order; a task interrupted by a crash runs again). The API has already set the
 * task_state clients see; the manager drives the hypervisor, the network and the image
 * service, then writes the resting state back. Each step checks the instance still exists,
 * because a delete may arrive at any point of a build.
 */
export type { CallerContext } from '../../../platform/auth/caller.js';
export { callerOf, serviceContext } from '../../../platform/auth/caller.js';
import { callerOf, serviceContext } from '../../../platform/auth/caller.js';
import type { CallerContext } from '../../../platform/auth/caller.js';

export type ComputeTask =
  | { action: 'build'; ctx: CallerContext; requestId: string }
  | { action: 'delete'; ctx: CallerContext; requestId: string }
  | { action: 'reboot'; kind: 'SOFT' | 'HARD'; ctx: CallerContext; requestId: string }
  | { action: 'stop' | 'start' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'unrescue' | 'confirmResize' | 'revertResize' | 'unshelve' | 'trigger_crash_dump'; ctx: CallerContext; requestId: string; zone?: string | null; host?: string | null }
  | { action: 'rescue'; imageId: string; ctx: CallerContext; requestId: string }
  | { action: 'resize' | 'migrate'; flavor: EmbeddedFlavor | null; host?: string | null; ctx: CallerContext; requestId: string }
  | { action: 'rebuild'; imageId: string; ctx: CallerContext; requestId: string }
  | { action: 'createImage'; imageId: string; backup?: { type: string; rotation: number }; ctx: CallerContext; requestId: string }
  | { action: 'shelve'; imageId: string | null; ctx: CallerContext; requestId: string }
  | { action: 'attachInterface'; portId: string; created: boolean; ctx: CallerContext; requestId: string }
  | { action: 'detachInterface'; portId: string; ctx: CallerContext; requestId: string }
  | { action: 'attachVolume' | 'detachVolume'; bdmId: string; ctx: CallerContext; requestId: string }
  | { action: 'evacuate' | 'liveMigrate'; host: string | null; ctx: CallerContext; requestId: string };

export interface RequestedNetwork { network_id?: string; port_id?: string; fixed_ip?: string; tag?: string }

export const TASK_KIND = 'compute.server';

export class ComputeManager {
  constructor(
    private db: Kysely<ComputeTables>,
    private platform: Platform,
    private driver: VirtDriver,
    private network: NetworkService,
    private image: ImageService,
    private volume: VolumeService | null = null,
  ) {}

  register(): void {
    this.platform.tasks.handle(TASK_KIND, (t) => this.run(t.resourceId, t.payload as ComputeTask));
  }

  /** Queues work for a server; pass the API's transaction so the task commits with the state it follows. */
  enqueue(instanceId: string, task: ComputeTask, trx: Kysely<ComputeTables> = this.db): Promise<string> {
    return this.platform.tasks.enqueue(TASK_KIND, instanceId, task, trx as never);
  }

  private async instance(id: string): Promise<InstanceRow | undefined> {
    return this.db.selectFrom('instance').selectAll().where('id', '=', id).where('deleted', '=', 0).executeTakeFirst();
  }

  private async set(id: string, values: Partial<InstanceRow>): Promise<void> {
    await this.db.updateTable('instance').set({ ...values, updated_at: now() }).where('id', '=', id).execute();
  }

  /**
   * Cinder grew a volume attached to these servers (Nova's `volume-extended` event): each gets
   * an `extend_volume` instance action whose `compute_extend_volume` event finishes once the
   * hypervisor has been told (the fake one has nothing to resize).
   */
  async volumeExtended(volumeId: string, instanceIds: string[], caller: CallerContext): Promise<void> {
    for (const id of instanceIds) {
      const inst = await this.instance(id);
      if (!inst) continue;
      const requestId = `req-${uuid()}`;
      const t = now();
      await this.db.insertInto('instance_action').values({
        request_id: requestId, instance_id: id, action: 'extend_volume', project_id: inst.project_id, user_id: caller.userId, message: null, start_time: t, updated_at: t,
      }).execute();
      await this.event(requestId, 'compute_extend_volume', inst.host, async () => {
        this.platform.log.debug({ instance: id, volume: volumeId }, 'attached volume extended');
      });
    }
  }

  private async event(requestId: string, event: string, host: string | null, work: () => Promise<void>): Promise<void> {
    const start = now();
    await this.db.insertInto('instance_action_event').values({ request_id: requestId, event, host, result: null, traceback: null, start_time: start, finish_time: null })
      .onConflict((oc) => oc.columns(['request_id', 'event']).doUpdateSet({ start_time: start, result: null, finish_time: null })).execute().catch(() => undefined);
    try {
      await work();
      await this.db.updateTable('instance_action_event').set({ result: 'Success', finish_time: now() }).where('request_id', '=', requestId).where('event', '=', event).execute();
    } catch (err) {
      await this.db.updateTable('instance_action_event').set({ result: 'Error', finish_time: now(), traceback: String((err as Error).stack ?? err) })
        .where('request_id', '=', requestId).where('event', '=', event).execute();
      throw err;
    }
  }

  /** Puts a server in ERROR with Nova's fault record. */
  private async fail(id: string, err: unknown, code = 500): Promise<void> {
    const message = err instanceof NoValidHost ? err.message : String((err as Error)?.message ?? err);
    await this.set(id, {
      vm_state: VM.ERROR, task_state: null,
      fault: JSON.stringify({ code: err instanceof NoValidHost ? 500 : code, message, details: String((err as Error)?.stack ?? ''), created: now() }),
    });
  }

  async run(id: string, task: ComputeTask): Promise<void> {
    const inst = await this.instance(id);
    if (!inst) return;
    const event = `compute_${task.action.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
    try {
      await this.event(task.requestId, event, inst.host, () => this.perform(inst, task));
    } catch (err) {
      this.platform.log.warn({ err, instance: id, action: task.action }, 'compute action failed');
      if (task.action === 'build' || task.action === 'unshelve') {
        await this.cleanupFailedBuild(id);
        await this.fail(id, err);
      } else if (task.action === 'attachVolume' || task.action === 'detachVolume') {
        // The server is fine; a failed attach is undone (the volume is free again), a failed detach stays attached.
        if (task.action === 'attachVolume') await this.undoAttach(task.bdmId).catch(() => undefined);
      } else if (task.action === 'createImage' || task.action === 'attachInterface' || task.action === 'detachInterface') {
        // The server is fine; only the image upload (e.g. its image was deleted meanwhile) or the hot-plug failed.
        if (task.action === 'createImage') await this.set(id, { task_state: null });
      } else {
        // A failed delete stays deleting until retried; anything else leaves the server in ERROR with the fault.
        await this.set(id, { task_state: null });
        if (task.action !== 'delete') await this.fail(id, err);
        throw err;
      }
    }
  }

  private async perform(inst: InstanceRow, task: ComputeTask): Promise<void> {
    const id = inst.id;
    const d = this.driver;
    switch (task.action) {
      case 'build': return this.build(inst, task.ctx);
      case 'delete': return this.destroy(inst, task.ctx);
      case 'reboot':
        await d.reboot(id, task.kind);
        return this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'stop':
        await d.powerOff(id);
        return this.set(id, { vm_state: VM.STOPPED, task_state: null, power_state: POWER_STATE.SHUTDOWN });
      case 'start':
        await d.powerOn(id);
        return this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'pause':
        await d.pause(id);
        return this.set(id, { vm_state: VM.PAUSED, task_state: null, power_state: POWER_STATE.PAUSED });
      case 'unpause':
        await d.unpause(id);
        return this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'suspend':
        await d.suspend(id);
        return this.set(id, { vm_state: VM.SUSPENDED, task_state: null, power_state: POWER_STATE.SUSPENDED });
      case 'resume':
        await d.resume(id);
        return this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'rescue':
        await d.rescue(id, task.imageId);
        return this.set(id, { vm_state: VM.RESCUED, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'unrescue':
        await d.unrescue(id);
        return this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING });
      case 'trigger_crash_dump':
        return d.triggerCrashDump(id);
      case 'resize':
      case 'migrate':
        return this.resize(inst, task.flavor, task.action === 'migrate', task.host ?? null, task.ctx);
      case 'confirmResize': return this.confirmResize(inst);
      case 'revertResize': return this.revertResize(inst, task.ctx);
      case 'rebuild': return this.rebuild(inst, task.imageId, task.ctx);
      case 'createImage':
        await this.snapshot(inst, task.imageId, task.ctx);
        if (task.backup) await this.rotateBackups(inst, task.backup, task.ctx);
        return;
      case 'shelve': return this.shelve(inst, task.imageId, task.ctx);
      case 'unshelve': return this.unshelve(inst, task.zone ?? null, task.ctx, task.host ?? null);
      case 'attachInterface': {
        const ports = await this.network.interfacesOf([id]);
        const iface = ports.get(id)?.find((p) => p.portId === task.portId);
        // Interfaces change beside whatever else is going on: no task_state of their own.
        if (iface) await d.attachInterface(id, { portId: iface.portId, mac: iface.macAddress, networkId: iface.networkId, fixedIps: iface.fixedIps.map((f) => f.ipAddress) });
        return;
      }
      case 'detachInterface':
        return d.detachInterface(id, task.portId);
      case 'attachVolume': return this.attachVolume(inst, task.bdmId);
      case 'detachVolume': return this.detachVolume(inst, task.bdmId);
      case 'evacuate':
      case 'liveMigrate':
        return this.move(inst, task.host, task.action === 'liveMigrate', task.ctx);
    }
  }

  private flavorOf(inst: InstanceRow): EmbeddedFlavor {
    return JSON.parse(inst.flavor) as EmbeddedFlavor;
  }

  private requestSpec(inst: InstanceRow, flavor: EmbeddedFlavor, consumerId: string, extra: Partial<RequestSpec> = {}): RequestSpec {
    const hints = JSON.parse(inst.scheduler_hints) as Record<string, unknown>;
    const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
    const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
    const imageProperties = Object.fromEntries(Object.entries(sys).filter(([k]) => k.startsWith('image_')).map(([k, v]) => [k.slice(6), v]));
    return {
      consumerId, projectId: inst.project_id, vcpus: flavor.vcpus, memoryMb: flavor.ram,
      diskGb: this.isVolumeBacked(inst) ? 0 : flavor.disk + flavor.ephemeral + Math.ceil(flavor.swap / 1024),
      availabilityZone: inst.requested_zone, differentHost: list(hints.different_host), sameHost: list(hints.same_host),
      imageProperties, extraSpecs: flavor.extra_specs, ...extra,
    };
  }

  /** Booted from a volume: no image, or an image whose mappings make the root disk a volume. */
  isVolumeBacked(inst: InstanceRow): boolean {
    return !inst.image_ref || (JSON.parse(inst.system_metadata) as Record<string, string>).boot_from_volume === 'True';
  }

  private async groupOf(instanceId: string): Promise<RequestSpec['group']> {
    const g = await this.db.selectFrom('server_group_member').innerJoin('server_group', 'server_group.id', 'server_group_member.group_id')
      .select(['server_group.id', 'server_group.policy', 'server_group.rules']).where('server_group_member.instance_id', '=', instanceId).executeTakeFirst();
    return g ? { id: g.id, policy: g.policy, rules: JSON.parse(g.rules) as Record<string, unknown> } : null;
  }

  /** Chooses a host (unless one was forced) and writes the allocation. */
  private async place(inst: InstanceRow, spec: RequestSpec): Promise<string> {
    return this.db.transaction().execute((trx) => schedule(trx, this.platform.dialect, spec));
  }

  private async guestSpec(inst: InstanceRow, host: string, flavor: EmbeddedFlavor): Promise<GuestSpec> {
    const ifaces = (await this.network.interfacesOf([inst.id])).get(inst.id) ?? [];
    const bdms = await this.db.selectFrom('block_device_mapping').selectAll().where('instance_id', '=', inst.id).where('destination_type', '=', 'volume').execute();
    const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
    return {
      instanceId: inst.id, name: inst.name, hostname: inst.hostname, host, vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk,
      imageId: inst.image_ref, imageProperties: Object.fromEntries(Object.entries(sys).filter(([k]) => k.startsWith('image_')).map(([k, v]) => [k.slice(6), v])),
      interfaces: ifaces.map((i) => ({ portId: i.portId, mac: i.macAddress, networkId: i.networkId, fixedIps: i.fixedIps.map((f) => f.ipAddress) })),
      volumes: bdms.filter((b) => b.volume_id).map((b) => ({ volumeId: b.volume_id!, device: b.device_name ?? '', boot: b.boot_index === 0 })),
      userData: inst.user_data, keyData: inst.key_data, configDrive: inst.config_drive === 'True', metadata: JSON.parse(inst.metadata) as Record<string, string>,
    };
  }

  private async build(inst: InstanceRow, caller: CallerContext): Promise<void> {
    const id = inst.id;
    const flavor = this.flavorOf(inst);
    await this.set(id, { task_state: 'scheduling' });
    let host = inst.host;
    if (!host) {
      const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
      host = await this.place(inst, this.requestSpec(inst, flavor, id, { group: await this.groupOf(id), forcedHost: sys.forced_host ?? null }));
    }
    const zone = (await this.zoneOf(host)) ?? inst.requested_zone;
    await this.set(id, { host, availability_zone: zone, task_state: 'networking' });
    await this.db.updateTable('instance_action_event').set({ host }).where('request_id', 'in',
      this.db.selectFrom('instance_action').select('request_id').where('instance_id', '=', id).where('action', '=', 'create')).where('host', 'is', null).execute();
    await this.plugNetworks(inst, host, zone, caller);
    if (!(await this.instance(id))) return;
    await this.set(id, { task_state: 'block_device_mapping' });
    await this.prepareVolumes(inst, host, zone, caller);
    if (!(await this.instance(id))) return;
    await this.set(id, { task_state: 'spawning' });
    await this.driver.spawn(await this.guestSpec(inst, host, flavor));
    if (!(await this.instance(id))) { await this.driver.destroy(id); return; }
    await this.set(id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING, launched_at: now(), progress: 100 });
  }

  async zoneOf(host: string): Promise<string | null> {
    const z = await this.db.selectFrom('aggregate_host').innerJoin('aggregate_metadata', 'aggregate_metadata.aggregate_id', 'aggregate_host.aggregate_id')
      .select('aggregate_metadata.value').where('aggregate_host.host', '=', host).where('aggregate_metadata.key', '=', 'availability_zone').executeTakeFirst();
    return z?.value ?? null;
  }

  /** Creates or binds the server's ports; records which ones Stratus made so a delete removes only those. */
  private async plugNetworks(inst: InstanceRow, host: string, zone: string | null, caller: CallerContext): Promise<void> {
    const requested = JSON.parse(inst.requested_networks) as RequestedNetwork[] | 'none';
    if (requested === 'none') return;
    const sys = JSON.parse(inst.system_metadata) as Record<string, unknown>;
    const made = new Set((sys.created_ports as string[] | undefined) ?? []);
    const existing = (await this.network.interfacesOf([inst.id])).get(inst.id) ?? [];
    if (existing.length) return; // plugged by an earlier attempt of this task
    const ctx = serviceContext(caller);
    const groups = JSON.parse(inst.security_groups) as string[];
    const owner = `compute:${zone ?? 'nova'}`;
    for (const r of requested) {
      if (r.port_id) {
        await this.network.bindPort(ctx, r.port_id, { deviceId: inst.id, deviceOwner: owner, host });
        continue;
      }
      const sgIds = groups.length ? await this.network.resolveSecurityGroups(ctx, groups) : [];
      const { port } = await this.network.allocatePort(ctx, r.network_id!, {
        device_id: inst.id, device_owner: owner, 'binding:host_id': host,
        ...(sgIds.length ? { security_groups: sgIds } : {}),
        ...(r.fixed_ip ? { fixed_ips: [{ ip_address: r.fixed_ip }] } : {}),
      });
      made.add(port.id);
      await this.set(inst.id, { system_metadata: JSON.stringify({ ...sys, created_ports: [...made] }) });
    }
  }

  /**
   * Interface attach: a user's port is bound to the server, or a new port is made on a
   * network (and remembered as ours, so it goes with the server). The network side happens
   * now, so the answer can show the port; the hypervisor side is queued.
   */
  async attachInterface(ctx: RequestContext, inst: InstanceRow, want: { networkId?: string; portId?: string; fixedIp?: string }): Promise<string> {
    const zone = inst.availability_zone ?? 'nova';
    const caller = callerOf(ctx);
    let portId: string;
    let created = false;
    if (want.portId) {
      portId = (await this.network.bindPort(ctx, want.portId, { deviceId: inst.id, deviceOwner: `compute:${zone}`, host: inst.host ?? '' })).id;
    } else {
      const groups = JSON.parse(inst.security_groups) as string[];
      const sgIds = groups.length ? await this.network.resolveSecurityGroups(ctx, groups).catch(() => []) : [];
      const { port } = await this.network.allocatePort(ctx, want.networkId!, {
        device_id: inst.id, device_owner: `compute:${zone}`, 'binding:host_id': inst.host ?? '',
        ...(sgIds.length ? { security_groups: sgIds } : {}), ...(want.fixedIp ? { fixed_ips: [{ ip_address: want.fixedIp }] } : {}),
      });
      portId = port.id;
      created = true;
      const fresh = (await this.instance(inst.id)) ?? inst;
      const sys = JSON.parse(fresh.system_metadata) as Record<string, unknown>;
      await this.set(inst.id, { system_metadata: JSON.stringify({ ...sys, created_ports: [...((sys.created_ports as string[] | undefined) ?? []), portId] }) });
    }
    await this.enqueue(inst.id, { action: 'attachInterface', portId, created, ctx: caller, requestId: `req-${uuid()}` });
    return portId;
  }

  /** Interface detach: our port goes, a user's port is unplugged and stays theirs. */
  async detachInterface(ctx: RequestContext, inst: InstanceRow, portId: string): Promise<void> {
    const sys = JSON.parse(inst.system_metadata) as Record<string, unknown>;
    const made = (sys.created_ports as string[] | undefined) ?? [];
    if (made.includes(portId)) {
      await this.network.releasePorts([portId]);
      await this.set(inst.id, { system_metadata: JSON.stringify({ ...sys, created_ports: made.filter((p) => p !== portId) }) });
    } else {
      await this.network.unbindPort(portId);
    }
    await this.enqueue(inst.id, { action: 'detachInterface', portId, ctx: callerOf(ctx), requestId: `req-${uuid()}` });
  }

  /** Ports Stratus created go; a user's own ports are unplugged and stay theirs. */
  private async unplugNetworks(inst: InstanceRow): Promise<void> {
    const sys = JSON.parse(inst.system_metadata) as Record<string, unknown>;
    const made = new Set((sys.created_ports as string[] | undefined) ?? []);
    const ifaces = (await this.network.interfacesOf([inst.id])).get(inst.id) ?? [];
    await this.network.releasePorts(ifaces.filter((i) => made.has(i.portId)).map((i) => i.portId));
    for (const i of ifaces.filter((x) => !made.has(x.portId))) await this.network.unbindPort(i.portId);
  }

  private async cleanupFailedBuild(id: string): Promise<void> {
    const inst = await this.instance(id);
    if (!inst) return;
    await this.unplugNetworks(inst).catch(() => undefined);
    await this.db.transaction().execute((trx) => releaseAllocations(trx, id));
  }

  // ---- volumes ------------------------------------------------------------------------

  private needVolume(): VolumeService {
    if (!this.volume) throw new Error('this cloud runs no block storage service');
    return this.volume;
  }

  private bdms(instanceId: string) {
    return this.db.selectFrom('block_device_mapping').selectAll().where('instance_id', '=', instanceId).where('destination_type', '=', 'volume')
      .orderBy('created_at').orderBy('id').execute();
  }

  /**
   * Boot from volume: each volume mapping gets its volume (made from the image, the
   * snapshot or blank, in the server's zone, when the mapping has none yet), waits for it to
   * be available, and attaches it. Safe to run again after a crash: a mapping that already
   * has its volume or attachment keeps it.
   */
  private async prepareVolumes(inst: InstanceRow, host: string, zone: string | null, caller: CallerContext): Promise<void> {
    const rows = await this.bdms(inst.id);
    if (!rows.length) return;
    const volume = this.needVolume();
    const ctx = serviceContext(caller);
    const budget = 600_000;
    for (const b of rows) {
      let volumeId = b.volume_id;
      if (!volumeId) {
        if (b.source_type === 'snapshot' && b.snapshot_id) await volume.waitForSnapshot(b.snapshot_id, ['available'], budget);
        const v = await volume.createVolume(ctx, {
          size: b.volume_size, name: '', description: null, volumeType: b.volume_type, availabilityZone: zone,
          ...(b.source_type === 'image' ? { imageId: b.image_id } : {}), ...(b.source_type === 'snapshot' ? { snapshotId: b.snapshot_id } : {}),
        });
        volumeId = v.id;
        await this.db.updateTable('block_device_mapping').set({ volume_id: volumeId }).where('id', '=', b.id).execute();
      }
      const v = await volume.waitForVolume(volumeId, ['available', 'reserved', 'in-use', 'attaching'], budget);
      let attachmentId = b.attachment_id;
      if (!attachmentId) {
        attachmentId = (await volume.reserveAttachment(ctx, volumeId, { instanceId: inst.id, zone })).attachmentId;
        await this.db.updateTable('block_device_mapping').set({ attachment_id: attachmentId }).where('id', '=', b.id).execute();
      }
      await volume.completeAttachment(attachmentId, { host, mountpoint: b.device_name });
      if (b.boot_index === 0 && v.image_id) {
        const fresh = (await this.instance(inst.id)) ?? inst;
        const sys = JSON.parse(fresh.system_metadata) as Record<string, string>;
        if (sys.boot_volume_image_id !== v.image_id) await this.set(inst.id, { system_metadata: JSON.stringify({ ...sys, boot_volume_image_id: v.image_id }) });
      }
    }
  }

  /** Server delete: every volume is detached; those marked delete_on_termination are deleted. */
  private async releaseVolumes(inst: InstanceRow, caller: CallerContext): Promise<void> {
    const rows = await this.bdms(inst.id);
    if (!rows.length || !this.volume) return;
    const ctx = serviceContext(caller);
    for (const b of rows) {
      if (b.attachment_id) await this.volume.deleteAttachment(b.attachment_id);
      else if (b.volume_id) await this.volume.detachVolume(ctx, b.volume_id, inst.id).catch(() => undefined);
      if (b.delete_on_termination && b.volume_id) {
        await this.volume.deleteVolume(ctx, b.volume_id).catch((err) => this.platform.log.warn({ err, volume: b.volume_id }, 'delete_on_termination: volume not deleted'));
      }
    }
  }

  /** os-volume_attachments create: the hypervisor plugs the volume in, then Cinder's attachment completes (in-use). */
  private async attachVolume(inst: InstanceRow, bdmId: string): Promise<void> {
    const b = await this.db.selectFrom('block_device_mapping').selectAll().where('id', '=', bdmId).executeTakeFirst();
    if (!b?.volume_id || !b.attachment_id) return;
    // A shelved-offloaded server has no guest: the volume is attached in the records, plugged in at unshelve.
    if (inst.host && inst.vm_state !== VM.SHELVED_OFFLOADED) await this.driver.attachVolume(inst.id, b.volume_id, b.device_name ?? '');
    await this.needVolume().completeAttachment(b.attachment_id, { host: inst.host, mountpoint: b.device_name });
  }

  private async undoAttach(bdmId: string): Promise<void> {
    const b = await this.db.selectFrom('block_device_mapping').selectAll().where('id', '=', bdmId).executeTakeFirst();
    if (!b) return;
    if (b.attachment_id) await this.volume?.deleteAttachment(b.attachment_id);
    await this.db.deleteFrom('block_device_mapping').where('id', '=', bdmId).execute();
  }

  /** os-volume_attachments delete: unplugged from the guest, the attachment deleted, the mapping gone. Idempotent. */
  private async detachVolume(inst: InstanceRow, bdmId: string): Promise<void> {
    const b = await this.db.selectFrom('block_device_mapping').selectAll().where('id', '=', bdmId).executeTakeFirst();
    if (!b) return;
    if (inst.host && inst.vm_state !== VM.SHELVED_OFFLOADED && b.volume_id) await this.driver.detachVolume(inst.id, b.volume_id);
    if (b.attachment_id) await this.needVolume().deleteAttachment(b.attachment_id);
    await this.db.deleteFrom('block_device_mapping').where('id', '=', bdmId).execute();
  }

  private async destroy(inst: InstanceRow, _caller: CallerContext): Promise<void> {
    const id = inst.id;
    await this.driver.destroy(id);
    await this.unplugNetworks(inst);
    await this.releaseVolumes(inst, _caller);
    const t = now();
    await this.db.transaction().execute(async (trx) => {
      await releaseAllocations(trx, id);
      const migrations = await trx.selectFrom('migration').select('uuid').where('instance_id', '=', id).execute();
      for (const m of migrations) await releaseAllocations(trx, m.uuid);
      await trx.deleteFrom('server_group_member').where('instance_id', '=', id).execute();
      await trx.deleteFrom('instance_tag').where('instance_id', '=', id).execute();
      await trx.deleteFrom('block_device_mapping').where('instance_id', '=', id).execute();
      await trx.updateTable('instance').set({ deleted: 1, deleted_at: t, terminated_at: t, vm_state: VM.DELETED, task_state: null, power_state: POWER_STATE.NOSTATE, updated_at: t })
        .where('id', '=', id).execute();
    });
    const shelved = (JSON.parse(inst.system_metadata) as Record<string, string>).shelved_image_id;
    if (shelved) await this.image.deleteImage?.(serviceContext(_caller), shelved).catch(() => undefined);
  }

  private async migrationRecord(inst: InstanceRow, type: string, newFlavor: EmbeddedFlavor | null, dest: string | null, caller: CallerContext): Promise<{ id: number; uuid: string }> {
    return this.db.transaction().execute(async (trx) => {
      const id = await nextId(trx, this.platform.dialect, 'migration');
      const u = uuid();
      const t = now();
      await trx.insertInto('migration').values({
        id, uuid: u, instance_id: inst.id, project_id: inst.project_id, user_id: caller.userId, migration_type: type, status: 'migrating',
        source_compute: inst.host, dest_compute: dest, old_flavor_id: this.flavorOf(inst).id, new_flavor_id: newFlavor?.id ?? this.flavorOf(inst).id, created_at: t, updated_at: t,
      }).execute();
      return { id, uuid: u };
    });
  }

  /**
   * Resize and cold migrate: the old flavor's allocation moves to the migration record (as
   * placement does), the new one is scheduled for the instance, and the server waits in
   * VERIFY_RESIZE until the user confirms (old allocation released) or reverts (the old
   * flavor and host come back).
   */
  private async resize(inst: InstanceRow, flavor: EmbeddedFlavor | null, migrateOnly: boolean, targetHost: string | null, caller: CallerContext): Promise<void> {
    const id = inst.id;
    const oldFlavor = this.flavorOf(inst);
    const newFlavor = flavor ?? oldFlavor;
    const mig = await this.migrationRecord(inst, migrateOnly ? 'migration' : 'resize', newFlavor, null, caller);
    await this.set(id, { task_state: 'resize_prep' });
    let host: string;
    // Read outside the transaction: SQLite has one connection, which the transaction holds.
    const group = await this.groupOf(id);
    try {
      host = await this.db.transaction().execute(async (trx) => {
        await trx.updateTable('allocation').set({ consumer_id: mig.uuid }).where('consumer_id', '=', id).execute();
        // Cold migration must leave its host; a resize may stay (allow_resize_to_same_host).
        return schedule(trx, this.platform.dialect, this.requestSpec(inst, newFlavor, id, {
          group, forcedHost: targetHost, ignoreHosts: migrateOnly && inst.host ? [inst.host] : [],
        }));
      });
    } catch (err) {
      await this.db.updateTable('migration').set({ status: 'error', updated_at: now() }).where('uuid', '=', mig.uuid).execute();
      throw err;
    }
    await this.db.updateTable('migration').set({ dest_compute: host, status: 'post-migrating', updated_at: now() }).where('uuid', '=', mig.uuid).execute();
    await this.set(id, { task_state: 'resize_migrating' });
    await this.set(id, { task_state: 'resize_migrated' });
    await this.set(id, { task_state: 'resize_finish' });
    const wasStopped = inst.vm_state === VM.STOPPED;
    await this.driver.migrate(await this.guestSpec(inst, host, newFlavor));
    if (wasStopped) await this.driver.powerOff(id);
    await this.db.updateTable('migration').set({ status: 'finished', updated_at: now() }).where('uuid', '=', mig.uuid).execute();
    await this.set(id, {
      vm_state: VM.RESIZED, task_state: null, host, old_flavor: JSON.stringify(oldFlavor), new_flavor: JSON.stringify(newFlavor), flavor: JSON.stringify(newFlavor),
      power_state: wasStopped ? POWER_STATE.SHUTDOWN : POWER_STATE.RUNNING,
      system_metadata: JSON.stringify({ ...(JSON.parse(inst.system_metadata) as object), old_vm_state: inst.vm_state, old_host: inst.host, migration: mig.uuid }),
    });
  }

  private async confirmResize(inst: InstanceRow): Promise<void> {
    const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
    await this.db.transaction().execute(async (trx) => {
      if (sys.migration) {
        await releaseAllocations(trx, sys.migration);
        await trx.updateTable('migration').set({ status: 'confirmed', updated_at: now() }).where('uuid', '=', sys.migration).execute();
      }
    });
    const { migration: _m, old_host: _h, old_vm_state: oldState, ...rest } = sys;
    await this.set(inst.id, {
      vm_state: oldState === VM.STOPPED ? VM.STOPPED : VM.ACTIVE, task_state: null, old_flavor: null, new_flavor: null, system_metadata: JSON.stringify(rest),
    });
  }

  private async revertResize(inst: InstanceRow, _caller: CallerContext): Promise<void> {
    const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
    const oldFlavor = inst.old_flavor ? JSON.parse(inst.old_flavor) as EmbeddedFlavor : this.flavorOf(inst);
    const oldHost = sys.old_host ?? inst.host!;
    await this.db.transaction().execute(async (trx) => {
      await releaseAllocations(trx, inst.id);
      if (sys.migration) {
        await trx.updateTable('allocation').set({ consumer_id: inst.id }).where('consumer_id', '=', sys.migration).execute();
        await trx.updateTable('migration').set({ status: 'reverted', updated_at: now() }).where('uuid', '=', sys.migration).execute();
      }
    });
    await this.driver.revertMigration(await this.guestSpec(inst, oldHost, oldFlavor));
    const stopped = sys.old_vm_state === VM.STOPPED;
    if (stopped) await this.driver.powerOff(inst.id);
    const { migration: _m, old_host: _h, old_vm_state: _s, ...rest } = sys;
    await this.set(inst.id, {
      vm_state: stopped ? VM.STOPPED : VM.ACTIVE, task_state: null, host: oldHost, flavor: JSON.stringify(oldFlavor), old_flavor: null, new_flavor: null,
      power_state: stopped ? POWER_STATE.SHUTDOWN : POWER_STATE.RUNNING, system_metadata: JSON.stringify(rest),
    });
  }

  /** Evacuate and live migration: the server moves to another host (chosen, or the one the admin names) and keeps its state. */
  private async move(inst: InstanceRow, target: string | null, live: boolean, caller: CallerContext): Promise<void> {
    const flavor = this.flavorOf(inst);
    const mig = await this.migrationRecord(inst, live ? 'live-migration' : 'evacuation', flavor, null, caller);
    const group = await this.groupOf(inst.id);
    const host = await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('allocation').set({ consumer_id: mig.uuid }).where('consumer_id', '=', inst.id).execute();
      const h = await schedule(trx, this.platform.dialect, this.requestSpec(inst, flavor, inst.id, {
        group, forcedHost: target, ignoreHosts: inst.host ? [inst.host] : [], availabilityZone: inst.availability_zone,
      }));
      await releaseAllocations(trx, mig.uuid);
      return h;
    }).catch(async (err) => {
      await this.db.transaction().execute((trx) => trx.updateTable('allocation').set({ consumer_id: inst.id }).where('consumer_id', '=', mig.uuid).execute());
      await this.db.updateTable('migration').set({ status: 'error', updated_at: now() }).where('uuid', '=', mig.uuid).execute();
      throw err;
    });
    await this.driver.migrate(await this.guestSpec(inst, host, flavor));
    await this.db.updateTable('migration').set({ dest_compute: host, status: live ? 'completed' : 'done', updated_at: now() }).where('uuid', '=', mig.uuid).execute();
    const running = inst.vm_state !== VM.STOPPED;
    if (!running) await this.driver.powerOff(inst.id);
    await this.set(inst.id, { host, task_state: null, vm_state: inst.vm_state === VM.ERROR && !live ? VM.ACTIVE : inst.vm_state });
  }

  private async rebuild(inst: InstanceRow, imageId: string, caller: CallerContext): Promise<void> {
    await this.set(inst.id, { task_state: 'rebuilding' });
    await this.driver.destroy(inst.id);
    await this.set(inst.id, { task_state: 'rebuild_spawning' });
    const fresh = (await this.instance(inst.id))!;
    await this.driver.spawn(await this.guestSpec({ ...fresh, image_ref: imageId }, inst.host!, this.flavorOf(inst)));
    const stopped = inst.vm_state === VM.STOPPED;
    if (stopped) await this.driver.powerOff(inst.id);
    void caller;
    await this.set(inst.id, { vm_state: stopped ? VM.STOPPED : VM.ACTIVE, task_state: null, image_ref: imageId, launched_at: now(), power_state: stopped ? POWER_STATE.SHUTDOWN : POWER_STATE.RUNNING });
  }

  /** Server snapshot: the root disk's bytes into the image the API created (queued until now). */
  private async snapshot(inst: InstanceRow, imageId: string, caller: CallerContext): Promise<void> {
    await this.set(inst.id, { task_state: 'image_pending_upload' });
    const { data, diskFormat } = await this.driver.snapshot(inst.id);
    await this.set(inst.id, { task_state: 'image_uploading' });
    await this.image.uploadData(serviceContext(caller), imageId, data as NodeJS.ReadableStream, diskFormat);
    await this.set(inst.id, { task_state: null });
  }

  /** createBackup's rotation: only the newest `rotation` backups of this type of this server are kept. */
  private async rotateBackups(inst: InstanceRow, backup: { type: string; rotation: number }, caller: CallerContext): Promise<void> {
    const ctx = serviceContext(caller);
    const mine = (await this.image.listImages(ctx)).filter((img) => {
      const p = JSON.parse(img.properties) as Record<string, string>;
      return p.instance_uuid === inst.id && p.image_type === 'backup' && p.backup_type === backup.type;
    }).sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id));
    for (const old of mine.slice(backup.rotation)) await this.image.deleteImage(ctx, old.id).catch(() => undefined);
  }

  /** Shelve: power off, snapshot into `<name>-shelved` (image-backed servers), then offload — the host's resources are freed. */
  private async shelve(inst: InstanceRow, imageId: string | null, caller: CallerContext): Promise<void> {
    await this.set(inst.id, { task_state: 'shelving' });
    await this.driver.powerOff(inst.id);
    if (imageId) {
      await this.set(inst.id, { task_state: 'shelving_image_pending_upload' });
      const { data, diskFormat } = await this.driver.snapshot(inst.id);
      await this.set(inst.id, { task_state: 'shelving_image_uploading' });
      await this.image.uploadData(serviceContext(caller), imageId, data as NodeJS.ReadableStream, diskFormat);
    }
    await this.set(inst.id, { vm_state: VM.SHELVED, task_state: 'shelving_offloading', power_state: POWER_STATE.SHUTDOWN });
    await this.driver.destroy(inst.id);
    await this.db.transaction().execute((trx) => releaseAllocations(trx, inst.id));
    await this.set(inst.id, { vm_state: VM.SHELVED_OFFLOADED, task_state: null, host: null, power_state: POWER_STATE.SHUTDOWN });
  }

  private async unshelve(inst: InstanceRow, zone: string | null, caller: CallerContext, forcedHost: string | null = null): Promise<void> {
    const flavor = this.flavorOf(inst);
    const sys = JSON.parse(inst.system_metadata) as Record<string, string>;
    await this.set(inst.id, { task_state: 'spawning' });
    const host = await this.place(inst, this.requestSpec(inst, flavor, inst.id, { group: await this.groupOf(inst.id), availabilityZone: zone ?? inst.requested_zone, forcedHost }));
    const az = (await this.zoneOf(host)) ?? inst.availability_zone;
    await this.set(inst.id, { host, availability_zone: az });
    // Ports stay bound through shelving; they follow the server to its new host.
    for (const i of (await this.network.interfacesOf([inst.id])).get(inst.id) ?? []) {
      await this.network.bindPort(serviceContext(caller), i.portId, { deviceId: inst.id, deviceOwner: `compute:${az ?? 'nova'}`, host });
    }
    const guest = await this.guestSpec(inst, host, flavor);
    if (sys.shelved_image_id) guest.imageId = sys.shelved_image_id;
    await this.driver.spawn(guest);
    const { shelved_image_id: shelvedImage, shelved_at: _at, ...rest } = sys;
    await this.set(inst.id, { vm_state: VM.ACTIVE, task_state: null, power_state: POWER_STATE.RUNNING, system_metadata: JSON.stringify(rest) });
    if (shelvedImage) await this.image.deleteImage?.(serviceContext(caller), shelvedImage).catch(() => undefined);
  }
}
