import type { FastifyInstance, FastifyRequest } from 'fastify';
import { now } from '../../../platform/clock.js';
import { uuid } from '../../../platform/ids.js';
import { isUniqueViolation } from '../../../platform/db/index.js';
import type { FlavorRow } from '../store.js';
import { flavorView, } from '../views.js';
import { extraSpecsOf } from './server-request.js';
import { badRequest, bodyOf, bool, conflict, forbidden, int, links, mv, nextLink, notFound, paging, str, type ComputeDeps } from './common.js';

/**
 * /flavors: everyone lists the public flavors and the private ones shared with their
 * project; admins create, delete, describe (2.55), set extra specs and share private ones.
 */
export async function flavorRoutes(app: FastifyInstance, deps: ComputeDeps): Promise<void> {
  const { db, platform } = deps;
  const adminOnly = (req: FastifyRequest, rule: string) => {
    if (!req.ctx.isAdmin) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
  };
  const visible = async (req: FastifyRequest, id: string): Promise<FlavorRow> => {
    const f = await db.selectFrom('flavor').selectAll().where('id', '=', id).executeTakeFirst();
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    if (!f.is_public && !req.ctx.isAdmin) {
      const access = await db.selectFrom('flavor_access').select('project_id').where('flavor_id', '=', id).where('project_id', '=', req.ctx.projectId ?? '').executeTakeFirst();
      if (!access) throw notFound(`Flavor ${id} could not be found.`);
    }
    return f;
  };
  const view = async (req: FastifyRequest, rows: FlavorRow[]) => {
    const specs = new Map<string, Record<string, string>>();
    if (mv(req, '2.61') && rows.length) {
      for (const s of await db.selectFrom('flavor_extra_spec').selectAll().where('flavor_id', 'in', rows.map((r) => r.id)).orderBy('key').execute()) {
        (specs.get(s.flavor_id) ?? specs.set(s.flavor_id, {}).get(s.flavor_id)!)[s.key] = s.value;
      }
    }
    return rows.map((r) => flavorView(req, platform, r, mv(req, '2.61') ? specs.get(r.id) ?? {} : null));
  };

  const list = async (req: FastifyRequest, detail: boolean) => {
    const q = req.query as Record<string, string | undefined>;
    let sel = db.selectFrom('flavor').selectAll().where('disabled', '=', 0);
    const isPublic = q.is_public;
    const pub = isPublic === undefined ? 'true' : isPublic.toLowerCase();
    if (req.ctx.isAdmin) {
      if (['true', 't', '1', 'yes', 'y'].includes(pub)) sel = sel.where('is_public', '=', 1);
      else if (['false', 'f', '0', 'no', 'n'].includes(pub)) sel = sel.where('is_public', '=', 0);
      else if (pub !== 'none') throw badRequest(`Invalid is_public filter [${isPublic}]`);
    } else {
      // Public flavors and those shared with the project, whatever is_public asks.
      const project = req.ctx.projectId ?? '';
      sel = sel.where((eb) => eb.or([eb('is_public', '=', 1), eb('id', 'in', db.selectFrom('flavor_access').select('flavor_id').where('project_id', '=', project))]));
    }
    if (q.minRam !== undefined) sel = sel.where('ram', '>=', int(q.minRam, 'minRam'));
    if (q.minDisk !== undefined) sel = sel.where('disk', '>=', int(q.minDisk, 'minDisk'));
    const SORT: Record<string, keyof FlavorRow> = { flavorid: 'id', id: 'id', name: 'name', memory_mb: 'ram', ram: 'ram', vcpus: 'vcpus', root_gb: 'disk', disk: 'disk', swap: 'swap', ephemeral_gb: 'ephemeral', rxtx_factor: 'rxtx_factor', created_at: 'created_at', description: 'description', is_public: 'is_public' };
    const key = q.sort_key ?? 'flavorid';
    const col = SORT[key];
    if (!col) throw badRequest(`Invalid input for query parameters sort_key. Value: ${key}.`);
    const dir = (q.sort_dir ?? 'asc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid input for query parameters sort_dir. Value: ${q.sort_dir}.`);
    let rows = await sel.orderBy(col, dir as 'asc' | 'desc').orderBy('id', dir as 'asc' | 'desc').execute();
    const { limit, marker } = paging(req);
    if (marker) {
      const at = rows.findIndex((r) => r.id === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      rows = rows.slice(at + 1);
    }
    if (limit !== null) rows = rows.slice(0, limit);
    const flavors = detail ? await view(req, rows) : rows.map((r) => ({ id: r.id, name: r.name, links: links(req, platform, 'flavors', r.id), ...(mv(req, '2.55') ? { description: r.description } : {}) }));
    return { flavors, ...nextLink(req, platform, 'flavors', rows, limit) };
  };
  app.get('/v2.1/flavors', async (req) => list(req, false));
  app.get('/v2.1/flavors/detail', async (req) => list(req, true));
  app.get('/v2.1/flavors/:id', async (req) => ({ flavor: (await view(req, [await visible(req, (req.params as { id: string }).id)]))[0] }));

  app.post('/v2.1/flavors', async (req) => {
    adminOnly(req, 'os_compute_api:os-flavor-manage:create');
    const b = bodyOf(req, 'flavor');
    const name = str(b.name, 'name', { max: 255, min: 1 })!;
    if (name.trim() !== name) throw badRequest(`Invalid input for field/attribute name. Value: ${name}. '${name}' does not match the name pattern`);
    const id = b.id === undefined || b.id === null || b.id === 'auto' ? uuid() : str(String(b.id), 'id', { max: 255, min: 1 })!;
    if (!/^[\w.\- ]+$/.test(id) || id.trim() !== id) throw badRequest(`Invalid input for field/attribute id. Value: ${id}.`);
    const t = now();
    const row: FlavorRow = {
      id, name, ram: int(b.ram, 'ram', 1), vcpus: int(b.vcpus, 'vcpus', 1), disk: int(b.disk, 'disk', 0),
      ephemeral: b['OS-FLV-EXT-DATA:ephemeral'] === undefined ? 0 : int(b['OS-FLV-EXT-DATA:ephemeral'], 'OS-FLV-EXT-DATA:ephemeral', 0),
      swap: b.swap === undefined || b.swap === '' ? 0 : int(b.swap, 'swap', 0),
      rxtx_factor: b.rxtx_factor === undefined ? 1 : Number(b.rxtx_factor),
      is_public: b['os-flavor-access:is_public'] === undefined ? 1 : bool(b['os-flavor-access:is_public'], 'os-flavor-access:is_public') ? 1 : 0,
      disabled: 0, description: null, created_at: t, updated_at: t,
    };
    if (!(row.rxtx_factor > 0) || row.rxtx_factor > 3.4e38) throw badRequest(`Invalid input for field/attribute rxtx_factor. Value: ${String(b.rxtx_factor)}.`);
    if (b.description !== undefined) {
      if (!mv(req, '2.55')) throw badRequest(`Invalid input for field/attribute flavor. Additional properties are not allowed ('description' was unexpected)`);
      row.description = str(b.description, 'description', { max: 65535, allowNull: true });
    }
    if (await db.selectFrom('flavor').select('id').where('name', '=', name).executeTakeFirst()) throw conflict(`Flavor with name ${name} already exists.`);
    if (await db.selectFrom('flavor').select('id').where('id', '=', id).executeTakeFirst()) throw conflict(`Flavor with ID ${id} already exists.`);
    await db.insertInto('flavor').values(row).execute().catch((err) => { if (isUniqueViolation(err)) throw conflict(`Flavor with name ${name} already exists.`); throw err; });
    return { flavor: (await view(req, [row]))[0] };
  });

  app.put('/v2.1/flavors/:id', async (req) => {
    if (!mv(req, '2.55')) throw notFound('The resource could not be found.');
    adminOnly(req, 'os_compute_api:os-flavor-manage:update');
    const f = await visible(req, (req.params as { id: string }).id);
    const b = bodyOf(req, 'flavor');
    for (const k of Object.keys(b)) if (k !== 'description') throw badRequest(`Invalid input for field/attribute flavor. Additional properties are not allowed ('${k}' was unexpected)`);
    if (!('description' in b)) throw badRequest(`Invalid input for field/attribute flavor. 'description' is a required property`);
    const description = str(b.description, 'description', { max: 65535, allowNull: true });
    await db.updateTable('flavor').set({ description, updated_at: now() }).where('id', '=', f.id).execute();
    return { flavor: (await view(req, [{ ...f, description }]))[0] };
  });

  app.delete('/v2.1/flavors/:id', async (req, reply) => {
    adminOnly(req, 'os_compute_api:os-flavor-manage:delete');
    const id = (req.params as { id: string }).id;
    const f = await db.selectFrom('flavor').select('id').where('id', '=', id).executeTakeFirst();
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    // Servers keep their embedded copy, so a flavor in use may go.
    await db.deleteFrom('flavor').where('id', '=', id).execute();
    reply.status(202).send();
  });

  // Extra specs.
  const specKey = (k: string) => {
    if (!k || k.length > 255 || !/^[\w.\-: ]+$/.test(k)) throw badRequest(`Invalid input for field/attribute extra_specs. Value: ${k}. '${k}' does not match any of the regexes`);
    return k;
  };
  app.get('/v2.1/flavors/:id/os-extra_specs', async (req) => {
    const f = await visible(req, (req.params as { id: string }).id);
    return { extra_specs: await extraSpecsOf(deps, f.id) };
  });
  app.get('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    const f = await visible(req, (req.params as { id: string }).id);
    const key = (req.params as { key: string }).key;
    const specs = await extraSpecsOf(deps, f.id);
    if (specs[key] === undefined) throw notFound(`Flavor ${f.id} has no extra specs with key ${key}.`);
    return { [key]: specs[key] };
  });
  const putSpecs = async (flavorId: string, specs: Record<string, unknown>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(specs)) {
      specKey(k);
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw badRequest(`Invalid input for field/attribute extra_specs. Value: ${JSON.stringify(v)}.`);
      const value = String(v);
      if (value.length > 255) throw badRequest(`Invalid input for field/attribute extra_specs. Value: ${value}. '${value}' is too long`);
      out[k] = value;
    }
    await db.transaction().execute(async (trx) => {
      for (const [key, value] of Object.entries(out)) {
        await trx.insertInto('flavor_extra_spec').values({ flavor_id: flavorId, key, value })
          .onConflict((oc) => oc.columns(['flavor_id', 'key']).doUpdateSet({ value })).execute();
      }
    });
    return out;
  };
  app.post('/v2.1/flavors/:id/os-extra_specs', async (req) => {
    adminOnly(req, 'os_compute_api:os-flavor-extra-specs:create');
    const f = await visible(req, (req.params as { id: string }).id);
    const b = req.body as { extra_specs?: unknown } | undefined;
    if (!b?.extra_specs || typeof b.extra_specs !== 'object' || Array.isArray(b.extra_specs)) throw badRequest(`Invalid input for field/attribute extra_specs. 'extra_specs' is a required property`);
    return { extra_specs: await putSpecs(f.id, b.extra_specs as Record<string, unknown>) };
  });
  app.put('/v2.1/flavors/:id/os-extra_specs/:key', async (req) => {
    adminOnly(req, 'os_compute_api:os-flavor-extra-specs:update');
    const f = await visible(req, (req.params as { id: string }).id);
    const key = (req.params as { key: string }).key;
    const b = req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object' || Object.keys(b).length !== 1) throw badRequest('Request body contains too many items');
    if (!(key in b)) throw badRequest('Request body and URI mismatch');
    return putSpecs(f.id, b);
  });
  app.delete('/v2.1/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    adminOnly(req, 'os_compute_api:os-flavor-extra-specs:delete');
    const f = await visible(req, (req.params as { id: string }).id);
    const key = (req.params as { key: string }).key;
    const gone = await db.deleteFrom('flavor_extra_spec').where('flavor_id', '=', f.id).where('key', '=', key).executeTakeFirst();
    if (!Number(gone.numDeletedRows)) throw notFound(`Flavor ${f.id} has no extra specs with key ${key}.`);
    reply.status(200).send();
  });

  // Flavor access (private flavors shared with projects).
  const accessList = async (flavorId: string) => ({
    flavor_access: (await db.selectFrom('flavor_access').selectAll().where('flavor_id', '=', flavorId).orderBy('project_id').execute())
      .map((a) => ({ flavor_id: a.flavor_id, tenant_id: a.project_id })),
  });
  app.get('/v2.1/flavors/:id/os-flavor-access', async (req) => {
    adminOnly(req, 'os_compute_api:os-flavor-access');
    const f = await visible(req, (req.params as { id: string }).id);
    if (f.is_public) throw notFound('Access list not available for public flavors.');
    return accessList(f.id);
  });
  app.post('/v2.1/flavors/:id/action', async (req) => {
    const b = req.body as Record<string, { tenant?: unknown } | undefined> | undefined;
    const add = b?.addTenantAccess;
    const remove = b?.removeTenantAccess;
    if (!add && !remove) throw badRequest('Invalid flavor action');
    adminOnly(req, add ? 'os_compute_api:os-flavor-access:add_tenant_access' : 'os_compute_api:os-flavor-access:remove_tenant_access');
    const f = await visible(req, (req.params as { id: string }).id);
    const tenant = str((add ?? remove)!.tenant, 'tenant', { min: 1, max: 255 })!;
    if (add) {
      if (f.is_public) throw conflict('Can not add access to a public flavor.');
      const exists = await db.selectFrom('flavor_access').select('project_id').where('flavor_id', '=', f.id).where('project_id', '=', tenant).executeTakeFirst();
      if (exists) throw conflict(`Flavor access already exists for flavor ${f.id} and project ${tenant} combination.`);
      await db.insertInto('flavor_access').values({ flavor_id: f.id, project_id: tenant }).execute();
    } else {
      const gone = await db.deleteFrom('flavor_access').where('flavor_id', '=', f.id).where('project_id', '=', tenant).executeTakeFirst();
      if (!Number(gone.numDeletedRows)) throw notFound(`Flavor access not found for ${f.id} / ${tenant} combination.`);
    }
    return accessList(f.id);
  });
}
