import { ApiError } from '../../../platform/http/errors.js';
import { headersOf, objectPage, type ContainerRow, type ObjectDb, type ObjectRow } from '../store.js';
import { putContainer, findContainer } from './containers.js';
import { stamp, xTimestamp, type ObjectDeps } from './deps.js';
import { removeRow, writeRow } from './objects.js';

/**
 * Object versioning with version ids (X-Versions-Enabled: true). The current version of
 * every object stays in its container; older versions and delete markers move to a hidden
 * container of the same account (`\0versions\0<container>`, never listed), named
 * `<object>\0<inverted timestamp>` so a name's versions sort newest first. A version id
 * is the version's X-Timestamp.
 */
export const versionsContainerName = (container: string): string => `\u0000versions\u0000${container}`;
const INVERT = 10 ** 13;
const versionName = (name: string, ms: number) => `${name}\u0000${String(INVERT - ms).padStart(13, '0')}`;
export const versionIdOf = (row: ObjectRow): string => xTimestamp(row.created_at);
const msOfVersion = (id: string): number | null => (/^\d+(\.\d+)?$/.test(id) ? Math.round(Number(id) * 1000) : null);

export const versioningEnabled = (c: ContainerRow): boolean => headersOf(c.headers)['x-versions-enabled'] === 'true';

export async function setVersioning(deps: ObjectDeps, c: ContainerRow, on: boolean): Promise<void> {
  const h = headersOf(c.headers);
  if (on && (h['x-versions-location'] || h['x-history-location'])) {
    throw new ApiError(400, 'Cannot enable object versioning on a container that uses X-Versions-Location or X-History-Location');
  }
  if (on) await putContainer(deps, c.project_id, versionsContainerName(c.name), { policy: c.policy, changes: { set: {}, remove: [] } });
  await deps.db.updateTable('object_container').set({ headers: JSON.stringify({ ...h, 'x-versions-enabled': on ? 'true' : 'false' }) }).where('id', '=', c.id).execute();
}

async function hiddenOf(db: ObjectDb, c: ContainerRow): Promise<ContainerRow | undefined> {
  return findContainer(db, c.project_id, versionsContainerName(c.name));
}

/** Before an overwrite or a delete in a versioned container: keep the current version. */
export async function keepVersion(db: ObjectDb, c: ContainerRow, current: ObjectRow): Promise<boolean> {
  if (!versioningEnabled(c) || current.kind === 'marker') return false;
  const hidden = await hiddenOf(db, c);
  if (!hidden) return false;
  await removeRow(db, current);
  await writeRow(db, { ...current, container_id: hidden.id, name: versionName(current.name, current.created_at) });
  return true;
}

/** A DELETE without version-id in a versioned container: the current version is kept and a delete marker goes on top. */
export async function markDeleted(db: ObjectDb, c: ContainerRow, name: string, current: ObjectRow | null): Promise<boolean> {
  if (!versioningEnabled(c)) return false;
  const hidden = await hiddenOf(db, c);
  if (!hidden) return false;
  if (current) await keepVersion(db, c, current);
  const t = stamp();
  await writeRow(db, {
    container_id: hidden.id, name: versionName(name, t), size: 0, etag: 'd41d8cd98f00b204e9800998ecf8427e',
    content_type: 'application/x-deleted;swift_versions_deleted=1', headers: '{}', blob_key: null, kind: 'marker', delete_at: null, created_at: t,
  });
  return true;
}

/** Older versions of one object, newest first (markers included). */
export async function versionsOf(deps: ObjectDeps, db: ObjectDb, c: ContainerRow, name: string): Promise<ObjectRow[]> {
  const hidden = await hiddenOf(db, c);
  if (!hidden) return [];
  const prefix = `${name}\u0000`;
  return (await objectPage(db, deps.platform.dialect, hidden.id, { prefix, limit: 10000 })).filter((o) => o.name.startsWith(prefix))
    .map((o) => ({ ...o, name }));
}

/** A specific version of an object: the current one or an archived one. */
export async function findVersion(deps: ObjectDeps, c: ContainerRow, name: string, versionId: string): Promise<ObjectRow & { hiddenName?: string; latest: boolean }> {
  const ms = msOfVersion(versionId);
  if (ms === null && versionId !== 'null') throw new ApiError(400, 'Invalid version-id');
  const current = await deps.db.selectFrom('object_object').selectAll().where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
  if (current && (versionId === 'null' || current.created_at === ms)) return { ...current, latest: true };
  const hidden = await hiddenOf(deps.db, c);
  if (!hidden || ms === null) throw new ApiError(404, 'Not Found');
  const hiddenName = versionName(name, ms);
  const row = await deps.db.selectFrom('object_object').selectAll().where('container_id', '=', hidden.id).where('name', '=', hiddenName).executeTakeFirst();
  if (!row) throw new ApiError(404, 'Not Found');
  return { ...row, name, hiddenName, latest: false };
}

/** DELETE ?version-id: removes that version for good; removing the current one brings the previous back. */
export async function deleteVersion(deps: ObjectDeps, c: ContainerRow, name: string, versionId: string): Promise<(string | null)[]> {
  const v = await findVersion(deps, c, name, versionId);
  return deps.db.transaction().execute(async (trx) => {
    const drop: (string | null)[] = [];
    if (v.hiddenName) {
      drop.push(await removeRow(trx, { ...v, name: v.hiddenName }));
      return drop;
    }
    drop.push(await removeRow(trx, v));
    const hidden = await hiddenOf(trx, c);
    const [prev] = hidden ? (await objectPage(trx, deps.platform.dialect, hidden.id, { prefix: `${name}\u0000`, limit: 1 })).filter((o) => o.name.startsWith(`${name}\u0000`)) : [];
    if (prev && prev.kind !== 'marker') {
      await removeRow(trx, prev);
      await writeRow(trx, { ...prev, container_id: c.id, name });
    }
    return drop;
  });
}
