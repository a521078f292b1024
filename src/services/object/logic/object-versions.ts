import { ApiError } from '../../../platform/http/errors.js';
import { headersOf, objectPage, type ContainerRow, type ObjectDb, type ObjectRow } from '../store.js';
import { putContainer, findContainer } from './containers.js';
import { stamp, xTimestamp, type ObjectDeps } from './deps.js';
import { removeRow, writeRow } from './objects.js';
import { checkDeletable } from './retention.js';
import { HIDDEN } from './constraints.js';

/**
 * Object versioning with version ids (X-Versions-Enabled: true). The current version of
 * every object stays in its container; older versions and delete markers move to a hidden
 * container of the same account (`\0versions\0<container>`, never listed), named
 * `<object>\0<inverted timestamp>` so a name's versions sort newest first. A version id
 * is the version's X-Timestamp.
 */
export const versionsContainerName = (container: string): string => `${HIDDEN}versions${HIDDEN}${container}`;
const INVERT = 10 ** 13;
const versionName = (name: string, ms: number) => `${name}${HIDDEN}${String(INVERT - ms).padStart(13, '0')}`;
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
  const prefix = `${name}${HIDDEN}`;
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

/**
 * DELETE ?version-id: removes that version for good (refused while object lock protects
 * it). Removing the current one brings the previous back; removing the newest delete
 * marker of a deleted object brings back the version under it.
 */
export async function deleteVersion(deps: ObjectDeps, c: ContainerRow, name: string, versionId: string, opts: { bypassGovernance?: boolean } = {}): Promise<(string | null)[]> {
  const v = await findVersion(deps, c, name, versionId);
  if (v.kind !== 'marker') checkDeletable(v, opts);
  return deps.db.transaction().execute(async (trx) => {
    const drop: (string | null)[] = [];
    const hidden = await hiddenOf(trx, c);
    const prefix = `${name}${HIDDEN}`;
    const newestHidden = async () => (hidden ? (await objectPage(trx, deps.platform.dialect, hidden.id, { prefix, limit: 1 })).filter((o) => o.name.startsWith(prefix)) : [])[0];
    if (v.hiddenName) {
      const wasNewest = (await newestHidden())?.name === v.hiddenName;
      drop.push(await removeRow(trx, { ...v, name: v.hiddenName }));
      const current = await trx.selectFrom('object_object').select('name').where('container_id', '=', c.id).where('name', '=', name).executeTakeFirst();
      if (wasNewest && !current && v.kind === 'marker') await promote(trx, c, name, await newestHidden());
      return drop;
    }
    drop.push(await removeRow(trx, v));
    await promote(trx, c, name, await newestHidden());
    return drop;
  });
}

/** Makes an archived version current again (a delete marker stays where it is: the object stays deleted). */
async function promote(db: ObjectDb, c: ContainerRow, name: string, prev: ObjectRow | undefined): Promise<void> {
  if (!prev || prev.kind === 'marker') return;
  await removeRow(db, prev);
  await writeRow(db, { ...prev, container_id: c.id, name });
}

/** One entry of a version listing: a version or a delete marker, newest first within a name. */
export interface VersionEntry { row: ObjectRow; versionId: string; latest: boolean }

/**
 * Every version of every object (current ones, archived ones and delete markers) in name
 * order, newest first within a name, from `after` on: names after `after.name`, or when
 * `after.versionId` is given, that name's versions older than it, then later names.
 */
export async function* allVersions(deps: ObjectDeps, c: ContainerRow, opts: { prefix?: string; after?: { name: string; versionId?: string } } = {}): AsyncGenerator<VersionEntry> {
  const hidden = await hiddenOf(deps.db, c);
  const prefix = opts.prefix ?? '';
  const after = opts.after;
  // Both streams in one order: `<name>\0<inverted timestamp>` (a current row sorts as its own timestamp would).
  const keyOf = (name: string, ms: number) => Buffer.from(versionName(name, ms));
  let start: Buffer | null = null;
  if (after) {
    const ms = after.versionId ? msOfVersion(after.versionId) : null;
    start = after.versionId && ms !== null ? keyOf(after.name, ms) : Buffer.from(`${after.name}${HIDDEN}\u{10FFFF}`);
  }
  async function* stream(containerId: string, isHidden: boolean): AsyncGenerator<{ key: Buffer; row: ObjectRow }> {
    let marker: string | undefined = after ? (isHidden ? start!.toString() : after.name) : undefined;
    let inclusive = !isHidden && !!after?.versionId;
    for (;;) {
      const page = await objectPage(deps.db, deps.platform.dialect, containerId, { prefix: prefix || undefined, marker, markerInclusive: inclusive, limit: 500 });
      inclusive = false;
      for (const o of page) {
        if (prefix && !o.name.startsWith(prefix)) return;
        const name = isHidden ? o.name.slice(0, o.name.lastIndexOf(HIDDEN)) : o.name;
        const row = isHidden ? { ...o, name } : o;
        const key = keyOf(name, o.created_at);
        if (start && Buffer.compare(key, start) <= 0) continue;
        if (!isHidden && row.delete_at !== null && row.delete_at <= Date.now()) continue;
        yield { key, row };
      }
      if (page.length < 500) return;
      marker = page[page.length - 1]!.name;
    }
  }
  const a = stream(c.id, false);
  const b = hidden ? stream(hidden.id, true) : null;
  let x = await a.next();
  let y = b ? await b.next() : { done: true as const, value: undefined };
  let lastName: string | null = after && !after.versionId ? after.name : null;
  if (after?.versionId) lastName = after.name;
  while (!x.done || !y.done) {
    let pick: { key: Buffer; row: ObjectRow };
    if (y.done || (!x.done && Buffer.compare(x.value.key, y.value.key) <= 0)) { pick = x.value!; x = await a.next(); }
    else { pick = y.value; y = await b!.next(); }
    const latest = pick.row.name !== lastName;
    lastName = pick.row.name;
    yield { row: pick.row, versionId: versionIdOf(pick.row), latest };
  }
}
