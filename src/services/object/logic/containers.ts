import { uuid } from '../../../platform/ids.js';
import { ApiError } from '../../../platform/http/errors.js';
import { isUniqueViolation } from '../../../platform/db/index.js';
import { headersOf, type AccountRow, type ContainerRow, type ObjectDb } from '../store.js';
import { stamp, type ObjectDeps } from './deps.js';
import { DEFAULT_POLICY, STORAGE_POLICIES, policyNamed } from './policies.js';
import { checkContainerName, checkMetadata, HIDDEN } from './constraints.js';

/**
 * Accounts and containers. An account exists as soon as its project uses it (Swift's
 * account autocreate); containers are created explicitly. Header maps hold lower-cased
 * names; a value of '' removes the entry (Swift's X-Remove-* and empty values).
 */
export interface HeaderChanges { set: Record<string, string>; remove: string[] }

export function applyChanges(current: Record<string, string>, changes: HeaderChanges): Record<string, string> {
  const out = { ...current };
  for (const k of changes.remove) delete out[k];
  for (const [k, v] of Object.entries(changes.set)) {
    if (v === '') delete out[k];
    else out[k] = v;
  }
  return out;
}

export interface AccountInfo {
  project_id: string; headers: Record<string, string>; created_at: number;
  container_count: number; object_count: number; bytes_used: number;
  /** Usage per storage policy that has containers. */
  policies: { name: string; container_count: number; object_count: number; bytes_used: number }[];
}

const hidden = (name: string) => name.startsWith(HIDDEN);

export async function getAccount(deps: ObjectDeps, projectId: string): Promise<AccountInfo> {
  const row = await deps.db.selectFrom('object_account').selectAll().where('project_id', '=', projectId).executeTakeFirst();
  const containers = await deps.db.selectFrom('object_container').select(['name', 'policy', 'object_count', 'bytes_used'])
    .where('project_id', '=', projectId).execute();
  const byPolicy = new Map<string, { name: string; container_count: number; object_count: number; bytes_used: number }>();
  let objects = 0; let bytes = 0; let count = 0;
  for (const c of containers) {
    const p = byPolicy.get(c.policy) ?? { name: c.policy, container_count: 0, object_count: 0, bytes_used: 0 };
    if (!hidden(c.name)) { p.container_count++; count++; }
    p.object_count += Number(c.object_count); p.bytes_used += Number(c.bytes_used);
    objects += Number(c.object_count); bytes += Number(c.bytes_used);
    byPolicy.set(c.policy, p);
  }
  return {
    project_id: projectId, headers: row ? headersOf(row.headers) : {}, created_at: row?.created_at ?? 0,
    container_count: count, object_count: objects, bytes_used: bytes,
    policies: STORAGE_POLICIES.map((p) => byPolicy.get(p.name)).filter((p) => p !== undefined),
  };
}

/** The account row, created on first use. */
export async function ensureAccount(db: ObjectDb, projectId: string): Promise<AccountRow> {
  const row = await db.selectFrom('object_account').selectAll().where('project_id', '=', projectId).executeTakeFirst();
  if (row) return row;
  const t = stamp();
  const fresh: AccountRow = { project_id: projectId, headers: '{}', created_at: t, updated_at: t };
  try { await db.insertInto('object_account').values(fresh).execute(); } catch (err) { if (!isUniqueViolation(err)) throw err; }
  return (await db.selectFrom('object_account').selectAll().where('project_id', '=', projectId).executeTakeFirst())!;
}

export async function updateAccount(deps: ObjectDeps, projectId: string, changes: HeaderChanges): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const row = await ensureAccount(trx, projectId);
    const headers = applyChanges(headersOf(row.headers), changes);
    checkMetadata(headers, 'x-account-meta-');
    await trx.updateTable('object_account').set({ headers: JSON.stringify(headers), updated_at: stamp() }).where('project_id', '=', projectId).execute();
  });
}

export async function findContainer(db: ObjectDb, projectId: string, name: string): Promise<ContainerRow | undefined> {
  return db.selectFrom('object_container').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
}

export async function getContainer(db: ObjectDb, projectId: string, name: string): Promise<ContainerRow> {
  const row = await findContainer(db, projectId, name);
  if (!row) throw new ApiError(404, 'Not Found');
  return row;
}

/**
 * Creates a container (created: true) or updates an existing one's headers (created:
 * false). A storage policy is chosen at creation and fixed afterwards: naming another one
 * for an existing container is a 409.
 */
export async function putContainer(deps: ObjectDeps, projectId: string, name: string, opts: { policy?: string; changes: HeaderChanges }): Promise<{ created: boolean; container: ContainerRow }> {
  if (!name.startsWith(HIDDEN)) checkContainerName(name);
  let policy: string | undefined;
  if (opts.policy !== undefined) {
    policy = policyNamed(opts.policy);
    if (!policy) throw new ApiError(400, `Invalid X-Storage-Policy '${opts.policy}'`);
  }
  return deps.db.transaction().execute(async (trx) => {
    await ensureAccount(trx, projectId);
    const existing = await findContainer(trx, projectId, name);
    const t = stamp();
    if (existing) {
      if (policy && policy !== existing.policy) throw new ApiError(409, 'Conflict');
      const headers = applyChanges(headersOf(existing.headers), opts.changes);
      checkMetadata(headers, 'x-container-meta-');
      await trx.updateTable('object_container').set({ headers: JSON.stringify(headers), updated_at: t }).where('id', '=', existing.id).execute();
      return { created: false, container: { ...existing, headers: JSON.stringify(headers), updated_at: t } };
    }
    const headers = applyChanges({}, opts.changes);
    checkMetadata(headers, 'x-container-meta-');
    const row: ContainerRow = {
      id: uuid(), project_id: projectId, name, policy: policy ?? DEFAULT_POLICY, headers: JSON.stringify(headers),
      object_count: 0, bytes_used: 0, created_at: t, updated_at: t,
    };
    try {
      await trx.insertInto('object_container').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ApiError(409, 'Conflict');
      throw err;
    }
    return { created: true, container: row };
  });
}

export async function updateContainer(deps: ObjectDeps, projectId: string, name: string, changes: HeaderChanges): Promise<ContainerRow> {
  return deps.db.transaction().execute(async (trx) => {
    const c = await getContainer(trx, projectId, name);
    const headers = applyChanges(headersOf(c.headers), changes);
    checkMetadata(headers, 'x-container-meta-');
    const t = stamp();
    await trx.updateTable('object_container').set({ headers: JSON.stringify(headers), updated_at: t }).where('id', '=', c.id).execute();
    return { ...c, headers: JSON.stringify(headers), updated_at: t };
  });
}

/** Deletes an empty container; 409 while it holds objects. */
export async function deleteContainer(deps: ObjectDeps, projectId: string, name: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const c = await getContainer(trx, projectId, name);
    const any = await trx.selectFrom('object_object').select('name').where('container_id', '=', c.id).limit(1).executeTakeFirst();
    if (any) throw new ApiError(409, 'There was a conflict when trying to complete your request.');
    await trx.deleteFrom('object_container').where('id', '=', c.id).execute();
  });
}

/** Replaces a container's sysmeta (S3 bucket settings such as object lock). */
export async function setContainerSysmeta(deps: ObjectDeps, c: ContainerRow, sysmeta: Record<string, unknown>): Promise<void> {
  await deps.db.updateTable('object_container').set({ sysmeta: Object.keys(sysmeta).length ? JSON.stringify(sysmeta) : null }).where('id', '=', c.id).execute();
}
