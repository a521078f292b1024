import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupObjectMissing, checkKey, type BackupStore } from './driver.js';

/**
 * Backup objects as files under one directory (`<dataDir>/backups/<backup id>/…`). A write
 * goes to a temporary name, is fsynced, renamed into place and the directory fsynced, so a
 * crash never leaves a torn object under its real name and an acknowledged one survives.
 * Copies are hard links (objects are never rewritten in place, so sharing is safe).
 */
export function fsBackupStore(root: string): BackupStore {
  const path = (key: string) => join(root, checkKey(key));
  async function syncDir(dir: string): Promise<void> {
    const d = await open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  }
  async function place(tmp: string, final: string): Promise<void> {
    await rename(tmp, final);
    await syncDir(dirname(final));
  }
  return {
    service: 'cinder.backup.drivers.posix',
    defaultContainer: 'backups',
    async put(key, data) {
      const final = path(key);
      await mkdir(dirname(final), { recursive: true });
      const tmp = join(dirname(final), `.tmp-${randomUUID()}`);
      const f = await open(tmp, 'w');
      try {
        await f.writeFile(data);
        await f.sync();
      } catch (err) {
        await f.close().catch(() => undefined);
        await rm(tmp, { force: true });
        throw err;
      }
      await f.close();
      await place(tmp, final);
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupObjectMissing(key);
        throw err;
      }
    },
    async has(key) {
      return stat(path(key)).then(() => true, () => false);
    },
    async copy(from, to) {
      const src = path(from);
      const final = path(to);
      await mkdir(dirname(final), { recursive: true });
      const tmp = join(dirname(final), `.tmp-${randomUUID()}`);
      try {
        await link(src, tmp);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new BackupObjectMissing(from);
        await copyFile(src, tmp, constants.COPYFILE_FICLONE);
        const f = await open(tmp, 'r+');
        try { await f.sync(); } finally { await f.close(); }
      }
      await place(tmp, final);
    },
    async deleteAll(prefix) {
      await rm(path(prefix), { recursive: true, force: true });
    },
  };
}
