/**
 * Where backup data lives: named objects, whole or absent. A backup is a set of objects
 * under its id (`<backup id>/chunk-000000`, …, `<backup id>/manifest.json`); the manifest is
 * written last, so its presence says the backup's data is complete. The filesystem store
 * keeps them under `<dataDir>/backups`; an object-storage store (through the object
 * service's public interface) fills the same interface later. Every call is idempotent,
 * so a backup task that crashed halfway can run again.
 */
export interface BackupStore {
  /** The driver name Cinder's `export_record` reports (`cinder.backup.drivers.posix`). */
  readonly service: string;
  /** The container a backup shows when its creator named none. */
  readonly defaultContainer: string;
  /** Writes an object atomically: after a crash it is there whole or not at all. */
  put(key: string, data: Buffer): Promise<void>;
  /** An object's bytes; throws BackupObjectMissing when there is none. */
  get(key: string): Promise<Buffer>;
  has(key: string): Promise<boolean>;
  /** Copies an object (a hard link or a server-side copy where the store has one). */
  copy(from: string, to: string): Promise<void>;
  /** Removes every object under `<prefix>/`; nothing there is fine. */
  deleteAll(prefix: string): Promise<void>;
}

export class BackupObjectMissing extends Error {
  constructor(readonly key: string) { super(`backup object ${key} is missing`); }
}

/** Object names: safe path segments only, so no key escapes the store. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/.test(key)) throw new Error(`invalid backup object name ${key}`);
  return key;
}
