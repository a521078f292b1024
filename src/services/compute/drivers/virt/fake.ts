import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ApiError } from '../../../../platform/http/errors.js';
import { POWER_STATE, type ConsoleUrl, type GuestSpec, type HypervisorHost, type PowerState, type VirtDriver } from './driver.js';

/**
 * The fake hypervisor: guests are state kept in memory, every operation takes a small,
 * configurable time (so clients see BUILD, REBOOT, RESIZE... as they would), and the
 * console log reads like a guest's. It offers several hosts per availability zone, so the
 * scheduler's filters and weighers (affinity, anti-affinity, capacity) have something to
 * choose between. After a restart the hypervisor "rebooted": guests the database says
 * exist are adopted as running again on first use.
 */
export interface FakeDriverOptions {
  zones: string[];
  hostsPerZone: number;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  delayMs: number;
}

interface Guest { spec: GuestSpec; power: PowerState; console: string[]; rescued: boolean; previous: GuestSpec | null }

export function fakeDriver(o: FakeDriverOptions): VirtDriver {
  const guests = new Map<string, Guest>();
  const wait = () => (o.delayMs > 0 ? new Promise((r) => setTimeout(r, o.delayMs)) : Promise.resolve());
  const stamp = () => (process.uptime()).toFixed(6).padStart(12, ' ');
  const log = (g: Guest, line: string) => { g.console.push(`[${stamp()}] ${line}`); if (g.console.length > 2000) g.console.splice(0, g.console.length - 2000); };
  const guest = (id: string): Guest => {
    let g = guests.get(id);
    if (!g) {
      // Unknown to this process: a guest from before a restart. Adopt it, running.
      g = { spec: { instanceId: id } as GuestSpec, power: POWER_STATE.RUNNING, console: [], rescued: false, previous: null };
      guests.set(id, g);
    }
    return g;
  };
  const boot = (g: Guest) => {
    const s = g.spec;
    log(g, `Linux version 6.1.0-stratus (fake) #1 SMP`);
    log(g, `Command line: root=/dev/vda1 console=ttyS0`);
    log(g, `Memory: ${s.memoryMb ?? 0}MB, CPUs: ${s.vcpus ?? 0}`);
    for (const i of s.interfaces ?? []) log(g, `cloud-init: net: ${i.mac} ${i.fixedIps.join(' ')}`);
    log(g, `cloud-init: hostname ${s.hostname ?? ''}${s.keyData ? ', 1 authorized key' : ''}${s.userData ? ', user-data present' : ''}`);
    log(g, `${s.hostname ?? 'guest'} login: `);
  };

  const hosts: HypervisorHost[] = o.zones.flatMap((zone) => Array.from({ length: o.hostsPerZone }, (_, i) => ({
    host: `compute-${zone.replace(/^.*-/, '')}-${i + 1}`, availabilityZone: zone,
    vcpus: o.vcpus, memoryMb: o.memoryMb, localGb: o.localGb, hypervisorType: 'fake',
  })));

  return {
    name: 'fake',
    hosts: () => hosts,
    async spawn(spec) {
      await wait();
      const g: Guest = { spec, power: POWER_STATE.RUNNING, console: guests.get(spec.instanceId)?.console ?? [], rescued: false, previous: null };
      guests.set(spec.instanceId, g);
      boot(g);
    },
    async destroy(id) {
      await wait();
      guests.delete(id);
    },
    async reboot(id, kind) {
      const g = guest(id);
      log(g, kind === 'HARD' ? 'Power cycle (hard reboot)' : 'reboot: Restarting system');
      await wait();
      g.power = POWER_STATE.RUNNING;
      boot(g);
    },
    async powerOff(id) {
      const g = guest(id);
      log(g, 'reboot: Power down');
      await wait();
      g.power = POWER_STATE.SHUTDOWN;
    },
    async powerOn(id) {
      const g = guest(id);
      await wait();
      g.power = POWER_STATE.RUNNING;
      boot(g);
    },
    async pause(id) { await wait(); guest(id).power = POWER_STATE.PAUSED; },
    async unpause(id) { await wait(); guest(id).power = POWER_STATE.RUNNING; },
    async suspend(id) { await wait(); guest(id).power = POWER_STATE.SUSPENDED; },
    async resume(id) { await wait(); guest(id).power = POWER_STATE.RUNNING; },
    async rescue(id, image) {
      const g = guest(id);
      await wait();
      g.rescued = true;
      g.power = POWER_STATE.RUNNING;
      log(g, `Booting rescue image ${image}; original disk attached as second disk`);
      boot(g);
    },
    async unrescue(id) {
      const g = guest(id);
      await wait();
      g.rescued = false;
      boot(g);
    },
    async migrate(spec) {
      const g = guest(spec.instanceId);
      await wait();
      g.previous = g.spec;
      g.spec = spec;
      g.power = POWER_STATE.RUNNING;
      boot(g);
    },
    async revertMigration(spec) {
      const g = guest(spec.instanceId);
      await wait();
      g.spec = spec;
      g.previous = null;
      g.power = POWER_STATE.RUNNING;
      boot(g);
    },
    async snapshot(id) {
      const g = guest(id);
      await wait();
      // A small raw disk whose bytes say whose it is: enough to boot a fake guest from.
      const head = Buffer.from(`stratus fake disk of ${id} (${g.spec.imageId ?? ''})\n`);
      const body = Buffer.alloc(64 * 1024 - head.length, 0);
      body.write(createHash('sha256').update(id).digest('hex'));
      return { data: Readable.from([head, body]), diskFormat: 'raw' };
    },
    async attachVolume(id, volumeId, device) { await wait(); log(guest(id), `virtio_blk: ${device} attached (volume ${volumeId})`); },
    async detachVolume(id, volumeId) { await wait(); log(guest(id), `virtio_blk: volume ${volumeId} detached`); },
    async attachInterface(id, iface) { await wait(); log(guest(id), `virtio_net: ${iface.mac} attached ${iface.fixedIps.join(' ')}`); },
    async detachInterface(id, portId) { await wait(); log(guest(id), `virtio_net: port ${portId} detached`); },
    async consoleOutput(id, lines) {
      const all = guest(id).console;
      return (lines === undefined ? all : lines <= 0 ? [] : all.slice(-lines)).join('\n');
    },
    async consoleUrl(id, type): Promise<ConsoleUrl> {
      const protocols: Record<string, string> = { novnc: 'vnc', xvpvnc: 'vnc', 'spice-html5': 'spice', serial: 'serial' };
      const protocol = protocols[type];
      if (!protocol) throw new ApiError(400, `Unsupported console type ${type}`);
      const token = createHash('sha256').update(`${id}/${type}/${Date.now()}`).digest('hex').slice(0, 32);
      return { protocol, type, url: protocol === 'serial' ? `ws://127.0.0.1:6083/?token=${token}` : `http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D${token}` };
    },
    async triggerCrashDump(id) { log(guest(id), 'NMI received: Kernel panic - not syncing: NMI: Not continuing; crash dump written'); },
    async powerState(id) { return guest(id).power; },
    async diagnostics(id) {
      const g = guest(id);
      return {
        state: g.power === POWER_STATE.RUNNING ? 'running' : g.power === POWER_STATE.PAUSED ? 'paused' : 'shutdown', driver: 'fake',
        hypervisor: 'fake', hypervisor_os: 'linux', uptime: Math.round(process.uptime()), config_drive: !!g.spec.configDrive,
        num_cpus: g.spec.vcpus ?? 0, num_nics: g.spec.interfaces?.length ?? 0, num_disks: 1 + (g.spec.volumes?.length ?? 0),
        memory_details: { maximum: g.spec.memoryMb ?? 0, used: 0 },
        cpu_details: Array.from({ length: g.spec.vcpus ?? 0 }, (_, i) => ({ id: i, time: 0, utilisation: null })),
        nic_details: (g.spec.interfaces ?? []).map((i) => ({ mac_address: i.mac, rx_octets: 0, rx_errors: 0, rx_drop: 0, rx_packets: 0, rx_rate: null, tx_octets: 0, tx_errors: 0, tx_drop: 0, tx_packets: 0, tx_rate: null })),
        disk_details: [{ read_bytes: 0, read_requests: 0, write_bytes: 0, write_requests: 0, errors_count: 0 }],
      };
    },
  };
}
