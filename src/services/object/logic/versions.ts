import { ApiError } from '../../../platform/http/errors.js';
import type { Dialect } from '../../../platform/db/index.js';
import { headersOf, objectPage, type ContainerRow, type ObjectDb, type ObjectRow } from '../store.js';
import { xTimestamp } from './deps.js';
import { removeRow, writeRow } from './objects.js';

/**
 * Swift's legacy object versioning, container by container:
 *  - X-Versions-Location: <archive>  ("stack" mode) an overwrite moves the previous version
 *    into <archive>; a DELETE brings the newest archived version back.
 *  - X-History-Location: <archive>   ("history" mode) overwrites archive the same way, and
 *    a DELETE archives the current version before removing it.
 * Archived names are `<3 hex digits: byte length of the name><name>/<timestamp>`, as Swift
 * names them, so tools that know the scheme find them. Rows move; their bytes stay put.
 */
type Mode = { mode: 'stack' | 'history'; archive: string } | null;

function modeOf(c: ContainerRow): Mode {
  const h = headersOf(c.headers);
  if (h['x-versions-location']) return { mode: 'stack', archive: h['x-versions-location'] };
  if (h['x-history-location']) return { mode: 'history', archive: h['x-history-location'] };
  return null;
}

export const archivePrefix = (name: string): string => `${Buffer.byteLength(name).toString(16).padStart(3, '0')}${name}/`;

async function archiveContainer(db: ObjectDb, c: ContainerRow, name: string): Promise<ContainerRow> {
  const a = await db.selectFrom('object_container').selectAll().where('project_id', '=', c.project_id).where('name', '=', name).executeTakeFirst();
  if (!a) throw new ApiError(412, `Versions container ${name} does not exist`);
  return a;
}

async function moveRow(db: ObjectDb, row: ObjectRow, to: ContainerRow, name: string): Promise<(string | null)[]> {
  await removeRow(db, row);
  return [await writeRow(db, { ...row, container_id: to.id, name })];
}

/** Before an overwrite: moves the current version to the archive; true when it did. */
export async function archiveOnOverwrite(db: ObjectDb, _dialect: Dialect, c: ContainerRow, old: ObjectRow): Promise<(string | null)[] | false> {
  const m = modeOf(c);
  if (!m || old.kind === 'marker') return false;
  const a = await archiveContainer(db, c, m.archive);
  return moveRow(db, old, a, `${archivePrefix(old.name)}${xTimestamp(old.created_at)}`);
}

/** On DELETE: does what the container's mode asks; `handled` false means a plain delete. */
export async function restoreOnDelete(db: ObjectDb, dialect: Dialect, c: ContainerRow, name: string, live: ObjectRow | null): Promise<{ handled: boolean; drop: (string | null)[] }> {
  const m = modeOf(c);
  if (!m) return { handled: false, drop: [] };
  const a = await archiveContainer(db, c, m.archive);
  if (m.mode === 'history') {
    if (!live) return { handled: false, drop: [] };
    return { handled: true, drop: await moveRow(db, live, a, `${archivePrefix(name)}${xTimestamp(live.created_at)}`) };
  }
  const prefix = archivePrefix(name);
  const [newest] = (await objectPage(db, dialect, a.id, { prefix, reverse: true, limit: 1, marker: `${prefix}\u{10FFFF}` }))
    .filter((o) => o.name.startsWith(prefix));
  if (!newest) return { handled: false, drop: [] };
  const drop: (string | null)[] = [];
  if (live) drop.push(await removeRow(db, live));
  drop.push(...await moveRow(db, newest, c, name));
  return { handled: true, drop };
}
