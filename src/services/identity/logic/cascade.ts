import type { Identity } from './identity.js';

/**
 * Deleting a project, user, group or domain removes what hangs off it in one transaction
 * and revokes the tokens that named it.
 */
export async function deleteProjectCascade(identity: Identity, projectId: string): Promise<void> {
  const db = identity.db;
  const ids = [projectId];
  for (let frontier = [projectId], depth = 0; frontier.length && depth < 64; depth++) {
    const children = await db.selectFrom('project').select('id').where('parent_id', 'in', frontier).where('is_domain', '=', 0).execute();
    frontier = children.map((c) => c.id);
    ids.push(...frontier);
  }
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('assignment').where('target_id', 'in', ids).execute();
    await trx.deleteFrom('application_credential').where('project_id', 'in', ids).execute();
    await trx.updateTable('identity_user').set({ default_project_id: null }).where('default_project_id', 'in', ids).execute();
    // Children first: the tree has no foreign key, but keep it tidy for readers of the table.
    for (const id of [...ids].reverse()) await trx.deleteFrom('project').where('id', '=', id).execute();
  });
  for (const id of ids) await identity.revoke({ project_id: id });
  identity.changed();
}

export async function deleteUserCascade(identity: Identity, userId: string): Promise<void> {
  const db = identity.db;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('assignment').where('actor_id', '=', userId).execute();
    await trx.deleteFrom('application_credential').where('user_id', '=', userId).execute();
    await trx.deleteFrom('credential').where('user_id', '=', userId).execute();
    await trx.deleteFrom('access_rule').where('user_id', '=', userId)
      .where('id', 'not in', trx.selectFrom('app_cred_access_rule').select('access_rule_id')).execute();
    await trx.deleteFrom('identity_user').where('id', '=', userId).execute();
  });
  await identity.revoke({ user_id: userId });
  identity.changed();
}

export async function deleteGroupCascade(identity: Identity, groupId: string): Promise<void> {
  const db = identity.db;
  const members = await db.selectFrom('group_membership').select('user_id').where('group_id', '=', groupId).execute();
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('assignment').where('actor_id', '=', groupId).execute();
    await trx.deleteFrom('identity_group').where('id', '=', groupId).execute();
  });
  for (const m of members) await identity.revoke({ user_id: m.user_id });
  identity.changed();
}

export async function deleteDomainCascade(identity: Identity, domainId: string): Promise<void> {
  const db = identity.db;
  const top = await db.selectFrom('project').select('id').where('domain_id', '=', domainId).where('is_domain', '=', 0).where('parent_id', '=', domainId).execute();
  for (const p of top) await deleteProjectCascade(identity, p.id);
  for (const u of await db.selectFrom('identity_user').select('id').where('domain_id', '=', domainId).execute()) await deleteUserCascade(identity, u.id);
  for (const g of await db.selectFrom('identity_group').select('id').where('domain_id', '=', domainId).execute()) await deleteGroupCascade(identity, g.id);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('assignment').where('target_id', '=', domainId).execute();
    await trx.deleteFrom('role').where('domain_id', '=', domainId).execute();
    await trx.deleteFrom('project').where('id', '=', domainId).execute();
  });
  await identity.revoke({ domain_id: domainId });
  identity.changed();
}
