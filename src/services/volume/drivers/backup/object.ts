import { Readable } from 'node:stream';
import { serviceContext } from '../../../../platform/auth/caller.js';
import { ApiError } from '../../../../platform/http/errors.js';
import type { ObjectService } from '../../../object/index.js';
import { BackupObjectMissing, checkKey, type BackupStore } from './driver.js';

/**
 * Backup objects in Object Storage, through the object service's public interface, as
 * Cinder's Swift backup driver keeps them: container `volumebackups` in the account of the
 * project that owns the backup, objects `<backup id>/chunk-…` and `<backup id>/manifest.json`.
 * The owner is looked up by backup id (`ownerOf`), so the store keeps the key-only interface.
 * Object writes are atomic in the object service (temporary file, fsync, rename).
 */
export const BACKUP_CONTAINER = 'volumebackups';
export const BACKUP_POLICY = 'gp.archive';

export function objectBackupStore(object: ObjectService, ownerOf: (backupId: string) => Promise<string | null>): BackupStore {
  // The backup service acts for the owning project with the rights to reach its account.
  const ctxFor = async (key: string) => {
    const backupId = checkKey(key).split('/')[0]!;
    const projectId = await ownerOf(backupId);
    if (!projectId) throw new BackupObjectMissing(key);
    return { ctx: serviceContext({ projectId, userId: 'cinder-backup', roles: ['admin', 'member', 'reader'], isAdmin: true }), account: projectId };
  };
  const ready = new Set<string>();
  const container = async (ctx: Awaited<ReturnType<typeof ctxFor>>) => {
    if (ready.has(ctx.account)) return;
    // A new backup container gets the archive policy, as the documents' cloud keeps backups;
    // one the owner made already keeps its own (a policy is fixed once set).
    const exists = await object.getContainer(ctx.ctx, BACKUP_CONTAINER, { account: ctx.account }).then(() => true, (err: unknown) => {
      if (missing(err)) return false;
      throw err;
    });
    if (!exists) await object.ensureContainer(ctx.ctx, BACKUP_CONTAINER, { account: ctx.account, policy: BACKUP_POLICY });
    ready.add(ctx.account);
  };
  const missing = (err: unknown) => err instanceof ApiError && err.status === 404;
  async function read(key: string): Promise<Buffer> {
    const c = await ctxFor(key);
    try {
      const { data } = await object.getObject(c.ctx, BACKUP_CONTAINER, key, { account: c.account });
      const parts: Buffer[] = [];
      for await (const chunk of data) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    } catch (err) {
      if (missing(err)) throw new BackupObjectMissing(key);
      throw err;
    }
  }
  async function write(key: string, data: Buffer): Promise<void> {
    const c = await ctxFor(key);
    await container(c);
    try {
      await object.putObject(c.ctx, BACKUP_CONTAINER, key, Readable.from([data]), { account: c.account, contentLength: data.length });
    } catch (err) {
      // The container may have been deleted by its owner since: make it again, once.
      if (!missing(err)) throw err;
      ready.delete(c.account);
      await container(c);
      await object.putObject(c.ctx, BACKUP_CONTAINER, key, Readable.from([data]), { account: c.account, contentLength: data.length });
    }
  }
  return {
    service: 'cinder.backup.drivers.swift',
    defaultContainer: BACKUP_CONTAINER,
    put: write,
    get: read,
    async has(key) {
      const c = await ctxFor(key).catch(() => null);
      if (!c) return false;
      return object.headObject(c.ctx, BACKUP_CONTAINER, key, { account: c.account }).then(() => true, (err: unknown) => {
        if (missing(err)) return false;
        throw err;
      });
    },
    async copy(from, to) { await write(to, await read(from)); },
    async deleteAll(prefix) {
      const c = await ctxFor(`${prefix}/x`).catch(() => null);
      if (!c) return;
      // Page through the backup's objects (a 1 TB volume has 32,768 chunks).
      let marker: string | undefined;
      for (;;) {
        const page = await object.listObjects(c.ctx, BACKUP_CONTAINER, { account: c.account, prefix: `${checkKey(prefix)}/`, limit: 1000, marker }).catch((err: unknown) => {
          if (missing(err)) return [];
          throw err;
        });
        const names = page.flatMap((o) => ('subdir' in o ? [] : [o.name]));
        for (const name of names) {
          await object.deleteObject(c.ctx, BACKUP_CONTAINER, name, { account: c.account }).catch((err: unknown) => { if (!missing(err)) throw err; });
        }
        if (page.length < 1000) return;
        marker = names[names.length - 1];
      }
    },
  };
}
