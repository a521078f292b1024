import { execFile } from 'node:child_process';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { GiB, type VolumeBackend } from './driver.js';

const run = promisify(execFile);
/** Image formats qemu-img turns into raw bytes; anything else is copied as it is. */
const CONVERTIBLE = new Set(['qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx', 'qed']);

/**
 * Sparse raw files: `volumes/<id>` and `snapshots/<id>` under one directory. Copies use a
 * reflink where the filesystem has one (COPYFILE_FICLONE falls back to a copy), so a
 * snapshot is near-instant on btrfs/XFS as the product documents promise. Writes go to a
 * temporary name and are fsynced before the rename, so a crash never leaves half a volume
 * under its real name.
 */
export function fileBackend(root: string): VolumeBackend {
  const vol = (id: string) => join(root, 'volumes', safe(id));
  const snap = (id: string) => join(root, 'snapshots', safe(id));
  const ready = Promise.all([mkdir(join(root, 'volumes'), { recursive: true }), mkdir(join(root, 'snapshots'), { recursive: true })]);

  async function sync(path: string): Promise<void> {
    const f = await open(path, 'r+');
    try { await f.sync(); } finally { await f.close(); }
  }
  async function growTo(path: string, sizeGb: number): Promise<void> {
    const s = await stat(path);
    if (s.size < sizeGb * GiB) await truncate(path, sizeGb * GiB);
  }
  async function place(tmp: string, final: string): Promise<void> {
    await sync(tmp);
    await rename(tmp, final);
  }

  return {
    host: 'stratus@file#file',
    capabilities: { volume_backend_name: 'file', vendor_name: 'Stratus', storage_protocol: 'file', driver_version: '1.0.0' },
    async create(id, sizeGb) {
      await ready;
      const tmp = `${vol(id)}.tmp`;
      const f = await open(tmp, 'w');
      try { await f.truncate(sizeGb * GiB); } finally { await f.close(); }
      await place(tmp, vol(id));
    },
    async createFromStream(id, sizeGb, data, format) {
      await ready;
      const tmp = `${vol(id)}.tmp`;
      if (format && CONVERTIBLE.has(format)) {
        const src = `${vol(id)}.src`;
        try {
          await pipeline(data, createWriteStream(src));
          await run('qemu-img', ['convert', '-q', '-f', format, '-O', 'raw', src, tmp]);
        } finally {
          await rm(src, { force: true });
        }
      } else {
        await pipeline(data, createWriteStream(tmp));
      }
      const s = await stat(tmp);
      if (s.size > sizeGb * GiB) {
        await rm(tmp, { force: true });
        throw new Error(`image of ${s.size} bytes does not fit a volume of ${sizeGb} GiB`);
      }
      await growTo(tmp, sizeGb);
      await place(tmp, vol(id));
    },
    async cloneVolume(source, id, sizeGb) {
      await ready;
      const from = source.snapshotId ? snap(source.snapshotId) : vol(source.volumeId!);
      const tmp = `${vol(id)}.tmp`;
      await copyFile(from, tmp, constants.COPYFILE_FICLONE);
      await growTo(tmp, sizeGb);
      await place(tmp, vol(id));
    },
    async createSnapshot(volumeId, snapshotId) {
      await ready;
      const tmp = `${snap(snapshotId)}.tmp`;
      await copyFile(vol(volumeId), tmp, constants.COPYFILE_FICLONE);
      await place(tmp, snap(snapshotId));
    },
    async deleteSnapshot(snapshotId) { await rm(snap(snapshotId), { force: true }); },
    async extend(id, sizeGb) { await growTo(vol(id), sizeGb); await sync(vol(id)); },
    async delete(id) { await rm(vol(id), { force: true }); await rm(`${vol(id)}.tmp`, { force: true }); },
    async open(id) { await stat(vol(id)); return createReadStream(vol(id), { highWaterMark: 1 << 20 }); },
    async export(id, format) {
      if (format === 'raw') return this.open(id);
      // qemu-img writes the converted copy beside the volume; it goes when the stream ends.
      const out = `${vol(id)}.${format}`;
      await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', format, vol(id), out]);
      const stream = createReadStream(out, { highWaterMark: 1 << 20 });
      stream.once('close', () => { void rm(out, { force: true }); });
      return stream;
    },
    async overwrite(id, data) {
      await pipeline(data, createWriteStream(vol(id), { flags: 'r+' }));
      await sync(vol(id));
    },
    locate: (id) => vol(id),
    async stats() {
      await ready;
      const fs = await statfs(root);
      const totalGb = Math.floor((fs.blocks * fs.bsize) / GiB);
      const freeGb = Math.floor((fs.bavail * fs.bsize) / GiB);
      return { totalGb, freeGb, allocatedGb: totalGb - freeGb };
    },
  };
}

function safe(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid volume id ${id}`);
  return id;
}
