import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../../../platform/auth/context.js';
import { now } from '../../../../../platform/clock.js';
import { uuid } from '../../../../../platform/ids.js';
import { conflictError, neutronError, ownerOf, requireWriter, resourceBody, strValue, type NetDeps } from '../../../api/common.js';
import { listRows, pickFields, standardColumns, type ListSpec } from '../../../api/listing.js';
import { checkQuota } from '../../../logic/quota.js';
import { normaliseAddresses } from '../logic/address-groups.js';
import { addressesOf, sgDb, visibleAddressGroups, type AddressGroupRow, type SgDb } from '../store.js';
import { addressGroupViews } from '../views.js';

/** /v2.0/address-groups, with the add_addresses and remove_addresses actions. */
const ATTRS = ['name', 'description', 'addresses', 'tenant_id', 'project_id'];

export const addressGroupList: ListSpec = {
  collection: 'address_groups', table: 'address_group',
  columns: {
    ...standardColumns,
  },
  sortable: ['id', 'name', 'description', 'project_id', 'created_at', 'updated_at'],
};

const notFound = (id: string) => neutronError(404, 'AddressGroupNotFound', `Address group ${id} could not be found.`);

async function getAddressGroup(db: SgDb, ctx: RequestContext, id: string): Promise<AddressGroupRow> {
  const g = await visibleAddressGroups(db, ctx).where('address_group.id', '=', id).executeTakeFirst();
  if (!g) throw notFound(id);
  return g;
}

export async function addressGroupRoutes(app: FastifyInstance, deps: NetDeps): Promise<void> {
  const db = sgDb(deps.db);
  const show = async (req: FastifyRequest, id: string) =>
    pickFields(req, (await addressGroupViews(db, [await db.selectFrom('address_group').selectAll().where('id', '=', id).executeTakeFirstOrThrow()]))[0]!);
  const addressesBody = (req: FastifyRequest) => {
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || b.addresses === undefined) throw neutronError(400, 'HTTPBadRequest', "Failed to parse request. Required attribute 'addresses' not specified");
    return normaliseAddresses(b.addresses);
  };

  app.post('/v2.0/address-groups', async (req, reply) => {
    const ctx = req.ctx;
    requireWriter(ctx);
    const b = resourceBody(req, 'address_group', ATTRS);
    const owner = ownerOf(ctx, b);
    const t = now();
    const row: AddressGroupRow = {
      id: uuid(), project_id: owner, name: b.name === undefined ? '' : strValue(b.name, 'name')!,
      description: b.description === undefined ? '' : strValue(b.description, 'description')!, created_at: t, updated_at: t, revision_number: 1,
    };
    const addresses = b.addresses === undefined || b.addresses === null ? [] : normaliseAddresses(b.addresses);
    await deps.db.transaction().execute(async (trx) => {
      await checkQuota(trx, deps.platform.dialect, owner, 'address_group');
      await sgDb(trx).insertInto('address_group').values(row).execute();
      if (addresses.length) await sgDb(trx).insertInto('address_group_address').values(addresses.map((address) => ({ address_group_id: row.id, address }))).execute();
    });
    reply.status(201);
    return { address_group: await show(req, row.id) };
  });

  app.get('/v2.0/address-groups', async (req) => {
    const { rows, links } = await listRows(req, db, visibleAddressGroups(db, req.ctx), addressGroupList);
    const views = await addressGroupViews(db, rows as AddressGroupRow[]);
    return { address_groups: views.map((v) => pickFields(req, v)), ...(links.length ? { address_groups_links: links } : {}) };
  });

  app.get('/v2.0/address-groups/:id', async (req) => ({ address_group: await show(req, (await getAddressGroup(db, req.ctx, (req.params as { id: string }).id)).id) }));

  app.put('/v2.0/address-groups/:id', async (req) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    const g = await getAddressGroup(db, ctx, id);
    requireWriter(ctx);
    const b = resourceBody(req, 'address_group', ['name', 'description']);
    const set: Partial<AddressGroupRow> = {};
    if (b.name !== undefined) set.name = strValue(b.name, 'name')!;
    if (b.description !== undefined) set.description = strValue(b.description, 'description')!;
    await db.updateTable('address_group').set({ ...set, updated_at: now(), revision_number: g.revision_number + 1 }).where('id', '=', id).execute();
    return { address_group: await show(req, id) };
  });

  for (const action of ['add_addresses', 'remove_addresses'] as const) {
    app.put(`/v2.0/address-groups/:id/${action}`, async (req) => {
      const ctx = req.ctx;
      const id = (req.params as { id: string }).id;
      const g = await getAddressGroup(db, ctx, id);
      requireWriter(ctx);
      const asked = addressesBody(req);
      await deps.db.transaction().execute(async (trx) => {
        const t = sgDb(trx);
        const current = (await addressesOf(t, [id])).get(id) ?? [];
        if (action === 'add_addresses') {
          const present = asked.filter((a) => current.includes(a));
          if (present.length) throw neutronError(400, 'AddressesAlreadyExist', `Addresses ${JSON.stringify(present)} already exist in the address group ${id}.`);
          if (asked.length) await t.insertInto('address_group_address').values(asked.map((address) => ({ address_group_id: id, address }))).execute();
        } else {
          const absent = asked.filter((a) => !current.includes(a));
          if (absent.length) throw neutronError(404, 'AddressesNotFound', `Addresses ${JSON.stringify(absent)} not found in the address group ${id}.`);
          if (asked.length) await t.deleteFrom('address_group_address').where('address_group_id', '=', id).where('address', 'in', asked).execute();
        }
        await t.updateTable('address_group').set({ updated_at: now(), revision_number: g.revision_number + 1 }).where('id', '=', id).execute();
      });
      return { address_group: await show(req, id) };
    });
  }

  app.delete('/v2.0/address-groups/:id', async (req, reply) => {
    const ctx = req.ctx;
    const id = (req.params as { id: string }).id;
    await getAddressGroup(db, ctx, id);
    requireWriter(ctx);
    await deps.db.transaction().execute(async (trx) => {
      const t = sgDb(trx);
      const used = await t.selectFrom('security_group_rule').select('id').where('remote_address_group_id', '=', id).limit(1).executeTakeFirst();
      if (used) throw conflictError('AddressGroupInUse', `Address group ${id} is in use on one or more security group rules.`);
      await t.deleteFrom('address_group_address').where('address_group_id', '=', id).execute();
      await t.deleteFrom('address_group').where('id', '=', id).execute();
    });
    reply.status(204).send();
  });
}
