import type { Readable } from 'node:stream';

/**
 * Where a volume's bytes live. The file backend keeps sparse raw files in the data
 * directory; an LVM or Ceph RBD backend fills the same interface later. Every call names
 * the volume or snapshot by id and is idempotent, so a task that crashed halfway can run
 * again. Sizes are in GiB, as Cinder counts them.
 */
export interface VolumeBackend {
  /** Backend name as Cinder's `host` shows it (`stratus@file#file`). */
  readonly host: string;
  /** A blank volume of `sizeGb` (all zeros, no space used until written). */
  create(volumeId: string, sizeGb: number): Promise<void>;
  /** A volume holding the stream's bytes (converted to raw from `format` when it is an image format), then grown to `sizeGb`. */
  createFromStream(volumeId: string, sizeGb: number, data: Readable, format?: string): Promise<void>;
  /** A copy of another volume or of a snapshot, grown to `sizeGb`. */
  cloneVolume(source: { volumeId?: string; snapshotId?: string }, volumeId: string, sizeGb: number): Promise<void>;
  /** A point-in-time copy of a volume. */
  createSnapshot(volumeId: string, snapshotId: string): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Grows a volume; Cinder never shrinks one. */
  extend(volumeId: string, sizeGb: number): Promise<void>;
  delete(volumeId: string): Promise<void>;
  /** The volume's raw bytes as a stream (upload to image, backups). */
  open(volumeId: string): Promise<Readable>;
  /** The volume's bytes in an image format (`raw` is the volume itself; others are converted first). */
  export(volumeId: string, format: string): Promise<Readable>;
  /** Writes raw bytes into an existing volume from offset 0 (restore from backup). */
  overwrite(volumeId: string, data: Readable): Promise<void>;
  /** Where a hypervisor finds the device (a file path for the file backend). */
  locate(volumeId: string): string;
  /** What the backend is, as Cinder's scheduler matches volume type extra specs against it. */
  readonly capabilities: { volume_backend_name: string; vendor_name: string; storage_protocol: string; driver_version: string };
  /** Bytes of capacity and of allocation, for the pool statistics Cinder reports. */
  stats(): Promise<{ totalGb: number; freeGb: number; allocatedGb: number }>;
}

export const GiB = 1024 ** 3;
