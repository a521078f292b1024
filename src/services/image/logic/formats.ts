/**
 * Disk and container formats Glance accepts, and the virtual size of the formats whose
 * header says it (qcow2) or whose size is the disk (raw, iso).
 */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

export function virtualSize(diskFormat: string | null, head: Buffer, size: number): number | null {
  if (diskFormat === 'qcow2') {
    if (head.length >= 32 && head.readUInt32BE(0) === QCOW2_MAGIC) return Number(head.readBigUInt64BE(24));
    return null;
  }
  if (diskFormat === 'raw' || diskFormat === 'iso') return size;
  if (diskFormat === 'vhd' || diskFormat === 'vhdx' || diskFormat === 'vmdk') return null;
  return null;
}

/** The qcow2 magic on data declared as something else is refused, as Glance's format inspector does. */
export function looksLikeQcow2(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32BE(0) === QCOW2_MAGIC;
}
