/**
 * The virt driver interface: what the compute manager asks of a hypervisor. The fake
 * driver (fake.ts) keeps guests as state with realistic delays; the QEMU driver, next,
 * boots real guests behind the same calls. Every call is idempotent for a given instance
 * (the manager may repeat one after a crash) and resolves when the hypervisor has done it.
 */
export const POWER_STATE = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerState = (typeof POWER_STATE)[keyof typeof POWER_STATE];

/** A host the driver offers, with the inventory the scheduler places against. */
export interface HypervisorHost {
  host: string;
  availabilityZone: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  hypervisorType: string;
}

/** What a guest is made of, as the manager hands it to the driver. */
export interface GuestSpec {
  instanceId: string;
  name: string;
  hostname: string;
  host: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  /** Image the root disk comes from (empty for a volume-backed server). */
  imageId: string;
  imageProperties: Record<string, string>;
  /** Ports with their addresses, for the guest's NICs and its network metadata. */
  interfaces: Array<{ portId: string; mac: string; networkId: string; fixedIps: string[] }>;
  volumes: Array<{ volumeId: string; device: string; boot: boolean }>;
  userData: string | null;
  keyData: string | null;
  configDrive: boolean;
  metadata: Record<string, string>;
}

export interface ConsoleUrl { protocol: string; type: string; url: string }

export interface VirtDriver {
  readonly name: string;
  /** Hosts this driver runs guests on (one for a real hypervisor; several for the fake). */
  hosts(): HypervisorHost[];
  spawn(guest: GuestSpec): Promise<void>;
  destroy(instanceId: string): Promise<void>;
  reboot(instanceId: string, kind: 'SOFT' | 'HARD'): Promise<void>;
  powerOff(instanceId: string): Promise<void>;
  powerOn(instanceId: string): Promise<void>;
  pause(instanceId: string): Promise<void>;
  unpause(instanceId: string): Promise<void>;
  suspend(instanceId: string): Promise<void>;
  resume(instanceId: string): Promise<void>;
  /** Boots the guest from a rescue image with its own disk attached second. */
  rescue(instanceId: string, rescueImageId: string): Promise<void>;
  unrescue(instanceId: string): Promise<void>;
  /** Moves (or, on one host, resizes) the guest to `guest` — a new flavor and/or host. */
  migrate(guest: GuestSpec): Promise<void>;
  /** Goes back to the spec the guest had before a migrate. */
  revertMigration(guest: GuestSpec): Promise<void>;
  /** The root disk's bytes, for an image (server snapshot, shelve). */
  snapshot(instanceId: string): Promise<{ data: AsyncIterable<Buffer> | NodeJS.ReadableStream; diskFormat: string }>;
  attachVolume(instanceId: string, volumeId: string, device: string): Promise<void>;
  detachVolume(instanceId: string, volumeId: string): Promise<void>;
  attachInterface(instanceId: string, iface: GuestSpec['interfaces'][number]): Promise<void>;
  detachInterface(instanceId: string, portId: string): Promise<void>;
  /** The guest's serial console log; `lines` from its end, or all of it. */
  consoleOutput(instanceId: string, lines?: number): Promise<string>;
  consoleUrl(instanceId: string, type: string): Promise<ConsoleUrl>;
  /** Appends a line to the console log (crash dump, trigger NMI). */
  triggerCrashDump(instanceId: string): Promise<void>;
  powerState(instanceId: string): Promise<PowerState>;
  diagnostics(instanceId: string): Promise<Record<string, unknown>>;
}
